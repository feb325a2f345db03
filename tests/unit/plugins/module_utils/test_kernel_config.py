# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""host.kernel_config and migration.dma_logging: the kernel's build options, read through gather()."""

from __future__ import annotations

import gzip
import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils import _kernel_config
from ansible_collections.vfio.migration.plugins.module_utils._facts import gather

KERNEL = '6.8.0-45-generic'
# the lines as a distribution's config has them (Debian 6.12: IOMMUFD as a module, no IOMMUFD_DRIVER)
DEBIAN_612 = b"""#
# Automatically generated file; DO NOT EDIT.
CONFIG_VFIO=m
CONFIG_VFIO_DEVICE_CDEV=y
CONFIG_VFIO_CONTAINER=y
CONFIG_IOMMUFD=m
# CONFIG_IOMMUFD_TEST is not set
# CONFIG_IOMMUFD_DRIVER is not set
"""
WITH_DRIVER = DEBIAN_612.replace(b'# CONFIG_IOMMUFD_DRIVER is not set', b'CONFIG_IOMMUFD_DRIVER=y')


def mtty(host, uuid='83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'):
    """An mtty parent with one instance: its driver has DMA logging from 6.7 (samples/vfio-mdev/mtty.c)."""
    parent = host.virtual('virtual', 'mtty', 'mtty')
    host.mdev_parent(parent)
    host.mdev_type(parent, 'mtty-1', 'Single port serial', available=23)
    host.mdev(parent, uuid, 'mtty-1', group=12)
    return uuid


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def facts(host, **kwargs):
    return gather(host.sys, host.proc, host.dev, **kwargs)


def test_boot_config_beside_the_tree_is_read(host):
    write(os.path.join(host.base, 'boot', 'config-' + KERNEL), DEBIAN_612)
    got = facts(host)
    assert got['host']['kernel_config'] == {
        'source': '/boot/config-' + KERNEL,
        'options': {'CONFIG_IOMMUFD': 'm', 'CONFIG_IOMMUFD_DRIVER': 'n', 'CONFIG_VFIO_CONTAINER': 'y',
                    'CONFIG_VFIO_DEVICE_CDEV': 'y'}}
    assert got['warnings'] == []


def test_proc_config_gz_wins_over_boot(host):
    write(os.path.join(host.base, 'boot', 'config-' + KERNEL), DEBIAN_612)
    write(os.path.join(host.proc, 'config.gz'), gzip.compress(WITH_DRIVER))
    config = facts(host)['host']['kernel_config']
    assert config['source'] == '/proc/config.gz' and config['options']['CONFIG_IOMMUFD_DRIVER'] == 'y'


def test_no_config_anywhere_is_null_without_a_warning(host):
    got = facts(host)
    assert got['host']['kernel_config'] is None and got['warnings'] == []


def test_boot_root_option_names_the_directory(host, tmp_path):
    write(str(tmp_path / 'elsewhere' / ('config-' + KERNEL)), WITH_DRIVER)
    got = facts(host, boot_root=str(tmp_path / 'elsewhere'))
    assert got['host']['kernel_config']['options']['CONFIG_IOMMUFD_DRIVER'] == 'y'


@pytest.mark.parametrize('config, expected', [
    (DEBIAN_612, 'broken'),
    (WITH_DRIVER, 'usable'),
    (None, None),
])
def test_dma_logging_follows_the_driver_and_the_kernel(host, config, expected):
    uuid = mtty(host, 'a' * 8 + '-0000-4000-8000-000000000001')
    host_kernel = '6.12.118+deb12-amd64'
    write(os.path.join(host.proc, 'sys/kernel/osrelease'), host_kernel.encode() + b'\n')
    if config is not None:
        write(os.path.join(host.base, 'boot', 'config-' + host_kernel), config)
    got = facts(host)
    (device,) = [d for d in got['devices'] if d['id'] == uuid]
    assert 'dirty_tracking' in device['migration']['features']
    assert device['migration']['dma_logging'] == expected
    (mtty_type,) = got['mdev_types']
    assert mtty_type['migration']['dma_logging'] == expected
    assert list(device['migration']) == sorted(device['migration'])


@pytest.mark.parametrize('features, config, release, expected', [
    (['p2p', 'stop_copy'], 'n', '6.12.1', 'none'),
    (['p2p', 'stop_copy'], None, None, 'none'),
    (None, 'n', '6.12.1', None),
    # up to 6.6 the bitmap helpers are part of vfio: no build option needed
    (['dirty_tracking', 'stop_copy'], 'n', '6.6.30', 'usable'),
    (['dirty_tracking', 'stop_copy'], None, '6.1.0-57-amd64', 'usable'),
    (['dirty_tracking', 'stop_copy'], 'n', '6.7.0', 'broken'),
    (['dirty_tracking', 'stop_copy'], 'y', '6.7.0', 'usable'),
    (['dirty_tracking', 'stop_copy'], None, '6.7.0', None),
    (['dirty_tracking', 'stop_copy'], 'n', None, None),
    (['dirty_tracking', 'stop_copy'], 'n', 'garbage', None),
])
def test_dma_logging_by_features_release_and_config(features, config, release, expected):
    config = {'options': {'CONFIG_IOMMUFD_DRIVER': config}, 'source': '/boot/config-x'} if config else None
    assert _kernel_config.dma_logging(features, config, release) == expected


def test_migration_features_override_counts(host):
    """An override of the features (the module's migration_features) decides dma_logging too."""
    uuid = mtty(host, 'b' * 8 + '-0000-4000-8000-000000000001')
    write(os.path.join(host.proc, 'sys/kernel/osrelease'), b'6.12.1\n')
    write(os.path.join(host.base, 'boot', 'config-6.12.1'), DEBIAN_612)
    got = facts(host, migration_features={'mtty': ['stop_copy']})
    (device,) = [d for d in got['devices'] if d['id'] == uuid]
    assert device['migration']['dma_logging'] == 'none'


@pytest.mark.parametrize('data, warning', [
    (b'not gzip at all', 'not a gzip-compressed kernel config'),
    (gzip.compress(b'#' * (_kernel_config.MAX_CONFIG_BYTES + 10)), 'when decompressed, not read'),
])
def test_broken_proc_config_is_a_warning_and_boot_is_tried(host, data, warning):
    write(os.path.join(host.proc, 'config.gz'), data)
    write(os.path.join(host.base, 'boot', 'config-' + KERNEL), DEBIAN_612)
    got = facts(host)
    assert any(w.startswith('/proc/config.gz: ') and warning in w for w in got['warnings']), got['warnings']
    assert got['host']['kernel_config']['source'] == '/boot/config-' + KERNEL


def test_a_release_that_is_a_path_is_not_followed(host, tmp_path):
    write(os.path.join(host.proc, 'sys/kernel/osrelease'), b'../../secret\n')
    write(str(tmp_path / 'secret'), WITH_DRIVER)
    write(os.path.join(host.base, 'boot', 'config-x'), WITH_DRIVER)
    got = facts(host)
    assert got['host']['kernel_config'] is None
    assert any('names no file here' in w for w in got['warnings']), got['warnings']


def test_a_fifo_in_place_of_the_config_is_not_opened(host):
    os.makedirs(os.path.join(host.base, 'boot'))
    os.mkfifo(os.path.join(host.base, 'boot', 'config-' + KERNEL))
    got = facts(host)
    assert got['host']['kernel_config'] is None
    assert any(w.startswith('/boot/config-' + KERNEL + ': ') for w in got['warnings']), got['warnings']


def test_default_boot_root():
    assert _kernel_config.default_boot_root('/proc') == '/boot'
    assert _kernel_config.default_boot_root('/proc/') == '/boot'
    assert _kernel_config.default_boot_root('/tmp/host/proc') == '/tmp/host/boot'


def test_annotate_fills_the_place_capability_keeps_and_copies_a_dict_without_it():
    config = {'options': {'CONFIG_IOMMUFD_DRIVER': 'n'}, 'source': '/boot/config-6.12.0'}
    kept = {'capable': True, 'dma_logging': None, 'features': ['dirty_tracking', 'stop_copy'], 'reason': 'r'}
    other = {'capable': True, 'features': ['stop_copy'], 'reason': 'r'}      # no place kept: copied, sorted
    shared = {'capable': None, 'features': None, 'reason': 'r'}
    records = [{'migration': kept}, {'migration': other}, {'migration': shared}, {'migration': shared}]
    _kernel_config.annotate(records, config, '6.12.0')
    assert records[0]['migration'] is kept and kept['dma_logging'] == 'broken'
    assert list(records[1]['migration']) == ['capable', 'dma_logging', 'features', 'reason']
    assert records[1]['migration']['dma_logging'] == 'none' and 'dma_logging' not in other
    assert records[2]['migration'] is records[3]['migration'] and records[2]['migration']['dma_logging'] is None
    # an older kernel reports bitmaps without the option: the same features, another answer
    again = [{'migration': dict(kept, dma_logging=None)}]
    _kernel_config.annotate(again, config, '6.1.0')
    assert again[0]['migration']['dma_logging'] == 'usable'
