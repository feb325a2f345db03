# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Watch what code opens, lists and changes, with a ``sys.addaudithook`` hook (PEP 578).

``with Audit(root, ...) as audit:`` records, while the block runs in this thread:

* ``audit.outside``: every ``open``, ``os.listdir`` and ``os.scandir`` of a path whose real
  path is not inside one of the roots;
* ``audit.special``: every ``open`` of a FIFO, character or block device;
* ``audit.writes``: every ``open`` for writing and every event that changes the file system.

A hook cannot be removed, so one hook is installed per process and does nothing while no
``Audit`` block is active.
"""

from __future__ import annotations

import os
import stat
import sys
import threading

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = frozenset(('os.mkdir', 'os.remove', 'os.rename', 'os.rmdir', 'os.symlink', 'os.link', 'os.chmod',
                      'os.chown', 'os.truncate', 'os.utime', 'os.mkfifo', 'os.mknod', 'shutil.rmtree',
                      'shutil.copyfile', 'shutil.move', 'os.putenv', 'os.unsetenv', 'subprocess.Popen',
                      'os.system', 'os.exec', 'os.posix_spawn', 'os.fork', 'os.kill'))
_ACTIVE = []
_INSTALLED = []


def _path(value):
    if isinstance(value, int):
        try:
            return os.readlink('/proc/self/fd/%d' % value)
        except OSError:
            return None
    if isinstance(value, (str, bytes)):
        return os.fsdecode(value)
    return None


def _hook(event, args):
    if not _ACTIVE or _ACTIVE[-1].thread != threading.get_ident() or _ACTIVE[-1].busy:
        return
    audit = _ACTIVE[-1]
    audit.busy = True
    try:
        audit.event(event, args)
    finally:
        audit.busy = False


class Audit(object):
    def __init__(self, *roots):
        self.roots = [os.path.realpath(root) for root in roots]
        self.outside = []
        self.special = []
        self.writes = []
        self.events = 0
        self.busy = False
        self.thread = None

    def inside(self, path):
        real = os.path.realpath(path)
        return any(real == root or real.startswith(root.rstrip('/') + '/') for root in self.roots)

    def event(self, event, args):
        if event in _CHANGES:
            self.writes.append((event, args))
            return
        if event not in ('open', 'os.listdir', 'os.scandir'):
            return
        self.events += 1
        path = _path(args[0]) if args else None
        if path is None:
            return
        if event == 'open':
            mode, flags = args[1], args[2]
            if (isinstance(mode, str) and any(c in mode for c in 'wax+')) or (flags or 0) & _WRITE_FLAGS:
                self.writes.append((event, path))
            try:
                st_mode = os.lstat(path).st_mode
            except OSError:
                st_mode = 0
            if stat.S_ISFIFO(st_mode) or stat.S_ISCHR(st_mode) or stat.S_ISBLK(st_mode):
                self.special.append(path)
        if not self.inside(path):
            self.outside.append((event, path))

    def __enter__(self):
        if not _INSTALLED:
            sys.addaudithook(_hook)
            _INSTALLED.append(True)
        self.thread = threading.get_ident()
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc):
        _ACTIVE.remove(self)
        return False
