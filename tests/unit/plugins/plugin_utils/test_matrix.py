# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""compat_matrix: classes of identical hosts, directed class verdicts, expansion to host pairs."""

from __future__ import annotations

import random

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import A100, CX6DX_PF, CX6DX_VF, T4, dev, host, offer, pf
from ansible_collections.vfio.migration.plugins.plugin_utils._check import migration_check
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError, FactsError
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix

Q1 = dict(board=T4, type='nvidia-230')


def gpu_host(tag, version='550.54.16', vms=1, avail=4):
    devices = [dev('%s-g%d' % (tag, i), vm='%s-vm%d' % (tag, i), version=version, **Q1) for i in range(vms)]
    return host(*(devices + [offer('0000:3b:00.0', T4, 'nvidia-230', avail, version=version)]))


def nic_host(tag, kernel, vms=1, spare=4):
    devices = [dev('0000:5e:00.%d' % (i + 1), vm='%s-vm%d' % (tag, i), board=CX6DX_VF, version=kernel)
               for i in range(vms)]
    return host(*(devices + [pf('0000:5e:00.0', CX6DX_PF, vms + spare, vms, vf_device='101e')]), kernel=kernel)


def verdict(matrix, src, dst):
    cls = matrix['host_class']
    return matrix['verdicts'][cls[src]][cls[dst]]


def test_identical_hosts_share_a_class():
    facts = {'a1': gpu_host('a1'), 'a2': gpu_host('a2'), 'b1': gpu_host('b1', version='550.90.07')}
    m = compat_matrix(facts)
    assert m['hosts'] == ['a1', 'a2', 'b1']
    assert [c['hosts'] for c in m['classes']] == [['a1', 'a2'], ['b1']]
    assert m['host_class'] == {'a1': 'c1', 'a2': 'c1', 'b1': 'c2'}
    assert verdict(m, 'a1', 'a2') == {'compatible': True, 'placements': 1, 'unplaced': []}
    v = verdict(m, 'a1', 'b1')
    assert not v['compatible']
    assert v['unplaced'][0]['reasons'][0]['rule'] == 'nvidia_host_driver_equal'
    assert 'c2' not in m['verdicts']['c2']      # a one-host class has no pair with itself
    assert m['classes'][0]['fingerprint'].startswith('sha256:')


def test_directed_kernel_upgrade():
    facts = {'old': nic_host('old', '6.1.0-18-amd64'), 'new': nic_host('new', '6.8.0-45-generic')}
    m = compat_matrix(facts, expand=True)
    assert verdict(m, 'old', 'new')['compatible'] is True
    back = verdict(m, 'new', 'old')
    assert back['compatible'] is False
    messages = [r['message'] for r in back['unplaced'][0]['reasons']]
    assert any('the source runs 6.8.0-45-generic, the destination 6.1.0-18-amd64' in t for t in messages)
    pairs = dict(((p['source'], p['destination']), p) for p in m['pairs'])
    assert sorted(pairs) == [('new', 'old'), ('old', 'new')]
    assert pairs[('old', 'new')]['compatible'] and not pairs[('new', 'old')]['compatible']
    assert pairs[('new', 'old')]['reasons'][0]['device'] == '0000:5e:00.1'


def test_idle_host_is_evacuable_to_anyone_and_capacity_counts():
    facts = {'idle': host(), 'busy': gpu_host('busy', vms=3, avail=1), 'roomy': gpu_host('roomy', vms=0, avail=16)}
    m = compat_matrix(facts)
    assert verdict(m, 'idle', 'busy')['compatible'] and verdict(m, 'idle', 'roomy')['compatible']
    v = verdict(m, 'busy', 'roomy')
    assert v == {'compatible': True, 'placements': 3, 'unplaced': []}
    assert verdict(m, 'roomy', 'busy')['compatible']      # nothing in use on roomy
    small = verdict(m, 'busy', 'idle')
    assert not small['compatible'] and small['unplaced'][0]['count'] == 3
    assert 'offers no free device' in small['unplaced'][0]['reasons'][0]['message']


def test_matrix_agrees_with_migration_check_on_random_fleets():
    rng = random.Random(3)
    facts = {}
    for i in range(12):
        kind = rng.choice(['gpu', 'gpu', 'nic', 'idle'])
        if kind == 'gpu':
            facts['h%02d' % i] = gpu_host('h%d' % i, version=rng.choice(['550.54.16', '550.90.07']),
                                          vms=rng.randint(0, 3), avail=rng.randint(0, 3))
        elif kind == 'nic':
            facts['h%02d' % i] = nic_host('h%d' % i, rng.choice(['6.1.0-18-amd64', '6.8.0-45-generic']),
                                          vms=rng.randint(0, 2), spare=rng.randint(0, 2))
        else:
            facts['h%02d' % i] = host()
    m = compat_matrix(facts, expand=True)
    assert len(m['pairs']) == 12 * 11
    for pair in m['pairs']:
        check = migration_check(facts[pair['source']], facts[pair['destination']])
        assert check['compatible'] is pair['compatible'], pair
    assert len(m['classes']) < 12


def test_bad_input_names_host():
    with pytest.raises(ArgumentError, match='facts_by_host must be a mapping'):
        compat_matrix([host()])
    with pytest.raises(FactsError, match="host 'b'"):
        compat_matrix({'a': host(), 'b': {'schema_version': 1, 'devices': [{'id': 'x'}]}})
    assert A100


# Trust (issue 10, item 8): classes come from the records' fields, never from the fingerprint the facts carry.

def test_a_copied_fingerprint_does_not_merge_two_different_hosts():
    from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule
    matrix = FilterModule().filters()['compat_matrix']
    old = host(dev('g0', T4, type='nvidia-230', vm='web', version='535.104.05'))
    new = host(dev('g0', T4, type='nvidia-230', vm='web', version='550.54.16'))
    assert old['devices'][0]['fingerprint'] != new['devices'][0]['fingerprint']
    honest = matrix({'a': old, 'b': new})
    assert honest['host_class']['a'] != honest['host_class']['b']
    new['devices'][0]['fingerprint'] = old['devices'][0]['fingerprint']      # edited / copied facts
    lied = matrix({'a': old, 'b': new})
    assert lied['host_class']['a'] != lied['host_class']['b']
    assert lied['host_class'] == honest['host_class'] and lied['verdicts'] == honest['verdicts']


def test_a_wrong_fingerprint_does_not_split_one_class():
    from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule
    matrix = FilterModule().filters()['compat_matrix']
    a = host(dev('g0', T4, type='nvidia-230', vm='web'))
    b = host(dev('g0', T4, type='nvidia-230', vm='web'))
    b['devices'][0]['fingerprint'] = 'sha256:' + '0' * 64
    result = matrix({'a': a, 'b': b})
    assert result['host_class']['a'] == result['host_class']['b']


@pytest.mark.parametrize('seed', range(5))
def test_profile_key_equal_exactly_when_fingerprints_are(seed):
    import random
    from ansible_collections.vfio.migration.plugins.module_utils._profile import fingerprint
    from ansible_collections.vfio.migration.plugins.plugin_utils._host_model import profile_key
    rng = random.Random(seed)
    records = []
    for n in range(60):
        record = dev('d%d' % n, rng.choice([T4, A100]), type=rng.choice(['nvidia-230', 'nvidia-222', None]),
                     kind=rng.choice([None, 'ccw', 'ap']), version=rng.choice(['1.0', '1.1', None]),
                     capable=rng.choice([True, False, None]), attributes=rng.choice([
                         {}, {'matrix': '00.0001'}, {'matrix': ['a']}, {'subchannel_type': 'io', 'vgpu_params': 'x'}]))
        if rng.random() < 0.2:
            record['pci'] = None
        elif rng.random() < 0.3:        # an id left out, or null: the same profile
            name = rng.choice(['vendor', 'subsystem_device'])
            if rng.random() < 0.5:
                del record['pci'][name]
            else:
                record['pci'][name] = None
        records.append(record)
    for a in records:
        for b in records:
            assert (profile_key(a) == profile_key(b)) == (fingerprint(a) == fingerprint(b))
