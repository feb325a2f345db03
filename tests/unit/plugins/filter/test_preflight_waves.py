# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight_waves filter: waves numbered without the blocked hosts."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.filter.preflight_waves import preflight_waves

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
