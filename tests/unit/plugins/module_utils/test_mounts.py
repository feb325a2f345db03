# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Plain directories (sysfs, procfs: no device node, no FIFO) from the mount table, and the
reader that opens files in them without an lstat first."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils import _mounts, _sysfs
from ansible_collections.vfio.migration.plugins.module_utils._mounts import parse_mountinfo, plain_dirs

MOUNTINFO = '\n'.join([
    '22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw',
    '23 27 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw',
    '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '40 23 0:40 / /sys/kernel/debug rw,relatime - debugfs debugfs rw',
    '41 27 0:41 / /srv/with\\040space rw,relatime - sysfs sysfs rw',
    '42 22 0:42 / /proc/sys/fs/binfmt_misc rw,relatime - binfmt_misc binfmt_misc rw',
])
MOUNTS = parse_mountinfo(MOUNTINFO)


def test_mountinfo_lines_give_point_device_and_type():
    assert MOUNTS[0] == ('/proc', '0:21', 'proc')
    assert MOUNTS[1] == ('/sys', '0:22', 'sysfs')
    assert ('/srv/with space', '0:41', 'sysfs') in MOUNTS       # octal escapes undone


@pytest.mark.parametrize('text', ['garbage', '1 2 0:1 / /sys rw - ', '1 2 0:1 / /sys rw shared:1 sysfs sysfs rw',
                                  '1 2 nodevice / /sys rw - sysfs sysfs rw', '1 2 0:1 / relative rw - sysfs s rw'])
def test_a_line_not_understood_gives_no_table(text):
    assert parse_mountinfo(MOUNTINFO + '\n' + text) is None


@pytest.fixture
def dir_mounts(monkeypatch):
    """The mount points of MOUNTS are directories, whatever this machine has there."""
    monkeypatch.setattr(_mounts, '_is_dir', lambda path: True)


@pytest.mark.usefixtures('dir_mounts')
def test_sysfs_root_is_plain_except_below_other_filesystems():
    plain = plain_dirs('/sys', MOUNTS, '0:22')
    assert plain('/sys') and plain('/sys/bus/pci/devices/0000:3b:00.0')
    assert plain('/sys/fs') and plain('/sys/fs/cgroupx')
    assert not plain('/sys/fs/cgroup') and not plain('/sys/fs/cgroup/cpu')
    assert not plain('/sys/kernel/debug/x')


def test_a_directory_with_a_file_mounted_over_an_entry_is_not_plain(tmp_path):
    """Containers bind-mount /dev/null (a device node) over /proc/kcore; a root user could do the
    same over a sysfs attribute: the directory holding such an entry gets its lstat back. A
    directory mounted in a directory (/sys/fs/cgroup) leaves the directory above plain."""
    root = str(tmp_path / 'sys')
    device = tmp_path / 'sys' / 'devices' / '0000:3b:00.0'
    os.makedirs(str(device / 'power'))
    (device / 'vendor').write_text('0x10de\n')
    mounts = [(root, '0:22', 'sysfs'),
              (str(device / 'vendor'), '0:5', 'devtmpfs'),       # a file mount point
              (str(device / 'power'), '0:28', 'tmpfs')]          # a directory mount point
    plain = plain_dirs(root, mounts, '0:22')
    assert not plain(str(device)) and not plain(str(device / 'power'))
    assert plain(root) and plain(str(tmp_path / 'sys' / 'devices'))
    # a mount point that cannot be looked at counts as a file
    assert not plain_dirs(root, mounts + [(root + '/gone/x', '0:5', 'tmpfs')], '0:22')(root + '/gone')


@pytest.mark.usefixtures('dir_mounts')
def test_procfs_root_is_plain_except_below_other_filesystems():
    plain = plain_dirs('/proc', MOUNTS, '0:21')
    assert plain('/proc/123') and plain('/proc/sys/fs')
    assert not plain('/proc/sys/fs/binfmt_misc')


@pytest.mark.parametrize('root, device', [
    ('/sys', '0:99'),                 # the root's device is no sysfs mount's: hidden by another mount
    ('/sys/fs/cgroup', '0:28'),       # a tmpfs below /sys
    ('/work/capture/sys', '254:0'),   # a captured tree on ext4
    ('/sys', '254:0'),
])
def test_roots_not_proven_on_sysfs_or_procfs_are_never_plain(root, device):
    plain = plain_dirs(root, MOUNTS, device)
    assert not plain(root) and not plain(root + '/devices')


def test_no_mount_table_means_nothing_is_plain():
    assert not plain_dirs('/sys', [], '0:22')('/sys')


def test_a_sysfs_mounted_elsewhere_is_plain_there():
    assert plain_dirs('/srv/with space', MOUNTS, '0:41')('/srv/with space/devices')


def test_the_table_is_read_from_the_real_proc_only(tmp_path):
    assert _mounts.mount_table(str(tmp_path)) is None      # a captured /proc could claim anything
    mounts = _mounts.mount_table('/proc')
    if not mounts or not any(point == '/sys' and fstype == 'sysfs' for point, _dev, fstype in mounts):
        pytest.skip('no sysfs on /sys in this mount table')
    assert plain_dirs('/sys', mounts)('/sys/bus')
    here = os.path.realpath(os.path.dirname(__file__))
    assert not plain_dirs(here, mounts)(here)


def test_a_reader_without_a_table_checks_every_file():
    assert not _sysfs.Reader('/sys')._plain('/sys')  # pylint: disable=protected-access


@pytest.fixture
def tree(tmp_path):
    dev = tmp_path / 'sys' / 'dev'
    dev.mkdir(parents=True)
    (dev / 'vendor').write_text('0x10de\n')
    (dev / 'subdir').mkdir()
    os.symlink('vendor', str(dev / 'link'))
    return tmp_path / 'sys'


def _read_all(reader, directory, monkeypatch):
    calls = []
    lstat = os.lstat

    def counted(path, *args, **kwargs):
        calls.append(path)
        return lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, 'lstat', counted)
    values = [reader.read(directory + '/' + name) for name in ('vendor', 'subdir', 'link', 'missing')]
    monkeypatch.setattr(os, 'lstat', lstat)
    return values, list(reader.warnings), [p for p in calls if os.path.basename(p) in ('vendor', 'subdir', 'link')]


def test_plain_directories_are_read_with_one_open_and_the_same_outcome(tree, monkeypatch):
    checked = _sysfs.Reader(str(tree), '/sys')
    monkeypatch.setattr(_sysfs, 'plain_dirs', lambda root, *args: (lambda directory: True))
    plain = _sysfs.Reader(str(tree), '/sys')
    directory = os.path.realpath(str(tree)) + '/dev'
    checked.resolve(directory)
    plain.resolve(directory)
    with_lstat = _read_all(checked, directory, monkeypatch)
    without = _read_all(plain, directory, monkeypatch)
    assert with_lstat[:2] == without[:2]
    assert with_lstat[0] == ['0x10de', None, None, None]
    assert with_lstat[1] == ['/sys/dev/subdir: is a directory, not a file', '/sys/dev/link: is a symbolic link, not followed']
    assert with_lstat[2] and not without[2]      # lstat of each file only where not plain
