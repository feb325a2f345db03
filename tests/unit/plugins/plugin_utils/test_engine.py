# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A destination that has the device's kind of slot, with no room left, says so first."""

from __future__ import annotations

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import CX6DX_PF, CX6DX_VF, T4, dev, host, offer, pf
from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule as MatrixFilters
from ansible_collections.vfio.migration.plugins.filter.migration_check import FilterModule as CheckFilters
from ansible_collections.vfio.migration.plugins.filter.migration_plan import FilterModule as PlanFilters
from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import place

migration_check = CheckFilters().filters()['migration_check']
compat_matrix = MatrixFilters().filters()['compat_matrix']
migration_plan = PlanFilters().filters()['migration_plan']

Q16 = dict(board=T4, type='nvidia-234')
GPU = '0000:af:00.0'

# t4-a / t4-c in small: the T4-16Q's GPU on the destination is full (its type reads 0), the
# other GPU offers T4-1Q only.
SOURCE = host(dev('g0', vm='ml-train-01', **Q16))
FULL = host(offer('0000:3b:00.0', T4, 'nvidia-230', 12), offer(GPU, T4, 'nvidia-234', 0))


def _only(result):
    assert not result['compatible']
    assert len(result['unplaced']) == 1
    return result['unplaced'][0]['reasons']


def test_mdev_type_with_no_instance_left_is_named_first():
    reasons = _only(migration_check(SOURCE, FULL))
    first = reasons[0]
    assert first == {
        'candidate': GPU + '/nvidia-234', 'candidates': 1, 'rule': 'capacity', 'field': 'available_instances',
        'source': 1, 'destination': 0,
        'message': 'the destination has mdev type nvidia-234, but no instance of it is available '
                   '(available_instances 0 on %s)' % GPU}
    # the refusals of the slots that exist are still there, after it
    assert [r['rule'] for r in reasons[1:]] == ['type']
    assert reasons[1]['destination'] == 'nvidia-230'


def test_unrelated_or_incompatible_type_with_no_instance_gives_no_capacity_reason():
    for dst in (host(offer('0000:3b:00.0', T4, 'nvidia-230', 12), offer(GPU, T4, 'nvidia-222', 0)),
                host(offer('0000:3b:00.0', T4, 'nvidia-230', 12), offer(GPU, T4, 'nvidia-234', 0, version='550.90.07'))):
        reasons = _only(migration_check(SOURCE, dst))
        assert 'capacity' not in [r['rule'] for r in reasons], reasons


def test_pf_with_every_vf_enabled():
    src = host(dev('v0', board=CX6DX_VF, vm='db', version='6.8.0-45-generic'))
    dst = host(pf('0000:5e:00.0', CX6DX_PF, 8, 8, vf_device='101e'), kernel='6.8.0-45-generic')
    reasons = _only(migration_check(src, dst))
    assert reasons[0]['rule'] == 'capacity'
    assert reasons[0]['field'] == 'sriov.numvfs'
    assert reasons[0]['candidate'] == '0000:5e:00.0/new-vf'
    assert '0000:5e:00.0: numvfs 8 of totalvfs 8' in reasons[0]['message']
    # the same PF with a VF left to create takes the device
    assert migration_check(src, host(pf('0000:5e:00.0', CX6DX_PF, 8, 7, vf_device='101e'),
                                     kernel='6.8.0-45-generic'))['compatible']


def test_pf_with_a_vf_in_use_adds_no_vf():
    """sriov_numvfs changes a non-zero count only through 0 (drivers/pci/iov.c): a PF with 4 of 8
    VFs enabled, one of them held by a VM, cannot take a new VF without removing that VM's."""
    src = host(dev('v0', board=CX6DX_VF, vm='db', version='6.8.0-45-generic'))
    held = dev('0000:5e:00.1', board=CX6DX_VF, vm='cache', version='6.8.0-45-generic', parent='0000:5e:00.0')
    dst = host(pf('0000:5e:00.0', CX6DX_PF, 8, 4, vf_device='101e'), held, kernel='6.8.0-45-generic')
    reasons = _only(migration_check(src, dst))
    assert reasons[0]['rule'] == 'capacity' and reasons[0]['field'] == 'sriov.numvfs'
    assert ('0000:5e:00.0: numvfs 4 of totalvfs 8, 0000:5e:00.1 in use by VM cache' in reasons[0]['message']
            and 'changes its count only through 0' in reasons[0]['message']), reasons[0]['message']
    # the VF in use on another PF does not stop this one
    elsewhere = dict(held, parent='0000:5f:00.0')
    check = migration_check(src, host(pf('0000:5e:00.0', CX6DX_PF, 8, 4, vf_device='101e'), elsewhere,
                                      kernel='6.8.0-45-generic'))
    assert check['compatible'] and check['placements'][0]['action'] == 'create_vf'


def test_device_of_the_profile_in_use():
    src = host(dev('v0', board=CX6DX_VF, vm='db', version='6.1.0-18-amd64'))
    dst = host(dev('v9', board=CX6DX_VF, vm='cache', version='6.8.0-45-generic'))
    reasons = _only(migration_check(src, dst))
    assert reasons[0]['field'] == 'in_use'
    assert reasons[0]['candidate'] == 'v9'
    assert reasons[0]['message'] == ('the destination has 1 device(s) of this profile, but none is free '
                                     '(v9 in use by VM cache)')


def test_compat_matrix_and_plan_name_the_full_type():
    verdicts = compat_matrix({'src': SOURCE, 'dst': FULL})['verdicts']
    reasons = verdicts['c2']['c1']['unplaced'][0]['reasons']
    assert reasons[0]['rule'] == 'capacity' and reasons[0]['field'] == 'available_instances'
    # a class verdict stands for every host of the class: no address in the sentence
    assert reasons[0]['message'] == ('the destination has mdev type nvidia-234, but no instance of it is '
                                     'available (available_instances 0 on 1 parent(s))')
    blocked = migration_plan({'src': SOURCE, 'dst': FULL}, drain=['src'])['blocked']
    assert [r['field'] for r in blocked[0]['reasons']][0] == 'available_instances'


def test_spent_slots_are_not_built_when_everything_fits():
    engine = Engine()
    src = engine.host('src', host(dev('g0', vm='web', board=T4, type='nvidia-230')))
    dst = engine.host('dst', FULL)
    result = place(src.demands(), dst.pools, engine.comparator, spent=dst.spent)
    assert result.complete
    assert dst._spent is None   # pylint: disable=protected-access


def _with_caps(record, caps):
    record = dict(record)
    record['config_space'] = {'header_type': '00', 'capabilities': caps, 'extended_capabilities': ['0001@100']}
    return record


def test_vf_still_to_create_has_its_siblings_config_space():
    """A new VF copies its enabled sibling, capability chain included, so the chain rule judges it."""
    kernel = '6.8.0-45-generic'
    src = host(*[_with_caps(dev(v, board=CX6DX_VF, vm=v, version=kernel), ['10@40', '11@b0']) for v in ('v0', 'v1')])
    # a free sibling (a held one would keep the PF from adding VFs): one VM takes it, the other a new VF
    sibling = dev('0000:5e:00.1', board=CX6DX_VF, version=kernel, parent='0000:5e:00.0')
    same = host(_with_caps(sibling, ['10@40', '11@b0']), pf('0000:5e:00.0', CX6DX_PF, 8, 1, vf_device='101e'),
                kernel=kernel)
    other = host(_with_caps(sibling, ['10@40']), pf('0000:5e:00.0', CX6DX_PF, 8, 1, vf_device='101e'),
                 kernel=kernel)
    placed = migration_check(src, same)['placements']
    assert sorted((p['action'], p['destination']) for p in placed) == [
        ('create_vf', '0000:5e:00.0'), ('use', '0000:5e:00.1')]
    check = migration_check(src, other)
    assert not check['compatible'] and len(check['unplaced']) == 2
    # the sibling and the VF still to create (its copy) are refused for the same chain, in one reason
    reasons = check['unplaced'][0]['reasons']
    assert [(r['field'], r['candidates']) for r in reasons] == [('config_space.capabilities', 2)]
