# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight_table filter: migration_check results in, a table of refusals out."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.filter.preflight_table import preflight_table
from ansible_collections.vfio.migration.tests.unit.helpers.hosts import CX6DX_VF, dev, host

SRC = host(dev('0000:5e:00.2', board=CX6DX_VF, version='6.1.0', vm='db-01'))


def test_table_names_the_device_and_the_reason():
    checks = {'dst': {'placements': [], 'unplaced': [
        {'source': '0000:5e:00.2', 'reasons': [{'candidate': None, 'message': 'no capacity', 'rule': 'r'}]}]}}
    text = preflight_table(checks, SRC, source='src')
    assert '0000:5e:00.2' in text and 'db-01' in text and 'no capacity' in text


def test_bad_input_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="vfio.migration.preflight_table: the input must be a dict, got list"):
        preflight_table([], SRC, source='s')
