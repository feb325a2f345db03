# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_vf_ensure: an SR-IOV PF given a number of VFs, and one VF bound to a driver."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._in_use import DeviceHolders
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused, Writer
from ansible_collections.vfio.migration.plugins.module_utils._vf_ensure import ensure

PF = '0000:5e:00.0'


def _run(host, check_mode=False, **spec):
    reader = Reader(host.sys, '/sys')
    writer = Writer(reader, check_mode)
    holders = DeviceHolders(reader, Reader(host.proc, '/proc'), host.dev)
    full = dict({'pf': PF, 'num_vfs': None, 'vf': None, 'vf_index': None, 'driver': None}, **spec)
    return ensure(reader, writer, holders, full, verify=False), writer


def test_num_vfs_is_written_to_sriov_numvfs(host):
    pf = host.pci(PF, '15b3', '101d', driver='mlx5_core', totalvfs=4)
    result, writer = _run(host, num_vfs=2)
    assert result['changed'] and result['before'] == {'sriov_numvfs': 0} and result['after'] == {'sriov_numvfs': 2}
    assert [(w['path'], w['value']) for w in writer.writes] == [('/sys/devices/pci0000:00/%s/sriov_numvfs' % PF, '2')]
    with open(os.path.join(pf, 'sriov_numvfs')) as handle:
        assert handle.read() == '2'


def test_the_same_count_changes_nothing(host):
    host.pci(PF, '15b3', '101d', driver='mlx5_core', totalvfs=4, numvfs=2)
    result, writer = _run(host, num_vfs=2)
    assert result['changed'] is False and writer.writes == []


def test_check_mode_of_a_bind_to_a_vf_still_to_create(host):
    host.pci(PF, '15b3', '101d', driver='mlx5_core', totalvfs=4)
    result, writer = _run(host, check_mode=True, num_vfs=1, vf_index=0, driver='vfio-pci')
    assert result['changed'] and result['after']['driver'] == 'vfio-pci' and result['after']['vf'] is None
    assert len(writer.writes) == 1


@pytest.mark.parametrize('spec, message', [
    ({'num_vfs': 8}, 'has sriov_totalvfs 4; cannot enable 8 VFs'),
    ({'pf': '0000:99:00.0', 'num_vfs': 1}, 'PCI device 0000:99:00.0 not found'),
    ({'vf_index': 3, 'driver': 'vfio-pci'}, 'VF virtfn3 of 0000:5e:00.0 does not exist'),
])
def test_refusals_say_why(host, spec, message):
    host.pci(PF, '15b3', '101d', driver='mlx5_core', totalvfs=4)
    with pytest.raises(Refused, match=message):
        _run(host, **spec)
