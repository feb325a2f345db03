# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The ``compatible`` and ``migration_check`` filters' entry functions (the engine is ``_engine.py``)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vfio.migration.plugins.plugin_utils._compare import verdict
from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError, FactsError
from ansible_collections.vfio.migration.plugins.plugin_utils._host_model import demand_of
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import place
from ansible_collections.vfio.migration.plugins.plugin_utils._schema import validate_device

__all__ = ['compatible', 'migration_check', 'placement_result']


def _record(value, what):
    if not isinstance(value, Mapping):
        raise ArgumentError('%s must be a device record or an mdev_types entry (a mapping), got %s'
                            % (what, type(value).__name__))
    problems = []
    if 'available_instances' in value:
        for key in ('type', 'device_api'):
            if not isinstance(value.get(key), str):
                problems.append('field %r: missing or not a string' % key)
    else:
        validate_device(value, 0, problems)
    if problems:
        raise FactsError(what, problems)
    return value


def compatible(src_device, dst_device_or_type, rules=None):
    """``{compatible, reasons}`` for one directed device -> device/type comparison."""
    engine = Engine(rules)
    src = _record(src_device, 'the source device')
    dst = _record(dst_device_or_type, 'the destination device or type')
    ok, reasons = engine.comparator.compare(src, dst)
    return verdict(ok, reasons)


def placement_result(placement, vm_names=True):
    """The public shape of a :class:`Placement`."""
    placements = [{
        'source': demand.id, 'destination': pool.destination, 'type': pool.type, 'vm': demand.vm,
        'action': pool.action, 'slot': pool.id,
    } for demand, pool in placement.placed]
    unplaced = [{
        'source': demand.id, 'vm': demand.vm, 'type': demand.record.get('type'), 'reasons': reasons,
    } for demand, reasons in placement.unplaced]
    return {
        'compatible': not unplaced,
        'placements': placements,
        'unplaced': unplaced,
        'optimal': placement.optimal,
    }


def _as_list(value, what):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, str):
                raise ArgumentError('%s must be a list of strings, found %r' % (what, item))
        return list(value)
    raise ArgumentError('%s must be a string or a list of strings, got %s' % (what, type(value).__name__))


def migration_check(src_vfio, dst_vfio, devices=None, vms=None, rules=None, source_host='source',
                    destination_host='destination', engine=None):
    """Place the source's devices in use (or ``devices`` / the devices of ``vms``) on the destination."""
    engine = engine or Engine(rules)
    devices = _as_list(devices, 'devices')
    vms = _as_list(vms, 'vms')
    src = engine.host(source_host, src_vfio)
    dst = engine.host(destination_host, dst_vfio)
    if devices is None and vms is None:
        demands = src.demands()
    else:
        demands = src.demands(devices, vms)
        have = set(d.id for d in demands)
        for ident in devices or ():
            if ident in have:
                continue
            record = src.devices.get(ident)
            if record is None:
                raise ArgumentError('device %r is not one of the devices of source host %r (known: %s)'
                                    % (ident, source_host, ', '.join(sorted(src.devices)) or 'none'))
            demands.append(demand_of(record, engine.keyer))
            have.add(ident)
        known_vms = set(d.vm for group in src.vms.values() for d in group if d.vm)
        for name in vms or ():
            if name not in known_vms:
                raise ArgumentError('VM %r has no device in use on source host %r (VMs: %s)'
                                    % (name, source_host, ', '.join(sorted(known_vms)) or 'none'))
        demands.sort(key=lambda d: d.id)
    result = placement_result(place(demands, dst.pools, engine.comparator, spent=dst.spent))
    return result
