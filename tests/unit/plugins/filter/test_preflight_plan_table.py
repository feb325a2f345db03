# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight_plan_table filter: a migration_plan result in, the text of its waves out."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.filter.preflight_plan_table import preflight_plan_table

PLAN = {
    'waves': [{'wave': 1, 'hosts': ['b'], 'moves': [{'vm': 'nic-01', 'source': 'b', 'destination': 'nic'}]}],
    'blocked': [],
}


def test_plan_table_lists_the_waves():
    assert preflight_plan_table(PLAN, {}).splitlines() == ['wave 1: b, 1 VM(s): nic-01 -> nic']


def test_plan_bad_input():
    with pytest.raises(AnsibleFilterError, match="preflight_plan_table: expected a migration_plan result"):
        preflight_plan_table({'moves': []})
    with pytest.raises(AnsibleFilterError, match='facts_by_host must be a mapping of host name -> vfio facts'):
        preflight_plan_table(PLAN, ['c'])
