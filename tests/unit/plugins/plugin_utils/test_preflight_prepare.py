# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What vfio_preflight_prepare makes on the destinations (plugin_utils._preflight_prepare)."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import PreflightInputError
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_prepare import prepare

U1 = '8d7c5b0a-1111-4e2f-9a6b-0c1d2e3f4a01'
U2 = '8D7C5B0A-2222-4E2F-9A6B-0C1D2E3F4A02'


def _schema(facts):
    """The fields the facts schema requires (the filter's gateway checks them), around the fields used here."""
    for device in facts['devices']:
        device.setdefault('device_api', 'vfio-pci')
        device.setdefault('type', 'nvidia-230' if device['kind'] == 'mdev' else 'pci-15b3:101e:15b3:0016')
    for entry in facts['mdev_types']:
        entry.setdefault('available_instances', 1)
    return dict(facts, schema_version=1)


def _src():
    return _schema({'devices': [
        {'id': U1, 'kind': 'mdev', 'driver': 'nvidia', 'in_use': {'vm': 'web-01'}},
        {'id': U2.lower(), 'kind': 'mdev', 'driver': 'nvidia', 'in_use': {'vm': 'web-02'}},
        {'id': '0000:5e:00.2', 'kind': 'pci', 'driver': 'mlx5_vfio_pci', 'in_use': {'vm': 'db-01'}},
        {'id': '0000:5e:00.3', 'kind': 'pci', 'driver': 'vfio-pci', 'in_use': {'vm': 'db-01'}},
        {'id': '0000:5e:00.4', 'kind': 'pci', 'driver': None, 'in_use': {'vm': 'odd-01'}},
    ], 'mdev_types': [], 'sriov': []})


def _dst(numvfs=0, held=False):
    vfs = [{'id': '0000:5e:00.%d' % (2 + i), 'kind': 'pci', 'parent': '0000:5e:00.0', 'driver': 'mlx5_vfio_pci',
            'in_use': {'vm': 'other'} if held and i == 0 else None} for i in range(numvfs)]
    return _schema({
        'devices': vfs + [{'id': '0000:99:00.0', 'kind': 'pci', 'parent': None, 'driver': 'vfio-pci',
                           'in_use': None}],
        'mdev_types': [{'parent': '0000:3b:00.0', 'type': 'nvidia-230', 'kind': 'mdev'},
                       {'parent': '0000:41:00.0', 'type': 'nvidia-592', 'kind': 'nvidia_vgpu'},
                       {'parent': 'matrix', 'type': 'vfio_ap-passthrough', 'kind': 'ap'}],
        'sriov': [{'pf': '0000:5e:00.0', 'numvfs': numvfs, 'totalvfs': 4}],
    })


def _p(source, action, destination, vm, mtype='t'):
    return {'source': source, 'action': action, 'destination': destination, 'vm': vm, 'type': mtype}


MDEV_MOVE = {'source': 'src', 'destination': 'dst', 'placements': [
    _p(U2, 'create_mdev', '0000:3b:00.0', 'web-02', 'nvidia-230'),
    _p(U1, 'create_mdev', '0000:3b:00.0', 'web-01', 'nvidia-230'),
    _p('0000:5e:00.9', 'use', '0000:99:00.0', 'x-01')]}


def test_an_mdev_per_create_mdev_placement_with_the_source_uuid():
    out = prepare({'src': _src(), 'dst': _dst()}, [MDEV_MOVE, {'source': 'other', 'destination': None}])
    assert out == {'problems': [], 'vfs': [], 'mdevs': [
        {'host': 'dst', 'parent': '0000:3b:00.0', 'type': 'nvidia-230', 'uuid': U1, 'vm': 'web-01',
         'source_host': 'src'},
        {'host': 'dst', 'parent': '0000:3b:00.0', 'type': 'nvidia-230', 'uuid': U2.lower(), 'vm': 'web-02',
         'source_host': 'src'}]}
    # the same moves give the same UUIDs: a second run asks for the same devices
    assert prepare({'src': _src(), 'dst': _dst()}, [MDEV_MOVE]) == out


def test_new_vfs_follow_the_enabled_ones_with_the_source_drivers():
    # a move of migration_plan: the VM is named on the move, not on its devices
    devices = [_p('0000:5e:00.3', 'create_vf', '0000:5e:00.0', None), _p('0000:5e:00.2', 'create_vf', '0000:5e:00.0', None)]
    move = {'vm': 'db-01', 'source': 'src', 'destination': 'dst', 'devices': [
        dict((k, v) for k, v in d.items() if k != 'vm') for d in devices]}
    out = prepare({'src': _src(), 'dst': _dst()}, [move])
    base = {'host': 'dst', 'pf': '0000:5e:00.0', 'num_vfs': 2, 'vf': None, 'vm': 'db-01', 'source_host': 'src'}
    assert out == {'mdevs': [], 'problems': [], 'vfs': [
        dict(base, vf_index=0, driver='mlx5_vfio_pci', source='0000:5e:00.2'),
        dict(base, vf_index=1, driver='vfio-pci', source='0000:5e:00.3')]}


def test_a_count_that_is_not_zero_goes_through_zero_and_the_vfio_vfs_are_bound_again():
    move = {'source': 'src', 'destination': 'dst',
            'devices': [_p('0000:5e:00.3', 'create_vf', '0000:5e:00.0', 'db-01')]}
    out = prepare({'src': _src(), 'dst': _dst(numvfs=2)}, [move])
    assert out['problems'] == []
    assert [(v['num_vfs'], v['vf_index'], v['vf'], v['driver']) for v in out['vfs']] == [
        (3, 2, None, 'vfio-pci'), (3, None, '0000:5e:00.2', 'mlx5_vfio_pci'),
        (3, None, '0000:5e:00.3', 'mlx5_vfio_pci')]


def test_what_cannot_be_prepared_is_a_problem_each():
    moves = [{'source': 'src', 'destination': 'dst', 'placements': [
        _p('0000:5e:00.2', 'create_vf', '0000:5e:00.0', 'db-01'),
        _p('0000:5e:00.4', 'create_vf', '0000:5e:00.0', 'odd-01'),
        _p('0000:5e:00.2', 'create_mdev', '0000:3b:00.0', 'db-01', 'nvidia-230'),
        _p(U1, 'create_mdev', '0000:41:00.0', 'web-01', 'nvidia-592'),
        _p(U1, 'create_mdev', 'matrix', 'web-01', 'vfio_ap-passthrough')]}]
    out = prepare({'src': _src(), 'dst': _dst(numvfs=1, held=True)}, moves)
    assert (out['mdevs'], out['vfs']) == ([], [])
    assert out['problems'] == [
        'src 0000:5e:00.2 (VM db-01) -> dst 0000:3b:00.0/nvidia-230: the source device is not an mdev (its id is no UUID)',
        'src %s (VM web-01) -> dst 0000:41:00.0/nvidia-592: an NVIDIA vGPU on an SR-IOV VF is made through the '
        "VF's nvidia/current_vgpu_type, not an mdev type" % U1,
        'src %s (VM web-01) -> dst matrix/vfio_ap-passthrough: a vfio-ap mdev needs its adapters and domains '
        'assigned, which the role does not do' % U1,
        'src 0000:5e:00.4 (VM odd-01) -> dst 0000:5e:00.0: the source device has no driver to bind the new VF to',
        'dst 0000:5e:00.0: the VF count goes through 0, which removes every VF, and 0000:5e:00.2 is in use by other']


def test_a_count_beyond_totalvfs_and_an_unknown_pf_are_problems():
    many = [_p('0000:5e:00.2', 'create_vf', '0000:5e:00.0', 'db-01')] * 5
    out = prepare({'src': _src(), 'dst': _dst()}, [{'source': 'src', 'destination': 'dst', 'devices': many}])
    assert out['problems'] == ['dst 0000:5e:00.0: 0 VF(s) enabled of 4, 5 more needed']
    out = prepare({'src': _src(), 'dst': _dst()}, [{'source': 'src', 'destination': 'dst', 'devices': [
        _p('0000:5e:00.2', 'create_vf', '0000:77:00.0', 'db-01')]}])
    assert out['problems'] == ['dst 0000:77:00.0: not an SR-IOV PF in the facts of dst']


def test_bad_input_is_named():
    with pytest.raises(PreflightInputError, match="moves: no vfio facts for host 'gone'"):
        prepare({'src': _src()}, [dict(MDEV_MOVE, destination='gone')])
    with pytest.raises(PreflightInputError, match=r"moves\[0\]: expected 'placements' or 'devices'"):
        prepare({'src': _src()}, [{'source': 'src', 'destination': 'dst'}])
