# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The upgrade_order filter: the facts of an inventory and the upgrade targets in, an order out."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.upgrade_order import FilterModule

order = FilterModule().filters()['upgrade_order']

Q1 = dict(board=T4, type='nvidia-230')


def test_upgrade_order_filter():
    facts = {'a': host(dev('g0', vm='web', **Q1)), 'b': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))}
    result = order(facts, {'hosts': ['a'], 'versions': {'nvidia': '550.54.16'}})
    assert result['order'] == ['a']
    with pytest.raises(AnsibleFilterError, match='vfio.migration.upgrade_order: targets is required'):
        order(facts)
