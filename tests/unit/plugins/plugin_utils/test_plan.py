# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""migration_plan: evacuation with capacity, waves, blocked VMs."""

from __future__ import annotations

import itertools
import random

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, gpu, host, offer
from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import place
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan

Q1 = dict(board=T4, type='nvidia-230')


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
