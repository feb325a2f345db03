# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The named comparison operators a rule can use (private to the collection).

Each operator takes the value selected on the source, the value selected on the
destination and the rule's parameters, and answers ``(ok, details)``; ``details`` feeds the
rule's message (``{source_group}`` ...). Directed: the source is what runs now, the
destination what would receive it.

=================  =====================================================================
operator           passes when
=================  =====================================================================
equal              source == destination
version_compatible same major, destination minor >= source minor (bugfix ignored)
version_equal      the same version (``17.3`` == ``17.3.0``)
at_least           destination >= source (numbers, else versions)
at_most            destination <= source (numbers, else versions)
superset           destination's set contains every item of the source's set
subset             destination's set holds nothing the source's set lacks
one_of             the value on ``side`` (source, destination, both) is one of ``values``
specifier          the version on ``side`` satisfies the PEP 440 ``spec`` (``>=535,<600``)
not_mixed          both values fall in the same one of ``groups`` (values in no group pass)
sequence_equal     the same list in the same order (``{missing}``: only on the source,
                   ``{extra}``: only on the destination; same items in another order is
                   a ``{problem}``)
same_major_at_least the same major version (branch), destination >= source
machine_type       the QEMU machine type on ``side`` is versioned (``pc-q35-8.2``) and
                   its version satisfies the PEP 440 ``spec``; a type without an upstream
                   version (``q35``, RHEL's ``pc-q35-rhel9.4.0``) passes (not known)
ignore             always (documents a deliberate non-check)
=================  =====================================================================
"""

from __future__ import annotations

import re

from ansible_collections.vfio.migration.plugins.plugin_utils import _version_compare as _versions

__all__ = ['OPERATORS', 'PARAMETERS', 'SIDED', 'as_set', 'machine_version']


def as_set(value):
    """A list or a comma/space separated string as a set of strings (None -> empty)."""
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(str(item) for item in value)
    if isinstance(value, dict):
        return frozenset(str(item) for item in value)
    return frozenset(part for part in str(value).replace(',', ' ').split() if part)


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _ordered(src, dst):
    """-1/0/1 of dst against src: numbers when both are numbers, else versions."""
    a, b = _number(src), _number(dst)
    if a is not None and b is not None:
        return (b > a) - (b < a)
    return _versions.compare(dst, src)


def _version_op(func):
    def run(src, dst, rule):
        try:
            return func(src, dst), {}
        except _versions.VersionError as exc:
            return False, {'problem': str(exc)}
    return run


def _equal(src, dst, rule):
    return src == dst, {}


def _at_least(src, dst, rule):
    try:
        return _ordered(src, dst) >= 0, {}
    except _versions.VersionError as exc:
        return False, {'problem': str(exc)}


def _at_most(src, dst, rule):
    try:
        return _ordered(src, dst) <= 0, {}
    except _versions.VersionError as exc:
        return False, {'problem': str(exc)}


def _superset(src, dst, rule):
    missing = sorted(as_set(src) - as_set(dst))
    return not missing, {'missing': ', '.join(missing)}


def _subset(src, dst, rule):
    extra = sorted(as_set(dst) - as_set(src))
    return not extra, {'extra': ', '.join(extra)}


def _sides(rule, src, dst):
    side = rule.get('side', 'both')
    if side == 'source':
        return (('source', src),)
    if side == 'destination':
        return (('destination', dst),)
    return (('source', src), ('destination', dst))


def _one_of(src, dst, rule):
    allowed = rule['values']
    for side, value in _sides(rule, src, dst):
        if value not in allowed:
            return False, {'side': side, 'value': value}
    return True, {}


def _specifier(src, dst, rule):
    spec = rule['_spec']
    for side, value in _sides(rule, src, dst):
        if value is None:
            continue
        try:
            if not _versions.satisfies(value, spec):
                return False, {'side': side, 'value': value}
        except _versions.VersionError as exc:
            return False, {'side': side, 'value': value, 'problem': str(exc)}
    return True, {}


def _not_mixed(src, dst, rule):
    index = rule['_group_of']
    sg, dg = index.get(_key(src)), index.get(_key(dst))
    details = {'source_group': sg or 'no listed group', 'destination_group': dg or 'no listed group'}
    if sg is None and dg is None:
        return True, details
    return sg == dg, details


def _key(value):
    return None if value is None else str(value).lower()


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sequence_equal(src, dst, rule):
    first, second = _as_list(src), _as_list(dst)
    if first == second:
        return True, {}
    missing = [str(item) for item in first if item not in second]
    extra = [str(item) for item in second if item not in first]
    details = {'missing': ', '.join(missing) or 'nothing', 'extra': ', '.join(extra) or 'nothing'}
    if not missing and not extra:
        details['problem'] = 'the same entries in another order'
    return False, details


def _same_major_at_least(source, destination):
    src, dst = _versions.parse(source), _versions.parse(destination)
    return src.major == dst.major and _versions.compare(destination, source) >= 0


# the upstream version QEMU appends to a versioned machine type: pc-q35-8.2, virt-9.1, pseries-7.2
_MACHINE_VERSION = re.compile(r'-(\d+\.\d+)(?:\.\d+)?$')


def machine_version(machine_type):
    """``'8.2'`` for ``pc-q35-8.2``; ``None`` for an alias (``q35``) or a downstream type
    (``pc-q35-rhel9.4.0``), whose compatibility properties the upstream version does not tell."""
    match = _MACHINE_VERSION.search(str(machine_type))
    return match.group(1) if match else None


def _machine_type(src, dst, rule):
    for side, value in _sides(rule, src, dst):
        version = None if value is None else machine_version(value)
        if version is None:
            continue
        try:
            if not _versions.satisfies(version, rule['spec']):
                return False, {'side': side, 'value': value}
        except (ValueError, _versions.VersionError) as exc:
            return False, {'side': side, 'value': value, 'problem': str(exc)}
    return True, {}


def _ignore(src, dst, rule):
    return True, {}


OPERATORS = {
    'equal': _equal,
    'version_compatible': _version_op(_versions.compatible),
    'version_equal': _version_op(_versions.equal),
    'at_least': _at_least,
    'at_most': _at_most,
    'superset': _superset,
    'subset': _subset,
    'one_of': _one_of,
    'specifier': _specifier,
    'not_mixed': _not_mixed,
    'sequence_equal': _sequence_equal,
    'same_major_at_least': _version_op(_same_major_at_least),
    'machine_type': _machine_type,
    'ignore': _ignore,
}

# Parameters each operator needs (validated when a rule set is loaded).
PARAMETERS = {
    'one_of': ('values',),
    'specifier': ('spec',),
    'not_mixed': ('groups',),
    'machine_type': ('spec',),
}

# Operators that may look at one side only (rule key ``side``).
SIDED = frozenset(('one_of', 'specifier', 'machine_type'))
