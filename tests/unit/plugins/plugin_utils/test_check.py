# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_check: the compatible and migration_check entry functions, without the filter gateway."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.plugin_utils._check import compatible, migration_check
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError

Q1 = dict(board=T4, type='nvidia-230')


def test_compatible_compares_one_device_with_one_type():
    assert compatible(dev('a', vm='x', **Q1), offer('p', T4, 'nvidia-230', 1)) == {
        'compatible': True, 'reasons': []}
    refused = compatible(dev('a', vm='x', **Q1), offer('p', T4, 'nvidia-231', 1))
    assert refused['compatible'] is False and refused['reasons']


def test_migration_check_of_chosen_devices_and_vms():
    src = host(dev('g0', vm='web', **Q1), dev('g1', vm='db', **Q1), dev('g2', **Q1))
    dst = host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))
    assert migration_check(src, dst)['compatible'] is False        # two VMs, one slot
    by_vm = migration_check(src, dst, vms='web')
    assert by_vm['compatible'] and [p['source'] for p in by_vm['placements']] == ['g0']
    by_device = migration_check(src, dst, devices=['g2'])           # a free device can be chosen too
    assert by_device['compatible'] and [p['source'] for p in by_device['placements']] == ['g2']


@pytest.mark.parametrize('kwargs, message', [
    ({'devices': ['nope']}, "device 'nope' is not one of the devices of source host 'source'"),
    ({'vms': ['nope']}, "VM 'nope' has no device in use on source host 'source' \\(VMs: web\\)"),
    ({'vms': 3}, 'vms must be a string or a list of strings, got int'),
])
def test_unknown_choices_are_argument_errors(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        migration_check(host(dev('g0', vm='web', **Q1)), host(), **kwargs)
