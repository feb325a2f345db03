# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""PCI functions: VFIO-bound functions, SR-IOV PFs and VFs, iommufd cdevs.

One pass over ``/sys/bus/pci/devices``.  Per function it reads the ``driver``,
``physfn`` links and ``sriov_totalvfs``, and only for the functions that matter (bound
to a VFIO driver, SR-IOV PFs, mdev parents, NVIDIA VFs) the ids and the rest
(``drivers/pci/pci-sysfs.c``, ``drivers/pci/iov.c``).
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._capability import capability, is_vfio_pci_driver
from ansible_collections.vfio.migration.plugins.module_utils._pci_config import config_space as read_config_space
from ansible_collections.vfio.migration.plugins.module_utils._software_version import vendor_attributes

__all__ = ['scan', 'read_ids', 'device_record', 'device_at', 'pci_type', 'PciScan', 'NVIDIA_VENDOR']

NVIDIA_VENDOR = '10de'

# sorted: the facts' dicts are built with their keys in order
_ID_FILES = ('class', 'device', 'revision', 'subsystem_device', 'subsystem_vendor', 'vendor')


def read_ids(reader, directory):
    """``{vendor, device, subsystem_vendor, subsystem_device, class, revision}`` of a function.

    Values are lower-case hex without ``0x``; a missing or malformed file is a warning and ``None``.
    """
    return reader.read_hex_files(directory, _ID_FILES)


def pci_type(pci):
    """The type signature of a whole function: ``pci-<vendor>:<device>:<subvendor>:<subdevice>``."""
    return 'pci-%s:%s:%s:%s' % (pci.get('vendor'), pci.get('device'), pci.get('subsystem_vendor'),
                                pci.get('subsystem_device'))


def device_record(real, id, kind, device_api, type, driver, parent, iommu_group, numa_node, pci,
                  software_version, software_version_source, migration, attributes, cdev, config_space=None):
    """A ``devices`` entry with every schema_version 1 key (``in_use``/``fingerprint`` filled later).

    ``_real`` (the resolved sysfs path) is for the assembler and removed before output.
    """
    return {
        '_real': real,
        'attributes': dict(sorted(attributes.items())),
        'cdev': cdev,
        'config_space': config_space,
        'device_api': device_api,
        'driver': driver,
        'fingerprint': None,
        'id': id,
        'in_use': None,
        'iommu_group': iommu_group,
        'kind': kind,
        'migration': migration,
        'numa_node': numa_node,
        'parent': parent,
        'pci': pci,
        'software_version': software_version,
        'software_version_source': software_version_source,
        'type': type,
    }


def numa(reader, directory):
    """``numa_node`` as an integer, ``None`` for ``-1`` or no file."""
    value = reader.read_int(directory + '/numa_node')
    return None if value is None or value < 0 else value


def cdev_of(ctx, real):
    """``/dev/vfio/devices/vfioN`` when the device has a vfio-dev node present in the dev tree."""
    name = ctx.vfio_dev.get(real)
    if name and name in ctx.cdevs:
        return '/dev/vfio/devices/' + name
    return None


def device_at(ctx, real, version, **fields):
    """:func:`device_record` of the device at the resolved path ``real``, with its ``iommu_group``
    and ``cdev`` read here and ``version`` the ``(software_version, source)`` pair."""
    return device_record(real=real, iommu_group=ctx.sys.link_name(real + '/iommu_group'), cdev=cdev_of(ctx, real),
                         software_version=version[0], software_version_source=version[1], **fields)


class PciScan(object):
    """What one pass over the PCI bus found."""

    def __init__(self):
        self.devices = []          # kind pci records
        self.sriov = []            # PF capacity records
        self.by_real = {}          # resolved path -> {'name', 'pci', 'driver', 'driver_dir', 'numa_node'}
        self.other_vfs = []        # (name, real, driver, driver_dir, pf name): VFs for the vGPU probe


def _sriov(reader, name, real, driver, pci, numa_node, totalvfs):
    """The ``sriov`` record of the PF ``name``."""
    return {
        'driver': driver,
        'numa_node': numa_node,
        'numvfs': reader.read_int(real + '/sriov_numvfs', quiet_missing=False),
        'pci': pci,
        'pf': name,
        'totalvfs': totalvfs,
        'vf_device': reader.read_hex(real + '/sriov_vf_device', quiet_missing=True, digits=4),
    }


def _vfio_device(ctx, name, real, driver, driver_dir, physfn, pci, numa_node):
    """The ``devices`` record of a function bound to a VFIO PCI driver."""
    module = ctx.versions.module_of(driver, driver_dir)
    vendor_version, migration_attrs = vendor_attributes(ctx.sys, real)
    dtype = pci_type(pci)
    return device_at(
        ctx, real, ctx.versions.resolve(driver, module, dtype, vendor_version),
        id=name, kind='pci', device_api='vfio-pci', type=dtype, driver=driver, parent=physfn, numa_node=numa_node,
        pci=pci, attributes={'migration': migration_attrs} if migration_attrs else {},
        migration=capability('pci', driver, pci, is_vf=physfn is not None, kernel_release=ctx.kernel_release),
        config_space=read_config_space(ctx.sys, real))


def scan(ctx, mdev_parents=frozenset()):
    """Walk ``/sys/bus/pci/devices`` once.

    :param ctx: the gathering context (``sys`` reader, ``versions``, ``kernel_release``,
        ``vfio_dev``, ``cdevs``).
    :param mdev_parents: resolved paths of mdev parents, whose ids are needed too.
    """
    reader = ctx.sys
    result = PciScan()
    bus = reader.resolve(reader.path('bus', 'pci', 'devices'), quiet_missing=True)
    if bus is None:
        return result
    for name in reader.listdir(bus):
        real = reader.entry(bus, name)
        if real is None:
            continue
        driver_dir = reader.link(real + '/driver', dangling_ok=True)
        driver = driver_dir.rsplit('/', 1)[-1] if driver_dir else None
        physfn = reader.link_name(real + '/physfn', dangling_ok=True)
        vfio = is_vfio_pci_driver(driver)
        totalvfs = reader.read_int(real + '/sriov_totalvfs')
        if not (vfio or totalvfs or real in mdev_parents):
            if physfn is not None:
                result.other_vfs.append((name, real, driver, driver_dir, physfn))
            continue

        pci = read_ids(reader, real)
        numa_node = numa(reader, real)
        result.by_real[real] = {'name': name, 'pci': pci, 'driver': driver, 'driver_dir': driver_dir,
                                'numa_node': numa_node}
        if totalvfs:
            result.sriov.append(_sriov(reader, name, real, driver, pci, numa_node, totalvfs))
        if not vfio:
            continue
        if physfn is not None and pci['vendor'] == NVIDIA_VENDOR and reader.subdir(real, 'nvidia') is not None:
            # an SR-IOV vGPU VF on a VFIO variant driver: its vGPU type decides, see _nvidia
            result.other_vfs.append((name, real, driver, driver_dir, physfn))
            continue
        result.devices.append(_vfio_device(ctx, name, real, driver, driver_dir, physfn, pci, numa_node))
    return result
