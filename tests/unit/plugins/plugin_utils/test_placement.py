# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""migration_check: every source device in use placed on one destination, capacity respected."""

from __future__ import annotations

import itertools
import random

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import A100, CX6DX_PF, CX6DX_VF, T4, dev, host, offer, pf
from ansible_collections.vfio.migration.plugins.plugin_utils._check import migration_check
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import Matcher

Q1 = dict(board=T4, type='nvidia-230')
B1 = dict(board=T4, type='nvidia-222')


def reasons_text(entry):
    return ['%s: %s' % (r['rule'], r['message']) for r in entry['reasons']]


CASES = [
    # name, source host, destination host, compatible, {device: substring of a reason} for unplaced
    ('vGPU onto a type with room',
     host(dev('g0', vm='web', **Q1)), host(offer('0000:3b:00.0', T4, 'nvidia-230', 4)), True, {}),
    ('two vGPUs, one slot',
     host(dev('g0', vm='a', **Q1), dev('g1', vm='b', **Q1)), host(offer('0000:3b:00.0', T4, 'nvidia-230', 1)),
     False, {'g1': 'capacity: compatible, but the 1 slot(s) of this kind on the destination are needed'}),
    ('vGPU onto another board',
     host(dev('g0', vm='web', **Q1)), host(offer('0000:3b:00.0', A100, 'nvidia-230', 4)),
     False, {'g0': 'pci_device: the PCI device id differs: 1eb8 on the source, 20f1 on the destination'}),
    ('VF onto a free VF',
     host(dev('v0', board=CX6DX_VF, vm='db', version='6.1.0-18-amd64')),
     host(dev('v9', board=CX6DX_VF, version='6.8.0-45-generic')), True, {}),
    ('VF onto a VF still to create',
     host(dev('v0', board=CX6DX_VF, vm='db', version='6.8.0-45-generic')),
     host(pf('0000:5e:00.0', CX6DX_PF, 8, 2, vf_device='101e'), kernel='6.8.0-45-generic'), True, {}),
    ('VF onto an older kernel refused',
     host(dev('v0', board=CX6DX_VF, vm='db', version='6.8.0-45-generic')),
     host(pf('0000:5e:00.0', CX6DX_PF, 8, 2), kernel='6.1.0-18-amd64'),
     False, {'v0': 'software_version: the driver versions are not compatible: the source runs 6.8.0-45-generic'}),
    ('nothing offered',
     host(dev('g0', vm='web', **Q1)), host(), False, {'g0': 'the destination offers no free device'}),
    ('nothing in use moves trivially', host(dev('g0', **Q1)), host(), True, {}),
]


@pytest.mark.parametrize('name, src, dst, ok, unplaced', CASES, ids=[c[0] for c in CASES])
def test_migration_check(name, src, dst, ok, unplaced):
    result = migration_check(src, dst)
    assert result['compatible'] is ok
    got = dict((u['source'], reasons_text(u)) for u in result['unplaced'])
    assert sorted(got) == sorted(unplaced)
    for device, text in unplaced.items():
        assert any(text in line for line in got[device]), got[device]


def test_augmenting_path_reroutes_where_first_fit_strands():
    """Adjacency d0 -> {A, B}, d1 -> {A}, one slot each: first-fit gives A to d0 and strands d1;
    the augmenting path moves d0 to B."""
    adj = [[0, 1], [0]]
    first_fit = {}
    for i, options in enumerate(adj):
        for j in options:
            if j not in first_fit.values():
                first_fit[i] = j
                break
    assert len(first_fit) == 1
    m = Matcher(adj, [1, 1])
    assert m.add(0) and m.add(1)
    assert m.assign == [1, 0]


def test_first_fit_trap_through_filters():
    """The same trap with real facts: an old-version vGPU fits both parents (older and newer
    minor), a new-version one only the newer parent. Id order puts the old one first."""
    rules = {'disable': ['nvidia_host_driver_equal']}
    src = host(dev('a-old', vm='a', version='17.1', **Q1), dev('b-new', vm='b', version='17.4', **Q1))
    dst = host(offer('0000:3b:00.0', T4, 'nvidia-230', 1, version='17.4'),
               offer('0000:3c:00.0', T4, 'nvidia-230', 1, version='17.2'))
    result = migration_check(src, dst, rules=rules)
    assert result['compatible'], result
    where = dict((p['source'], p['destination']) for p in result['placements'])
    assert where == {'a-old': '0000:3c:00.0', 'b-new': '0000:3b:00.0'}


def test_vm_atomicity_gives_room_to_a_whole_vm():
    """VM 'big' has two vGPUs, VM 'small' one; 2 slots. Placing devices alone would put 'small'
    and half of 'big'; whole VMs: 'big' (2 devices) or 'small'. The engine keeps VMs whole and
    moves the most devices."""
    src = host(dev('b0', vm='big', **Q1), dev('b1', vm='big', **Q1), dev('s0', vm='small', **Q1))
    dst = host(offer('0000:3b:00.0', T4, 'nvidia-230', 2))
    result = migration_check(src, dst)
    assert not result['compatible']
    placed = sorted(p['source'] for p in result['placements'])
    assert placed in (['b0', 'b1'], ['s0'])
    assert placed == ['b0', 'b1']
    assert [u['source'] for u in result['unplaced']] == ['s0']


def test_vm_with_one_impossible_device_stays_whole():
    src = host(dev('g0', vm='mixed', **Q1), dev('g1', vm='mixed', board=A100, type='nvidia-468'))
    dst = host(offer('0000:3b:00.0', T4, 'nvidia-230', 4))
    result = migration_check(src, dst)
    assert result['placements'] == []
    by = dict((u['source'], reasons_text(u)) for u in result['unplaced'])
    assert any('vm_atomicity' in line and 'g1 of the same VM has no compatible place' in line for line in by['g0'])
    assert any(line.startswith('type: ') for line in by['g1'])


def test_named_devices_and_vms():
    src = host(dev('g0', vm='a', **Q1), dev('g1', vm='b', **Q1), dev('g2', **Q1))
    dst = host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))
    assert migration_check(src, dst, devices=['g1'])['compatible']
    assert [p['source'] for p in migration_check(src, dst, vms=['a'])['placements']] == ['g0']
    assert migration_check(src, dst, devices=['g2'])['placements'][0]['vm'] is None
    with pytest.raises(ArgumentError, match="device 'nope' is not one of the devices of source host"):
        migration_check(src, dst, devices=['nope'])
    with pytest.raises(ArgumentError, match="VM 'zz' has no device in use"):
        migration_check(src, dst, vms='zz')


def _brute(adj_groups, caps):
    """Most whole VMs (then devices) placeable, by trying every assignment."""
    best = (0, 0)
    vms = list(adj_groups)
    for subset_size in range(len(vms), 0, -1):
        for subset in itertools.combinations(vms, subset_size):
            devices = [opts for k in subset for opts in adj_groups[k]]
            for choice in itertools.product(*devices):
                load = {}
                for j in choice:
                    load[j] = load.get(j, 0) + 1
                if all(load[j] <= caps[j] for j in load):
                    best = max(best, (len(subset), len(devices)))
                    break
    return best


@pytest.mark.parametrize('seed', range(40))
def test_placement_matches_brute_force(seed):
    rng = random.Random(seed)
    types = ['nvidia-230', 'nvidia-222', 'nvidia-234']
    devices = []
    for v in range(rng.randint(1, 4)):
        for d in range(rng.randint(1, 3)):
            devices.append(dev('d%d%d' % (v, d), vm='vm%d' % v, board=T4, type=rng.choice(types)))
    offers = [offer('0000:%02x:00.0' % i, T4, rng.choice(types), rng.randint(0, 2)) for i in range(rng.randint(1, 3))]
    result = migration_check(host(*devices), host(*offers))
    groups, caps = {}, {}
    for i, o in enumerate(offers):
        caps[i] = o['available_instances']
    for d in devices:
        groups.setdefault(d['in_use']['vm'], []).append(
            [i for i, o in enumerate(offers) if o['type'] == d['type'] and caps[i] > 0])
    placed_vms = set(p['vm'] for p in result['placements'])
    assert (len(placed_vms), len(result['placements'])) == _brute(groups, caps)
    assert result['optimal']


# Scale: the matcher and the VM subset search run without recursion (issue 10, item 9).

def test_augmenting_path_longer_than_the_recursion_limit():
    n = 20000
    adj = [[k, k + 1] for k in range(n - 1)]
    m = Matcher(adj + [[0]], [1] * n)
    for k in range(n - 1):
        assert m.add(k)
    assert m.assign[:3] == [0, 1, 2]
    # the last demand only fits pool 0: every other demand moves one pool up
    assert m.add(n - 1)
    assert m.assign[n - 1] == 0
    assert m.assign[:3] == [1, 2, 3]
    assert sorted(m.assign) == list(range(n))


def _migration_check_filter():
    from ansible_collections.vfio.migration.plugins.filter.migration_check import FilterModule
    return FilterModule().filters()['migration_check']


def test_twenty_thousand_devices_in_use_all_placed():
    n = 20000
    src = host(*[dev('s%05d' % i, T4, vm='vm%02d' % (i % 50)) for i in range(n)])
    dst = host(*[dev('d%05d' % i, T4) for i in range(n)])
    result = _migration_check_filter()(src, dst)
    assert result['compatible'] and result['optimal']
    assert len(result['placements']) == n
    assert len(set(p['destination'] for p in result['placements'])) == n


def test_twenty_thousand_vms_one_left_over():
    n = 20000
    src = host(*[dev('s%05d' % i, T4, vm='vm%05d' % i) for i in range(n)])
    dst = host(*[dev('d%05d' % i, T4) for i in range(n - 1)])
    result = _migration_check_filter()(src, dst)
    assert not result['compatible']
    assert result['optimal']
    assert len(result['placements']) == n - 1
    assert len(result['unplaced']) == 1
    assert [r['rule'] for r in result['unplaced'][0]['reasons']] == ['capacity']
