# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""NVIDIA vGPU on SR-IOV (Ampere and later, vGPU 17+): no mdev at all.

The GPU is an SR-IOV PF; each VF has ``nvidia/creatable_vgpu_types`` (a table
``ID : name``, e.g. ``1414 : NVIDIA H200X-1-18C``) and ``nvidia/current_vgpu_type``
(``0`` when none).  A VF with a current type is a device of kind ``nvidia_vgpu``; the
free VFs are capacity, counted per PF and type id into ``mdev_types`` entries.

A VF lists what can still be created *on the GPU*, not on that VF: while the GPU has frame
buffer left, every free VF lists the type, and only once it is used up do they all stop.  So
the free VFs that list a type are an upper bound on how many more fit; where the board and the
profile are known (time-sliced ``<board>-<N><series>`` profiles have N GiB of frame buffer, so
a board of B GiB runs ``max_instance = B // N`` of them) the count is capped by what the frame
buffer still holds: ``max_instance`` minus the instances of that type already running on the
GPU, or less when other sizes run beside it (mixed-size mode).
"""

from __future__ import annotations

import re

from ansible_collections.vfio.migration.plugins.module_utils._capability import capability
from ansible_collections.vfio.migration.plugins.module_utils._numbers import is_digits
from ansible_collections.vfio.migration.plugins.module_utils._pci import NVIDIA_VENDOR, device_at, numa
from ansible_collections.vfio.migration.plugins.module_utils._software_version import vendor_attributes

__all__ = ['BOARD_FRAMEBUFFER_GIB', 'max_instance', 'parse_creatable', 'profile_framebuffer', 'room', 'scan']

# Frame buffer (GiB) that vGPU profiles share, by PCI device id of the physical GPU (the PF).
# Only boards whose profile table is known: NVIDIA vGPU user guide, "Virtual GPU Types for
# Supported GPUs" (A100 PCIe 40GB and A100 SXM4 40GB: A100-4C max 10, -5C 8, -8C 5, -10C 4,
# -20C 2, -40C 1 per GPU).
BOARD_FRAMEBUFFER_GIB = {
    '20f1': 40,   # A100 PCIe 40GB
    '20b0': 40,   # A100 SXM4 40GB
}

# "NVIDIA A100-4C": board, frame buffer in GiB, series.  MIG-backed profiles name a slice count
# too ("NVIDIA A100-1-5C", "NVIDIA H200X-1-18C"); their limit is the MIG layout, not the frame
# buffer, so they are left unbounded here.
_PROFILE = re.compile(r'^(?:NVIDIA|GRID)\s+(\S+)-([0-9]+)([A-Z]+)$')
_MIG_BOARD = re.compile(r'-[0-9]+$')


def parse_creatable(text):
    """``[(id, name)]`` from a ``creatable_vgpu_types`` table; the header line is skipped."""
    types = []
    for line in (text or '').splitlines():
        ident, sep, name = line.partition(':')
        ident = ident.strip()
        if sep and is_digits(ident):
            types.append((str(int(ident, 10)), name.strip()))
    return types


def profile_framebuffer(name):
    """Frame buffer in GiB of a time-sliced vGPU profile name, or None (MIG-backed, unknown)."""
    match = _PROFILE.match((name or '').strip())
    if match is None or _MIG_BOARD.search(match.group(1)):
        return None
    size = int(match.group(2))
    return size or None


def max_instance(device, name):
    """How many vGPUs of profile ``name`` a GPU with PCI device id ``device`` runs at most, or None."""
    board = BOARD_FRAMEBUFFER_GIB.get(device or '')
    size = profile_framebuffer(name)
    if board is None or size is None or size > board:
        return None
    return board // size


def room(device, name, same, running):
    """How many more vGPUs of profile ``name`` fit on a GPU, or None when that is not known.

    :param device: the PF's PCI device id.
    :param same: how many vGPUs of this type the GPU runs.
    :param running: names of all the vGPU types the GPU runs, one per instance (None where the
        name is unknown).
    """
    limit = max_instance(device, name)
    if limit is None:
        return None
    sizes = [profile_framebuffer(other) for other in running]
    if None in sizes:
        # a running type of unknown size: count only this type against its max_instance
        return max(limit - same, 0)
    free = BOARD_FRAMEBUFFER_GIB[device] - sum(sizes)
    return max(min(limit - same, free // profile_framebuffer(name)), 0)


class _VfScan(object):
    """What the VFs of the NVIDIA PFs say: free VFs per type, type names, VF drivers, used VFs."""

    def __init__(self):
        self.free = {}      # (pf, id) -> number of free VFs that can create it
        self.names = {}     # (pf, id) -> name
        self.drivers = {}   # pf -> (driver, driver_dir) of its VFs
        self.used = []      # (name, real, driver, driver_dir, pf, id) of VFs with a current vGPU type


def _read_vfs(reader, other_vfs, functions):
    found = _VfScan()
    for name, real, driver, driver_dir, pf in other_vfs:
        pf_info = functions.get(pf)
        if pf_info is None or (pf_info['pci'] or {}).get('vendor') != NVIDIA_VENDOR:
            continue
        vdir = reader.subdir(real, 'nvidia')
        if vdir is None:
            continue
        current = reader.read(vdir + '/current_vgpu_type')
        creatable = parse_creatable(reader.read(vdir + '/creatable_vgpu_types'))
        found.drivers.setdefault(pf, (driver, driver_dir))
        for ident, tname in creatable:
            key = (pf, ident)
            found.names.setdefault(key, tname)
            found.free.setdefault(key, 0)
            if current == '0':
                found.free[key] += 1
        if current is None or current == '0':
            continue
        if not is_digits(current):
            reader.warn(vdir + '/current_vgpu_type', 'not a vGPU type id: %r' % current[:40])
            continue
        found.used.append((name, real, driver, driver_dir, pf, str(int(current, 10))))
    return found


def _devices(ctx, found, functions):
    devices = []
    for name, real, driver, driver_dir, pf, ident in found.used:
        type_id = 'nvidia-' + ident
        module = ctx.versions.module_of(driver, driver_dir)
        vendor_version, migration_attrs = vendor_attributes(ctx.sys, real)
        attributes = {}
        if (pf, ident) in found.names:
            attributes['vgpu_type_name'] = found.names[(pf, ident)]
        if migration_attrs:
            attributes['migration'] = migration_attrs
        devices.append(device_at(
            ctx, real, ctx.versions.resolve(driver, module, type_id, vendor_version),
            id=name, kind='nvidia_vgpu', device_api='vfio-pci', type=type_id, driver=driver, parent=pf,
            numa_node=numa(ctx.sys, real), pci=functions[pf]['pci'], migration=capability('nvidia_vgpu', driver),
            attributes=attributes))
    return devices


def _types(ctx, found, functions):
    running = {}   # pf -> type ids its VFs run, one per instance
    for _name, _real, _driver, _driver_dir, pf, ident in found.used:
        running.setdefault(pf, []).append(ident)
    types = []
    for (pf, ident) in sorted(found.free, key=lambda k: (k[0], int(k[1]))):
        driver, driver_dir = found.drivers[pf]
        name = found.names[(pf, ident)]
        available = found.free[(pf, ident)]
        on_gpu = running.get(pf, [])
        fits = room((functions[pf]['pci'] or {}).get('device'), name, on_gpu.count(ident),
                    [found.names.get((pf, other)) for other in on_gpu])
        if fits is not None:
            available = min(available, fits)
        type_id = 'nvidia-' + ident
        version, source = ctx.versions.resolve(driver, ctx.versions.module_of(driver, driver_dir), type_id)
        types.append({
            'available_instances': available,
            'description': None,
            'device_api': 'vfio-pci',
            'driver': driver,
            'fingerprint': None,
            'kind': 'nvidia_vgpu',
            'migration': capability('nvidia_vgpu', driver),
            'name': name,
            'parent': pf,
            'pci': functions[pf]['pci'],
            'software_version': version,
            'software_version_source': source,
            'type': type_id,
        })
    return types


def scan(ctx, other_vfs, functions):
    """Devices and capacity of SR-IOV vGPUs.

    :param other_vfs: ``(name, real, driver, driver_dir, pf)`` of VFs not bound to VFIO, and of
        NVIDIA VFs with an ``nvidia/`` directory whatever their driver.
    :param functions: ``{pf name: {'pci', ...}}`` of the PFs the PCI walk read.
    :returns: ``(devices, types)``.
    """
    found = _read_vfs(ctx.sys, other_vfs, functions)
    return _devices(ctx, found, functions), _types(ctx, found, functions)
