# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small fleet for the report tests, written the way the facts module reports hosts.

kvm-a runs VM web01 on a T4 vGPU (nvidia-230, driver 550.54.16); kvm-b has the same GPU,
driver and free capacity but no VM; kvm-c runs db01 on an older driver (535.104.05) that no
other host has; the hostile host carries markup, quotes and formula starts in every string.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._profile import fingerprint

HOSTILE = '<script>alert("pwned")</script> \'q\' </td>'
HOSTILE_HOST = 'evil' + HOSTILE
FORMULA_VM = '=HYPERLINK("http://x")'


def device(dev_id, vtype='nvidia-230', driver='nvidia', version='550.54.16', vm=None):
    record = {
        'id': dev_id, 'kind': 'mdev', 'device_api': 'vfio-pci', 'type': vtype, 'driver': driver,
        'parent': '0000:3b:00.0', 'iommu_group': '21', 'numa_node': 0,
        'pci': {'vendor': '10de', 'device': '1eb8', 'subsystem_vendor': '10de', 'subsystem_device': '12a2',
                'class': '030200', 'revision': 'a1'},
        'software_version': version, 'software_version_source': 'module',
        'migration': {'capable': True, 'reason': 'NVIDIA vGPU host driver supports live migration'},
        'attributes': {}, 'in_use': {'pid': 4242, 'vm': vm, 'holder': '/dev/vfio/21'} if vm else None,
    }
    record['fingerprint'] = fingerprint(record)
    return record


def mdev_type(vtype='nvidia-230', available=15, version='550.54.16', parent='0000:3b:00.0', name='GRID T4-1Q'):
    record = {'parent': parent, 'type': vtype, 'name': name,
              'description': 'num_heads=4, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=16',
              'device_api': 'vfio-pci', 'available_instances': available, 'driver': 'nvidia', 'kind': 'mdev',
              'migration': {'capable': True, 'reason': 'NVIDIA vGPU host driver supports live migration'},
              'pci': {'vendor': '10de', 'device': '1eb8', 'subsystem_vendor': '10de', 'subsystem_device': '12a2'},
              'software_version': version}
    record['fingerprint'] = fingerprint(record)
    return record


def facts(devices=(), mdev_types=(), sriov=(), kernel='6.1.0-18-amd64', warnings=()):
    return {'schema_version': 1, 'host': {'kernel_release': kernel, 'iommu': {'enabled': True, 'groups': 40}},
            'devices': list(devices), 'mdev_types': list(mdev_types), 'sriov': list(sriov), 'summary': {},
            'warnings': list(warnings)}


def fleet():
    return {
        'kvm-a': facts([device('6f1c3a52-0d9e-4c1a-9b57-7a3c2f8e1d01', vm='web01')], [mdev_type(available=15)]),
        'kvm-b': facts([], [mdev_type(available=16)],
                       [{'pf': '0000:5e:00.0', 'pci': {'vendor': '15b3', 'device': '101d'}, 'driver': 'mlx5_core',
                         'totalvfs': 8, 'numvfs': 2}]),
        'kvm-c': facts([device('0b7e1c11-2f3a-4d5e-8f90-a1b2c3d4e5f6', version='535.104.05', vm='db01')],
                       warnings=['/sys/bus/pci/devices/0000:af:00.0/numa_node: unreadable']),
        HOSTILE_HOST: facts([device(HOSTILE, vtype=HOSTILE, driver=HOSTILE, version=HOSTILE, vm=FORMULA_VM)],
                            [mdev_type(vtype=HOSTILE, name=HOSTILE, parent=HOSTILE, available=1)],
                            kernel=HOSTILE, warnings=[HOSTILE]),
    }


VERSION_REASON = ('device 0b7e1c11-2f3a-4d5e-8f90-a1b2c3d4e5f6 (db01): software_version 535.104.05 on the source, '
                  'no destination type with a compatible version')


def engine_view():
    """Classes and class verdicts as the engine would give them for fleet()."""
    classes = {'C1': ['kvm-a'], 'C2': ['kvm-b'], 'C3': ['kvm-c'], 'C4': [HOSTILE_HOST]}
    verdicts = {}
    for src in classes:
        for dst in classes:
            if src == dst or src == 'C2' or (src == 'C1' and dst == 'C2'):
                verdicts[(src, dst)] = {'compatible': True, 'reasons': [], 'rules': [], 'blocked': []}
            elif src == 'C3':
                verdicts[(src, dst)] = {'compatible': False, 'reasons': [VERSION_REASON], 'rules': ['software_version'],
                                        'blocked': [{'type': 'nvidia-230', 'count': 1}]}
            else:
                verdicts[(src, dst)] = {'compatible': False,
                                        'reasons': ['no capacity for nvidia-230 on the destination', 'echo: ' + HOSTILE],
                                        'rules': ['capacity'], 'blocked': [{'type': 'nvidia-230', 'count': 1}]}
    evacuation = {
        'kvm-c': {'evacuable': False, 'single_host': False, 'destinations': 0, 'destination_classes': [],
                  'blocked': [{'device': '0b7e1c11-2f3a-4d5e-8f90-a1b2c3d4e5f6', 'vm': 'db01', 'type': 'nvidia-230',
                               'reasons': [VERSION_REASON]}]},
        'kvm-a': {'evacuable': True, 'single_host': True, 'destinations': 1, 'destination_classes': ['C2'],
                  'blocked': []},
    }
    return classes, verdicts, evacuation


def model(**kwargs):
    from ansible_collections.vfio.migration.plugins.plugin_utils._report_model import build_model
    classes, verdicts, evacuation = engine_view()
    options = dict(evacuation=evacuation, hosts_without_facts=['kvm-z'], generated_at='2026-11-25T20:00:00Z',
                   rules=['default'])
    options.update(kwargs)
    return build_model(fleet(), classes, verdicts, **options)
