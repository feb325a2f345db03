# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Bounded, contained, read-only access to a sysfs-, procfs- or devfs-shaped tree.

A :class:`Reader` is bound to one root directory (``/sys``, ``/proc`` or a captured or
simulated copy of them).  It never opens anything for writing and never reads outside
its root:

* directories are resolved component by component (:meth:`Reader.resolve`); a symbolic
  link whose target leaves the root, dangles or loops is reported as a warning and the
  caller gets ``None``.  Resolved directories are remembered, so the devices below one
  PCI bridge cost one ``lstat`` each, not one per path component;
* files are opened relative to an already resolved directory with ``O_NOFOLLOW`` (a
  symbolic link in place of an attribute file is refused) and ``O_NONBLOCK`` (a FIFO can
  never block the scan); a directory in their place fails the read; at most
  ``max_bytes`` are read.  Files and subdirectories are checked with ``lstat`` before
  use: only regular files are opened, only real directories are entered (on sysfs and
  procfs, which hold no device nodes and no FIFOs, the file's ``open`` is the check);
* every ``OSError`` and ``UnicodeDecodeError`` becomes one warning line naming the path
  as the target host sees it (``/sys/bus/pci/devices/0000:3b:00.2/vendor: ...``), and
  the scan goes on.  A missing *optional* file is normal and is no warning.

Callers must never ask for files with side effects on read (``config``, ``rom``,
``resource*``); the modules of this collection only read small text attributes.
"""

from __future__ import annotations

import errno
import os
import stat

from ansible_collections.vfio.migration.plugins.module_utils._mounts import plain_dirs
from ansible_collections.vfio.migration.plugins.module_utils._numbers import parse_hex, parse_int

__all__ = ['Reader', 'MAX_BYTES', 'VANISHED', 'describe_error']

#: Upper bound for one attribute file; sysfs attributes are at most one page.
MAX_BYTES = 65536

_O_READ = (os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_NOCTTY', 0)
           | getattr(os, 'O_CLOEXEC', 0))
_MAX_LINKS = 40  # like the kernel's MAXSYMLINKS

# errors that mean "this entry does not exist (any more)"
_MISSING = (errno.ENOENT, errno.ENOTDIR)
# errors that mean "this process is gone": /proc/<pid>/... vanished mid-scan
VANISHED = (errno.ENOENT, errno.ESRCH, errno.ENOTDIR)


def describe_error(exc):
    """A short message for an ``OSError`` or ``UnicodeDecodeError`` met while reading."""
    if isinstance(exc, UnicodeDecodeError):
        return 'not valid UTF-8 text'
    if exc.errno == errno.ELOOP:
        return 'is a symbolic link, not followed'
    if exc.errno == errno.EISDIR:
        return 'is a directory, not a file'
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _not_regular(mode):
    """Why a file of ``mode`` (from ``lstat``) in place of an attribute is not read."""
    if stat.S_ISDIR(mode):
        return 'is a directory, not a file'
    if stat.S_ISLNK(mode):
        return 'is a symbolic link, not followed'
    return 'not a regular file, not read'


class Reader(object):
    """Read-only view of one tree.

    :param root: the directory to read (``/sys``, ``/proc``, ``/dev`` or a copy of them).
    :param label: how warnings name the root (``/sys``): warnings read as the paths on
        the target host whatever directory the tree was captured to, so two identical
        trees give identical warnings.
    :param max_bytes: bound for :meth:`read`.
    :param quiet_missing_root: a root that does not exist is no warning (an optional tree).
    :param mounts: the mount table (``_mounts.mount_table``): files in directories it proves
        on sysfs or procfs are opened without an ``lstat`` first; ``None``: every file is checked.
    """

    def __init__(self, root, label=None, max_bytes=MAX_BYTES, quiet_missing_root=False, mounts=None):
        root = os.path.abspath(root)
        self.label = (label if label is not None else root).rstrip('/')
        self.max_bytes = max_bytes
        self.warnings = []
        try:
            self.root = os.path.realpath(root)
        except (OSError, ValueError):  # pragma: no cover - realpath hardly ever raises
            self.root = root
        self.ok = os.path.isdir(self.root)
        if not self.ok and not (quiet_missing_root and not os.path.lexists(self.root)):
            self.warnings.append('%s: root directory %s does not exist or is not a directory' % (self.label, root))
        self._prefix = self.root.rstrip('/') + '/'
        self._dirs = {self.root} if self.ok else set()
        self._misses = {}
        # directories on sysfs or procfs (the real /sys, /proc): no device node, no FIFO in them
        self._plain = plain_dirs(self.root, mounts if self.ok else None)
        self._open_only = set()     # resolved directories whose files need no lstat (see _read_file)

    # ------------------------------------------------------------------ paths

    def path(self, *parts):
        """Absolute path of ``parts`` below the root (no resolution)."""
        return os.path.join(self.root, *parts)

    def inside(self, path):
        """True when the normalized absolute ``path`` is the root or below it."""
        return path == self.root or path.startswith(self._prefix)

    def show(self, path):
        """``path`` as the target host sees it, for messages."""
        if path == self.root:
            return self.label or '/'
        if path.startswith(self._prefix):
            return self.label + '/' + path[len(self._prefix):]
        return path

    def warn(self, path, message):
        self.warnings.append('%s: %s' % (self.show(path), message))

    def failed(self, path, exc, quiet_missing=True, missing=_MISSING):
        """Warn about the ``OSError`` ``exc`` on ``path``.

        An error in ``missing`` (the entry is not there, or no longer) is a warning only when
        the entry was required (not ``quiet_missing``).
        """
        if exc.errno in missing:
            if not quiet_missing:
                self.warn(path, 'does not exist')
        else:
            self.warn(path, describe_error(exc))

    def _through_link(self, path, text, hops, quiet_dangling=False):
        """Check the link at ``path`` whose text is ``text``: ``(target, resolved, dangling)``.

        ``target`` is ``None`` when the link leaves the root (a warning); ``resolved`` is the
        symlink-free target or ``None`` when it dangles (``dangling``, a warning unless
        ``quiet_dangling``) or when resolving it failed for another reason (warned on the way).
        """
        target = self.link_target(path, text)
        if not self.inside(target):
            self.warn(path, 'link to %s leaves the root, not followed' % text)
            return None, None, False
        if target in self._dirs:
            return target, target, False
        count = len(self.warnings)
        resolved = self._resolve(target, True, hops)
        dangling = resolved is None and len(self.warnings) == count
        if dangling and not quiet_dangling:
            self.warn(path, 'dangling link to %s' % text)
        return target, resolved, dangling

    def _hex(self, path, text):
        """``text`` read from ``path`` as lower-case hex without ``0x``, or ``None`` (a warning)."""
        value = parse_hex(text)
        if value is None:
            self.warn(path, 'not a hexadecimal number: %r' % text[:40])
        return value

    def link_target(self, path, target):
        """Where the link at ``path`` whose text is ``target`` points, lexically normalized.

        ``path`` must be a resolved (symlink-free) path for the result to be exact.
        """
        if target[:1] == '/':
            return os.path.normpath(target)
        # sysfs links are "../../../devices/...": climb with one rsplit instead of normpath
        rest = target.lstrip('./')
        skipped = len(target) - len(rest)
        ups = skipped // 3
        if (rest and skipped == 3 * ups and target[:skipped] == '../' * ups
                and '/.' not in rest and '//' not in rest and rest[-1] != '/'):
            parts = path.rsplit('/', ups + 1)
            if len(parts) == ups + 2:
                return parts[0] + '/' + rest
        return os.path.normpath(os.path.join(os.path.dirname(path), target))

    def known_dirs(self, path):
        """Sorted entries of the resolved directory ``path``; its real subdirectories are remembered.

        One ``scandir`` (file types come with the entries) spares an ``lstat`` per
        subdirectory later, e.g. for every ``iommu_group`` link into ``kernel/iommu_groups``.
        """
        names = []
        if path not in self._dirs:
            path = self.resolve(path, True)
            if path is None:
                return names
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    names.append(entry.name)
                    if entry.is_dir(follow_symlinks=False):
                        self._dirs.add(path + '/' + entry.name)
        except OSError as exc:
            self._list_failed(path, exc, True)
            return []
        names.sort()
        return names

    # ------------------------------------------------------------- resolution

    def resolve(self, path, quiet_missing=False):
        """Resolve ``path`` (absolute, below the root) to a symlink-free directory or file path.

        Returns ``None`` when a component does not exist (a warning unless
        ``quiet_missing``), when a link leaves the root, or when links loop.
        """
        path = os.path.normpath(path)
        if path in self._dirs:
            return path
        if not self.inside(path):
            self.warn(path, 'outside of the root, not read')
            return None
        return self._resolve(path, quiet_missing, [0])

    def _resolve(self, path, quiet_missing, hops):
        # iterative: a link text of thousands of components must not recurse once per component
        cur, names = path, []
        while cur not in self._dirs:
            cur, _sep, name = cur.rpartition('/')
            if not self.inside(cur or '/'):
                return None
            cur = cur or '/'
            names.append(name)
        while names:
            name = names.pop()
            cur = self._step(cur, name, quiet_missing, hops, bool(names))
            if cur is None:
                return None
        return cur

    def _step(self, rparent, name, quiet_missing, hops, more):
        """The resolved path of ``name`` in the resolved directory ``rparent``, or ``None``."""
        cand = rparent + '/' + name if rparent != '/' else '/' + name
        if cand in self._dirs:
            return cand
        misses = self._misses.get(rparent, 0) + 1
        self._misses[rparent] = misses
        if misses == 2:
            # a bridge with many functions, a GPU with many mdevs: one scandir instead of an lstat each
            self.known_dirs(rparent)
            if cand in self._dirs:
                return cand
        try:
            st = os.lstat(cand)
        except OSError as exc:
            self.failed(cand, exc, quiet_missing)
            return None
        if stat.S_ISLNK(st.st_mode):
            hops[0] += 1
            if hops[0] > _MAX_LINKS:
                self.warn(cand, 'too many levels of symbolic links')
                return None
            try:
                text = os.readlink(cand)
            except OSError as exc:
                self.warn(cand, describe_error(exc))
                return None
            resolved = self._through_link(cand, text, hops, quiet_missing)[1]
            if resolved is not None and more and resolved not in self._dirs:
                self.warn(cand, 'link to %s: not a directory' % text)
                return None
            return resolved
        if stat.S_ISDIR(st.st_mode):
            self._dirs.add(cand)
        elif more:
            self.warn(cand, 'not a directory')
            return None
        return cand

    def entry(self, directory, name):
        """Resolve the entry ``name`` of the resolved ``directory`` (a bus or class view).

        Entries are usually links (``bus/pci/devices/0000:3b:00.2`` ->
        ``../../../devices/...``); a dangling or escaping one is a warning and ``None``.
        An entry that vanished since the directory was listed is skipped silently.
        """
        path = directory + '/' + name
        try:
            text = os.readlink(path)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # a bus or class view holds links only
                self.warn(path, 'is not a symbolic link, skipped')
            else:
                self.failed(path, exc)
            return None
        return self._through_link(path, text, [1])[1]

    def follow(self, path, quiet_missing=True):
        """Resolve the link (or directory) at ``path``; a dangling or escaping link is a warning.

        A missing ``path`` itself is silent when ``quiet_missing`` (an optional link).
        """
        try:
            os.lstat(path)
        except OSError as exc:
            self.failed(path, exc, quiet_missing)
            return None
        return self.resolve(path)

    # ---------------------------------------------------------------- reading

    def readlink(self, path, quiet_missing=True):
        """Text of the symbolic link at ``path`` or ``None``; not followed.

        ``path``'s directory is resolved first, so no link outside the root is read.
        """
        path = self._in_resolved(path)
        if path is None:
            return None
        try:
            return os.readlink(path)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # a plain file or directory in its place
                self.warn(path, 'is not a symbolic link')
            else:
                self.failed(path, exc, quiet_missing)
            return None

    def link(self, path, quiet_missing=True, dangling_ok=False):
        """Target path of the link at ``path`` when it resolves inside the root, else ``None``.

        ``path`` must lie in a resolved directory.  The target is checked (a dangling,
        looping or escaping link is a warning) but not opened.  Directories already seen
        cost nothing, so links to one driver or group are checked once.  With
        ``dangling_ok`` a target that merely does not exist is still returned (after the
        warning): its name can be reported, nothing below it is read.
        """
        text = self.readlink(path, quiet_missing)
        if text is None:
            return None
        target, resolved, dangling = self._through_link(path, text, [1])
        if resolved is None:
            return target if dangling and dangling_ok else None
        return target

    def link_name(self, path, quiet_missing=True, dangling_ok=False):
        """Basename of the checked target of the link at ``path`` (``driver`` -> ``vfio-pci``), or ``None``."""
        target = self.link(path, quiet_missing, dangling_ok)
        if target is None:
            return None
        return target.rsplit('/', 1)[-1] or None

    def listdir(self, path, quiet_missing=True):
        """Sorted entries of the directory ``path``, ``[]`` when missing or unreadable.

        ``path`` is resolved first: a directory link that leaves the root is not listed.
        """
        real = path if path in self._dirs else self.resolve(path, quiet_missing)
        if real is None:
            return []
        try:
            return sorted(os.listdir(real))
        except OSError as exc:
            self._list_failed(real, exc, quiet_missing)
            return []

    def _in_resolved(self, path):
        """``path`` with its directory resolved (a cache hit for every directory the scanners
        reached), or ``None`` when that directory is not inside the root (a warning)."""
        parent, _sep, name = path.rpartition('/')
        if parent in self._dirs:
            return path
        parent = self.resolve(parent, True)
        return None if parent is None else parent + '/' + name

    def _list_failed(self, path, exc, quiet_missing):
        if exc.errno == errno.ENOTDIR:
            self.warn(path, 'not a directory')
        else:
            self.failed(path, exc, quiet_missing)

    def _read_file(self, path, quiet_missing, vanish_ok=False, limit=None):
        """Up to ``max_bytes`` of the regular file ``path`` (not followed), or ``None``.

        ``path``'s directory is resolved first, and the file is checked with ``lstat`` before
        it is opened: a device node or FIFO in place of an attribute is never opened. In a
        directory on sysfs or procfs (``_mounts.py``), which hold neither, the ``open`` alone
        does it: ``O_NOFOLLOW`` refuses a link, a directory fails the read, as with ``lstat``.
        Such directories are remembered, so a file in one costs one lookup before its ``open``.
        """
        if path.rpartition('/')[0] not in self._open_only:
            path = self._openable(path, quiet_missing, VANISHED if vanish_ok else _MISSING)
            if path is None:
                return None
        try:
            fd = os.open(path, _O_READ)
        except OSError as exc:
            self.failed(path, exc, quiet_missing, VANISHED if vanish_ok else _MISSING)
            return None
        limit = limit or self.max_bytes
        try:
            data = os.read(fd, limit + 1)
        except OSError as exc:
            self.failed(path, exc, missing=VANISHED if vanish_ok else ())
            return None
        finally:
            os.close(fd)
        if len(data) > limit:
            self.warn(path, 'larger than %d bytes, not read' % limit)
            return None
        return data

    def _openable(self, path, quiet_missing, missing):
        """``path`` with its directory resolved when its file may be opened (a directory on sysfs
        or procfs, remembered; elsewhere the file's ``lstat`` says a regular file), else ``None``."""
        path = self._in_resolved(path)
        if path is None:
            return None
        parent = path.rpartition('/')[0]
        if self._plain(parent):
            self._open_only.add(parent)
            return path
        try:
            mode = os.lstat(path).st_mode
        except OSError as exc:
            self.failed(path, exc, quiet_missing, missing)
            return None
        if not stat.S_ISREG(mode):
            self.warn(path, _not_regular(mode))
            return None
        return path

    def read_bytes(self, path, quiet_missing=True, vanish_ok=False, limit=None):
        """Bytes of the regular file ``path`` (at most ``limit``, by default ``max_bytes``), or ``None``.

        ``path`` must lie in a resolved directory; the file itself is not followed.
        With ``vanish_ok`` an ``ESRCH`` (a process gone mid-read) is silent too.
        """
        return self._read_file(path, quiet_missing, vanish_ok, limit)

    def read(self, path, quiet_missing=True):
        """Text of the regular file ``path`` stripped of surrounding white space, or ``None``.

        A required value (not ``quiet_missing``) that is empty is a warning and ``None``.
        """
        data = self._read_file(path, quiet_missing)
        if data is None:
            return None
        try:
            text = data.decode('utf-8').strip()
        except UnicodeDecodeError as exc:
            self.warn(path, describe_error(exc))
            return None
        if not text and not quiet_missing:
            self.warn(path, 'is empty')
            return None
        return text

    def read_in(self, directory, relpath, quiet_missing=True):
        """Text of ``relpath`` below the resolved ``directory``.

        ``relpath`` may have several components (``nvidia/current_vgpu_type``); each
        intermediate directory must be a real directory, not a link.
        """
        if '/' in relpath:
            head, name = relpath.rsplit('/', 1)
            sub = self.subdir(directory, head, quiet_missing)
            if sub is None:
                return None
            return self.read(sub + '/' + name, quiet_missing)
        return self.read(directory + '/' + relpath, quiet_missing)

    def subdir(self, directory, relpath, quiet_missing=True):
        """``directory/relpath`` when every component is a real directory, else ``None``.

        Each component is checked with ``lstat``, never opened: a link, FIFO or device node
        in its place is a warning.
        """
        cur = directory if directory in self._dirs else self.resolve(directory, True)
        if cur is None:
            return None
        for name in relpath.split('/'):
            cand = cur + '/' + name
            if cand not in self._dirs:
                try:
                    mode = os.lstat(cand).st_mode
                except OSError as exc:
                    if exc.errno != errno.ENOENT:
                        self.warn(cand, describe_error(exc))
                    elif not quiet_missing:
                        self.warn(cand, 'does not exist')
                    return None
                if not stat.S_ISDIR(mode):
                    self.warn(cand, 'is a symbolic link, not followed' if stat.S_ISLNK(mode) else 'not a directory')
                    return None
                self._dirs.add(cand)
            cur = cand
        return cur

    def read_hex_files(self, directory, names):
        """``{name: read_hex(directory/name)}`` for required hex attributes (the PCI ids), in one loop."""
        result = {}
        read = self.read
        for name in names:
            path = directory + '/' + name
            text = read(path, False)
            result[name] = None if text is None else self._hex(path, text)
        return result

    def read_hex(self, path, quiet_missing=False, digits=0):
        """A hex attribute as lower-case hex without ``0x`` (``0x10DE`` -> ``10de``).

        ``digits`` pads to that width: ``sriov_vf_device`` is printed with ``%x``
        (``drivers/pci/iov.c``), so ``10`` is device ``0010``.
        """
        text = self.read(path, quiet_missing)
        value = None if text is None else self._hex(path, text)
        return value.zfill(digits) if digits and value is not None else value

    def read_int(self, path, quiet_missing=True):
        """An integer attribute, or ``None``."""
        text = self.read(path, quiet_missing)
        if text is None:
            return None
        value = parse_int(text)
        if value is None:
            self.warn(path, 'not an integer: %r' % text[:40])
        return value
