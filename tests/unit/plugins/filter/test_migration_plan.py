# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The migration_plan filter: the facts of an inventory and the hosts to drain in, waves out."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.migration_plan import FilterModule

plan = FilterModule().filters()['migration_plan']

Q1 = dict(board=T4, type='nvidia-230')


def test_migration_plan_filter():
    facts = {'a': host(dev('g0', vm='web', **Q1)), 'b': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))}
    result = plan(facts, drain=['a'])
    assert result['feasible'] and result['waves'][0]['moves'][0]['destination'] == 'b'
    with pytest.raises(AnsibleFilterError, match='vfio.migration.migration_plan: drain is required'):
        plan(facts)
