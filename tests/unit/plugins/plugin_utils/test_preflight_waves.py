# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_preflight_waves: the devices a reorder plans, and the wave groups of its plan."""

from __future__ import annotations

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_waves import scope, waves

Q = dict(board=T4, type='nvidia-230')


def test_scope_keeps_chosen_and_free_devices_of_the_sources_only():
    facts = {'a': host(dev('g0', vm='web', **Q), dev('g1', vm='db', **Q), dev('g2', **Q)),
             'b': host(dev('h0', vm='db', **Q))}
    out = scope(facts, ['a'], vms=['db'])
    assert [d['id'] for d in out['a']['devices']] == ['g1', 'g2']
    assert out['b'] is facts['b'] and [d['id'] for d in facts['a']['devices']] == ['g0', 'g1', 'g2']
    assert scope(facts, ['a']) is facts


def test_waves_drop_blocked_hosts_and_empty_waves():
    plan = {'summary': {'hosts_blocked': ['b']},
            'waves': [{'hosts': ['b'], 'moves': [{'vm': 'v', 'source': 'b', 'destination': 'x'}]},
                      {'hosts': ['a'], 'moves': []}]}
    out = waves(plan, ['a', 'b'])
    assert out['waves'] == [['a']] and out['blocked'] == ['b']
    assert [(m['host'], m['wave'], m['groups'][0]) for m in out['memberships']] == [
        ('a', 1, 'vfio_migration_wave_1'), ('b', None, 'vfio_migration_blocked')]
