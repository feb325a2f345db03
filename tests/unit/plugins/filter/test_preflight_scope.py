# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight_scope filter: only the chosen devices in use are planned."""

from __future__ import annotations

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.preflight_scope import preflight_scope

Q = dict(board=T4, type='nvidia-230')


def fleet():
    return {'src': host(dev('g0', vm='web', **Q), dev('g1', vm='db', **Q)),
            'one': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))}


def test_scope_keeps_the_chosen_devices_in_use_and_every_free_one():
    facts = fleet()
    facts['src']['devices'].append(dev('g2', **Q))
    scoped = preflight_scope(facts, ['src'], vms=['web'], devices=[])
    assert [d['id'] for d in scoped['src']['devices']] == ['g0', 'g2']
    assert list(scoped['src']) == list(facts['src']) and scoped['one'] == facts['one']
    assert [d['id'] for d in preflight_scope(facts, ['src'], devices=['g1'])['src']['devices']] == ['g1', 'g2']
    assert preflight_scope(facts, ['src']) == facts
