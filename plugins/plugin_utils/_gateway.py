# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The one entry of every filter of the collection (private to the collection).

A filter file holds its DOCUMENTATION and one :class:`Gateway`; its function hands the
arguments to :meth:`Gateway.run` together with the function of ``plugin_utils`` that does the
work. The gateway

1. names the arguments after the options of the filter's own DOCUMENTATION (``positional``
   gives the order of the positional ones), parsed once, with the options of the doc fragments
   it extends;
2. makes a plain copy of the arguments (plain ``dict``/``list``/``str``...: values arriving from
   templates can be Ansible's own container and string types, which JMESPath type checks do not
   know); one string given for a list of strings is taken as a list of one;
3. checks every argument against its option (``required``, ``type``, ``elements``,
   ``choices``) and reports every problem at once in one error;
4. turns every error into an ``AnsibleFilterError`` ``vfio.migration.<filter>: <text>``, so a
   user never sees a traceback.

An argument may have a *kind* besides its documented type (``kinds={'_input': FACTS_BY_HOST}``):
the vfio facts of one host, of many hosts, one device record, or a value to pass on untouched
(``LAZY``: hostvars read only where needed, a large report model). The facts kinds are checked by
the function :data:`KIND_CHECKS` names for them, not by their documented type: against the one
schema of ``_schema.py``, once per call (the engine does not check them again), with messages
naming host, device and field.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError, FactsError, VfioError
from ansible_collections.vfio.migration.plugins.plugin_utils._schema import checked_once, validate_facts

__all__ = ['DEVICE', 'FACTS', 'FACTS_BY_HOST', 'KIND_CHECKS', 'LAZY', 'Gateway', 'plain']

COLLECTION = 'vfio.migration'

FACTS = 'facts'                  # one host's vfio facts (or its ansible_facts / hostvars entry)
FACTS_BY_HOST = 'facts_by_host'  # host name -> vfio facts
DEVICE = 'device'                # one device record, or one mdev type entry
LAZY = 'lazy'                    # passed on as given: neither copied nor checked here

_HOST_ARGUMENT = {'_input': 'source_host', 'destination': 'destination_host', 'source_vfio': 'source_host'}


def _host_name(name, value, arguments):
    """The host a facts argument stands for: the filter's host-name argument, the hostvars'
    inventory_hostname, or the argument's name."""
    given = arguments.get(_HOST_ARGUMENT.get(name))
    if isinstance(given, str) and given:
        return given
    if isinstance(value, Mapping) and isinstance(value.get('inventory_hostname'), str):
        return value['inventory_hostname']
    return _label(name)


def _facts_check(name, value, arguments):
    try:
        validate_facts(value, _host_name(name, value, arguments))
    except FactsError as exc:
        return [str(exc)]
    return []


def _facts_by_host_check(name, value, arguments):
    if not isinstance(value, Mapping):
        return ['facts_by_host must be a mapping of host name -> vfio facts (a dict), got %s' % type(value).__name__]
    problems = []
    for host in sorted(value, key=str):
        if not isinstance(host, str):
            problems.append('facts_by_host keys must be host names (strings), found %r' % (host,))
            continue
        try:
            validate_facts(value[host], host)
        except FactsError as exc:
            problems.append(str(exc))
    return problems


# kind -> function(name, value, arguments) returning a list of problems (sentences): every facts
# argument is checked here, once, against the one schema of the facts (_schema.py), before any
# filter reads a field of it. A DEVICE record is checked by the engine (``_check.py``) against
# the same schema, with messages naming the side (source device / destination).
KIND_CHECKS = {FACTS: _facts_check, FACTS_BY_HOST: _facts_by_host_check, DEVICE: None}

# documented type -> (Python types, how a message names it)
_TYPES = {
    'str': ((str,), 'a string'),
    'path': ((str,), 'a path (a string)'),
    'int': ((int,), 'an integer'),
    'float': ((int, float), 'a number'),
    'bool': ((bool,), 'true or false'),
    'list': ((list,), 'a list'),
    'dict': ((dict,), 'a dict'),
}
_ELEMENTS = {'str': 'strings', 'path': 'paths', 'int': 'integers', 'float': 'numbers', 'bool': 'booleans',
             'list': 'lists', 'dict': 'dicts'}


_SCALARS = frozenset((type(None), bool, int, float, str))


def _plain_mapping(value):
    # one comprehension, the plain scalars (most values) taken as they are, without a call per value
    return {(k if type(k) in _SCALARS else plain(k)): (v if type(v) in _SCALARS else plain(v))
            for k, v in value.items()}


def _plain_items(value):
    return [v if type(v) in _SCALARS else plain(v) for v in value]


def plain(value):
    """A copy of ``value`` made of plain dict, list, str, int, float, bool and None."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    # the usual case, facts as parsed from JSON: exact dicts and lists, before any isinstance
    if cls is dict:
        return _plain_mapping(value)
    if cls is list:
        return _plain_items(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)      # str() of ansible-core 2.16's unsafe text returns the subclass again
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):      # ansible-core's own dict types too (tagged values of 2.19)
        return _plain_mapping(value)
    if isinstance(value, bytes):
        return value.decode('utf-8', 'surrogateescape')
    if isinstance(value, (list, tuple, set, frozenset)):
        return _plain_items(value)
    if hasattr(value, 'keys') and hasattr(value, '__getitem__'):      # HostVars and friends
        return dict((plain(k), plain(value[k])) for k in value.keys())
    return value


def _fragment_options(slug):
    """The options of doc fragment ``vfio.migration.NAME[.VARIABLE]`` of this collection."""
    if not slug.startswith(COLLECTION + '.'):
        raise ValueError('only doc fragments of %s can be read here, not %s' % (COLLECTION, slug))
    parts = slug[len(COLLECTION) + 1:].split('.')
    module = importlib.import_module('ansible_collections.vfio.migration.plugins.doc_fragments.' + parts[0])
    text = getattr(module.ModuleDocFragment, parts[1].upper() if len(parts) > 1 else 'DOCUMENTATION')
    return yaml.safe_load(text).get('options') or {}


def read_documentation(text):
    """``(options, positional names)`` of a filter's DOCUMENTATION, its doc fragments merged in."""
    doc = yaml.safe_load(text)
    fragments = doc.get('extends_documentation_fragment') or []
    options = {}
    for slug in [fragments] if isinstance(fragments, str) else fragments:
        options.update(_fragment_options(slug))
    options.update(doc.get('options') or {})
    positional = [name.strip() for name in str(doc.get('positional') or '_input').split(',')]
    return options, positional


def _label(name):
    return 'the input' if name == '_input' else name


def _type_problem(name, spec, value):
    """A sentence when ``value`` does not have the documented type (and elements), else None."""
    kind = _TYPES.get(spec.get('type', 'str'))
    if kind is None:        # raw
        return None
    types, what = kind
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        return '%s must be %s, got %s' % (_label(name), what, type(value).__name__)
    elements = _TYPES.get(spec.get('elements'))
    if spec.get('type') == 'list' and elements is not None:
        for index, item in enumerate(value):
            if not isinstance(item, elements[0]) or (bool not in elements[0] and isinstance(item, bool)):
                return '%s must be a list of %s, got %s at index %d' % (
                    _label(name), _ELEMENTS[spec['elements']], type(item).__name__, index)
    return None


def argument_problems(options, arguments, kinds):
    """Every problem of ``arguments`` (name -> plain value; None is not given) against ``options``."""
    problems = []
    for name in sorted(options, key=lambda n: (n != '_input', n)):
        spec, value = options[name] or {}, arguments.get(name)
        if value is None:
            if spec.get('required'):
                problems.append('%s is required' % _label(name))
            continue
        kind = kinds.get(name)
        if kind is not None:
            check = KIND_CHECKS.get(kind)
            problems.extend(check(name, value, arguments) if check is not None else [])
            continue
        problem = _type_problem(name, spec, value)
        if problem is None and spec.get('choices') is not None and value not in spec['choices']:
            problem = '%s must be one of %s, got %r' % (_label(name), ', '.join(map(str, spec['choices'])), value)
        if problem is not None:
            problems.append(problem)
    return problems


class Gateway(object):
    """The entry of one filter: ``Gateway(name, DOCUMENTATION, kinds).run(function, *args, **kwargs)``."""

    def __init__(self, name, documentation, kinds=None):
        self.name = name
        self.documentation = documentation
        self.kinds = dict(kinds or {})
        self._parsed = None

    @property
    def options(self):
        """``(options, positional names)``, parsed on first use."""
        if self._parsed is None:
            self._parsed = read_documentation(self.documentation)
        return self._parsed

    def _prepared(self, spec, name, value):
        """The value the function gets: a plain copy (unless LAZY); one string for a list of strings
        becomes a list of one, as the engine has always taken it."""
        if self.kinds.get(name) == LAZY:
            return value
        value = plain(value)
        if isinstance(value, str) and spec and spec.get('type') == 'list' and spec.get('elements') == 'str':
            return [value]
        return value

    def run(self, function, *args, **kwargs):
        """``function(*args, **kwargs)`` on checked plain arguments; every failure an AnsibleFilterError."""
        try:
            options, positional = self.options
            if len(args) > len(positional):
                raise ArgumentError('takes %d positional argument(s) (%s), got %d'
                                    % (len(positional), ', '.join(positional), len(args)))
            args = [self._prepared(options.get(name), name, value) for name, value in zip(positional, args)]
            kwargs = dict((name, self._prepared(options.get(name), name, value)) for name, value in kwargs.items())
            arguments = dict(zip(positional, args))
            arguments.update(kwargs)
            with checked_once():
                problems = argument_problems(options, arguments, self.kinds)
                if problems:
                    raise ArgumentError('; '.join(problems))
                return function(*args, **kwargs)
        except AnsibleFilterError:
            raise
        except VfioError as exc:
            raise AnsibleFilterError('%s.%s: %s' % (COLLECTION, self.name, exc))
        except RecursionError:
            raise AnsibleFilterError('%s.%s: the input is nested too deeply' % (COLLECTION, self.name))
        except Exception as exc:  # pylint: disable=broad-except
            raise AnsibleFilterError('%s.%s: unexpected %s: %s' % (COLLECTION, self.name, type(exc).__name__, exc))
