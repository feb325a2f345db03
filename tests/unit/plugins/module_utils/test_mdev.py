# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_mdev: mdev parents, their supported types (capacity) and instances."""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather

UUID = '2c3f0b2a-1b1e-4f6e-9a55-0d8f2e2f6a01'


def test_types_and_instances_of_a_virtual_parent(host):
    parent = host.virtual('mtty', 'mtty')
    host.mdev_parent(parent)
    host.mdev_type(parent, 'mtty-1', name='Single port serial', device_api='vfio-pci', available=23)
    host.mdev_type(parent, 'mtty-2', name='Dual port serial', device_api='vfio-pci', available=11)
    host.mdev(parent, UUID, 'mtty-2', group=12)
    facts = gather(host.sys, host.proc, host.dev, {}, True)
    assert [(t['parent'], t['type'], t['available_instances'], t['name']) for t in facts['mdev_types']] == [
        ('mtty', 'mtty-1', 23, 'Single port serial'), ('mtty', 'mtty-2', 11, 'Dual port serial')]
    assert [(d['id'], d['kind'], d['type'], d['parent'], d['iommu_group']) for d in facts['devices']] == [
        (UUID, 'mdev', 'mtty-2', 'mtty', '12')]


def test_no_mdev_bus_means_no_types(host):
    host.pci('0000:00:1f.0', '8086', '7a04', driver='other')
    facts = gather(host.sys, host.proc, host.dev, {}, True)
    assert facts['mdev_types'] == [] and facts['devices'] == []
