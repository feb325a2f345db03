# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader


@pytest.fixture
def root(tmp_path):
    base = tmp_path / 'sys'
    (base / 'devices' / 'pci0000:00' / '0000:00:01.0').mkdir(parents=True)
    (base / 'bus' / 'pci' / 'devices').mkdir(parents=True)
    dev = base / 'devices' / 'pci0000:00' / '0000:00:01.0'
    (dev / 'vendor').write_text('0x10DE\n')
    (dev / 'numa_node').write_text('-1\n')
    os.symlink('../../../devices/pci0000:00/0000:00:01.0', str(base / 'bus' / 'pci' / 'devices' / '0000:00:01.0'))
    (tmp_path / 'outside').mkdir()
    (tmp_path / 'outside' / 'vendor').write_text('0xdead\n')
    return base


def test_reads_text_and_hex(root):
    reader = Reader(str(root), '/sys')
    dev = reader.entry(reader.path('bus/pci/devices'), '0000:00:01.0')
    assert dev == str(root / 'devices' / 'pci0000:00' / '0000:00:01.0')
    assert reader.read_hex(dev + '/vendor') == '10de'
    assert reader.read_int(dev + '/numa_node') == -1
    (root / 'devices' / 'pci0000:00' / '0000:00:01.0' / 'sriov_vf_device').write_text('10\n')
    assert reader.read_hex(dev + '/sriov_vf_device', digits=4) == '0010'      # printed with %x
    assert reader.warnings == []


def test_missing_optional_file_is_silent_and_required_is_a_warning(root):
    reader = Reader(str(root), '/sys')
    dev = str(root / 'devices' / 'pci0000:00' / '0000:00:01.0')
    assert reader.read(dev + '/sriov_totalvfs') is None
    assert reader.warnings == []
    assert reader.read_hex(dev + '/device') is None
    assert reader.warnings == ['/sys/devices/pci0000:00/0000:00:01.0/device: does not exist']


def test_link_escaping_the_root_is_a_warning_not_a_read(root, tmp_path):
    os.symlink(str(tmp_path / 'outside'), str(root / 'bus' / 'pci' / 'devices' / '0000:00:02.0'))
    os.symlink('../../../../outside', str(root / 'bus' / 'pci' / 'devices' / '0000:00:03.0'))
    reader = Reader(str(root), '/sys')
    bus = reader.path('bus/pci/devices')
    assert reader.entry(bus, '0000:00:02.0') is None
    assert reader.entry(bus, '0000:00:03.0') is None
    assert reader.warnings == [
        '/sys/bus/pci/devices/0000:00:02.0: link to %s leaves the root, not followed' % (tmp_path / 'outside'),
        '/sys/bus/pci/devices/0000:00:03.0: link to ../../../../outside leaves the root, not followed',
    ]


def test_escape_through_an_intermediate_link_is_caught(root, tmp_path):
    # devices/evil -> outside; a path through it must not be read
    os.symlink(str(tmp_path / 'outside'), str(root / 'devices' / 'evil'))
    reader = Reader(str(root), '/sys')
    assert reader.resolve(reader.path('devices/evil/vendor')) is None
    assert len(reader.warnings) == 1 and 'leaves the root' in reader.warnings[0]


def test_dangling_and_looping_links(root):
    bus = root / 'bus' / 'pci' / 'devices'
    os.symlink('../../../devices/pci0000:00/0000:00:09.0', str(bus / '0000:00:09.0'))
    os.symlink('loop-b', str(root / 'devices' / 'loop-a'))
    os.symlink('loop-a', str(root / 'devices' / 'loop-b'))
    reader = Reader(str(root), '/sys')
    assert reader.entry(str(bus), '0000:00:09.0') is None
    assert reader.resolve(reader.path('devices/loop-a')) is None
    assert reader.warnings == [
        '/sys/bus/pci/devices/0000:00:09.0: dangling link to ../../../devices/pci0000:00/0000:00:09.0',
        '/sys/devices/loop-a: too many levels of symbolic links',
    ]


def test_a_link_in_place_of_an_attribute_is_not_followed(root, tmp_path):
    dev = root / 'devices' / 'pci0000:00' / '0000:00:01.0'
    os.symlink(str(tmp_path / 'outside' / 'vendor'), str(dev / 'device'))
    reader = Reader(str(root), '/sys')
    assert reader.read_hex(str(dev / 'device')) is None
    assert reader.warnings == ['/sys/devices/pci0000:00/0000:00:01.0/device: is a symbolic link, not followed']


def test_directory_fifo_oversized_and_binary_files_are_warnings(root):
    dev = root / 'devices' / 'pci0000:00' / '0000:00:01.0'
    (dev / 'class').mkdir()                       # a directory where a file should be
    os.mkfifo(str(dev / 'revision'))              # must never block
    (dev / 'description').write_bytes(b'x' * 70000)
    (dev / 'name').write_bytes(b'\xff\xfe\x00')
    reader = Reader(str(root), '/sys')
    previous = signal.signal(signal.SIGALRM, lambda *a: pytest.fail('reading a FIFO blocked'))
    signal.alarm(5)
    try:
        assert reader.read(str(dev / 'class')) is None
        assert reader.read(str(dev / 'revision')) is None         # not a regular file: never opened
        assert reader.read_hex(str(dev / 'revision')) is None
        assert reader.read_bytes(str(dev / 'revision')) is None
        assert reader.read(str(dev / 'description')) is None
        assert reader.read(str(dev / 'name')) is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    base = '/sys/devices/pci0000:00/0000:00:01.0/'
    assert reader.warnings == [
        base + 'class: is a directory, not a file',
        base + 'revision: not a regular file, not read',
        base + 'revision: not a regular file, not read',
        base + 'revision: not a regular file, not read',
        base + 'description: larger than 65536 bytes, not read',
        base + 'name: not valid UTF-8 text',
    ]


def test_malformed_numbers(root):
    dev = root / 'devices' / 'pci0000:00' / '0000:00:01.0'
    (dev / 'device').write_text('zz\n')
    (dev / 'sriov_numvfs').write_text('four\n')
    reader = Reader(str(root), '/sys')
    assert reader.read_hex(str(dev / 'device')) is None
    assert reader.read_int(str(dev / 'sriov_numvfs')) is None
    assert [w.split(': ', 1)[1] for w in reader.warnings] == ["not a hexadecimal number: 'zz'", "not an integer: 'four'"]


def test_subdir_and_read_in_refuse_linked_directories(root, tmp_path):
    dev = root / 'devices' / 'pci0000:00' / '0000:00:01.0'
    (dev / 'nvidia').mkdir()
    (dev / 'nvidia' / 'current_vgpu_type').write_text('0\n')
    os.symlink(str(tmp_path / 'outside'), str(dev / 'migration'))
    reader = Reader(str(root), '/sys')
    assert reader.read_in(str(dev), 'nvidia/current_vgpu_type') == '0'
    assert reader.read_in(str(dev), 'migration/vendor') is None
    assert reader.warnings == ['/sys/devices/pci0000:00/0000:00:01.0/migration: is a symbolic link, not followed']


def test_link_name_and_listdir(root):
    dev = root / 'devices' / 'pci0000:00' / '0000:00:01.0'
    (root / 'bus' / 'pci' / 'drivers' / 'vfio-pci').mkdir(parents=True)
    os.symlink('../../../bus/pci/drivers/vfio-pci', str(dev / 'driver'))
    os.symlink('../../../../../etc', str(dev / 'iommu_group'))
    os.symlink('../0000:00:1f.7', str(dev / 'physfn'))
    os.symlink('subsystem', str(dev / 'subsystem'))
    (dev / 'firmware_node').write_text('not a link\n')
    reader = Reader(str(root), '/sys')
    assert reader.link_name(str(dev / 'driver')) == 'vfio-pci'     # checked, not opened
    assert reader.link(str(dev / 'driver')) == str(root / 'bus' / 'pci' / 'drivers' / 'vfio-pci')
    assert reader.link_name(str(dev / 'iommu_group')) is None
    assert reader.link_name(str(dev / 'physfn')) is None
    assert reader.link_name(str(dev / 'physfn'), dangling_ok=True) == '0000:00:1f.7'
    assert reader.link_name(str(dev / 'subsystem'), dangling_ok=True) is None   # a loop is never "just dangling"
    assert reader.link_name(str(dev / 'firmware_node')) is None
    assert reader.link_name(str(dev / 'absent')) is None
    assert reader.listdir(str(root / 'bus' / 'pci' / 'devices')) == ['0000:00:01.0']
    assert reader.listdir(str(root / 'class' / 'mdev_bus')) == []
    base = '/sys/devices/pci0000:00/0000:00:01.0/'
    assert reader.warnings == [
        base + 'iommu_group: link to ../../../../../etc leaves the root, not followed',
        base + 'physfn: dangling link to ../0000:00:1f.7',
        base + 'physfn: dangling link to ../0000:00:1f.7',
        base + 'subsystem: too many levels of symbolic links',
        base + 'firmware_node: is not a symbolic link',
    ]


def test_missing_root_is_one_warning(tmp_path):
    reader = Reader(str(tmp_path / 'nope'), '/proc')
    assert not reader.ok
    assert reader.warnings == ['/proc: root directory %s does not exist or is not a directory' % (tmp_path / 'nope')]


def test_root_given_through_a_symlink(root, tmp_path):
    os.symlink(str(root), str(tmp_path / 'sys-link'))
    reader = Reader(str(tmp_path / 'sys-link'), '/sys')
    dev = reader.entry(reader.path('bus/pci/devices'), '0000:00:01.0')
    assert reader.read_hex(dev + '/vendor') == '10de'
    assert reader.warnings == []


def test_never_opens_for_writing(root, monkeypatch):
    opened = []
    real_open = os.open

    def spy(path, flags, *args, **kwargs):
        opened.append(flags)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, 'open', spy)
    reader = Reader(str(root), '/sys')
    dev = reader.entry(reader.path('bus/pci/devices'), '0000:00:01.0')
    reader.read(dev + '/vendor')
    reader.read(dev + '/absent')
    assert opened and all(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC) == 0 for flags in opened)


def test_a_directory_proven_plain_never_spares_the_lstat_of_another(root, monkeypatch):
    """Files in a directory on sysfs/procfs (_mounts.plain_dirs) are opened without an lstat and
    the directory is remembered; a sibling that is not proven keeps the lstat, so a FIFO there is
    refused, however many reads the plain one had before."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.vfio.migration.plugins.module_utils import _sysfs
    from ansible_collections.vfio.migration.tests.unit.helpers.audit import Audit
    plain = root / 'devices' / 'pci0000:00' / '0000:00:01.0'
    other = root / 'devices' / 'pci0000:00' / '0000:00:02.0'
    other.mkdir()
    (other / 'vendor').write_text('0x8086\n')
    os.mkfifo(str(other / 'device'))
    asked = []

    def proven(_root, mounts=None, device=None):
        return lambda directory: asked.append(directory) or directory == str(plain)

    monkeypatch.setattr(_sysfs, 'plain_dirs', proven)
    reader = Reader(str(root), '/sys', mounts=[('/', '0:1', 'sysfs')])
    with Audit(str(root)) as audit:
        assert [reader.read(str(plain) + '/vendor') for _time in range(3)] == ['0x10DE'] * 3
        assert reader.read(str(other) + '/vendor') == '0x8086'
        assert reader.read(str(other) + '/device') is None
        assert reader.read(str(other) + '/device') is None
    assert asked.count(str(plain)) == 1          # remembered after the first read
    assert asked.count(str(other)) == 3          # asked, and lstat'ed, on every read
    assert audit.special == [] and audit.outside == []
    assert reader.warnings == ['/sys/devices/pci0000:00/0000:00:02.0/device: not a regular file, not read'] * 2
