# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""NVIDIA vGPU on SR-IOV (Ampere and later, vGPU 17+): no mdev at all.

The GPU is an SR-IOV PF; each VF has ``nvidia/creatable_vgpu_types`` (a table
``ID : name``, e.g. ``1414 : NVIDIA H200X-1-18C``) and ``nvidia/current_vgpu_type``
(``0`` when none).  A VF with a current type is a device of kind ``nvidia_vgpu``; the
free VFs are capacity, counted per PF and type id into ``mdev_types`` entries.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._capability import capability
from ansible_collections.vfio.migration.plugins.module_utils._pci import (
    NVIDIA_VENDOR, cdev_of, device_record, numa)
from ansible_collections.vfio.migration.plugins.module_utils._versions import vendor_attributes

__all__ = ['parse_creatable', 'scan']


def parse_creatable(text):
    """``[(id, name)]`` from a ``creatable_vgpu_types`` table; the header line is skipped."""
    types = []
    for line in (text or '').splitlines():
        ident, sep, name = line.partition(':')
        ident = ident.strip()
        if sep and ident.isdigit():
            types.append((str(int(ident)), name.strip()))
    return types


def scan(ctx, other_vfs, functions):
    """Devices and capacity of SR-IOV vGPUs.

    :param other_vfs: ``(name, real, driver, driver_dir, pf)`` of VFs not bound to VFIO, and of
        NVIDIA VFs with an ``nvidia/`` directory whatever their driver.
    :param functions: ``{pf name: {'pci', ...}}`` of the PFs the PCI walk read.
    :returns: ``(devices, types)``.
    """
    reader = ctx.sys
    free = {}      # (pf, id) -> number of free VFs that can create it
    names = {}     # (pf, id) -> name
    drivers = {}   # pf -> (driver, driver_dir) of its VFs
    used = []      # VFs with a current vGPU type
    for name, real, driver, driver_dir, pf in other_vfs:
        pf_info = functions.get(pf)
        if pf_info is None or (pf_info['pci'] or {}).get('vendor') != NVIDIA_VENDOR:
            continue
        vdir = reader.subdir(real, 'nvidia')
        if vdir is None:
            continue
        current = reader.read(vdir + '/current_vgpu_type')
        creatable = parse_creatable(reader.read(vdir + '/creatable_vgpu_types'))
        drivers.setdefault(pf, (driver, driver_dir))
        for ident, tname in creatable:
            key = (pf, ident)
            names.setdefault(key, tname)
            free.setdefault(key, 0)
            if current == '0':
                free[key] += 1
        if current is None or current == '0':
            continue
        if not current.isdigit():
            reader.warn(vdir + '/current_vgpu_type', 'not a vGPU type id: %r' % current[:40])
            continue
        used.append((name, real, driver, driver_dir, pf, str(int(current))))

    devices = []
    for name, real, driver, driver_dir, pf, ident in used:
        type_id = 'nvidia-' + ident
        module = ctx.versions.module_of(driver, driver_dir)
        vendor_version, migration_attrs = vendor_attributes(reader, real)
        version, source = ctx.versions.resolve(driver, module, type_id, vendor_version)
        attributes = {}
        if (pf, ident) in names:
            attributes['vgpu_type_name'] = names[(pf, ident)]
        if migration_attrs:
            attributes['migration'] = migration_attrs
        devices.append(device_record(
            real=real,
            id=name,
            kind='nvidia_vgpu',
            device_api='vfio-pci',
            type=type_id,
            driver=driver,
            parent=pf,
            iommu_group=reader.link_name(real + '/iommu_group'),
            numa_node=numa(reader, real),
            pci=functions[pf]['pci'],
            software_version=version,
            software_version_source=source,
            migration=capability('nvidia_vgpu', driver),
            attributes=attributes,
            cdev=cdev_of(ctx, real),
        ))

    types = []
    for (pf, ident) in sorted(free, key=lambda k: (k[0], int(k[1]))):
        driver, driver_dir = drivers[pf]
        type_id = 'nvidia-' + ident
        module = ctx.versions.module_of(driver, driver_dir)
        version, source = ctx.versions.resolve(driver, module, type_id)
        types.append({
            'available_instances': free[(pf, ident)],
            'description': None,
            'device_api': 'vfio-pci',
            'driver': driver,
            'fingerprint': None,
            'kind': 'nvidia_vgpu',
            'migration': capability('nvidia_vgpu', driver),
            'name': names[(pf, ident)],
            'parent': pf,
            'pci': functions[pf]['pci'],
            'software_version': version,
            'software_version_source': source,
            'type': type_id,
        })
    return devices, types
