# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight_hosts filter: inventory patterns resolved as Ansible resolves them."""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.filter.preflight_hosts import preflight_hosts

GROUPS = {'all': ['a', 'b', 'c', 'm'], 'ungrouped': [], 'kvm': ['a', 'b', 'c', 'm'], 'maintenance': ['m'],
          'gpu': ['c', 'b']}


def test_patterns_resolve_as_inventory_patterns_do():
    out = preflight_hosts(GROUPS, sources=['gpu', 'b', 'kvm:!maintenance:!gpu'], destinations=['kvm:&maintenance', 'nope'],
                          play_hosts=['a'])
    assert out == {'sources': ['c', 'b', 'a'], 'destinations': ['m'], 'unknown': ['nope']}
    assert preflight_hosts(GROUPS, sources=[], destinations=['c*', 'zz*'], play_hosts=['m', 'a']) == {
        'sources': ['m', 'a'], 'destinations': ['c'], 'unknown': ['zz*']}
