# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Contained, checked, recorded writes of sysfs attributes.

A :class:`Writer` writes one value to one existing attribute file of a directory that its
:class:`~._sysfs.Reader` resolved inside the root (so no link out of the root is ever
followed).  The file is opened relative to that directory with ``O_NOFOLLOW`` and without
``O_CREAT`` (nothing is ever created), must be a regular file (sysfs attributes are), and
is written with one ``write`` call as the kernel expects.  Every write, made or (in check
mode) only planned, is recorded as ``{'path': '/sys/...', 'value': ...}`` with the path as
the target host sees it.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.vfio.migration.plugins.module_utils._sysfs import describe_error

__all__ = ['Refused', 'Writer']

_O_WRITE = (os.O_WRONLY | os.O_TRUNC | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
            | getattr(os, 'O_NOCTTY', 0) | getattr(os, 'O_CLOEXEC', 0))
_O_DIR = os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)


class Refused(Exception):
    """A change the write modules will not or could not make; the message says why."""


class Writer(object):
    """Writes below the root of ``reader``; records them; writes nothing in ``check_mode``."""

    def __init__(self, reader, check_mode=False):
        self.reader = reader
        self.check_mode = check_mode
        self.writes = []

    def write(self, directory, name, value, shown=None):
        """Write ``value`` to the attribute ``name`` of the resolved ``directory``.

        :param shown: the path to report, when the caller reached ``directory`` through a
            link whose spelling is the documented one (``/sys/bus/mdev/devices/<uuid>/remove``).
        :raises Refused: outside the root, not a regular file, or the kernel's error.
        """
        reader = self.reader
        path = directory + '/' + name
        shown = shown or reader.show(path)
        if '/' in name or name in ('', '.', '..') or not reader.inside(directory) \
                or os.path.realpath(directory) != directory:
            raise Refused('%s: outside of %s, not written' % (shown, reader.label))
        self.writes.append({'path': shown, 'value': value})
        if self.check_mode:
            return
        try:
            dir_fd = os.open(directory, _O_DIR)
        except OSError as exc:
            raise Refused('%s: %s' % (reader.show(directory), describe_error(exc)))
        try:
            self._write_at(dir_fd, name, value.encode('utf-8'), shown)
        finally:
            os.close(dir_fd)

    @staticmethod
    def _write_at(dir_fd, name, data, shown):
        try:
            fd = os.open(name, _O_WRITE, dir_fd=dir_fd)
        except OSError as exc:
            raise Refused('%s: %s' % (shown, describe_error(exc)))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise Refused('%s: not a regular file, not written' % shown)
            written = os.write(fd, data)
        except OSError as exc:
            raise Refused('%s: %s' % (shown, describe_error(exc)))
        finally:
            os.close(fd)
        if written != len(data):
            raise Refused('%s: short write (%d of %d bytes)' % (shown, written, len(data)))
