# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader
from ansible_collections.vfio.migration.plugins.module_utils._software_version import Versions, vendor_attributes

KERNEL = '6.8.0-45-generic'


def versions(host, overrides=None):
    return Versions(Reader(host.sys, '/sys'), KERNEL, overrides)


def test_module_version_file(host):
    host.module('nvidia', version='550.54.16', srcversion='8F1D2C', taint='POE')
    v = versions(host)
    assert v.resolve('nvidia', 'nvidia') == ('550.54.16', 'module')
    assert v.host_modules() == {'nvidia': {'version': '550.54.16', 'srcversion': '8F1D2C'}}


def test_in_tree_driver_gets_the_kernel_release(host):
    host.module('vfio_pci')                      # loaded, no version file, no taint
    v = versions(host)
    assert v.resolve('vfio-pci', 'vfio_pci') == (KERNEL, 'kernel')
    assert v.resolve('mlx5_vfio_pci', 'mlx5_vfio_pci') == (KERNEL, 'kernel')   # built in: no /sys/module dir


def test_out_of_tree_module_without_version_is_unknown(host):
    host.module('mtty', taint='OE')
    assert versions(host).resolve('mtty', 'mtty') == (None, None)


def test_vendor_sysfs_attribute_wins_over_module(host):
    host.module('nvidia', version='550.54.16')
    directory = host.virtual('x')
    with open(os.path.join(directory, 'migration_version'), 'w') as handle:
        handle.write('10de-1eb8-2\n')
    reader = Reader(host.sys, '/sys')
    version, attrs = vendor_attributes(reader, reader.resolve(directory))
    assert (version, attrs) == ('10de-1eb8-2', {})
    assert Versions(reader, KERNEL).resolve('nvidia', 'nvidia', 'nvidia-230', version) == ('10de-1eb8-2', 'sysfs')


def test_vendor_migration_directory(host):
    directory = host.virtual('y')
    os.makedirs(os.path.join(directory, 'migration'))
    for name, value in (('software_version', '1.2.0'), ('device_api', 'vfio-pci'), ('aggregator', '2')):
        with open(os.path.join(directory, 'migration', name), 'w') as handle:
            handle.write(value + '\n')
    reader = Reader(host.sys, '/sys')
    assert vendor_attributes(reader, directory) == (
        '1.2.0', {'software_version': '1.2.0', 'device_api': 'vfio-pci', 'aggregator': '2'})
    assert reader.warnings == []


def test_overrides_type_id_wins_over_driver(host):
    host.module('nvidia', version='550.54.16')
    v = versions(host, {'nvidia': '550.90.07', 'nvidia-230': '535.161.05', 'vfio_pci': '1.0', 'ignored': None})
    assert v.resolve('nvidia', 'nvidia', 'nvidia-230') == ('535.161.05', 'override')
    assert v.resolve('nvidia', 'nvidia', 'nvidia-222') == ('550.90.07', 'override')
    assert v.resolve('vfio-pci', 'vfio_pci', 'pci-8086:1889:8086:0000') == ('1.0', 'override')   # - and _ alike
    assert v.resolve('i915', 'i915', 'i915-GVTg_V5_4') == (KERNEL, 'kernel')


def test_override_beats_vendor_attribute(host):
    v = versions(host, {'pci-15b3:101e:15b3:0016': '7'})
    assert v.resolve('mlx5_vfio_pci', 'mlx5_vfio_pci', 'pci-15b3:101e:15b3:0016', 'vendor-1') == ('7', 'override')


def test_module_name_from_the_driver_link(host):
    ddir = host.driver('vfio-pci', module='vfio_pci')
    v = versions(host)
    assert v.module_of('vfio-pci', ddir) == 'vfio_pci'
    assert v.module_of('xe-vfio-pci', host.s('bus/pci/drivers/xe-vfio-pci')) == 'xe_vfio_pci'   # no link
    assert v.module_of(None) is None
