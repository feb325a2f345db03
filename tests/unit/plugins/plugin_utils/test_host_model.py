# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The mdev types of one parent share its capacity (NVIDIA time-sliced GPUs: one type at a time)."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction


from ansible_collections.vfio.migration.tests.unit.helpers.hosts import A100, T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.plugin_utils._check import migration_check
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan
from ansible_collections.vfio.migration.plugins.plugin_utils._upgrade_order import upgrade_order

GPU0, GPU1 = '0000:3b:00.0', '0000:3c:00.0'


def empty_t4(parent):
    """An empty T4 as the driver shows it: every type at its own maximum."""
    return [offer(parent, T4, 'nvidia-222', 16), offer(parent, T4, 'nvidia-230', 16),
            offer(parent, T4, 'nvidia-234', 1)]


def mtty_pool(ones=21, twos=10):
    """mtty's port pool as available_instances shows it (21 ports free: 21 x mtty-1 or 10 x mtty-2)."""
    return [offer('mtty', None, 'mtty-1', ones, driver='mtty'), offer('mtty', None, 'mtty-2', twos, driver='mtty')]


def vgpu(ident, type_id, vm):
    return dev(ident, board=T4, type=type_id, vm=vm, parent='0000:af:00.0')


def serial(ident, type_id, vm):
    return dev(ident, board=None, type=type_id, driver='mtty', vm=vm, parent='mtty')


def serial_vm(ones, twos, vm='serial'):
    return ([serial('s1-%d' % i, 'mtty-1', vm) for i in range(ones)]
            + [serial('s2-%d' % i, 'mtty-2', vm) for i in range(twos)])


T4_MIX = host(vgpu('g-1q', 'nvidia-230', 'desk'), vgpu('g-16q', 'nvidia-234', 'train'))


def messages(result):
    return [r['message'] for u in result['unplaced'] for r in u['reasons'] if r['rule'] == 'capacity']


def test_empty_t4_takes_one_vgpu_type_per_vm_not_both():
    result = migration_check(T4_MIX, host(*empty_t4(GPU0)))
    assert not result['compatible']
    assert len(result['placements']) == 1 and len(result['unplaced']) == 1
    placed, left = result['placements'][0], result['unplaced'][0]
    assert placed['destination'] == GPU0 and placed['action'] == 'create_mdev'
    assert placed['vm'] != left['vm']
    reason = [r for r in left['reasons'] if r['rule'] == 'capacity'][0]
    assert reason['field'] == 'capacity'
    assert set(reason) == set(('candidate', 'candidates', 'rule', 'field', 'source', 'destination', 'message'))
    assert 'NVIDIA time-sliced GPU, which runs one vGPU type at a time' in reason['message']
    assert 'already puts 1 x %s on it' % placed['type'] in reason['message']
    # one type, as many instances as the driver reports, still fits
    src = host(*[vgpu('g%d' % i, 'nvidia-230', 'vm%d' % i) for i in range(16)])
    assert migration_check(src, host(*empty_t4(GPU0)))['compatible']
    src = host(*[vgpu('g%d' % i, 'nvidia-230', 'vm%d' % i) for i in range(17)])
    assert not migration_check(src, host(*empty_t4(GPU0)))['compatible']


def test_two_empty_t4s_take_both_types():
    result = migration_check(T4_MIX, host(*(empty_t4(GPU0) + empty_t4(GPU1))))
    assert result['compatible'], result
    assert sorted(p['destination'] for p in result['placements']) == [GPU0, GPU1]


MTTY_CASES = [(1, 10, False), (1, 9, True), (2, 9, True), (3, 9, False), (0, 10, True), (21, 0, True),
              (11, 5, False)]


def test_mtty_ports_are_one_pool():
    """n1/21 + n2/10 <= 1, in units of 1/210: 1 + 9 and 2 + 9 fit (199, 209), 1 + 10 and 3 + 9 do not
    (220, 219); 11 + 5 (215) would fit the 21 real ports but the model is conservative for mixes."""
    got = []
    for ones, twos, _fits in MTTY_CASES:
        result = migration_check(host(*serial_vm(ones, twos)), host(*mtty_pool()))
        got.append((ones, twos, result['compatible']))
        if not result['compatible']:
            assert not result['placements']          # one VM: all of it or nothing
            assert any('the mdev types of mtty share its capacity' in m for m in messages(result)), result
    assert got == MTTY_CASES
    result = migration_check(host(*serial_vm(1, 10)), host(*mtty_pool()))
    assert any('(1 x mtty-1, 9 x mtty-2) uses it: room for 0 more mtty-2' in m for m in messages(result))


def test_plan_carries_the_parent_budget_across_waves():
    """Two waves onto one empty T4: the second VM's other type finds the GPU taken."""
    facts = {
        'a-src': host(vgpu('g-1q', 'nvidia-230', 'desk')),
        'b-src': host(vgpu('g-16q', 'nvidia-234', 'train')),
        'dst': host(*empty_t4(GPU0)),
    }
    plan = migration_plan(facts, drain=['a-src', 'b-src'], wave_size=1)
    assert not plan['feasible']
    assert plan['summary']['vms_placed'] == 1 and plan['summary']['vms_blocked'] == 1
    assert [b['reasons'][0]['rule'] for b in plan['blocked']] == ['capacity']
    facts['dst2'] = host(*empty_t4(GPU1))
    plan = migration_plan(facts, drain=['a-src', 'b-src'], wave_size=1)
    assert plan['feasible'] and len(plan['waves']) == 2
    assert sorted(m['destination'] for w in plan['waves'] for m in w['moves']) == ['dst', 'dst2']


def test_plan_mtty_budget_across_waves():
    facts = {
        'a-src': host(*serial_vm(0, 9, vm='big')),
        'b-src': host(*serial_vm(2, 0, vm='small')),
        'dst': host(*mtty_pool()),
    }
    plan = migration_plan(facts, drain=['a-src', 'b-src'], wave_size=1)
    # 9 x mtty-2 leaves 21 of 210: one mtty-1 (weight 10) twice would need 20 -> fits;
    assert plan['feasible'], plan
    facts['b-src'] = host(*serial_vm(3, 0, vm='small'))
    plan = migration_plan(facts, drain=['a-src', 'b-src'], wave_size=1)
    assert plan['summary']['vms_placed'] == 1 and not plan['feasible']


def test_upgrade_order_sees_the_other_types_drop():
    """After evacuating a T4-1Q VM onto c's empty GPU, the planned facts of c offer no T4-16Q there:
    b's T4-16Q goes to a's GPU, not to c's (which the best fit would otherwise pick)."""
    facts = {
        'a': host(vgpu('g-1q', 'nvidia-230', 'desk'), *empty_t4(GPU1)),
        'b': host(vgpu('g-16q', 'nvidia-234', 'train')),
        'c': host(*empty_t4(GPU0)),
    }
    result = upgrade_order(facts, {'hosts': ['a', 'b'], 'versions': {'i915': '6.9'}})
    assert result['feasible'], result
    used = {}
    for step in result['steps']:
        for move in step['moves']:
            for d in move['devices']:
                used.setdefault(d['destination'], set()).add(d['type'])
    assert all(len(types) == 1 for types in used.values()), used


def test_matrix_agrees_with_migration_check_on_shared_parents():
    facts = {
        't4-mix': T4_MIX,
        't4-one': host(*empty_t4(GPU0)),
        't4-two': host(*(empty_t4(GPU0) + empty_t4(GPU1))),
        'mtty-ok': host(*serial_vm(1, 9)),
        'mtty-big': host(*serial_vm(1, 10)),
        'mtty-dst': host(*mtty_pool()),
        'mtty-two': host(*(mtty_pool() + [offer('mtty2', None, 'mtty-1', 21, driver='mtty'),
                                          offer('mtty2', None, 'mtty-2', 10, driver='mtty')])),
    }
    # Ampere+ vGPU on VFs (kind nvidia_vgpu) is counted per type, not per parent
    facts['a100-mix'] = host(dev('a', board=A100, type='nvidia-1414', kind='nvidia_vgpu', driver='nvidia', vm='x'),
                             dev('b', board=A100, type='nvidia-1415', kind='nvidia_vgpu', driver='nvidia', vm='y'))
    facts['a100-pf'] = host(offer('0000:ca:00.0', A100, 'nvidia-1414', 1, kind='nvidia_vgpu', driver='nvidia'),
                            offer('0000:ca:00.0', A100, 'nvidia-1415', 1, kind='nvidia_vgpu', driver='nvidia'))
    m = compat_matrix(facts, expand=True)
    for pair in m['pairs']:
        check = migration_check(facts[pair['source']], facts[pair['destination']])
        assert check['compatible'] is pair['compatible'], pair
    verdicts = dict(((p['source'], p['destination']), p) for p in m['pairs'])
    assert not verdicts[('t4-mix', 't4-one')]['compatible']
    assert verdicts[('t4-mix', 't4-two')]['compatible']
    assert not verdicts[('mtty-big', 'mtty-dst')]['compatible']
    assert verdicts[('mtty-ok', 'mtty-dst')]['compatible']
    assert verdicts[('mtty-big', 'mtty-two')]['compatible']
    assert verdicts[('a100-mix', 'a100-pf')]['compatible']
    reasons = verdicts[('t4-mix', 't4-one')]['reasons']
    assert any('runs one vGPU type at a time' in r['message'] for r in reasons), reasons
    assert m['host_class']['t4-one'] != m['host_class']['t4-two']


def _random_host(rng, tag):
    """Up to two mtty parents (types listed as the driver shows a free port count) and up to
    two T4s (some types listed), and up to three VMs of one to three mtty / T4 devices."""
    items = []
    for p in range(rng.randint(0, 2)):
        free = rng.randint(0, 8)
        for type_id, size in (('mtty-1', 1), ('mtty-2', 2)):
            if rng.random() < 0.8 and free // size:
                items.append(offer('mtty%d' % p, None, type_id, free // size, driver='mtty'))
    for p in range(rng.randint(0, 2)):
        for type_id, most in (('nvidia-230', 16), ('nvidia-233', 2), ('nvidia-234', 1)):
            if rng.random() < 0.7:
                items.append(offer('0000:%02x:00.0' % (0x3b + p), T4, type_id, rng.choice([most, most, most // 2 or 1])))
    for v in range(rng.randint(0, 3)):
        for d in range(rng.randint(1, 3)):
            ident, vm = '%s-%d-%d' % (tag, v, d), '%s-vm%d' % (tag, v)
            if rng.random() < 0.5:
                items.append(serial(ident, rng.choice(['mtty-1', 'mtty-2']), vm))
            else:
                items.append(vgpu(ident, rng.choice(['nvidia-230', 'nvidia-233', 'nvidia-234']), vm))
    return host(*items)


def _fits_exactly(src, dst):
    """Brute force from the facts: every device in use on a type entry of its type, each parent
    within sum n_t / available_t <= 1, one type per NVIDIA parent."""
    demands = [d['type'] for d in src['devices'] if d['in_use']]
    entries = dst['mdev_types']
    options = [[e for e in entries if e['type'] == t] for t in demands]
    for choice in itertools.product(*options):
        counts = {}
        for e in choice:
            counts[(e['parent'], e['type'])] = counts.get((e['parent'], e['type']), 0) + 1
        load, types = {}, {}
        for e in entries:
            n = counts.get((e['parent'], e['type']), 0)
            if n:
                load[e['parent']] = load.get(e['parent'], 0) + Fraction(n, e['available_instances'])
                types.setdefault(e['parent'], set()).add(e['type'])
        if all(v <= 1 for v in load.values()) and all(
                len(ts) == 1 for parent, ts in types.items() if not parent.startswith('mtty')):
            return True
    return False


def test_random_fleets_match_brute_force():
    """migration_check and compat_matrix say yes exactly when an assignment within the shares exists."""
    for seed in range(6):
        rng = random.Random(seed)
        facts = dict(('h%d' % i, _random_host(rng, 'h%d' % i)) for i in range(6))
        m = compat_matrix(facts, expand=True)
        for pair in m['pairs']:
            src, dst = facts[pair['source']], facts[pair['destination']]
            exact = _fits_exactly(src, dst)
            assert migration_check(src, dst)['compatible'] is exact, (seed, pair)
            assert pair['compatible'] is exact, (seed, pair)
