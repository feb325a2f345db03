# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight_prepare filter: its arguments checked at the gateway, the prepare list returned."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.filter.preflight_prepare import FilterModule, preflight_prepare
from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer

UUID = '8d7c5b0a-1111-4e2f-9a6b-0c1d2e3f4a01'
FACTS = {
    'src': host(dev(UUID, T4, type='nvidia-230', kind='mdev', driver='nvidia', vm='web-01')),
    'dst': host(offer('0000:3b:00.0', T4, 'nvidia-230', 4)),
}
MOVE = {'source': 'src', 'destination': 'dst', 'placements': [
    {'source': UUID, 'action': 'create_mdev', 'destination': '0000:3b:00.0', 'vm': 'web-01', 'type': 'nvidia-230'}]}


def test_the_filter_is_registered_and_returns_the_mdev_to_create():
    assert FilterModule().filters()['preflight_prepare'] is preflight_prepare
    assert preflight_prepare(FACTS, [MOVE]) == {'problems': [], 'vfs': [], 'mdevs': [
        {'host': 'dst', 'parent': '0000:3b:00.0', 'type': 'nvidia-230', 'uuid': UUID, 'vm': 'web-01',
         'source_host': 'src'}]}


def test_arguments_are_checked_against_the_documentation():
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.preflight_prepare: moves is required$'):
        preflight_prepare(FACTS)
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.preflight_prepare: '):
        preflight_prepare(FACTS, 'not a list of moves')
