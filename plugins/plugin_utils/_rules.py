# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Rule sets: load, validate, merge and evaluate (private to the collection).

A rule file is YAML with a top-level ``rules:`` list (``description:`` optional). A rule::

    - name: nvidia_host_driver_equal        # unique; a later rule of the same name replaces it
      description: What the rule checks, in one sentence.
      source: Where this requirement is written down (document, section, kernel path).
      when: "starts_with(source.type, 'nvidia-')"  # optional JMESPath over {source, destination}
      match: {source.kind: [mdev, nvidia_vgpu]}   # optional: JMESPath -> value or list of values
      select: software_version                    # JMESPath on each record, or {source: .., destination: ..}
      field: software_version                     # optional label for reasons (default: select)
      operator: version_equal                     # see _operators.py
      missing: skip                               # skip (default): no verdict unless both sides have a value;
                                                  # fail: one side without a value fails the rule
      message: "NVIDIA vGPU needs the same host driver version: {source} here, {destination} there"
      stop: false                                 # true: a failure ends the comparison (later rules moot)
      enabled: true                               # false turns the rule off

``message`` may use ``{rule} {field} {source} {destination} {source_id} {destination_id}``,
``{source_detail} {destination_detail}`` (the ``explain`` JMESPath on each record) and the
operator's details (``{missing} {extra} {side} {value} {source_group} {destination_group}
{problem}``).

The rule set in force is: ``rules/default.yml``, then every other ``rules/*.yml`` shipped in
the collection (sorted by name), then the user's files, then the user's inline rules; see
:func:`load_rule_set` for the ways a user passes them.
"""

from __future__ import annotations

import os
import re
import stat
import string
from collections.abc import Mapping

try:
    import jmespath
    from jmespath.exceptions import JMESPathError
    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - jmespath is a documented requirement
    HAS_JMESPATH = False

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core needs PyYAML
    HAS_YAML = False

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import RuleError
from ansible_collections.vfio.migration.plugins.plugin_utils._rule_checks import (
    MAX_TEXT, expression_problem, message_problem)
from ansible_collections.vfio.migration.plugins.plugin_utils._operators import (
    OPERATORS, PARAMETERS, SIDED)
from ansible_collections.vfio.migration.plugins.plugin_utils import _version_compare

__all__ = ['Rule', 'RuleSet', 'load_rule_set', 'shipped_rules_dir', 'parse_rule_file']

_NAME = re.compile(r'^[A-Za-z0-9_.:-]+$')
_KNOWN_KEYS = frozenset((
    'name', 'description', 'source', 'when', 'match', 'select', 'field', 'operator', 'missing',
    'message', 'stop', 'enabled', 'values', 'side', 'spec', 'groups', 'explain'))


def shipped_rules_dir():
    """The collection's ``rules/`` directory (``<collection>/rules``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, '..', '..', 'rules'))


class _Blank(dict):
    def __missing__(self, key):
        return ''


def _show(value):
    if value is None:
        return 'nothing'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple, set, frozenset)):
        return '[' + ', '.join(str(v) for v in value) + ']'
    return str(value)


class Rule(object):
    """One validated rule, with its JMESPath expressions compiled."""

    __slots__ = ('name', 'description', 'source', 'origin', 'field', 'operator', 'missing', 'message',
                 'stop', 'params', '_op', '_sel_src', '_sel_dst', '_when', '_match', '_explain',
                 'raw')

    def __init__(self, raw, origin):
        self.raw = raw
        self.origin = origin
        self.name = raw['name']
        self.description = raw['description']
        self.source = raw['source']
        self.operator = raw['operator']
        self.missing = raw.get('missing', 'skip')
        self.message = raw['message']
        self.stop = bool(raw.get('stop', False))
        self.params = dict((k, raw[k]) for k in ('values', 'side', 'spec', 'groups') if k in raw)
        self._op = OPERATORS[self.operator]
        select = raw.get('select')
        if isinstance(select, Mapping):
            src_expr, dst_expr = select['source'], select['destination']
            label = raw.get('field') or src_expr
        else:
            src_expr = dst_expr = select
            label = raw.get('field') or select
        self.field = label or self.name
        self._sel_src = _compile(src_expr) if src_expr else None
        self._sel_dst = _compile(dst_expr) if dst_expr else None
        self._when = _compile(raw['when']) if raw.get('when') else None
        self._match = [(_compile(k), v if isinstance(v, list) else [v])
                       for k, v in sorted((raw.get('match') or {}).items())]
        self._explain = _compile(raw['explain']) if raw.get('explain') else None
        if self.operator == 'specifier':
            self.params['_spec'] = _version_compare.check_specifier(raw['spec'])
        if self.operator == 'not_mixed':
            index = {}
            for group, members in raw['groups'].items():
                for member in members:
                    index[str(member).lower()] = str(group)
            self.params['_group_of'] = index

    def applies(self, context):
        """True when the rule's ``when`` and ``match`` hold for ``{source, destination}``."""
        for expr, allowed in self._match:
            if expr.search(context) not in allowed:
                return False
        if self._when is not None and not self._when.search(context):
            return False
        return True

    def evaluate(self, src, dst):
        """``None`` when ``src`` may move to ``dst`` as far as this rule goes, else a reason.

        :raises RuleError: when the rule cannot be evaluated on these records (its expressions
            or operator meet values of a type they cannot take), naming the rule and both ids.
        """
        try:
            return self._evaluate(src, dst)
        except (JMESPathError, TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise RuleError(self.origin, self.name, 'cannot be evaluated on %s -> %s: %s' % (
                _show(src.get('id', src.get('type'))), _show(dst.get('id', dst.get('type'))),
                str(exc).replace('\n', ' ')[:300]))

    def _evaluate(self, src, dst):
        if self.operator == 'ignore':
            return None
        context = {'source': src, 'destination': dst}
        if not self.applies(context):
            return None
        s = self._sel_src.search(src) if self._sel_src is not None else None
        d = self._sel_dst.search(dst) if self._sel_dst is not None else None
        sided = self.params.get('side') if self.operator in SIDED else None
        if sided == 'source':
            absent = s is None
            both_absent = absent
        elif sided == 'destination':
            absent = d is None
            both_absent = absent
        else:
            absent = s is None or d is None
            both_absent = s is None and d is None
        if absent and self.operator not in ('one_of',):
            if both_absent or self.missing != 'fail':
                return None
            return self._reason(src, dst, s, d, {'problem': 'no value on one side'})
        ok, details = self._op(s, d, self.params)
        if ok:
            return None
        return self._reason(src, dst, s, d, details)

    def _reason(self, src, dst, s, d, details):
        values = _Blank(details)
        values.update({
            'rule': self.name, 'field': self.field, 'source': _show(s), 'destination': _show(d),
            'source_id': _show(src.get('id')), 'destination_id': _show(dst.get('id')),
        })
        message = self.message
        if details.get('problem') and '{problem}' not in message:
            message = message.rstrip() + ' ({problem})'
        if self._explain is not None:
            values['source_detail'] = _show(self._explain.search(src))
            values['destination_detail'] = _show(self._explain.search(dst))
        for key in ('value',):
            if key in details:
                values[key] = _show(details[key])
        return {
            'rule': self.name,
            'field': self.field,
            'source': s,
            'destination': d,
            'message': string.Formatter().vformat(message, (), values),
        }

    def describe(self):
        """The rule as plain data (for documentation and reports)."""
        return dict((k, v) for k, v in self.raw.items())

    def _in_context(self):
        """The compiled ``when`` and ``match`` expressions: they read ``{source, destination}``."""
        return ([self._when] if self._when is not None else []) + [compiled for compiled, _allowed in self._match]

    def one_side(self):
        """``'source'`` or ``'destination'`` when whether the rule passes depends on that record
        alone (a sided operator on that side, ``when`` and ``match`` reading only that side),
        else ``None``. The comparator then remembers a pass per record key of that side."""
        if self.operator in SIDED and self.params.get('side') in ('source', 'destination'):
            sides = {self.params['side']}
        else:
            sides = set(side for side, compiled in (('source', self._sel_src), ('destination', self._sel_dst))
                        if compiled is not None)
        for compiled in self._in_context():
            found = []
            if not _paths_read(compiled.parsed, found):
                return None         # reads the context ({source, destination}) whole
            # a chain that starts elsewhere reads nothing of the context (null)
            sides.update(chain[0] for chain in found if chain[0] in ('source', 'destination'))
        return sides.pop() if len(sides) == 1 else None

    def fields_read(self):
        """``(paths, whole)``: the record field paths this rule reads (tuples such as
        ``('pci', 'device')``, from its ``select``, ``when`` and ``match``) and whether it also
        reads a record whole (``@``, ``source`` itself) in a way no path list can stand for."""
        paths, whole = set(), False
        for compiled in (self._sel_src, self._sel_dst):
            if compiled is not None:
                found = []
                whole = not _paths_read(compiled.parsed, found) or whole
                paths.update(found)
        for compiled in self._in_context():
            found = []
            whole = not _paths_read(compiled.parsed, found) or whole
            for chain in found:
                if chain[0] not in ('source', 'destination'):
                    continue
                if len(chain) > 1:
                    paths.add(chain[1:])
                else:
                    whole = True
        return paths, whole


class _Chain(object):
    """A JMESPath that is a plain field chain (``pci.device``), evaluated without the interpreter."""

    __slots__ = ('parts', 'parsed', 'expression')

    def __init__(self, parts, compiled):
        self.parts = parts
        self.parsed = compiled.parsed
        self.expression = compiled.expression

    def search(self, value):
        for part in self.parts:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value


def _chain_of(node):
    if node.get('type') == 'field':
        return (node['value'],)
    if node.get('type') == 'subexpression':
        parts = []
        for child in node['children']:
            sub = _chain_of(child)
            if sub is None:
                return None
            parts.extend(sub)
        return tuple(parts)
    return None


def _paths_read(node, out, relative=False):
    """Collect in ``out`` the field chains a JMESPath AST reads from its input; False when it
    reads the input (``@``) whole. ``relative``: ``node`` reads the elements of a projection."""
    ntype = node.get('type')
    chain = _chain_of(node)
    if chain is not None:
        if not relative:
            out.append(chain)
        return True
    if ntype == 'current':
        return relative
    if ntype in ('projection', 'filter_projection', 'value_projection', 'index_expression', 'flatten'):
        children = node.get('children', [])
        if children:
            left = _chain_of(children[0])
            if left is not None:
                if not relative:
                    out.append(left)
                return True
            if not _paths_read(children[0], out, relative):
                return False
        for child in children[1:]:
            _paths_read(child, out, True)
        return True
    ok = True
    for child in node.get('children', []):
        if isinstance(child, dict):
            ok = _paths_read(child, out, relative) and ok
    return ok


_COMPILED = {}


def _compile(expr):
    hit = _COMPILED.get(expr)
    if hit is None:
        compiled = jmespath.compile(expr)
        chain = _chain_of(compiled.parsed)
        hit = _Chain(chain, compiled) if chain is not None else compiled
        _COMPILED[expr] = hit
    return hit


class RuleSet(object):
    """An ordered list of rules with where each came from."""

    def __init__(self, rules, origins):
        self.rules = list(rules)
        self.origins = list(origins)
        self.by_name = dict((r.name, r) for r in self.rules)

    def names(self):
        return [r.name for r in self.rules]

    def __len__(self):
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)


def _validate_rule(raw, origin, index):
    label = _rule_label(raw, origin, index)
    if raw.get('enabled', True) is False and set(raw) <= set(('name', 'enabled')):
        return  # a switch-off entry
    if 'enabled' in raw and not isinstance(raw['enabled'], bool):
        raise RuleError(origin, label, "'enabled' must be true or false")
    for key in ('description', 'source', 'operator', 'message'):
        if not isinstance(raw.get(key), str) or not raw.get(key).strip():
            raise RuleError(origin, label, 'missing %r (a non-empty string)' % key)
    for key in ('description', 'source', 'field'):
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise RuleError(origin, label, '%r must be a string of at most %d characters' % (key, MAX_TEXT))
    operator = raw['operator']
    if operator not in OPERATORS:
        raise RuleError(origin, label, 'unknown operator %r (known: %s)'
                        % (operator, ', '.join(sorted(OPERATORS))))
    for where, expr in _expressions(raw, origin, label):
        if not isinstance(expr, str) or not expr.strip():
            raise RuleError(origin, label, '%s must be a JMESPath expression (a string)' % where)
        problem = expression_problem(expr, where)
        if problem is not None:
            raise RuleError(origin, label, '%s %r %s' % (where, expr[:200], problem))
        _compile(expr)
    if raw.get('missing', 'skip') not in ('skip', 'fail'):
        raise RuleError(origin, label, "'missing' must be skip or fail, not %r" % (raw.get('missing'),))
    if 'stop' in raw and not isinstance(raw['stop'], bool):
        raise RuleError(origin, label, "'stop' must be true or false")
    _check_parameters(raw, origin, label, operator)
    _check_message(raw, origin, label)


def _rule_label(raw, origin, index):
    """The name of rule ``raw`` (``rules[index]`` of ``origin``), checked with its keys."""
    label = raw.get('name') if isinstance(raw, Mapping) else None
    if not isinstance(raw, Mapping):
        raise RuleError(origin, None, 'rules[%d] is not a mapping' % index)
    if not isinstance(label, str) or not label:
        raise RuleError(origin, None, 'rules[%d] has no name' % index)
    if not _NAME.match(label):
        raise RuleError(origin, label, 'the name may only use letters, digits, "_", ".", ":" and "-"')
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise RuleError(origin, label, 'unknown key(s) %s (known: %s)'
                        % (', '.join(unknown), ', '.join(sorted(_KNOWN_KEYS))))
    return label


def _expressions(raw, origin, label):
    """``[(where, JMESPath)]`` of the rule's ``select``, ``when``, ``explain`` and ``match`` keys."""
    select = raw.get('select')
    if raw['operator'] != 'ignore' and select is None:
        raise RuleError(origin, label, "missing 'select' (a JMESPath, or {source: .., destination: ..})")
    exprs = []
    if isinstance(select, Mapping):
        if set(select) != set(('source', 'destination')):
            raise RuleError(origin, label, "'select' as a mapping needs exactly the keys source and destination")
        exprs.append(('select.source', select['source']))
        exprs.append(('select.destination', select['destination']))
    elif select is not None:
        exprs.append(('select', select))
    if raw.get('when') is not None:
        exprs.append(('when', raw['when']))
    if raw.get('explain') is not None:
        exprs.append(('explain', raw['explain']))
    match = raw.get('match')
    if match is not None:
        if not isinstance(match, Mapping):
            raise RuleError(origin, label, "'match' must be a mapping of JMESPath -> value or list of values")
        for key in match:
            exprs.append(('match key', key))
    return exprs


def _check_parameters(raw, origin, label, operator):
    """The operator's parameters: present, and of the shape it takes."""
    for param in PARAMETERS.get(operator, ()):
        if param not in raw:
            raise RuleError(origin, label, 'operator %r needs %r' % (operator, param))
    if 'side' in raw:
        if operator not in SIDED:
            raise RuleError(origin, label, "'side' only applies to the operators %s" % ', '.join(sorted(SIDED)))
        if raw['side'] not in ('source', 'destination', 'both'):
            raise RuleError(origin, label, "'side' must be source, destination or both")
    if operator == 'one_of' and not isinstance(raw['values'], list):
        raise RuleError(origin, label, "'values' must be a list")
    if operator == 'specifier':
        try:
            _version_compare.check_specifier(raw['spec'])
        except (ValueError, TypeError) as exc:
            raise RuleError(origin, label, "'spec': %s" % exc)
    if operator == 'not_mixed':
        _check_groups(raw['groups'], origin, label)


def _check_groups(groups, origin, label):
    """``not_mixed``'s ``groups``: group name -> non-empty list, no value in two groups."""
    if not isinstance(groups, Mapping) or not groups:
        raise RuleError(origin, label, "'groups' must be a non-empty mapping of group name -> list of values")
    seen = {}
    for group, members in groups.items():
        if not isinstance(members, list) or not members:
            raise RuleError(origin, label, 'group %r must be a non-empty list' % (group,))
        for member in members:
            key = str(member).lower()
            if key in seen and seen[key] != group:
                raise RuleError(origin, label, 'value %r is in both groups %r and %r' % (member, seen[key], group))
            seen[key] = group


def _check_message(raw, origin, label):
    """The ``message`` template: plain known placeholders only, and bounded (``_rule_checks``)."""
    problem = message_problem(raw['message'])
    if problem is not None:
        raise RuleError(origin, label, problem)


def parse_rule_file(data, origin):
    """Validate the parsed content of one rule file (or inline list): a list of raw rules."""
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - set(('rules', 'description', 'name')))
        if unknown:
            raise RuleError(origin, None, 'unknown top-level key(s) %s (a rule file has rules: and description:)'
                            % ', '.join(unknown))
        data = data.get('rules')
        if data is None:
            raise RuleError(origin, None, "no 'rules' list")
    if not isinstance(data, list):
        raise RuleError(origin, None, "'rules' must be a list of rules")
    seen = set()
    for index, raw in enumerate(data):
        _validate_rule(raw, origin, index)
        if raw['name'] in seen:
            raise RuleError(origin, raw['name'], 'the name is used twice in this rule set')
        seen.add(raw['name'])
    return list(data)


_FILE_CACHE = {}


def _open_regular(path):
    """``path`` opened for reading, without blocking, and only if it is (still) a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, 'not a regular file')
        return os.fdopen(fd, 'rb')
    except BaseException:
        os.close(fd)
        raise


def _read_file(path):
    if not HAS_YAML:  # pragma: no cover
        raise RuleError(path, None, 'PyYAML is needed to read rule files')
    try:
        info = os.stat(path)
    except OSError as exc:
        raise RuleError(path, None, 'cannot read the file: %s' % (exc.strerror or exc))
    if not stat.S_ISREG(info.st_mode):
        # never opened: a FIFO would block, a device node could be anything
        raise RuleError(path, None, 'not a regular file (a rule file must be a regular file)')
    key = (path, info.st_mtime_ns, info.st_size)
    cached = _FILE_CACHE.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        with _open_regular(path) as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise RuleError(path, None, 'not valid YAML: %s' % str(exc).replace('\n', ' '))
    except OSError as exc:
        raise RuleError(path, None, 'cannot read the file: %s' % (exc.strerror or exc))
    rules = parse_rule_file(data, path)
    _FILE_CACHE[path] = (key, rules)
    return rules


def shipped_files():
    """Paths of the shipped rule files, ``default.yml`` first."""
    directory = shipped_rules_dir()
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(('.yml', '.yaml')))
    except OSError:
        names = []
    names.sort(key=lambda n: (n not in ('default.yml', 'default.yaml'), n))
    return [os.path.join(directory, n) for n in names]


_SET_CACHE = {}


def _freeze(value):
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def load_rule_set(spec=None):
    """Build the rule set in force from the user's ``spec``.

    ``spec`` may be:

    * ``None``: the shipped rules;
    * a string: the path of a rule file added after the shipped rules;
    * a list whose items are rule-file paths or inline rules (mappings);
    * a mapping with any of ``defaults`` (bool, default true: include the shipped rules),
      ``files`` (list of paths), ``rules`` (inline rules), ``disable`` (rule names to turn off).

    A rule whose name is already in force replaces it in place; ``{name: X, enabled: false}``
    or ``disable: [X]`` turns rule X off. Naming an unknown rule to disable is an error.
    """
    try:
        key = _freeze(spec)
        hash(key)
    except TypeError:
        key = None
    if key is not None:
        files = _spec_files(spec)
        stamp = tuple(_stamp(p) for p in files)
        cached = _SET_CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    result = _build(spec)
    if key is not None:
        if len(_SET_CACHE) > 64:
            _SET_CACHE.clear()
        _SET_CACHE[key] = (stamp, result)
    return result


def _stamp(path):
    try:
        st = os.stat(path)
        return (path, st.st_mtime_ns, st.st_size)
    except OSError:
        return (path, None, None)


def _spec_files(spec):
    files = []
    defaults, user_files, _inline, _disable = _split_spec(spec, check=False)
    if defaults:
        files.extend(shipped_files())
    files.extend(user_files)
    return files


def _split_spec(spec, check=True):
    defaults, files, inline, disable = True, [], [], []
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        pass
    elif isinstance(spec, str):
        files.append(spec)
    elif isinstance(spec, Mapping):
        unknown = sorted(set(spec) - set(('defaults', 'files', 'rules', 'disable')))
        if unknown and check:
            raise RuleError('the rules argument', None, 'unknown key(s) %s (known: defaults, files, rules, disable)'
                            % ', '.join(unknown))
        defaults = spec.get('defaults', True)
        if check and not isinstance(defaults, bool):
            raise RuleError('the rules argument', None, "'defaults' must be true or false")
        f = spec.get('files') or []
        files.extend([f] if isinstance(f, str) else list(f))
        r = spec.get('rules') or []
        inline.extend([r] if isinstance(r, Mapping) else list(r))
        d = spec.get('disable') or []
        disable.extend([d] if isinstance(d, str) else list(d))
    elif isinstance(spec, (list, tuple)):
        for item in spec:
            if isinstance(item, str):
                files.append(item)
            else:
                inline.append(item)
    elif check:
        raise RuleError('the rules argument', None,
                        'expected a file path, a list of paths and rules, or a mapping; got %s' % type(spec).__name__)
    return defaults, files, inline, disable


def _build(spec):
    if not HAS_JMESPATH:
        raise RuleError('the controller', None, 'the Python library "jmespath" is required on the Ansible controller '
                        'for the rules (for example: pip install jmespath)')
    defaults, files, inline, disable = _split_spec(spec)
    layers = []
    if defaults:
        for path in shipped_files():
            layers.append((path, _read_file(path)))
    for path in files:
        if not isinstance(path, str):
            raise RuleError('the rules argument', None, 'a rule file path must be a string')
        layers.append((path, _read_file(os.path.expanduser(path))))
    if inline:
        layers.append(('the inline rules', parse_rule_file(list(inline), 'the inline rules')))
    order, chosen = [], {}
    for origin, raws in layers:
        for raw in raws:
            name = raw['name']
            if name not in chosen and raw.get('enabled', True) is False and set(raw) <= set(('name', 'enabled')):
                raise RuleError(origin, name, 'turns off a rule that no rule set before it defines '
                                '(known: %s)' % ', '.join(order))
            if name not in chosen:
                order.append(name)
            chosen[name] = (raw, origin)
    for name in disable:
        if name not in chosen:
            raise RuleError('the rules argument', name, 'cannot be disabled: no rule set in force defines it '
                            '(known: %s)' % ', '.join(order))
        chosen[name] = ({'name': name, 'enabled': False}, 'the rules argument')
    rules, origins = [], []
    for name in order:
        raw, origin = chosen[name]
        if raw.get('enabled', True) is False:
            continue
        rules.append(Rule(raw, origin))
        origins.append(origin)
    return RuleSet(rules, origins)
