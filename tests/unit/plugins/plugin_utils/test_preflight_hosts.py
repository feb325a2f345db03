# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_preflight_hosts: inventory patterns resolved to host names, in pattern order, without repeats."""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_hosts import preflight_hosts

GROUPS = {'gpu': ['g1', 'g2'], 'nic': ['n1'], 'ungrouped': []}


def test_patterns_resolve_in_order_without_repeats():
    out = preflight_hosts(GROUPS, sources=['g2', 'gpu'], destinations=['nic', 'g*', 'missing'])
    assert out == {'sources': ['g2', 'g1'], 'destinations': ['n1', 'g1', 'g2'], 'unknown': ['missing']}


def test_play_hosts_are_the_sources_by_default():
    assert preflight_hosts(GROUPS, play_hosts=['n1'])['sources'] == ['n1']
    assert preflight_hosts(GROUPS) == {'sources': [], 'destinations': [], 'unknown': []}
