# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Which directories of a tree lie on a filesystem that holds no device nodes and no FIFOs.

The :class:`~._sysfs.Reader` checks every file with ``lstat`` before it opens it, so that a
device node (whose open can have side effects) or a FIFO in place of an attribute is never
opened. sysfs and procfs cannot hold either: their entries are directories, regular files and
symbolic links only (no ``mknod``, no ``mkfifo``), and ``O_NOFOLLOW`` refuses a link. Below
the real ``/sys`` and ``/proc`` one ``open`` can therefore do the work of ``lstat`` + ``open``.

:func:`plain_dirs` tells, from the mount table of this process (``/proc/self/mountinfo``,
read only when the procfs root is the real ``/proc``: :func:`mount_table`), whether a root
directory is on sysfs or procfs and which mount points below it are not (a tmpfs on
``/sys/fs/cgroup``, a debugfs, a bind mount): a directory at or below one of those is not
plain. Anything not understood (no mount table, a line that does not parse, a root whose
device number is no sysfs or procfs mount's) means no directory is plain: the ``lstat`` stays.
"""

from __future__ import annotations

import os
import re
import stat

__all__ = ['PLAIN_FILESYSTEMS', 'MOUNTINFO', 'mount_table', 'parse_mountinfo', 'plain_dirs']

#: Filesystems whose entries are directories, regular files and symbolic links only.
PLAIN_FILESYSTEMS = frozenset(('sysfs', 'proc'))
MOUNTINFO = '/proc/self/mountinfo'
_MAX_MOUNTINFO = 4 * 1024 * 1024
_O_READ = os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0)
_ESCAPE = re.compile(r'\\([0-7]{3})')


def parse_mountinfo(text):
    """``[(mount point, 'major:minor', filesystem type), ...]`` of ``text`` (mountinfo lines), or
    ``None`` when a line does not have the fields of proc(5)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(' ')
        try:
            separator = fields.index('-', 6)
            device, point, fstype = fields[2], fields[4], fields[separator + 1]
        except (ValueError, IndexError):
            return None
        if not point.startswith('/') or ':' not in device or not fstype:
            return None
        mounts.append((_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), point), device, fstype))
    return mounts


def mount_table(proc_root):
    """This process's mount table (``parse_mountinfo``), read from ``proc_root`` when it is the
    real ``/proc`` (so nothing outside the roots is read); ``None`` for any other procfs root, a
    captured one above all, whose table could claim anything."""
    try:
        if os.path.realpath(proc_root) != '/proc':
            return None
        fd = os.open(MOUNTINFO, _O_READ)
    except (OSError, ValueError):
        return None
    chunks, size = [], 0
    try:
        while size <= _MAX_MOUNTINFO:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    if size > _MAX_MOUNTINFO:
        return None
    return parse_mountinfo(os.fsdecode(b''.join(chunks)))


def _is_dir(path):
    """True when ``path`` (a mount point) is a directory; what cannot be told counts as a file."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _below(path, point):
    """True when ``path`` is the mount point ``point`` or below it."""
    return path == point or path.startswith(point.rstrip('/') + '/')


def plain_dirs(root, mounts=None, device=None):
    """A function ``directory -> bool``: the resolved ``directory`` (``root`` or below it) is on
    sysfs or procfs, so a file in it is no device node and no FIFO.

    The root counts only when its own device number (``stat``) is that of a sysfs or procfs
    mount at or above it, so a mount that hides another cannot mislead; a directory at or
    below any other mount point below the root that is not sysfs or procfs never counts, nor
    does one with a file mounted over one of its entries (the mount point is not a directory).

    :param root: the resolved (symlink-free) root directory of a reader.
    :param mounts: :func:`mount_table` output; ``None``: nothing is plain.
    :param device: the root's ``'major:minor'``; from ``os.stat(root)`` when ``None``.
    """
    if not mounts:
        return _never
    if device is None:
        try:
            st_dev = os.stat(root).st_dev
        except OSError:
            return _never
        device = '%d:%d' % (os.major(st_dev), os.minor(st_dev))
    covering = None
    for point, dev, fstype in mounts:
        if dev == device and _below(root, point) and (covering is None or len(point) >= len(covering[0])):
            covering = (point, fstype)
    if covering is None or covering[1] not in PLAIN_FILESYSTEMS:
        return _never
    others = tuple(point.rstrip('/') for point, _dev, fstype in mounts
                   if point.rstrip('/') != root.rstrip('/') and _below(point, root) and fstype not in PLAIN_FILESYSTEMS)
    known = {}

    # a file bind-mounted over an entry (as containers mount /dev/null over /proc/kcore) may be
    # a device node: the directory holding it is not plain
    holders = frozenset(point.rpartition('/')[0] for point in others if not _is_dir(point))

    def plain(directory):
        found = known.get(directory)
        if found is None:
            found = directory not in holders and not any(_below(directory, point) for point in others)
            known[directory] = found
        return found
    return plain


def _never(_directory):
    return False
