# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Mediated devices: parents, supported types (capacity) and instances.

``Documentation/ABI/testing/sysfs-bus-vfio-mdev`` and ``drivers/vfio/mdev/mdev_sysfs.c``:
``/sys/class/mdev_bus/<parent>`` links to each parent device, which has
``mdev_supported_types/<type-id>/{name, description, device_api, available_instances}``
(``create`` is write-only and never touched).  Instances are
``/sys/bus/mdev/devices/<uuid>`` -> ``<parent>/<uuid>/`` with an ``mdev_type`` link.
The type id is ``<parent driver>-<type>`` (``nvidia-230``, ``i915-GVTg_V5_4``, ``mtty-2``).
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._capability import capability
from ansible_collections.vfio.migration.plugins.module_utils._pci import device_at
from ansible_collections.vfio.migration.plugins.module_utils._s390 import attributes as s390_attributes, kind_for
from ansible_collections.vfio.migration.plugins.module_utils._software_version import vendor_attributes

__all__ = ['parents', 'scan']

# vendor attribute files of instances worth reporting, per parent driver (read-only views)
_VENDOR_FILES = {
    'nvidia': ('nvidia/vgpu_params',),
}


def parents(ctx):
    """``[(name, resolved path)]`` of the mdev parents in ``/sys/class/mdev_bus``."""
    reader = ctx.sys
    bus = reader.resolve(reader.path('class', 'mdev_bus'), quiet_missing=True)
    if bus is None:
        return []
    result = []
    for name in reader.listdir(bus):
        real = reader.entry(bus, name)
        if real is not None:
            result.append((name, real))
    return result


class _Parent(object):
    __slots__ = ('name', 'real', 'driver', 'driver_dir', 'pci', 'numa_node')

    def __init__(self, name, real, driver, driver_dir, pci, numa_node):
        self.name = name
        self.real = real
        self.driver = driver
        self.driver_dir = driver_dir
        self.pci = pci
        self.numa_node = numa_node


def _parent(ctx, name, real, functions):
    reader = ctx.sys
    info = functions.get(real)
    if info is not None:
        return _Parent(name, real, info['driver'], info['driver_dir'], info['pci'], info['numa_node'])
    driver_dir = reader.link(real + '/driver', dangling_ok=True)
    driver = driver_dir.rsplit('/', 1)[-1] if driver_dir else None
    return _Parent(name, real, driver, driver_dir, None, None)


def _type(ctx, parent, type_id, tdir):
    reader = ctx.sys
    device_api = reader.read(tdir + '/device_api', quiet_missing=False)
    kind = kind_for(device_api)
    # virtual parents (mtty, mdpy, mbochs) have no driver link: the type id names it
    driver = parent.driver or type_id.partition('-')[0] or None
    module = ctx.versions.module_of(driver, parent.driver_dir if parent.driver else None)
    vendor_version = vendor_attributes(reader, tdir)[0]
    version, source = ctx.versions.resolve(driver, module, type_id, vendor_version)
    return {
        'available_instances': reader.read_int(tdir + '/available_instances', quiet_missing=False),
        'description': reader.read(tdir + '/description'),
        'device_api': device_api,
        'driver': driver,
        'fingerprint': None,
        'kind': kind,
        'migration': capability(kind, driver, parent.pci, kernel_release=ctx.kernel_release),
        'name': reader.read(tdir + '/name'),
        'parent': parent.name,
        'pci': parent.pci,
        'software_version': version,
        'software_version_source': source,
        'type': type_id,
    }, vendor_version, module


def _supported_types(ctx, parent_list, functions):
    """``(types, by_dir, by_parent)``: the type records of the parents' ``mdev_supported_types``,
    ``{resolved type dir: (record, vendor version, parent, module)}`` and ``{resolved parent dir: _Parent}``."""
    reader = ctx.sys
    types, by_dir, by_parent = [], {}, {}
    for name, real in parent_list:
        parent = _parent(ctx, name, real, functions)
        by_parent[real] = parent
        supported = reader.subdir(real, 'mdev_supported_types', quiet_missing=False)
        if supported is None:
            continue
        for type_id in reader.known_dirs(supported):
            tdir = reader.subdir(supported, type_id)
            if tdir is None:
                continue
            record, vendor_version, module = _type(ctx, parent, type_id, tdir)
            types.append(record)
            by_dir[tdir] = (record, vendor_version, parent, module)
    return types, by_dir, by_parent


def _instance_type(ctx, real, by_dir, by_parent, functions):
    """``(record, vendor version, parent, module)`` of the type of the mdev at ``real``, or ``None``."""
    reader = ctx.sys
    link = real + '/mdev_type'
    text = reader.readlink(link, quiet_missing=False)
    if text is None:
        return None
    known = by_dir.get(reader.link_target(link, text))
    if known is None:
        # a type of a parent missing from /sys/class/mdev_bus: resolve and read it here
        resolved = reader.follow(link)
        if resolved is None:
            return None
        known = by_dir.get(resolved)
        if known is None:
            preal = real.rsplit('/', 1)[0]
            parent = by_parent.get(preal) or _parent(ctx, preal.rsplit('/', 1)[-1], preal, functions)
            record, vendor_version, module = _type(ctx, parent, resolved.rsplit('/', 1)[-1], resolved)
            known = by_dir[resolved] = (record, vendor_version, parent, module)
    return known


def _instance(ctx, uuid, real, known):
    """The ``devices`` record of the mdev ``uuid`` at ``real`` whose type is ``known``."""
    reader = ctx.sys
    trec, type_version, parent, module = known
    kind = trec['kind']
    vendor_version, migration_attrs = vendor_attributes(reader, real)
    attributes = s390_attributes(reader, kind, real, parent.real)
    for rel in _VENDOR_FILES.get(trec['driver'], ()):
        value = reader.read_in(real, rel)
        if value is not None:
            attributes[rel.rsplit('/', 1)[-1]] = value
    if migration_attrs:
        attributes['migration'] = migration_attrs
    return device_at(
        ctx, real, ctx.versions.resolve(trec['driver'], module, trec['type'], vendor_version or type_version),
        id=uuid, kind=kind, device_api=trec['device_api'], type=trec['type'], driver=trec['driver'],
        parent=parent.name, numa_node=parent.numa_node, pci=parent.pci, migration=dict(trec['migration']),
        attributes=attributes)


def scan(ctx, parent_list, functions):
    """Types and instances of the mdev ``parent_list``.

    :param parent_list: from :func:`parents`.
    :param functions: ``{resolved path: {'name', 'pci', 'driver', 'driver_dir', 'numa_node'}}``
        from the PCI walk (PCI parents); other parents get ``pci: None``.
    :returns: ``(types, devices)``.
    """
    reader = ctx.sys
    types, by_dir, by_parent = _supported_types(ctx, parent_list, functions)
    devices = []
    bus = reader.resolve(reader.path('bus', 'mdev', 'devices'), quiet_missing=True)
    for uuid in reader.listdir(bus) if bus is not None else ():
        real = reader.entry(bus, uuid)
        if real is None:
            continue
        known = _instance_type(ctx, real, by_dir, by_parent, functions)
        if known is not None:
            devices.append(_instance(ctx, uuid, real, known))
    return types, devices
