# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Compatibility profile and fingerprint of a device or mdev type (shared by module and filters).

This file is imported on the target (by ``vfio_facts``) and on the controller (by the
filters), so it is pure: standard library only, no I/O, no Ansible imports.

A *profile* keeps only what decides whether device state can move from one host to
another, in the order the VFIO migration discussion settled on: ``device_api``, the
device-api identity (PCI ids; s390 attributes), the ``type``, the ``software_version``,
plus ``kind``, ``driver`` and ``migration.capable``.  It leaves out everything that
differs between identical devices: ``id``, ``parent``, ``iommu_group``, ``numa_node``,
``in_use``, PCI ``class`` and ``revision``, names and descriptions.

A device record and an ``mdev_types`` record describe an offer the same way, so a device
on one host and a type on another that could receive it have the same profile and the
same fingerprint (for kinds without per-instance attributes).

``profile(profile(x)) == profile(x)``, so :func:`fingerprint` accepts either.
"""

from __future__ import annotations

import hashlib
import json

__all__ = ['profile', 'fingerprint', 'PROFILE_KEYS', 'PCI_ID_KEYS', 'PROFILE_ATTRIBUTES']

#: PCI ids that identify a device model (not ``class`` / ``revision``).
PCI_ID_KEYS = ('vendor', 'device', 'subsystem_vendor', 'subsystem_device')

#: Top-level keys of a profile.
PROFILE_KEYS = ('kind', 'device_api', 'type', 'driver', 'pci', 'software_version', 'migration', 'attributes')

#: Vendor / device-api attributes that belong to the identity, per kind.
PROFILE_ATTRIBUTES = {
    'ccw': ('subchannel_type',),
    'ap': ('matrix',),
}


def profile(record):
    """Compatibility profile of a device or mdev type record (a new dict).

    :param record: a ``devices`` or ``mdev_types`` entry of the ``vfio`` facts, or a
        profile.  Missing keys count as ``None``; a record that is not a mapping raises
        ``TypeError``.
    :returns: ``{'kind', 'device_api', 'type', 'driver', 'pci': {vendor, device,
        subsystem_vendor, subsystem_device} | None, 'software_version',
        'migration': {'capable'}, 'attributes': {...}}``.
    """
    if not isinstance(record, dict):
        raise TypeError('a device or type record must be a mapping, not %s' % type(record).__name__)
    kind = record.get('kind')
    pci = record.get('pci')
    if isinstance(pci, dict):
        pci = dict((key, pci.get(key)) for key in PCI_ID_KEYS)
    else:
        pci = None
    migration = record.get('migration')
    capable = migration.get('capable') if isinstance(migration, dict) else None
    attributes = record.get('attributes')
    selected = {}
    if isinstance(attributes, dict):
        for key in PROFILE_ATTRIBUTES.get(kind, ()):
            if key in attributes:
                selected[key] = attributes[key]
    return {
        'kind': kind,
        'device_api': record.get('device_api'),
        'type': record.get('type'),
        'driver': record.get('driver'),
        'pci': pci,
        'software_version': record.get('software_version'),
        'migration': {'capable': capable},
        'attributes': selected,
    }


def canonical(value):
    """Canonical JSON text of ``value`` (sorted keys, no white space, ASCII)."""
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=True)


def fingerprint(record_or_profile):
    """``"sha256:<hex>"`` over the canonical JSON of ``profile(record_or_profile)``."""
    text = canonical(profile(record_or_profile))
    return 'sha256:' + hashlib.sha256(text.encode('ascii')).hexdigest()
