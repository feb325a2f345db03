# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""migration.features: the protocol features per driver and kernel, and their overrides."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._capability import capability
from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.plugins.module_utils._migration_features import (
    FEATURE_NAMES, FEATURES, check_overrides, features, kernel_version)

MLX5 = {'vendor': '15b3', 'device': '101e'}


@pytest.mark.parametrize('driver, release, expected', [
    ('mlx5_vfio_pci', '5.19.0-1-amd64', ['p2p', 'stop_copy']),
    ('mlx5_vfio_pci', '6.1.0-18-amd64', ['dirty_tracking', 'p2p', 'stop_copy']),
    ('mlx5_vfio_pci', '6.8.0-45-generic', ['dirty_tracking', 'p2p', 'pre_copy', 'stop_copy']),
    ('mlx5-vfio-pci', '6.2.0', ['dirty_tracking', 'p2p', 'pre_copy', 'stop_copy']),
    ('hisi_acc_vfio_pci', '6.1.0', ['stop_copy']),
    ('hisi_acc_vfio_pci', '6.6.0-openEuler', ['pre_copy', 'stop_copy']),
    ('mtty', '6.1.0-18-amd64', []),
    ('mtty', '6.12.12-amd64', ['dirty_tracking', 'p2p', 'pre_copy', 'stop_copy']),
    ('nvidia', '6.8.0', None),
    ('mlx5_vfio_pci', 'garbage', None),
    (None, '6.8.0', None),
])
def test_features_by_driver_and_kernel(driver, release, expected):
    assert features(driver, release) == expected


def test_table_uses_known_names_in_order():
    for driver, rows in FEATURES.items():
        assert [since for since, _names in rows] == sorted(since for since, _names in rows), driver
        for _since, names in rows:
            assert list(names) == sorted(names) and set(names) <= set(FEATURE_NAMES), driver


def test_capability_carries_features_and_none_for_drivers_that_cannot_migrate():
    assert capability('pci', 'mlx5_vfio_pci', MLX5, True, '6.1.0')['features'] == ['dirty_tracking', 'p2p', 'stop_copy']
    assert capability('pci', 'vfio-pci', None, False, '6.8.0')['features'] == []
    assert capability('mdev', 'nvidia', None, False, '6.8.0')['features'] is None


def test_kernel_version():
    assert kernel_version('6.12.12-amd64') == (6, 12)
    assert kernel_version('6') is None
    assert kernel_version(None) is None


@pytest.mark.parametrize('value, problem', [
    ({'nvidia': 'pre_copy'}, "migration_features['nvidia'] must be a list of feature names, not 'pre_copy'"),
    ({'nvidia': ['pre_copy', 'warp']}, "migration_features['nvidia']: unknown feature(s) warp "
                                       "(known: dirty_tracking, p2p, pre_copy, stop_copy)"),
])
def test_bad_overrides(value, problem):
    assert check_overrides(value) == (None, problem)


def test_override_reaches_devices_and_types(host):
    host.module('nvidia', version='550.54.16')
    gpu = host.pci('0000:3b:00.0', '10de', '1eb8', cls='030200', driver='nvidia', module='nvidia', group=20)
    host.mdev_parent(gpu)
    host.mdev_type(gpu, 'nvidia-230', name='GRID T4-1Q', available=3)
    overrides, problem = check_overrides({'nvidia': ['stop_copy', 'pre_copy', 'stop_copy']})
    assert problem is None
    facts = gather(host.sys, host.proc, host.dev, software_versions={}, migration_features=overrides)
    assert [t['migration']['features'] for t in facts['mdev_types']] == [['pre_copy', 'stop_copy']]
    plain = gather(host.sys, host.proc, host.dev, software_versions={})
    assert [t['migration']['features'] for t in plain['mdev_types']] == [None]
