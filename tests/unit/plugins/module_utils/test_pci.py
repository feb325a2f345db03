# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_pci: the ids and type of a PCI function, and the functions the scan reports."""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.plugins.module_utils._pci import pci_type, read_ids
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader


def test_read_ids_are_lower_case_hex_without_0x(host):
    directory = host.pci('0000:5e:00.2', '15B3', '101E', subvendor='15b3', subdevice='0083', cls='020000', rev='00')
    ids = read_ids(Reader(host.sys, '/sys'), directory)
    assert ids == {'vendor': '15b3', 'device': '101e', 'subsystem_vendor': '15b3', 'subsystem_device': '0083',
                   'class': '020000', 'revision': '00'}
    assert pci_type(ids) == 'pci-15b3:101e:15b3:0083'


def test_only_vfio_bound_functions_are_devices_and_pfs_are_sriov(host):
    host.pci('0000:5e:00.0', '15b3', '101d', driver='mlx5_core', module='mlx5_core', totalvfs=4, numvfs=1)
    host.pci('0000:5e:00.2', '15b3', '101e', driver='vfio-pci', module='vfio_pci', group=7, physfn='0000:5e:00.0')
    host.pci('0000:00:1f.0', '8086', '7a04', driver='other')
    facts = gather(host.sys, host.proc, host.dev, {}, True)
    assert [(d['id'], d['kind'], d['parent']) for d in facts['devices']] == [('0000:5e:00.2', 'pci', '0000:5e:00.0')]
    assert [(p['pf'], p['totalvfs'], p['numvfs']) for p in facts['sriov']] == [('0000:5e:00.0', 4, 1)]
