# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._processes import parse_holder, scan
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader


@pytest.mark.parametrize('target, key', [
    ('/dev/vfio/12', ('group', '12')),
    ('/dev/vfio/devices/vfio3', ('cdev', 'vfio3')),
    ('/dev/vfio/noiommu-0', ('group', '0')),
    ('/dev/vfio/vfio', None),
    ('/dev/vfio/devices/iommu', None),
    ('/dev/null', None),
    ('socket:[1234]', None),
    ('/tmp/host/dev/vfio/7', None),
])
def test_parse_holder(target, key):
    assert parse_holder(target) == key


def test_parse_holder_in_a_captured_tree():
    assert parse_holder('/tmp/host/dev/vfio/7', ('/dev/', '/tmp/host/dev/')) == ('group', '7')


def test_scan_finds_groups_and_cdevs_and_skips_the_rest(host):
    host.process(300, ['qemu', '-name', 'guest=b'], {3: '/dev/vfio/vfio', 4: '/dev/vfio/12', 5: '/dev/vfio/devices/vfio1'})
    host.process(200, ['qemu', '-name', 'guest=a', '-machine', 'pc-q35-8.2,usb=off'], {9: '/dev/vfio/12', 10: 'pipe:[5]'})
    host.process(100, ['bash'], {0: '/dev/pts/0'})
    host.process(400, ['qemu', '-name', 'guest=c'], {3: os.path.join(host.dev, 'vfio', '13')})      # absolute into dev_root
    host.process(500, ['qemu', '-name', 'guest=d'], {3: '../../../dev/vfio/14'})                    # relative into dev_root
    os.symlink('300', os.path.join(host.proc, 'self'))
    reader = Reader(host.proc, '/proc')
    holders = scan(reader, host.dev)
    assert holders == {
        ('group', '12'): [{'pid': 200, 'vm': 'a', 'machine_type': 'pc-q35-8.2', 'holder': '/dev/vfio/12'},
                          {'pid': 300, 'vm': 'b', 'machine_type': None, 'holder': '/dev/vfio/12'}],
        ('cdev', 'vfio1'): [{'pid': 300, 'vm': 'b', 'machine_type': None, 'holder': '/dev/vfio/devices/vfio1'}],
        ('group', '13'): [{'pid': 400, 'vm': 'c', 'machine_type': None, 'holder': '/dev/vfio/13'}],
        ('group', '14'): [{'pid': 500, 'vm': 'd', 'machine_type': None, 'holder': '/dev/vfio/14'}],
    }
    assert reader.warnings == []


def test_vanished_processes_are_silent_other_errors_warn(host):
    os.makedirs(os.path.join(host.proc, '600'))                       # exited: no fd directory any more
    host.process(700, ['qemu', '-name', 'x'], {3: '/dev/vfio/15'})
    os.unlink(os.path.join(host.proc, '700', 'cmdline'))              # exited between fd scan and cmdline
    pdir = host.process(800, ['qemu'], {})
    os.rmdir(os.path.join(pdir, 'fd'))
    with open(os.path.join(pdir, 'fd'), 'w') as handle:               # fd is a file: an error that is not "gone"
        handle.write('')
    reader = Reader(host.proc, '/proc')
    holders = scan(reader, host.dev)
    assert holders == {('group', '15'): [{'pid': 700, 'vm': None, 'machine_type': None, 'holder': '/dev/vfio/15'}]}
    assert reader.warnings == ['/proc/800/fd: not a directory']    # a file for a directory is named


def test_unreadable_fd_directory_is_a_warning(host, monkeypatch):
    host.process(900, ['qemu'], {3: '/dev/vfio/1'})
    real_listdir = os.listdir

    def listdir(path):
        if path.endswith('/900/fd'):
            raise PermissionError(13, 'Permission denied')
        return real_listdir(path)

    monkeypatch.setattr(os, 'listdir', listdir)
    reader = Reader(host.proc, '/proc')
    assert scan(reader, host.dev) == {}
    assert reader.warnings == ['/proc/900/fd: Permission denied']


def test_unreadable_fd_links_are_one_warning_per_process(host, monkeypatch):
    host.process(950, ['init'], dict((n, '/dev/null') for n in range(5)))
    host.process(951, ['qemu', '-name', 'guest=ok'], {3: '/dev/vfio/2'})
    real_readlink = os.readlink

    def readlink(path, *args, **kwargs):
        if '/950/fd/' in path:
            raise PermissionError(13, 'Permission denied')
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(os, 'readlink', readlink)
    reader = Reader(host.proc, '/proc')
    assert scan(reader, host.dev) == {('group', '2'): [{'machine_type': None, 'holder': '/dev/vfio/2', 'pid': 951, 'vm': 'ok'}]}
    assert reader.warnings == ['/proc/950/fd: links not readable (Permission denied), process skipped']
