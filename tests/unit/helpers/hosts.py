# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Short host descriptions for the engine's table-driven tests.

``host(dev('gpu0', T4, type='nvidia-230', vm='web'), offer('0000:3b:00.0', T4, 'nvidia-230', 4))``
builds schema_version 1 facts with fingerprints computed the way vfio_facts computes them.
"""

from __future__ import annotations

import copy

from ansible_collections.vfio.migration.plugins.module_utils._profile import fingerprint

# Boards: (vendor, device, subsystem_vendor, subsystem_device)
T4 = ('10de', '1eb8', '10de', '12a2')
A100 = ('10de', '20f1', '10de', '145f')
H100_PCIE = ('10de', '2331', '10de', '1626')
H100_NVL = ('10de', '2321', '10de', '1626')
H800_PCIE = ('10de', '2322', '10de', '1626')
CX6DX_VF = ('15b3', '101e', '15b3', '0016')
CX6DX_PF = ('15b3', '101d', '15b3', '0016')
E810_VF = ('8086', '1889', '8086', '0000')

NV = '550.54.16'


def pci(ids):
    if ids is None:
        return None
    vendor, device, subvendor, subdevice = ids
    return {'vendor': vendor, 'device': device, 'subsystem_vendor': subvendor,
            'subsystem_device': subdevice, 'class': '030200', 'revision': 'a1'}


def _kind_for_type(type_id):
    return 'pci' if type_id.startswith('pci-') else 'mdev'


def pci_type(ids):
    return 'pci-%s:%s:%s:%s' % tuple(ids)


def dev(ident, board=T4, type=None, kind=None, driver=None, version=NV, vm=None, pid=None,
        api='vfio-pci', capable=True, parent=None, attributes=None, reason=None):
    """A device record; ``vm``/``pid`` make it in use."""
    type_id = type or pci_type(board)
    kind = kind or _kind_for_type(type_id)
    if driver is None:
        driver = type_id.split('-')[0] if kind != 'pci' else 'mlx5_vfio_pci'
    in_use = None
    if vm is not None or pid is not None:
        in_use = {'pid': pid if pid is not None else 1000 + (abs(hash(vm)) % 1000), 'vm': vm,
                  'holder': '/dev/vfio/1'}
    record = {
        'id': ident, 'kind': kind, 'device_api': api, 'type': type_id, 'driver': driver,
        'parent': parent, 'iommu_group': '1', 'numa_node': 0, 'pci': pci(board),
        'software_version': version, 'software_version_source': 'module',
        'migration': {'capable': capable, 'reason': reason or ('driver %s %s migrate' % (driver, 'can' if capable else 'cannot'))},
        'attributes': dict(attributes or {}), 'in_use': in_use,
    }
    record['fingerprint'] = fingerprint(record)
    return record


def offer(parent, board, type, available, version=NV, kind='mdev', driver=None, api='vfio-pci', capable=True):
    """An ``mdev_types`` entry: ``available`` more instances of ``type`` on ``parent``."""
    record = {
        'parent': parent, 'type': type, 'kind': kind, 'name': type, 'description': None,
        'device_api': api, 'available_instances': available, 'driver': driver or type.split('-')[0],
        'pci': pci(board), 'software_version': version, 'software_version_source': 'module',
        'migration': {'capable': capable, 'reason': 'test'},
    }
    record['fingerprint'] = fingerprint(record)
    return record


def pf(name, board, totalvfs, numvfs=0, vf_device=None, driver='mlx5_core'):
    return {'pf': name, 'pci': pci(board), 'driver': driver, 'numa_node': 0,
            'totalvfs': totalvfs, 'numvfs': numvfs, 'vf_device': vf_device}


def host(*items, kernel='6.8.0-45-generic', modules=None):
    """Facts of a host holding the given ``dev``/``offer``/``pf`` records."""
    devices, types, sriov = [], [], []
    for item in items:
        if 'available_instances' in item:
            types.append(copy.deepcopy(item))
        elif 'pf' in item:
            sriov.append(copy.deepcopy(item))
        else:
            devices.append(copy.deepcopy(item))
    return {
        'schema_version': 1,
        'host': {'kernel_release': kernel, 'iommu': {'enabled': True, 'groups': len(devices)},
                 'modules': modules or {}},
        'devices': sorted(devices, key=lambda d: d['id']),
        'mdev_types': sorted(types, key=lambda t: (t['parent'], t['type'])),
        'sriov': sorted(sriov, key=lambda p: p['pf']),
        'summary': {},
        'warnings': [],
    }


# Whole hosts for the plan and upgrade tests
OLD_KERNEL, NEW_KERNEL = '6.1.0-18-amd64', '6.8.0-45-generic'


def gpu(tag, vms=(), avail=0, version='550.54.16', type_id='nvidia-230'):
    devices = []
    for v, count in enumerate(vms):
        for i in range(count):
            devices.append(dev('%s-v%d-%d' % (tag, v, i), vm='%s-vm%d' % (tag, v), board=T4, type=type_id,
                               version=version))
    return host(*(devices + [offer('0000:3b:00.0', T4, type_id, avail, version=version)]))


def nic(tag, kernel, vms=0, spare=0):
    devices = [dev('%s-vf%d' % (tag, i), vm='%s-vm%d' % (tag, i), board=CX6DX_VF, version=kernel,
                   parent='0000:5e:00.0') for i in range(vms)]
    return host(*(devices + [pf('0000:5e:00.0', CX6DX_PF, vms + spare, vms, vf_device='101e')]), kernel=kernel)
