# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""migration_plan and upgrade_order: evacuation with capacity, waves, blocked VMs, rolling upgrades."""

from __future__ import annotations

import itertools
import random

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import CX6DX_PF, CX6DX_VF, T4, dev, host, offer, pf
from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import place
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan
from ansible_collections.vfio.migration.plugins.plugin_utils._upgrade_order import upgrade_order

Q1 = dict(board=T4, type='nvidia-230')
OLD, NEW = '6.1.0-18-amd64', '6.8.0-45-generic'


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


def moves(plan):
    return [(m['vm'], m['source'], m['destination']) for w in plan['waves'] for m in w['moves']]


def test_drain_spreads_vms_and_updates_capacity():
    facts = {'a': gpu('a', vms=(1, 1, 1)), 'b': gpu('b', avail=2), 'c': gpu('c', avail=1)}
    plan = migration_plan(facts, drain=['a'])
    assert plan['feasible'] and plan['blocked'] == []
    landed = [dst for _vm, _src, dst in moves(plan)]
    assert sorted(landed) == ['b', 'b', 'c']
    assert plan['waves'][0]['hosts'] == ['a']
    assert plan['summary']['vms_placed'] == 3


def test_never_onto_a_draining_host():
    facts = {'a': gpu('a', vms=(1,), avail=8), 'b': gpu('b', vms=(1,), avail=8), 'c': gpu('c', avail=1)}
    plan = migration_plan(facts, drain=['a', 'b'])
    assert all(dst == 'c' for _vm, _src, dst in moves(plan))
    assert len(plan['blocked']) == 1
    blocked = plan['blocked'][0]
    assert blocked['reasons'][0]['rule'] == 'capacity'
    assert 'the VMs planned before it used their room' in blocked['reasons'][0]['message']
    assert blocked['reasons'][0]['hosts'] == ['c']


def test_blocked_vm_lists_rule_reasons_per_destination_group():
    facts = {'a': gpu('a', vms=(2,)), 'b': gpu('b', avail=4, version='550.90.07'), 'c': gpu('c', avail=1)}
    plan = migration_plan(facts, drain=['a'])
    assert not plan['feasible']
    reasons = plan['blocked'][0]['reasons']
    by_rule = dict((r['rule'], r) for r in reasons)
    assert by_rule['nvidia_host_driver_equal']['hosts'] == ['b']
    assert 'identical host driver versions' in by_rule['nvidia_host_driver_equal']['message']
    assert by_rule['capacity']['hosts'] == ['c']
    assert plan['blocked'][0]['devices'] == ['a-v0-0', 'a-v0-1']


def test_most_constrained_vm_goes_first():
    """'strict' (driver 17.4) fits only on b (17.4); 'flex' (17.1) fits b or c (17.2), one slot
    each. Planned by name, flex would take b's slot and strand strict; most constrained first
    gives b to strict and c to flex."""
    rules = {'disable': ['nvidia_host_driver_equal']}
    facts = {
        'a': host(dev('x0', vm='flex', version='17.1', **Q1), dev('x1', vm='strict', version='17.4', **Q1)),
        'b': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1, version='17.4')),
        'c': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1, version='17.2')),
    }
    plan = migration_plan(facts, drain=['a'], rules=rules)
    assert plan['feasible']
    assert dict((vm, dst) for vm, _s, dst in moves(plan)) == {'strict': 'b', 'flex': 'c'}
    assert [m['vm'] for m in plan['waves'][0]['moves']] == ['strict', 'flex']


def test_waves_follow_host_order_and_size():
    facts = dict(('s%d' % i, gpu('s%d' % i, vms=(1,))) for i in range(5))
    facts['big'] = gpu('big', avail=16)
    plan = migration_plan(facts, drain=['s%d' % i for i in range(5)], wave_size=2)
    assert [w['wave'] for w in plan['waves']] == [1, 2, 3]
    assert [len(w['hosts']) for w in plan['waves']] == [2, 2, 1]
    assert sorted(h for w in plan['waves'] for h in w['hosts']) == ['s0', 's1', 's2', 's3', 's4']


def test_plan_argument_errors():
    facts = {'a': gpu('a', vms=(1,))}
    with pytest.raises(ArgumentError, match="drain names host 'zz', which has no facts"):
        migration_plan(facts, drain=['zz'])
    with pytest.raises(ArgumentError, match='wave_size must be a positive integer'):
        migration_plan(facts, drain=['a'], wave_size=0)
    plan = migration_plan(facts, drain=['a'])
    assert plan['blocked'][0]['reasons'][0]['rule'] == 'no_destination'


def _brute_force(facts, drain):
    """Most VMs movable, trying every assignment of VMs to destinations (or nowhere)."""
    engine = Engine()
    models = dict((n, engine.host(n, f)) for n, f in facts.items())
    vms = [(h, k, g) for h in drain for k, g in sorted(models[h].vms.items())]
    dests = [n for n in sorted(models) if n not in drain]
    best = 0
    for choice in itertools.product([None] + dests, repeat=len(vms)):
        count = sum(1 for c in choice if c is not None)
        if count <= best:
            continue
        ok = True
        for dest in dests:
            demands = [d for (vm, c) in zip(vms, choice) if c == dest for d in vm[2]]
            if demands and not place(demands, models[dest].pools, engine.comparator).complete:
                ok = False
                break
        if ok:
            best = count
    return best


@pytest.mark.parametrize('seed', range(25))
def test_plan_matches_brute_force_optimum(seed):
    rng = random.Random(seed)
    types = ['nvidia-230', 'nvidia-222']
    facts = {}
    for i in range(rng.randint(1, 2)):
        devices = []
        for v in range(rng.randint(1, 3)):
            for d in range(rng.randint(1, 2)):
                devices.append(dev('s%d-%d-%d' % (i, v, d), vm='s%d-vm%d' % (i, v), board=T4, type=rng.choice(types)))
        facts['src%d' % i] = host(*devices)
    for i in range(rng.randint(1, 3)):
        offers = [offer('0000:%02x:00.0' % j, T4, rng.choice(types), rng.randint(0, 2)) for j in range(rng.randint(1, 2))]
        facts['dst%d' % i] = host(*offers)
    drain = sorted(n for n in facts if n.startswith('src'))
    plan = migration_plan(facts, drain=drain)
    assert plan['summary']['vms_placed'] == _brute_force(facts, drain)
    assert plan['optimal']
    # capacity respected: no slot used more than it offers
    used = {}
    for wave in plan['waves']:
        for move in wave['moves']:
            for device in move['devices']:
                key = (move['destination'], device['slot'])
                used[key] = used.get(key, 0) + 1
    for (dst, slot), count in used.items():
        parent, _sep, type_id = slot.partition('/')
        offered = [t['available_instances'] for t in facts[dst]['mdev_types']
                   if t['parent'] == parent and t['type'] == type_id]
        assert count <= offered[0]


# --------------------------------------------------------------------- upgrades

def test_upgrade_order_newer_accepts_older():
    facts = {'h1': nic('h1', OLD, vms=2), 'h2': nic('h2', OLD, vms=1, spare=1), 'h3': nic('h3', OLD, spare=2)}
    result = upgrade_order(facts, {'hosts': ['h1', 'h2', 'h3'], 'versions': {'mlx5_vfio_pci': NEW, 'kernel': NEW}})
    assert result['feasible'] and result['order'] == ['h3', 'h2', 'h1']
    steps = dict((s['host'], s) for s in result['steps'])
    assert steps['h3']['moves'] == []
    assert [(m['vm'], m['destination']) for m in steps['h2']['moves']] == [('h2-vm0', 'h3')]
    # h1's VMs go to upgraded hosts (newer accepts older)
    assert sorted(m['destination'] for m in steps['h1']['moves']) == ['h2', 'h3']


def test_upgrade_order_never_back_to_an_old_host():
    """Only h1 is upgraded first if its VM can leave; then h2's VM may go to h1 (new), but a VM
    that sits on the upgraded h1 can never return to the old h3."""
    facts = {'h1': nic('h1', OLD, vms=1), 'h2': nic('h2', OLD, vms=1), 'h3': nic('h3', OLD, spare=1)}
    result = upgrade_order(facts, {'h1': {'kernel': NEW}, 'h2': {'kernel': NEW}})
    assert result['feasible']
    first, second = result['steps']
    assert first['host'] == 'h1' and first['moves'][0]['destination'] == 'h3'
    # h2's VM: h3 is full now, h1 is new and free -> goes to h1
    assert second['host'] == 'h2' and second['moves'][0]['destination'] == 'h1'


def test_upgrade_order_blocked_when_equal_versions_are_required():
    """NVIDIA vGPU needs identical host drivers: once one host is upgraded nothing old can land on
    it, so with no spare old capacity the last old host cannot be emptied."""
    facts = {'g1': gpu('g1', vms=(1,), avail=1), 'g2': gpu('g2', vms=(1,), avail=1)}
    result = upgrade_order(facts, {'hosts': ['g1', 'g2'], 'versions': {'nvidia': '550.90.07'}})
    assert not result['feasible']
    assert result['order'] == ['g1']
    assert result['not_upgraded'] == ['g2']
    assert any(r['rule'] == 'nvidia_host_driver_equal' for b in result['blocked'] for r in b['reasons'])


def test_upgrade_targets_errors():
    facts = {'a': nic('a', OLD)}
    with pytest.raises(ArgumentError, match='targets must be a mapping'):
        upgrade_order(facts, ['a'])
    with pytest.raises(ArgumentError, match="targets names host 'zz'"):
        upgrade_order(facts, {'zz': {'kernel': NEW}})
    with pytest.raises(ArgumentError, match=r"targets\['a'\] must map driver"):
        upgrade_order(facts, {'a': 'x'})


def test_upgrade_order_backtracks_where_fewest_devices_first_fails():
    """h1 (one VF) first would send its VM to x0 and leave no host with two free slots for
    h0's two-VF VM; upgrading h0 first (its VM to x0) and then h1 (to the emptied h0) works."""
    def vf(tag, number, vm):
        return dev('%s-vf%d' % (tag, number), vm=vm, board=CX6DX_VF, version=OLD, parent='0000:5e:00.0')
    facts = {
        'h0': host(vf('h0', 0, 'big'), vf('h0', 1, 'big'), pf('0000:5e:00.0', CX6DX_PF, 2, 2, vf_device='101e'),
                   kernel=OLD),
        'h1': host(vf('h1', 0, 'small'), pf('0000:5e:00.0', CX6DX_PF, 1, 1, vf_device='101e'), kernel=OLD),
        'x0': host(pf('0000:5e:00.0', CX6DX_PF, 2, 0, vf_device='101e'), kernel=OLD),
    }
    result = upgrade_order(facts, {'hosts': ['h0', 'h1'], 'versions': {'kernel': NEW}})
    assert result['feasible'] and result['searched']
    assert result['order'] == ['h0', 'h1']
    assert [(m['vm'], m['destination']) for m in result['steps'][0]['moves']] == [('big', 'x0')]
    assert [(m['vm'], m['destination']) for m in result['steps'][1]['moves']] == [('small', 'h0')]
