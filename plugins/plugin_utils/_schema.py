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


# The fast check: one function for whole facts and one per kind of record (device, mdev type,
# PF), compiled once from the same schema, that says only "valid or not". Valid facts (the usual
# case) cost one pass of it; anything else is walked by _check for the messages. The functions
# are generated as Python source (straight-line code: one test per field, the fields of nested
# dicts inline, a loop per list or mapping), so the check of a record makes no call per field;
# tests/unit/plugins/plugin_utils/test_schema.py holds them to the full walk on every single
# damage and on random ones.

def _version_number(value):
    """A version given as a number: an integer in bounds, or a float that is not NaN."""
    return _is_int(value) or (isinstance(value, float) and not math.isnan(value))


# hex ids repeat across devices and hosts (vendor, device, class...): the ones found valid are
# remembered, so most cost one set lookup; a bounded number, whatever the input
_HEX_SEEN = set()
_HEX_SEEN_MAX = 4096


def _hex_new(value):
    """A hex id not remembered yet: checked, and remembered when valid (while there is room)."""
    if isinstance(value, str) and 0 < len(value) <= 8 and _HEX.issuperset(value):
        if value.__class__ is str and len(_HEX_SEEN) < _HEX_SEEN_MAX:
            _HEX_SEEN.add(value)
        return True
    return False


def _attribute_ok(value):
    return _scalar_problem('attribute', value) is None


def _summary_ok(value):
    return _scalar_problem('summary', value) is None


class _CheckSource(object):
    """The source of one generated check function, written by :meth:`value`."""

    def __init__(self):
        self.lines = []
        self.constants = {'_HEX_SEEN': _HEX_SEEN, '_hex_new': _hex_new, '_version_number': _version_number,
                          '_attribute_ok': _attribute_ok, '_summary_ok': _summary_ok, '_MAX_INT': MAX_INT}
        self.names = 0

    def name(self, prefix):
        self.names += 1
        return '%s%d' % (prefix, self.names)

    def emit(self, depth, text):
        self.lines.append('    ' * depth + text)

    def constant(self, value):
        name = self.name('_c')
        self.constants[name] = value
        return name

    def value(self, var, field, depth):
        """Lines that ``return False`` unless ``var`` (not null) is a valid ``field``."""
        kind, emit = field.kind, self.emit
        if field.choices is not None:
            emit(depth, 'if not isinstance(%s, str) or %s not in %s: return False'
                 % (var, var, self.constant(frozenset(field.choices))))
        elif kind in ('str', 'text'):
            emit(depth, 'if not isinstance(%s, str) or len(%s) > %d: return False' % (var, var, MAX_TEXT))
        elif kind == 'hex':
            emit(depth, 'if not (%s.__class__ is str and %s in _HEX_SEEN) and not _hex_new(%s): return False'
                 % (var, var, var))
        elif kind == 'version':
            emit(depth, 'if not (isinstance(%s, str) and len(%s) <= %d) and not _version_number(%s): return False'
                 % (var, var, MAX_VERSION, var))
        elif kind in ('int', 'count'):
            low = 0 if kind == 'count' else -MAX_INT + 1     # as _is_int: -MAX_INT < v < MAX_INT
            emit(depth, 'if not isinstance(%s, int) or %s is True or %s is False or not %d <= %s < _MAX_INT: return False'
                 % (var, var, var, low, var))
        elif kind == 'bool':
            emit(depth, 'if %s is not True and %s is not False: return False' % (var, var))
        elif kind in ('attribute', 'summary'):
            emit(depth, 'if not _%s_ok(%s): return False' % (kind, var))
        elif kind == 'list':
            emit(depth, 'if not isinstance(%s, list): return False' % var)
            self.items('for %%s in %s:' % var, field.sub, depth)
        elif kind == 'dict':
            emit(depth, 'if not isinstance(%s, dict): return False' % var)
            if isinstance(field.sub, dict):
                self.fields(var, field.sub, depth)
            elif field.sub is not None:
                self.items('for %%s in %s.values():' % var, field.sub, depth)

    def items(self, loop, element, depth):
        """A loop over the elements of a list (or the values of a mapping), each a valid ``element``."""
        item = self.name('_i')
        self.emit(depth, loop % item)
        self.check(item, element, depth + 1)

    def check(self, var, field, depth):
        """``var`` may be null where ``field`` allows it, else it must be a valid ``field``."""
        if field.null:
            self.emit(depth, 'if %s is not None:' % var)
            self.value(var, field, depth + 1)
        else:       # every test of value() refuses null
            self.value(var, field, depth)

    def fields(self, var, spec, depth):
        """Every field of ``spec`` in the dict ``var``: missing ones count as null unless required."""
        get = self.name('_get')
        self.emit(depth, '%s = %s.get' % (get, var))
        for key, field in spec.items():
            if field.required and field.null:
                # a required field that may be null (available_instances) must be there, even as null
                self.emit(depth, 'if %r not in %s: return False' % (key, var))
            item = self.name('_v')
            self.emit(depth, '%s = %s(%r)' % (item, get, key))
            self.check(item, field, depth)


def _compiled(field, name):
    """``function(value) -> bool`` for a value (not null) of ``field``, generated from the schema."""
    source = _CheckSource()
    source.value('value', field, 1)
    source.emit(1, 'return True')
    # builtins and constants as default arguments: local names, the fastest to look up
    names = ['isinstance', 'len', 'str', 'int', 'dict', 'list'] + sorted(source.constants)
    source.lines.insert(0, 'def %s(value, %s):' % (name, ', '.join('%s=%s' % (n, n) for n in names)))
    namespace = dict(source.constants)
    # the source is made here from the schema above (field names and kinds), never from input
    exec(compile('\n'.join(source.lines), '<vfio.migration facts schema: %s>' % name, 'exec'), namespace)  # nosec B102
    return namespace[name]


_VALID = _compiled(F('dict', sub=SCHEMA), 'valid_facts')
_VALID_RECORD = dict((section, _compiled(F('dict', sub=spec), 'valid_' + section)) for section, spec in _SECTIONS.items())


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
_OPEN = [0]        # how many checked_once blocks are open (a filter may run inside another's call)


@contextlib.contextmanager
def checked_once():
    """Within this block, facts :func:`validate_facts` accepted are not checked again (the
    gateway validates every facts argument once; the engine's own call then costs nothing).
    Blocks nest: what an outer block remembered stays until the outermost one ends."""
    if not _OPEN[0]:
        _CHECKED.clear()
    _OPEN[0] += 1
    try:
        yield
    finally:
        _OPEN[0] -= 1
        if not _OPEN[0]:
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
    if _OPEN[0]:
        _CHECKED[id(inner)] = inner
    return inner
