# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The migration_check filter: two hosts' facts (or hostvars) in, a verdict with placements out."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.migration_check import FilterModule

migration_check = FilterModule().filters()['migration_check']

Q1 = dict(board=T4, type='nvidia-230')


def test_migration_check_filter_accepts_hostvars_shape():
    src = {'ansible_facts': {'vfio': host(dev('g0', vm='web', **Q1))}}
    dst = {'ansible_facts': {'vfio': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))}}
    result = migration_check(src, dst)
    assert result['compatible'] and result['placements'] == [
        {'source': 'g0', 'destination': '0000:3b:00.0', 'type': 'nvidia-230', 'vm': 'web',
         'action': 'create_mdev', 'slot': '0000:3b:00.0/nvidia-230'}]


@pytest.mark.parametrize('call, text', [
    (lambda: migration_check(host(), {'schema_version': 2}, destination_host='dst1'),
     "invalid vfio facts for host 'dst1': field 'schema_version': 2 is not supported"),
    (lambda: migration_check(host(), host(), devices=[1]), 'devices must be a list of strings'),
])
def test_errors_are_filter_errors(call, text):
    with pytest.raises(AnsibleFilterError) as info:
        call()
    assert text in str(info.value)
