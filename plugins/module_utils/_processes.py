# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Who holds which VFIO group or cdev open, with the VM name and machine type of QEMU holders (``_qemu_cmdline``).

``/proc/<pid>/fd/*`` are links whose text names the open file: ``/dev/vfio/12`` (a
legacy group), ``/dev/vfio/devices/vfio3`` (an iommufd cdev) or ``/dev/vfio/vfio`` (the
container, ignored).  Only link texts are read, never the files.  A process that exits
mid-scan is skipped silently; any other error is a warning.
"""

from __future__ import annotations

import errno
import os
import stat

from ansible_collections.vfio.migration.plugins.module_utils._numbers import is_digits
from ansible_collections.vfio.migration.plugins.module_utils._qemu_cmdline import machine_type, vm_name
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import VANISHED, describe_error

__all__ = ['scan', 'parse_holder']


def parse_holder(target, dev_prefixes=('/dev/',)):
    """``('group', '12')``, ``('cdev', 'vfio3')`` or ``None`` for an fd link text.

    ``dev_prefixes`` are the spellings of the device directory: ``/dev/`` and, for a
    captured or simulated tree, its ``dev_root`` (``/tmp/host/dev/``).
    """
    for prefix in dev_prefixes:
        if target.startswith(prefix):
            rest = target[len(prefix):]
            break
    else:
        return None
    if not rest.startswith('vfio/'):
        return None
    rest = rest[5:]
    if rest.startswith('devices/'):
        name = rest[8:]
        if name.startswith('vfio') and is_digits(name[4:]):
            return ('cdev', name)
        return None
    if rest.startswith('noiommu-'):
        rest = rest[8:]
    if is_digits(rest):
        return ('group', rest)
    return None


def _fd_links(reader, fd_dir):
    """The texts of the ``fd`` links of one process that mention ``vfio/``.

    The directory is listed only when it is a directory, not a link in its place (a captured
    ``fd`` that links out of ``proc_root`` is a warning, not listed); its links are read, never
    followed.
    """
    try:
        mode = os.lstat(fd_dir).st_mode
        if not stat.S_ISDIR(mode):
            reader.warn(fd_dir, 'is a symbolic link, not followed' if stat.S_ISLNK(mode) else 'not a directory')
            return []
        fds = os.listdir(fd_dir)
    except OSError as exc:
        reader.failed(fd_dir, exc, missing=VANISHED)
        return []
    targets = []
    for fd in fds:
        try:
            target = os.readlink(fd_dir + '/' + fd)
        except OSError as exc:
            if exc.errno not in VANISHED and exc.errno != errno.EINVAL:
                # one line per process, not one per descriptor (a sandboxed /proc denies them all)
                reader.warn(fd_dir, 'links not readable (%s), process skipped' % describe_error(exc))
                return []
            continue
        if 'vfio/' not in target:
            continue
        if not target.startswith('/'):
            # a relative link in a captured tree
            target = os.path.normpath(os.path.join(fd_dir, target))
        targets.append(target)
    return targets


def scan(reader, dev_root, cmdlines=None):
    """``{('group', '12') | ('cdev', 'vfio3'): [{'pid', 'vm', 'holder'}, ...]}`` (sorted by pid).

    :param reader: the ``/proc`` :class:`Reader`.
    :param dev_root: the ``dev_root`` option, so links into a captured tree are understood.
    :param cmdlines: a dict that receives ``{pid: command line bytes or None}`` of the holders.
    """
    prefixes = ['/dev/']
    for root in (os.path.abspath(dev_root), os.path.realpath(dev_root)):
        root = root.rstrip('/') + '/'
        if root not in prefixes:
            prefixes.append(root)
    prefixes = tuple(prefixes)
    found = {}
    holders = {}
    try:
        entries = sorted((e.name for e in os.scandir(reader.root)
                          if is_digits(e.name) and e.is_dir(follow_symlinks=False)), key=int)
    except OSError as exc:
        reader.failed(reader.root, exc, missing=())
        return {}
    for pid in entries:
        fd_dir = reader.root + '/' + pid + '/fd'
        for target in _fd_links(reader, fd_dir):
            key = parse_holder(target, prefixes)
            if key is None:
                continue
            holder = '/dev/vfio/' + key[1] if key[0] == 'group' else '/dev/vfio/devices/' + key[1]
            found.setdefault(pid, {})[key] = holder
    for pid in sorted(found, key=int):
        cmdline = reader.read_bytes(reader.root + '/' + pid + '/cmdline', vanish_ok=True)
        if cmdlines is not None:
            cmdlines[int(pid)] = cmdline
        vm, machine = vm_name(cmdline), machine_type(cmdline)     # once per process, not per device it holds
        for key, holder in found[pid].items():
            holders.setdefault(key, []).append({'holder': holder, 'machine_type': machine, 'pid': int(pid), 'vm': vm})
    return holders
