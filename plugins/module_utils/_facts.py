# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Assemble the ``vfio`` facts (schema_version 1) from a sysfs, procfs and devfs tree.

:func:`gather` is the one entry point; ``plugins/modules/vfio_facts.py`` only maps its
options onto it.  Every file is read once: the mdev parents are listed first so that the
single PCI walk also reads their ids; processes are scanned before devices so that only
the cdevs somebody holds (or that exist in ``/dev``) are mapped.
"""

from __future__ import annotations

import gc

from ansible_collections.vfio.migration.plugins.module_utils import (
    _in_use, _kernel_config, _mdev, _mounts, _nvidia, _output, _pci, _processes, _state_size)
from ansible_collections.vfio.migration.plugins.module_utils._migration_features import apply_overrides
from ansible_collections.vfio.migration.plugins.module_utils._numbers import split_digits
from ansible_collections.vfio.migration.plugins.module_utils._profile import PCI_ID_KEYS, fingerprint
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader
from ansible_collections.vfio.migration.plugins.module_utils._software_version import Versions

__all__ = ['gather', 'SCHEMA_VERSION', 'KINDS']

SCHEMA_VERSION = 1
KINDS = ('pci', 'mdev', 'nvidia_vgpu', 'ccw', 'ap')


class Context(object):
    """What the scanners share: the sysfs reader, versions, kernel release, cdev maps."""

    def __init__(self, sys_reader, kernel_release, versions, vfio_dev, cdevs):
        self.sys = sys_reader
        self.kernel_release = kernel_release
        self.versions = versions
        self.vfio_dev = vfio_dev      # resolved device path -> 'vfioN'
        self.cdevs = cdevs            # names present in <dev_root>/vfio/devices


def _natural(text):
    return split_digits(text or '')


def _vfio_dev_map(reader, names):
    """``{resolved device path: 'vfioN'}`` for the vfio-dev ``names`` via ``/sys/class/vfio-dev``."""
    result = {}
    if not names:
        return result
    cls = reader.resolve(reader.path('class', 'vfio-dev'), quiet_missing=True)
    if cls is None:
        return result
    for name in sorted(names):
        link = cls + '/' + name
        text = reader.readlink(link)
        if text is None:
            continue
        target = reader.link_target(link, text)
        # .../<device>/vfio-dev/vfioN
        device = target.rsplit('/', 2)[0]
        if reader.inside(device):
            result[device] = name
        else:
            reader.warn(link, 'link to %s leaves the root, not followed' % text)
    return result


def _iommu_groups(reader):
    """Names in ``kernel/iommu_groups``; the group directories are remembered by the reader,
    so the ``iommu_group`` link of every device is checked without another system call."""
    groups = reader.resolve(reader.path('kernel', 'iommu_groups'), quiet_missing=True)
    return reader.known_dirs(groups) if groups is not None else []


def _iommu(reader, groups):
    units = reader.listdir(reader.path('class', 'iommu'))
    return {'enabled': bool(units or groups), 'groups': len(groups)}


def _fingerprints(records):
    """Fill ``fingerprint``; records with equal profiles (most VFs of a PF) share one hash."""
    memo = {}
    for record in records:
        pci = record['pci']
        key = (record['kind'], record['device_api'], record['type'], record['driver'],
               tuple(pci[k] for k in PCI_ID_KEYS) if pci else None, record['software_version'],
               record['migration']['capable'], repr(record.get('attributes')))
        value = memo.get(key)
        if value is None:
            value = memo[key] = fingerprint(record)
        record['fingerprint'] = value


def _summary(devices, types, sriov, warnings, scanned):
    by_kind = dict((kind, 0) for kind in KINDS)
    in_use = 0
    capable = {True: 0, False: 0, None: 0}
    vms = set()
    for device in devices:
        by_kind[device['kind']] = by_kind.get(device['kind'], 0) + 1
        if device['in_use']:
            in_use += 1
            vms.add(device['in_use']['vm'] or 'pid:%d' % device['in_use']['pid'])
        capable[device['migration']['capable']] += 1
    return {
        'devices': len(devices),
        'devices_by_kind': dict(sorted(by_kind.items())),
        'devices_free': len(devices) - in_use,
        'devices_in_use': in_use,
        'mdev_available_instances': sum(t['available_instances'] or 0 for t in types),
        'mdev_types': len(types),
        'migration_capable': capable[True],
        'migration_not_capable': capable[False],
        'migration_unknown': capable[None],
        'processes_scanned': scanned,
        'sriov_free_vfs': sum(max((p['totalvfs'] or 0) - (p['numvfs'] or 0), 0) for p in sriov),
        'sriov_numvfs': sum(p['numvfs'] or 0 for p in sriov),
        'sriov_pfs': len(sriov),
        'sriov_totalvfs': sum(p['totalvfs'] or 0 for p in sriov),
        'vms': len(vms),
        'warnings': len(warnings),
    }


def gather(sysfs_root='/sys', proc_root='/proc', dev_root='/dev', software_versions=None, scan_processes=True,
           migration_features=None, max_facts_bytes=_output.MAX_FACTS_BYTES, max_list_entries=_output.MAX_LIST_ENTRIES,
           boot_root=None):
    """The ``vfio`` facts of the host whose trees are at the given roots.

    :param software_versions: ``{type id or driver: version}`` overrides.
    :param scan_processes: look for VFIO holders in ``proc_root``.
    :param migration_features: ``{driver: [feature, ...]}`` overrides of ``migration.features``.
    :param max_facts_bytes: bound of the facts as compact JSON (characters).
    :param max_list_entries: bound of the entries of each list.
    :param boot_root: where ``config-<kernel release>`` is looked for when ``<proc_root>/config.gz`` is not
        there; ``None``: ``/boot`` for ``/proc``, else ``boot`` beside ``proc_root``.
    :returns: a dict with ``schema_version``, ``host``, ``devices``, ``mdev_types``,
        ``sriov``, ``summary`` and ``warnings``; never raises for what it reads.
    """
    # Everything built here is acyclic, so reference counting frees it; the cyclic collector
    # would only walk the caller's heap again and again while thousands of records are made.
    enabled = gc.isenabled()
    gc.disable()
    try:
        if boot_root is None:
            boot_root = _kernel_config.default_boot_root(proc_root)
        return _gather((sysfs_root, proc_root, dev_root, boot_root), (software_versions, migration_features),
                       scan_processes, (max_facts_bytes, max_list_entries))
    finally:
        if enabled:
            gc.enable()


def _gather(roots, overrides, scan_processes, limits):
    sysfs_root, proc_root, dev_root, boot_root = roots
    software_versions, migration_features = overrides
    mounts = _mounts.mount_table(proc_root)     # on the real /sys and /proc: one open per file, no lstat
    sys_reader = Reader(sysfs_root, '/sys', mounts=mounts)
    proc_reader = Reader(proc_root, '/proc', mounts=mounts)
    dev_reader = Reader(dev_root, '/dev')
    boot_reader = Reader(boot_root, '/boot', quiet_missing_root=True)     # a missing /boot is no warning

    kernel_release = proc_reader.read(proc_reader.path('sys', 'kernel', 'osrelease'), quiet_missing=False) \
        if proc_reader.ok else None
    cmdlines = {}
    holders = _processes.scan(proc_reader, dev_root, cmdlines) if scan_processes and proc_reader.ok else {}
    cdevs = set(dev_reader.listdir(dev_reader.path('vfio', 'devices'))) if dev_reader.ok else set()
    held_cdevs = set(key[1] for key in holders if key[0] == 'cdev')
    vfio_dev = _vfio_dev_map(sys_reader, cdevs | held_cdevs) if sys_reader.ok else {}

    versions = Versions(sys_reader, kernel_release, software_versions)
    ctx = Context(sys_reader, kernel_release, versions, vfio_dev, cdevs)

    devices, types, sriov, groups = [], [], [], []
    if sys_reader.ok:
        groups = _iommu_groups(sys_reader)
        parents = _mdev.parents(ctx)
        pci = _pci.scan(ctx, frozenset(real for _name, real in parents))
        functions = dict((info['name'], info) for info in pci.by_real.values())
        vgpus, vgpu_types = _nvidia.scan(ctx, pci.other_vfs, functions)
        mdev_types, mdevs = _mdev.scan(ctx, parents, pci.by_real)
        devices = pci.devices + vgpus + mdevs
        types = mdev_types + vgpu_types
        sriov = pci.sriov

    _in_use.mark(devices, holders, vfio_dev, cmdlines)

    kernel_config = _kernel_config.read(proc_reader, boot_reader, kernel_release)
    apply_overrides(devices + types, migration_features)
    _kernel_config.annotate(devices + types, kernel_config, kernel_release)
    _state_size.annotate(devices + types)
    for device in devices:
        del device['_real']
    readers = (sys_reader, proc_reader, dev_reader, boot_reader)
    host = {
        'iommu': _iommu(sys_reader, groups) if sys_reader.ok else {'enabled': False, 'groups': 0},
        'kernel_config': kernel_config,
        'kernel_release': kernel_release,
        'modules': versions.host_modules(),
    }
    return _finish(devices, types, sriov, host, readers, scan_processes, limits)


def _fingerprints_and_order(devices, types, sriov):
    _fingerprints(devices)
    _fingerprints(types)
    devices.sort(key=lambda d: d['id'])
    types.sort(key=lambda t: (_natural(t['parent']), _natural(t['type'])))
    sriov.sort(key=lambda p: p['pf'])


def _finish(devices, types, sriov, host, readers, scan_processes, limits):
    """Fingerprints, sorted, valid UTF-8, bounded: the facts as returned."""
    _fingerprints_and_order(devices, types, sriov)
    warnings = sorted(set(sum((r.warnings for r in readers), [])))
    # one JSON text checks both: valid UTF-8 (the usual case: nothing to escape) and size
    text = _output.dumps([warnings, devices, sriov, types, host])
    notes = []
    fixed = _output.utf8([warnings, devices, sriov, types, host], notes, text)
    if notes:
        warnings, devices, sriov, types, host = fixed
        warnings = sorted(set(warnings + notes))
        # over the escaped text, as a reader of the facts sees it
        _fingerprints_and_order(devices, types, sriov)
        text = None
    lists = {'warnings': warnings, 'devices': devices, 'sriov': sriov, 'mdev_types': types}
    warnings.extend(_output.bound(lists, host, *limits, size=None if text is None else len(text)))
    # every dict is built with its keys in sorted order (tests check it)
    return {
        'devices': devices,
        'host': host,
        'mdev_types': types,
        'schema_version': SCHEMA_VERSION,
        'sriov': sriov,
        'summary': _summary(devices, types, sriov, warnings, bool(scan_processes)),
        'warnings': warnings,
    }
