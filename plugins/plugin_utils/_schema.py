# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Validation of ``vfio`` facts (schema_version 1) before the engine reads them.

The engine accepts, per host, any of: the ``vfio`` facts themselves (a mapping with
``schema_version``), a mapping holding them under ``vfio`` (``ansible_facts``), or a host's
variables holding them under ``ansible_facts.vfio`` or ``ansible_vfio`` (``hostvars[host]``).

Every problem is reported with the host, the device (or mdev type / PF) and the field, e.g.
``invalid vfio facts for host 'gpu1': device '0000:3b:00.2' field 'in_use': expected a
mapping or null, got a list``. Validation never changes the facts.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import FactsError

__all__ = ['SCHEMA_VERSION', 'KINDS', 'unwrap', 'validate_facts', 'validate_device']

SCHEMA_VERSION = 1
KINDS = frozenset(('pci', 'mdev', 'nvidia_vgpu', 'ccw', 'ap'))

_STR = (str,)
_NUM = (int, float, str)


def _typename(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, Mapping):
        return 'a mapping'
    if isinstance(value, (list, tuple)):
        return 'a list'
    if isinstance(value, int):
        return 'an integer'
    if isinstance(value, float):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    return 'a %s' % type(value).__name__


def unwrap(facts):
    """Return the ``vfio`` facts inside ``facts`` (see the module docstring), or ``facts``."""
    if isinstance(facts, Mapping) and 'schema_version' not in facts:
        if 'vfio' in facts and isinstance(facts['vfio'], Mapping):
            return facts['vfio']
        inner = facts.get('ansible_facts')
        if isinstance(inner, Mapping) and isinstance(inner.get('vfio'), Mapping):
            return inner['vfio']
        if isinstance(facts.get('ansible_vfio'), Mapping):
            return facts['ansible_vfio']
    return facts


def _check(problems, where, record, key, types, required, nullable=True, what=None):
    if key not in record:
        if required:
            problems.append('%s field %r: missing' % (where, key))
        return None
    value = record[key]
    if value is None:
        if not nullable:
            problems.append('%s field %r: must not be null' % (where, key))
        return None
    if isinstance(value, bool) and bool not in types:
        problems.append('%s field %r: expected %s, got %s' % (where, key, what, _typename(value)))
        return None
    if not isinstance(value, types):
        problems.append('%s field %r: expected %s, got %s' % (where, key, what, _typename(value)))
        return None
    return value


def _check_pci(problems, where, record):
    pci = _check(problems, where, record, 'pci', (Mapping,), False, what='a mapping or null')
    if pci:
        for key in ('vendor', 'device', 'subsystem_vendor', 'subsystem_device'):
            _check(problems, where, pci, key, _STR, False, what='a hex id string (pci.%s)' % key)


def _opt_str(value):
    return value is None or isinstance(value, str)


def _pci_ok(pci):
    if pci is None:
        return True
    if not isinstance(pci, dict):
        return False
    get = pci.get
    return (_opt_str(get('vendor')) and _opt_str(get('device')) and _opt_str(get('subsystem_vendor'))
            and _opt_str(get('subsystem_device')))


def _device_fast(device):
    """True for a well-formed device record of the usual plain types (the common case, fast)."""
    if not isinstance(device, dict):
        return False
    get = device.get
    if not (isinstance(get('id'), str) and isinstance(get('device_api'), str) and isinstance(get('type'), str)
            and get('kind') in KINDS and _opt_str(get('driver')) and _opt_str(get('parent'))
            and _opt_str(get('software_version')) and _opt_str(get('fingerprint')) and _pci_ok(get('pci'))):
        return False
    migration = get('migration')
    if migration is not None:
        if not isinstance(migration, dict):
            return False
        capable = migration.get('capable')
        if capable is not None and not isinstance(capable, bool):
            return False
    in_use = get('in_use')
    if in_use is not None:
        if not isinstance(in_use, dict):
            return False
        vm, pid = in_use.get('vm'), in_use.get('pid')
        if vm is not None and not isinstance(vm, str):
            return False
        if pid is not None and (not isinstance(pid, int) or isinstance(pid, bool)):
            return False
    attributes = get('attributes')
    return attributes is None or isinstance(attributes, dict)


def validate_device(device, index, problems):
    """Append the problems of one device record to ``problems``."""
    if _device_fast(device):
        return
    if not isinstance(device, Mapping):
        problems.append('devices[%d]: expected a mapping, got %s' % (index, _typename(device)))
        return
    ident = device.get('id')
    where = 'device %r' % (ident,) if isinstance(ident, str) else 'devices[%d]' % index
    _check(problems, where, device, 'id', _STR, True, False, 'a string')
    kind = _check(problems, where, device, 'kind', _STR, True, False, 'a string')
    if kind is not None and kind not in KINDS:
        problems.append('%s field %r: unknown kind %r (expected one of %s)'
                        % (where, 'kind', kind, ', '.join(sorted(KINDS))))
    _check(problems, where, device, 'device_api', _STR, True, False, 'a string')
    _check(problems, where, device, 'type', _STR, True, False, 'a string')
    _check(problems, where, device, 'driver', _STR, False, what='a string or null')
    _check(problems, where, device, 'parent', _STR, False, what='a string or null')
    _check(problems, where, device, 'software_version', _NUM, False, what='a version string or null')
    _check_pci(problems, where, device)
    migration = _check(problems, where, device, 'migration', (Mapping,), False, what='a mapping or null')
    if migration:
        _check(problems, where, migration, 'capable', (bool,), False, what='true, false or null (migration.capable)')
    in_use = _check(problems, where, device, 'in_use', (Mapping,), False, what='a mapping or null')
    if in_use:
        _check(problems, where, in_use, 'vm', _STR, False, what='a string or null (in_use.vm)')
        _check(problems, where, in_use, 'pid', (int,), False, what='an integer or null (in_use.pid)')
    _check(problems, where, device, 'attributes', (Mapping,), False, what='a mapping')
    _check(problems, where, device, 'fingerprint', _STR, False, what='a string')


def _type_fast(entry):
    if not isinstance(entry, dict):
        return False
    get = entry.get
    avail = get('available_instances')
    return (isinstance(get('parent'), str) and isinstance(get('type'), str) and _opt_str(get('device_api'))
            and _opt_str(get('software_version')) and _opt_str(get('fingerprint'))
            and isinstance(avail, int) and not isinstance(avail, bool) and avail >= 0 and _pci_ok(get('pci')))


def _pf_fast(entry):
    if not isinstance(entry, dict):
        return False
    get = entry.get
    total, num = get('totalvfs'), get('numvfs')
    return (isinstance(get('pf'), str) and _opt_str(get('driver')) and _pci_ok(get('pci'))
            and (total is None or (isinstance(total, int) and not isinstance(total, bool)))
            and (num is None or (isinstance(num, int) and not isinstance(num, bool))))


def _validate_type(entry, index, problems):
    if _type_fast(entry):
        return
    if not isinstance(entry, Mapping):
        problems.append('mdev_types[%d]: expected a mapping, got %s' % (index, _typename(entry)))
        return
    where = 'mdev type %r on %r' % (entry.get('type'), entry.get('parent'))
    _check(problems, where, entry, 'parent', _STR, True, False, 'a string')
    _check(problems, where, entry, 'type', _STR, True, False, 'a string')
    _check(problems, where, entry, 'device_api', _STR, False, what='a string')
    avail = _check(problems, where, entry, 'available_instances', (int,), True, True, 'an integer')
    if avail is not None and avail < 0:
        problems.append('%s field %r: must not be negative' % (where, 'available_instances'))
    _check(problems, where, entry, 'software_version', _NUM, False, what='a version string or null')
    _check_pci(problems, where, entry)
    _check(problems, where, entry, 'fingerprint', _STR, False, what='a string')


def _validate_pf(entry, index, problems):
    if _pf_fast(entry):
        return
    if not isinstance(entry, Mapping):
        problems.append('sriov[%d]: expected a mapping, got %s' % (index, _typename(entry)))
        return
    where = 'PF %r' % (entry.get('pf'),)
    _check(problems, where, entry, 'pf', _STR, True, False, 'a string')
    _check(problems, where, entry, 'totalvfs', (int,), False, what='an integer or null')
    _check(problems, where, entry, 'numvfs', (int,), False, what='an integer or null')
    _check(problems, where, entry, 'driver', _STR, False, what='a string or null')
    _check_pci(problems, where, entry)


def validate_facts(facts, host='(unnamed)'):
    """Validate one host's facts and return the unwrapped ``vfio`` mapping.

    :raises FactsError: naming ``host`` and every problem found (device, field, what is wrong).
    """
    facts = unwrap(facts)
    if not isinstance(facts, Mapping):
        raise FactsError(host, ['expected the vfio facts (a mapping), got %s' % _typename(facts)])
    problems = []
    version = facts.get('schema_version')
    if version != SCHEMA_VERSION:
        if 'schema_version' not in facts:
            problems.append("field 'schema_version': missing (are these vfio facts?)")
        else:
            problems.append("field 'schema_version': %r is not supported (this collection reads %d)"
                            % (version, SCHEMA_VERSION))
        raise FactsError(host, problems)
    host_info = facts.get('host')
    if host_info is not None and not isinstance(host_info, Mapping):
        problems.append("field 'host': expected a mapping, got %s" % _typename(host_info))
    elif host_info:
        modules = host_info.get('modules')
        if modules is not None and not isinstance(modules, Mapping):
            problems.append("field 'host.modules': expected a mapping, got %s" % _typename(modules))
    for key, checker in (('devices', validate_device), ('mdev_types', _validate_type), ('sriov', _validate_pf)):
        if key not in facts:
            if key == 'devices':
                problems.append("field 'devices': missing")
            continue
        items = facts[key]
        if items is None and key != 'devices':
            continue
        if not isinstance(items, (list, tuple)):
            problems.append('field %r: expected a list, got %s' % (key, _typename(items)))
            continue
        for index, item in enumerate(items):
            checker(item, index, problems)
    if problems:
        raise FactsError(host, problems)
    return facts
