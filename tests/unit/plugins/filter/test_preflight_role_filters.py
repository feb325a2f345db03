# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decisions of the preflight role, as filters: hosts, checks, scope, waves, facts from hostvars."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.engine_hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.facts_by_host import facts_by_host
from ansible_collections.vfio.migration.plugins.filter.preflight_checks import preflight_checks
from ansible_collections.vfio.migration.plugins.filter.preflight_hosts import preflight_hosts
from ansible_collections.vfio.migration.plugins.filter.preflight_scope import preflight_scope
from ansible_collections.vfio.migration.plugins.filter.preflight_waves import preflight_waves

GROUPS = {'all': ['a', 'b', 'c', 'm'], 'ungrouped': [], 'kvm': ['a', 'b', 'c', 'm'], 'maintenance': ['m'],
          'gpu': ['c', 'b']}


def test_patterns_resolve_as_inventory_patterns_do():
    out = preflight_hosts(GROUPS, sources=['gpu', 'b', 'kvm:!maintenance:!gpu'], destinations=['kvm:&maintenance', 'nope'],
                          play_hosts=['a'])
    assert out == {'sources': ['c', 'b', 'a'], 'destinations': ['m'], 'unknown': ['nope']}
    assert preflight_hosts(GROUPS, sources=[], destinations=['c*', 'zz*'], play_hosts=['m', 'a']) == {
        'sources': ['m', 'a'], 'destinations': ['c'], 'unknown': ['zz*']}


Q = dict(board=T4, type='nvidia-230')


def fleet():
    return {'src': host(dev('g0', vm='web', **Q), dev('g1', vm='db', **Q)),
            'old': host(offer('0000:3b:00.0', T4, 'nvidia-230', 2, version='535.161.07')),
            'one': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1)),
            'two': host(offer('0000:3b:00.0', T4, 'nvidia-230', 2))}


def test_checks_choose_the_first_destination_that_takes_everything():
    results = preflight_checks(fleet(), sources=['src', 'gone'], destinations=['old', 'src', 'one', 'two', 'x'],
                               mode='select')
    src = results['src']
    assert list(src) == ['source', 'mode', 'vms', 'devices', 'checks', 'destination', 'placements', 'table']
    assert list(src['checks']) == ['old', 'one', 'two']       # never itself, never a host without facts
    assert (src['destination'], src['mode'], src['table']) == ('two', 'select', None)
    assert [p['source'] for p in src['placements']] == ['g0', 'g1']
    assert results['gone']['table'] == 'gone: no vfio facts for this host, nothing can be checked (gathering them failed, see above)'
    assert preflight_checks(fleet(), sources=['gone'], facts_from='reuse')['gone']['table'].endswith(
        '(vfio_preflight_facts=reuse contacts no host: fill the fact cache first, or use auto)')


def test_checks_without_a_destination_give_the_table_and_keep_only_names_the_source_has():
    results = preflight_checks(fleet(), sources=['src'], destinations=['old'], vms=['db', 'other'],
                               devices=['nope'])
    src = results['src']
    assert (src['vms'], src['devices']) == (['db'], [])
    assert src['destination'] is None and src['placements'] == []
    assert src['table'].splitlines()[0] == 'src: no candidate destination can take all 1 device(s) at once (tried: old)'


def test_checks_engine_errors_name_the_filter():
    with pytest.raises(AnsibleFilterError, match="^vfio.migration.preflight_checks: rules from the inline rules"):
        preflight_checks(fleet(), sources=['src'], destinations=['one'], rules=[{'name': 'r'}])
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.preflight_checks: sources is required$'):
        preflight_checks(fleet())


def test_scope_keeps_the_chosen_devices_in_use_and_every_free_one():
    facts = fleet()
    facts['src']['devices'].append(dev('g2', **Q))
    scoped = preflight_scope(facts, ['src'], vms=['web'], devices=[])
    assert [d['id'] for d in scoped['src']['devices']] == ['g0', 'g2']
    assert list(scoped['src']) == list(facts['src']) and scoped['one'] == facts['one']
    assert [d['id'] for d in preflight_scope(facts, ['src'], devices=['g1'])['src']['devices']] == ['g1', 'g2']
    assert preflight_scope(facts, ['src']) == facts


PLAN = {'summary': {'hosts_blocked': ['c']},
        'waves': [{'wave': 1, 'hosts': ['b'], 'moves': [{'vm': 'v1', 'source': 'b', 'destination': 'x'}]},
                  {'wave': 2, 'hosts': ['c'], 'moves': [{'vm': 'v2', 'source': 'c', 'destination': 'x'}]},
                  {'wave': 3, 'hosts': ['a'], 'moves': [{'vm': 'v3', 'source': 'a', 'destination': 'y'}]}]}


def test_waves_are_numbered_without_the_blocked_hosts():
    out = preflight_waves(PLAN, ['a', 'b', 'c', 'd'], without_facts=['d'])
    assert out['waves'] == [['b'], ['a']]
    assert out['blocked'] == ['c', 'd']
    assert out['memberships'] == [
        {'host': 'b', 'wave': 1, 'groups': ['vfio_migration_wave_1', 'vfio_migration_waves'],
         'moves': [{'vm': 'v1', 'source': 'b', 'destination': 'x'}]},
        {'host': 'a', 'wave': 2, 'groups': ['vfio_migration_wave_2', 'vfio_migration_waves'],
         'moves': [{'vm': 'v3', 'source': 'a', 'destination': 'y'}]},
        {'host': 'c', 'wave': None, 'groups': ['vfio_migration_blocked'], 'moves': []},
        {'host': 'd', 'wave': None, 'groups': ['vfio_migration_blocked'], 'moves': []}]
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.preflight_waves: sources is required$'):
        preflight_waves(PLAN)


class LazyHostvars(object):
    """Reads count: a host's variables are read only when asked for."""

    def __init__(self, data):
        self.data, self.read = data, []

    def __getitem__(self, name):
        self.read.append(name)
        return self.data[name]


def test_facts_by_host_reads_only_the_hosts_asked_for():
    hostvars = LazyHostvars({'a': {'ansible_facts': {'vfio': {'devices': []}}}, 'b': {'ansible_facts': {}},
                             'c': {'ansible_facts': {'vfio': {'devices': ['x']}}}})
    assert facts_by_host(hostvars, ['b', 'a', 'zz']) == {'a': {'devices': []}}
    assert hostvars.read == ['b', 'a', 'zz']
