# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._profile import fingerprint, profile

DEVICE = {
    'id': '0000:3b:00.2', 'kind': 'pci', 'device_api': 'vfio-pci', 'type': 'pci-15b3:101e:15b3:0016',
    'driver': 'mlx5_vfio_pci', 'parent': '0000:3b:00.0', 'iommu_group': '11', 'numa_node': 0,
    'pci': {'vendor': '15b3', 'device': '101e', 'subsystem_vendor': '15b3', 'subsystem_device': '0016',
            'class': '020000', 'revision': '00'},
    'software_version': '6.8.0-45-generic', 'software_version_source': 'kernel',
    'migration': {'capable': True, 'reason': 'x'}, 'attributes': {}, 'cdev': None,
    'in_use': {'pid': 1, 'vm': 'a', 'holder': '/dev/vfio/11'}, 'fingerprint': 'sha256:old',
}


def test_profile_keeps_only_compatibility_fields():
    assert profile(DEVICE) == {
        'kind': 'pci', 'device_api': 'vfio-pci', 'type': 'pci-15b3:101e:15b3:0016', 'driver': 'mlx5_vfio_pci',
        'pci': {'vendor': '15b3', 'device': '101e', 'subsystem_vendor': '15b3', 'subsystem_device': '0016'},
        'software_version': '6.8.0-45-generic', 'migration': {'capable': True}, 'attributes': {},
    }


def test_profile_is_idempotent_and_fingerprint_takes_either():
    assert profile(profile(DEVICE)) == profile(DEVICE)
    assert fingerprint(profile(DEVICE)) == fingerprint(DEVICE)
    assert fingerprint(DEVICE).startswith('sha256:') and len(fingerprint(DEVICE)) == 7 + 64


@pytest.mark.parametrize('path, value', [
    (('id',), '0000:5e:00.2'), (('parent',), '0000:5e:00.0'), (('iommu_group',), '99'), (('numa_node',), 1),
    (('in_use',), None), (('pci', 'class'), '020700'), (('pci', 'revision'), '01'), (('cdev',), '/dev/vfio/devices/vfio9'),
    (('software_version_source',), 'override'), (('migration', 'reason'), 'another sentence'),
])
def test_irrelevant_differences_keep_the_fingerprint(path, value):
    other = copy.deepcopy(DEVICE)
    target = other
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert fingerprint(other) == fingerprint(DEVICE)


@pytest.mark.parametrize('path, value', [
    (('software_version',), '6.9.0'), (('type',), 'pci-15b3:101e:15b3:0017'), (('driver',), 'vfio-pci'),
    (('pci', 'vendor'), '15b4'), (('pci', 'device'), '101f'), (('pci', 'subsystem_vendor'), '1028'),
    (('pci', 'subsystem_device'), '0017'), (('kind',), 'mdev'), (('device_api',), 'vfio-ccw'),
    (('migration', 'capable'), None),
])
def test_relevant_differences_change_the_fingerprint(path, value):
    other = copy.deepcopy(DEVICE)
    target = other
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert fingerprint(other) != fingerprint(DEVICE)


def test_s390_identity_attributes():
    ccw = {'kind': 'ccw', 'device_api': 'vfio-ccw', 'type': 'vfio_ccw-io', 'driver': 'vfio_ccw',
           'attributes': {'subchannel_type': '0'}}
    ap = {'kind': 'ap', 'device_api': 'vfio-ap', 'type': 'vfio_ap-passthrough', 'driver': 'vfio_ap',
          'attributes': {'matrix': '05.0004', 'guest_matrix': '05.0004'}}
    assert profile(ccw)['attributes'] == {'subchannel_type': '0'}
    assert profile(ap)['attributes'] == {'matrix': '05.0004'}
    assert fingerprint(dict(ap, attributes={'matrix': '06.0004'})) != fingerprint(ap)
    assert fingerprint(dict(ap, attributes={'matrix': '05.0004', 'guest_matrix': ''})) == fingerprint(ap)


def test_missing_keys_and_bad_input():
    assert profile({})['pci'] is None
    assert fingerprint({}) == fingerprint({'pci': 'not a dict', 'migration': None})
    with pytest.raises(TypeError, match='must be a mapping'):
        profile(['not', 'a', 'record'])
