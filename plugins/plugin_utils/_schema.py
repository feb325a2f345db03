# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The one schema of ``vfio`` facts (schema_version 1), and their validation.

The schema follows the RETURN documentation of ``vfio.migration.vfio_facts`` (the contract;
``tests/unit/plugins/plugin_utils/test_schema.py`` holds the two together): every field the
module documents has a type here, every string a bound, every id its hex form. The filter
gateway (``_gateway.py``) checks every facts argument against it once, before any filter
reads a field; the engine (``_host_model.build_host``) checks facts that did not come
through the gateway. Unknown keys are allowed (newer facts), wrong types are not.

The engine accepts, per host, any of: the ``vfio`` facts themselves (a mapping with
``schema_version``), a mapping holding them under ``vfio`` (``ansible_facts``), or a host's
variables holding them under ``ansible_facts.vfio`` or ``ansible_vfio`` (``hostvars[host]``).

Every problem is reported with the host, the device (or mdev type / PF) and the field, e.g.
``invalid vfio facts for host 'gpu1': device '0000:3b:00.2' field 'in_use': expected a
mapping or null, got a list``. Validation never changes the facts.
"""

from __future__ import annotations

import contextlib
import math
from collections import namedtuple
from collections.abc import Mapping

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import FactsError

__all__ = ['SCHEMA_VERSION', 'KINDS', 'SCHEMA', 'DEVICE', 'MDEV_TYPE', 'PF', 'checked_once', 'unwrap',
           'validate_facts', 'validate_device', 'device_problems', 'facts_problems']

SCHEMA_VERSION = 1
KINDS = frozenset(('pci', 'mdev', 'nvidia_vgpu', 'ccw', 'ap'))

MAX_TEXT = 4096          # any string of the facts (the module bounds what it reads per file)
MAX_VERSION = 128        # a software version or kernel release
MAX_INT = 2 ** 63        # any integer
_HEX = frozenset('0123456789abcdef')


class F(object):
    """One field: ``kind`` (str, text, hex, version, int, count, bool, dict, list, attribute),
    ``required``, ``null`` (may be null), ``sub`` (fields of a dict, or the element of a list),
    ``choices``."""

    __slots__ = ('kind', 'required', 'null', 'sub', 'choices')

    def __init__(self, kind, required=False, null=True, sub=None, choices=None):
        self.kind, self.required, self.null, self.sub, self.choices = kind, required, null, sub, choices


def _name(**kw):
    return F('str', True, False, **kw)


PCI = {key: F('hex') for key in ('vendor', 'device', 'subsystem_vendor', 'subsystem_device', 'class', 'revision')}
MIGRATION = {'capable': F('bool'), 'reason': F('text'), 'features': F('list', sub=F('str', null=False)),
             'state_size': F('count'), 'dma_logging': F('str', choices=('none', 'usable', 'broken'))}
SOURCES = ('sysfs', 'module', 'kernel', 'override')
DEVICE = {
    'id': _name(), 'kind': _name(choices=KINDS), 'device_api': _name(), 'type': _name(),
    'driver': F('str'), 'parent': F('str'), 'iommu_group': F('str'), 'numa_node': F('int'),
    'pci': F('dict', sub=PCI), 'software_version': F('version'),
    'software_version_source': F('str', choices=SOURCES),
    'migration': F('dict', sub=MIGRATION), 'attributes': F('dict', sub=F('attribute')), 'cdev': F('str'),
    'config_space': F('dict', sub={'header_type': F('str'), 'capabilities': F('list', sub=F('str', null=False)),
                                   'extended_capabilities': F('list', sub=F('str', null=False))}),
    'in_use': F('dict', sub={'pid': F('int'), 'vm': F('text'), 'machine_type': F('str'), 'holder': F('str'),
                             'qemu_options': F('dict', sub=F('str', null=False))}),
    'fingerprint': F('str'),
}
MDEV_TYPE = {
    'parent': _name(), 'type': _name(), 'kind': F('str', choices=KINDS), 'name': F('text'),
    'description': F('text'), 'device_api': F('str'), 'available_instances': F('count', True), 'driver': F('str'),
    'pci': F('dict', sub=PCI), 'software_version': F('version'), 'software_version_source': F('str', choices=SOURCES),
    'migration': F('dict', sub=MIGRATION), 'fingerprint': F('str'),
}
PF = {
    'pf': _name(), 'pci': F('dict', sub=PCI), 'driver': F('str'), 'numa_node': F('int'), 'totalvfs': F('count'),
    'numvfs': F('count'), 'vf_device': F('hex'),
}
HOST = {
    'kernel_release': F('version'), 'iommu': F('dict', sub={'enabled': F('bool'), 'groups': F('count')}),
    'kernel_config': F('dict', sub={'source': F('str'), 'options': F('dict', sub=F('str', choices=('y', 'm', 'n')))}),
    'modules': F('dict', sub=F('dict', sub={'version': F('version'), 'srcversion': F('str')})),
}
SCHEMA = {
    'schema_version': F('int', True, False), 'host': F('dict', sub=HOST),
    'devices': F('list', True, False, sub=F('dict', null=False, sub=DEVICE)),
    'mdev_types': F('list', sub=F('dict', null=False, sub=MDEV_TYPE)),
    'sriov': F('list', sub=F('dict', null=False, sub=PF)),
    'summary': F('dict', sub=F('summary')), 'warnings': F('list', sub=F('text', null=False)),
}

# kind -> how a message names it
_WHAT = {
    'str': 'a string', 'text': 'a string', 'hex': 'a hex id string', 'version': 'a version string',
    'int': 'an integer', 'count': 'an integer', 'bool': 'true or false', 'dict': 'a mapping', 'list': 'a list',
    'attribute': 'a string, a list of strings or a mapping of strings', 'summary': 'an integer, true/false or a mapping',
}


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


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_INT < value < MAX_INT


def _strings(value, bound):
    return isinstance(value, str) and len(value) <= bound


def _scalar_problem(kind, value):
    """None when ``value`` (not null) is of ``kind`` (a scalar kind), else what is wrong."""
    if kind in ('str', 'text'):
        ok = _strings(value, MAX_TEXT)
        return None if ok else ('longer than %d characters' % MAX_TEXT if isinstance(value, str) else '')
    if kind == 'hex':
        return None if isinstance(value, str) and 0 < len(value) <= 8 and _HEX.issuperset(value) else ''
    if kind == 'version':
        if isinstance(value, str):
            return None if len(value) <= MAX_VERSION else 'longer than %d characters' % MAX_VERSION
        return None if _is_int(value) or (isinstance(value, float) and not math.isnan(value)) else ''
    if kind in ('int', 'count'):
        if not _is_int(value):
            return ''
        return 'must not be negative' if kind == 'count' and value < 0 else None
    if kind == 'bool':
        return None if isinstance(value, bool) else ''
    if kind == 'attribute':
        if _strings(value, MAX_TEXT) or (isinstance(value, list) and all(_strings(v, MAX_TEXT) for v in value)):
            return None
        ok = isinstance(value, Mapping) and all(isinstance(k, str) and (v is None or _strings(v, MAX_TEXT))
                                                for k, v in value.items())
        return None if ok else ''
    if kind == 'summary':
        return None if _is_int(value) or isinstance(value, (bool, Mapping)) else ''
    return None


def _check(value, field, path, where, problems):
    """Append the problems of ``value`` against ``field`` (at ``path``) to ``problems``."""
    if value is None:
        if not field.null:
            problems.append('%s field %r: must not be null' % (where, path))
        return
    kind = field.kind
    if kind in ('dict', 'list'):
        if not isinstance(value, Mapping if kind == 'dict' else (list, tuple)):
            problems.append('%s field %r: expected %s%s, got %s'
                            % (where, path, _WHAT[kind], ' or null' if field.null else '', _typename(value)))
        elif kind == 'list':
            for index, item in enumerate(value):
                _check(item, field.sub, '%s[%d]' % (path, index), where, problems)
        elif isinstance(field.sub, dict):
            _fields(value, field.sub, path + '.', where, problems)
        elif field.sub is not None:
            for key, item in value.items():
                _check(item, field.sub, '%s.%s' % (path, key), where, problems)
        return
    problem = _scalar_problem(kind, value)
    if problem == '':
        problems.append('%s field %r: expected %s%s, got %s'
                        % (where, path, _WHAT[kind], ' or null' if field.null else '', _typename(value)))
    elif problem is not None:
        problems.append('%s field %r: %s' % (where, path, problem))
    elif field.choices is not None and value not in field.choices:
        problems.append('%s field %r: unknown value %r (expected one of %s)'
                        % (where, path, value, ', '.join(sorted(field.choices))))


def _fields(record, spec, prefix, where, problems):
    for key, field in spec.items():
        if key in record:
            _check(record[key], field, prefix + key, where, problems)
        elif field.required:
            problems.append('%s field %r: missing' % (where, prefix + key))


def _where(section, record, index):
    """How a message names one entry of ``devices``/``mdev_types``/``sriov``."""
    get = record.get
    if section == 'devices' and isinstance(get('id'), str):
        return 'device %r' % (get('id')[:200],)
    if section == 'mdev_types' and isinstance(get('type'), str) and isinstance(get('parent'), str):
        return 'mdev type %r on %r' % (get('type')[:200], get('parent')[:200])
    if section == 'sriov' and isinstance(get('pf'), str):
        return 'PF %r' % (get('pf')[:200],)
    return '%s[%d]' % (section, index)


_SECTIONS = {'devices': DEVICE, 'mdev_types': MDEV_TYPE, 'sriov': PF}


def _record_problems(section, record, index, problems):
    if not isinstance(record, Mapping):
        problems.append('%s[%d]: expected a mapping, got %s' % (section, index, _typename(record)))
        return
    _fields(record, _SECTIONS[section], '', _where(section, record, index), problems)


def device_problems(record, section='devices', index=0):
    """The problems of one record of ``section`` (a device, an mdev type or a PF)."""
    if _VALID_RECORD[section](record):
        return []
    problems = []
    _record_problems(section, record, index, problems)
    return problems


def validate_device(device, index, problems):
    """Append the problems of one device record (or, when it has ``available_instances``, one
    ``mdev_types`` entry) to ``problems``."""
    section = 'mdev_types' if isinstance(device, Mapping) and 'available_instances' in device else 'devices'
    problems.extend(device_problems(device, section, index))


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


# The fast check: one predicate per field, compiled once from the same schema, that says only
# "valid or not". Valid facts (the usual case) cost one pass of it; anything else is walked by
# _check for the messages.

def _scalar_predicate(field):
    kind, choices = field.kind, field.choices
    if kind in ('str', 'text', 'hex', 'version'):
        bound = MAX_VERSION if kind == 'version' else MAX_TEXT
        if kind == 'hex':
            def ok(v):
                return isinstance(v, str) and 0 < len(v) <= 8 and _HEX.issuperset(v)
        elif choices is not None:
            def ok(v):
                return isinstance(v, str) and v in choices
        elif kind == 'version':
            def ok(v):
                return (isinstance(v, str) and len(v) <= bound) or _is_int(v) or (isinstance(v, float) and not math.isnan(v))
        else:
            def ok(v):
                return isinstance(v, str) and len(v) <= bound
        return ok
    if kind in ('int', 'count'):
        low = 0 if kind == 'count' else -MAX_INT + 1     # as _is_int: -MAX_INT < v < MAX_INT
        return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v < MAX_INT
    if kind == 'bool':
        return lambda v: isinstance(v, bool)
    return lambda v: _scalar_problem(kind, v) is None


def _predicate(field):
    """``function(value) -> bool`` for a value (not null) of ``field``."""
    if field.kind == 'list':
        element, nullable = _predicate(field.sub), field.sub.null
        return lambda v: isinstance(v, list) and all(element(x) if x is not None else nullable for x in v)
    if field.kind != 'dict':
        return _scalar_predicate(field)
    if field.sub is None:
        return lambda v: isinstance(v, dict)
    if not isinstance(field.sub, dict):
        value, nullable = _predicate(field.sub), field.sub.null
        return lambda v: isinstance(v, dict) and all(value(x) if x is not None else nullable for x in v.values())
    return _dict_predicate(field.sub)


_Groups = namedtuple('_Groups', 'present texts required_texts hexes ints bools others')


def _groups(spec):
    """The fields of ``spec`` by how the fast check tests them (see :func:`_dict_predicate`)."""
    def keys(test):
        return tuple(key for key, field in spec.items() if test(field))

    def is_text(field):
        return field.kind in ('str', 'text') and field.choices is None

    ints = tuple((key, 0 if field.kind == 'count' else -MAX_INT + 1, field.null, _predicate(field))
                 for key, field in spec.items() if field.kind in ('int', 'count'))
    groups = _Groups(
        # a required field that may be null (available_instances) must be there, even as null
        present=keys(lambda f: f.required and f.null),
        texts=keys(lambda f: is_text(f) and f.null), required_texts=keys(lambda f: is_text(f) and not f.null),
        hexes=keys(lambda f: f.kind == 'hex' and f.null), ints=ints,
        bools=keys(lambda f: f.kind == 'bool' and f.null), others=())
    done = set(groups.texts + groups.required_texts + groups.hexes + groups.bools) | set(e[0] for e in ints)
    return groups._replace(others=tuple((key, _predicate(field), field.null) for key, field in spec.items()
                                        if key not in done))


def _strings_ok(v, g):
    """The text and hex id fields of the dict ``v`` (groups ``g``), inline."""
    get = v.get
    for key in g.texts:
        x = get(key)
        if x is not None and (not isinstance(x, str) or len(x) > MAX_TEXT):
            return False
    for key in g.required_texts:
        x = get(key)
        if not isinstance(x, str) or len(x) > MAX_TEXT:
            return False
    for key in g.hexes:
        x = get(key)
        if x is not None and (not isinstance(x, str) or not 0 < len(x) <= 8 or not _HEX.issuperset(x)):
            return False
    return True


def _others_ok(v, g):
    """The integer, boolean and remaining fields (choices among them) of the dict ``v`` (groups ``g``)."""
    get = v.get
    for key, low, null_ok, check in g.ints:
        x = get(key)
        if x is None:
            if not null_ok:
                return False
        elif not (low <= x < MAX_INT if x.__class__ is int else check(x)):
            return False
    for key in g.bools:
        x = get(key)
        if x is not None and x is not True and x is not False:
            return False
    for key, check, null_ok in g.others:
        x = get(key)
        if x is None:
            if not null_ok:
                return False
        elif not check(x):
            return False
    return True


def _dict_predicate(spec):
    """The fast check of a dict with the fields ``spec``: one loop per kind of field, the common
    kinds (text, hex ids, integers, booleans) inline, with no call per field."""
    groups = _groups(spec)

    def ok(v):
        if not isinstance(v, dict):
            return False
        for key in groups.present:
            if key not in v:
                return False
        return _strings_ok(v, groups) and _others_ok(v, groups)
    return ok


_VALID = _predicate(F('dict', sub=SCHEMA))
_VALID_RECORD = dict((section, _predicate(F('dict', sub=spec))) for section, spec in _SECTIONS.items())


def facts_problems(facts):
    """Every problem of (unwrapped) ``facts`` against :data:`SCHEMA`: sentences naming the
    device, mdev type or PF and the field."""
    if not isinstance(facts, Mapping):
        return ['expected the vfio facts (a mapping), got %s' % _typename(facts)]
    if 'schema_version' not in facts:
        return ["field 'schema_version': missing (are these vfio facts?)"]
    version = facts['schema_version']
    if not _is_int(version) or version != SCHEMA_VERSION:
        return ["field 'schema_version': %r is not supported (this collection reads %d)"
                % (version if _is_int(version) else _typename(version), SCHEMA_VERSION)]
    problems = []
    for key, field in SCHEMA.items():
        if key not in facts:
            if field.required:
                problems.append('field %r: missing' % key)
            continue
        value = facts[key]
        if key in _SECTIONS and isinstance(value, (list, tuple)):
            for index, record in enumerate(value):
                _record_problems(key, record, index, problems)
        else:
            _check(value, field, key, 'facts', problems)
    return [p[len('facts '):] if p.startswith('facts field') else p for p in problems]


_CHECKED = {}      # id -> facts validated by the gateway during one filter call (see checked_once)


@contextlib.contextmanager
def checked_once():
    """Within this block, facts :func:`validate_facts` accepted are not checked again (the
    gateway validates every facts argument once; the engine's own call then costs nothing)."""
    _CHECKED.clear()
    _CHECKED[None] = True
    try:
        yield
    finally:
        _CHECKED.clear()


def validate_facts(facts, host='(unnamed)'):
    """Validate one host's facts and return the unwrapped ``vfio`` mapping.

    :raises FactsError: naming ``host`` and every problem found (device, field, what is wrong).
    """
    inner = unwrap(facts)
    if _CHECKED.get(id(inner)) is inner:
        return inner
    problems = [] if _VALID(inner) and inner['schema_version'] == SCHEMA_VERSION else facts_problems(inner)
    if problems:
        raise FactsError(str(host)[:200], problems)
    if None in _CHECKED:
        _CHECKED[id(inner)] = inner
    return inner
