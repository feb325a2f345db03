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
