# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""What a rule's message and expressions may be, checked when the rules are loaded.

A rule file is input like any other: a message template is a ``str.format`` template, so
``{source.__class__}``, ``{source[0]}``, ``{source!r}`` or ``{source:>99999}`` would read
attributes, index values or build huge strings at evaluation time. Only plain ``{name}``
placeholders of the known names pass, and a message has a length bound. A JMESPath
expression must only call functions JMESPath has, with their number of arguments, and must
evaluate without a type error on a well-formed record (``SAMPLE_DEVICE`` /
``SAMPLE_TYPE``, or the ``{source, destination}`` pair of them for ``when``, ``match`` and
``explain``): an expression that cannot apply to a record is refused when it is loaded,
not on the first device it meets.
"""

from __future__ import annotations

import string

try:
    import jmespath
    from jmespath.exceptions import JMESPathError
    from jmespath.functions import Functions
    _FUNCTIONS = Functions.FUNCTION_TABLE
except ImportError:  # pragma: no cover - jmespath is a documented requirement
    _FUNCTIONS = {}

__all__ = ['MAX_MESSAGE', 'MAX_TEXT', 'PLACEHOLDERS', 'SAMPLE_DEVICE', 'SAMPLE_TYPE', 'expression_problem',
           'message_problem']

MAX_MESSAGE = 1000       # characters of a message template
MAX_TEXT = 4000          # characters of a description, source or field label
PLACEHOLDERS = frozenset((
    'rule', 'field', 'source', 'destination', 'source_id', 'destination_id', 'source_detail',
    'destination_detail', 'missing', 'extra', 'side', 'value', 'source_group',
    'destination_group', 'problem'))

_PCI = {'vendor': '10de', 'device': '1eb8', 'subsystem_vendor': '10de', 'subsystem_device': '12a2',
        'class': '030200', 'revision': 'a1'}
SAMPLE_DEVICE = {
    'id': '0000:3b:00.4', 'kind': 'mdev', 'device_api': 'vfio-pci', 'type': 'nvidia-230', 'driver': 'nvidia',
    'parent': '0000:3b:00.0', 'iommu_group': '12', 'numa_node': 0, 'pci': _PCI,
    'software_version': '550.54.16', 'software_version_source': 'module',
    'migration': {'capable': True, 'reason': 'sample', 'features': ['stop_copy', 'pre_copy']},
    'attributes': {'vgpu_params': 'frame_rate_limiter=0', 'subchannel_type': 'io', 'matrix': '00.0001'},
    'cdev': None, 'config_space': {'header_type': '00', 'capabilities': ['10'], 'extended_capabilities': ['0001']},
    'in_use': {'pid': 4242, 'vm': 'vm1', 'machine_type': 'pc-q35-8.2', 'holder': '/dev/vfio/12'},
    'fingerprint': 'sha256:0',
}
SAMPLE_TYPE = {
    'parent': '0000:3b:00.0', 'type': 'nvidia-230', 'kind': 'mdev', 'name': 'GRID T4-1Q', 'description': 'sample',
    'device_api': 'vfio-pci', 'available_instances': 4, 'driver': 'nvidia', 'pci': _PCI,
    'software_version': '550.54.16', 'software_version_source': 'module',
    'migration': {'capable': True, 'reason': 'sample', 'features': ['stop_copy']}, 'fingerprint': 'sha256:0',
}


def message_problem(message):
    """None when ``message`` is a usable template, else what is wrong with it."""
    if len(message) > MAX_MESSAGE:
        return 'the message is longer than %d characters' % MAX_MESSAGE
    try:
        parsed = list(string.Formatter().parse(message))
    except ValueError as exc:
        return 'the message is not a valid template: %s' % exc
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion is not None or name not in PLACEHOLDERS:
            shown = '{%s%s%s}' % (name, '!' + conversion if conversion else '', ':' + spec if spec else '')
            return ('the message uses %s: only plain placeholders {name} are allowed (no attribute, index, '
                    'conversion or format spec); known names: %s' % (shown[:80], ', '.join(sorted(PLACEHOLDERS))))
    return None


def _function_problem(node):
    """The first call of an unknown function (or with a wrong number of arguments) in a parsed tree."""
    todo = [node]
    while todo:
        node = todo.pop()
        if not isinstance(node, dict):
            continue
        if node.get('type') == 'function_expression':
            name, args = node.get('value'), node.get('children') or []
            spec = _FUNCTIONS.get(name)
            if spec is None:
                return 'calls %s(), which JMESPath does not have' % (name,)
            signature = spec['signature']
            variadic = bool(signature) and signature[-1].get('variadic')
            if len(args) < len(signature) - (1 if variadic else 0) or (not variadic and len(args) > len(signature)):
                return 'calls %s() with %d argument(s), it takes %s%d' % (
                    name, len(args), 'at least ' if variadic else '', len(signature))
        todo.extend(child for child in node.get('children') or [] if isinstance(child, dict))
    return None


def expression_problem(expression, where):
    """None when the JMESPath ``expression`` (a rule's ``where``: ``select``, ``select.source``,
    ``when``, ...) can apply to a record, else what is wrong with it."""
    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as exc:
        return 'is not valid JMESPath: %s' % exc
    problem = _function_problem(compiled.parsed)
    if problem is not None:
        return problem
    if where.startswith('select'):
        samples = [SAMPLE_TYPE if where == 'select.destination' else SAMPLE_DEVICE]
        if where == 'select':
            samples.append(SAMPLE_TYPE)
    else:
        samples = [{'source': SAMPLE_DEVICE, 'destination': SAMPLE_TYPE}]
    for sample in samples:
        try:
            compiled.search(sample)
        except (JMESPathError, TypeError, ValueError, AttributeError) as exc:
            return 'cannot apply to a record: %s' % str(exc).replace('\n', ' ')[:200]
    return None
