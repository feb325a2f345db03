# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._capability import (
    capability, is_vfio_pci_driver, kernel_at_least)


def pci(vendor, device):
    return {'vendor': vendor, 'device': device, 'subsystem_vendor': vendor, 'subsystem_device': '0000'}


@pytest.mark.parametrize('kind, driver, ids, capable, words', [
    ('pci', 'mlx5_vfio_pci', pci('15b3', '101e'), True, 'firmware'),
    ('pci', 'mlx5_vfio_pci', pci('15b3', '101c'), None, 'outside its id table'),
    ('pci', 'hisi_acc_vfio_pci', pci('19e5', 'a251'), True, 'ZIP VFs'),
    ('pci', 'hisi_acc_vfio_pci', pci('19e5', 'a256'), True, 'SEC VFs'),
    ('pci', 'hisi_acc_vfio_pci', pci('19e5', 'a259'), True, 'HPRE VFs'),
    ('pci', 'hisi_acc_vfio_pci', pci('19e5', 'a250'), False, 'only their VFs migrate'),
    ('pci', 'hisi_acc_vfio_pci', pci('19e5', 'a258'), False, 'HPRE PFs'),
    ('pci', 'pds_vfio_pci', pci('1dd8', '1003'), True, 'Pensando'),
    ('pci', 'virtio_vfio_pci', pci('1af4', '1041'), True, 'admin queue'),
    ('pci', 'qat_vfio_pci', pci('8086', '4941'), True, 'QAT 4xxx'),
    ('pci', 'qat_vfio_pci', pci('8086', '4945'), True, '8086:4945'),
    ('pci', 'qat_vfio_pci', pci('8086', '4940'), None, 'not one of them'),
    ('pci', 'xe-vfio-pci', pci('8086', 'e211'), True, 'source less certain'),
    ('pci', 'vfio-pci', pci('8086', '1889'), False, 'assignment only'),
    ('pci', 'nvgrace_gpu_vfio_pci', pci('10de', '2342'), False, 'assignment only'),
    ('pci', 'ism_vfio_pci', pci('1014', '04ed'), False, 'assignment only'),
    ('pci', 'acme_vfio_pci', pci('1234', '5678'), None, 'unknown driver acme_vfio_pci'),
    ('mdev', 'nvidia', pci('10de', '1eb8'), True, 'host driver'),
    ('nvidia_vgpu', 'nvidia', pci('10de', '20f1'), True, 'SR-IOV vGPUs'),
    ('mdev', 'i915', pci('8086', '3e92'), False, 'GVT-g'),
    ('mdev', 'mdpy', None, False, 'sample display'),
    ('mdev', 'mbochs', None, False, 'sample display'),
    ('ccw', 'vfio_ccw', None, False, 'vfio-ccw'),
    ('ap', 'vfio_ap', None, False, 'vfio-ap'),
    ('mdev', 'acme', None, None, 'unknown driver acme'),
])
def test_table(kind, driver, ids, capable, words):
    verdict = capability(kind, driver, ids, kernel_release='6.8.0')
    assert verdict['capable'] is capable
    assert words in verdict['reason']
    assert verdict['reason'].endswith('.')


@pytest.mark.parametrize('release, capable', [
    ('6.7.0', True), ('6.12.9-amd64', True), ('7.0', True), ('6.6.30', False), ('5.15.0-105-generic', False),
    (None, None), ('weird', None),
])
def test_mtty_depends_on_kernel(release, capable):
    verdict = capability('mdev', 'mtty', None, kernel_release=release)
    assert verdict['capable'] is capable
    assert '6.7' in verdict['reason']


def test_no_driver_and_fresh_dicts():
    # dma_logging's place is kept (None) for _kernel_config.annotate, in sorted key order
    assert capability('pci', None) == {'capable': None, 'dma_logging': None, 'features': None,
                                       'reason': 'no driver is bound, so nothing is known about migration.'}
    one = capability('pci', 'vfio-pci')
    one['capable'] = 'mutated'
    assert capability('pci', 'vfio-pci')['capable'] is False


@pytest.mark.parametrize('driver, expected', [
    ('vfio-pci', True), ('mlx5_vfio_pci', True), ('xe-vfio-pci', True), ('hisi_acc_vfio_pci', True),
    ('mlx5_core', False), ('nvidia', False), (None, False), ('', False), ('vfio_ccw', False),
])
def test_is_vfio_pci_driver(driver, expected):
    assert is_vfio_pci_driver(driver) is expected


def test_kernel_at_least():
    assert kernel_at_least('6.7', 6, 7) is True
    assert kernel_at_least('6.10.0', 6, 7) is True
    assert kernel_at_least('6.1.0-18-amd64', 6, 7) is False
    assert kernel_at_least('6', 6, 7) is None
