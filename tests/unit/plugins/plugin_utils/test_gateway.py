# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The filter gateway: arguments checked against the filter's own DOCUMENTATION, one error style."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings, strategies as st

from ansible_collections.vfio.migration.plugins.plugin_utils import _gateway as gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import (
    EngineError, PreflightInputError, ReportError, VfioError)

DOC = r"""
name: demo
short_description: a filter for the test
extends_documentation_fragment:
  - vfio.migration._rules
positional: _input, other
options:
  _input:
    description: x
    type: dict
    required: true
  other:
    description: x
    type: int
  names:
    description: x
    type: list
    elements: str
  flag:
    description: x
    type: bool
  colour:
    description: x
    type: str
    choices: [red, green]
  facts:
    description: x
    type: dict
"""


def echo(*args, **kwargs):
    return args, kwargs


@pytest.fixture
def demo():
    return gateway.Gateway('demo', DOC, kinds={'facts': gateway.FACTS})


def test_documentation_is_read_with_its_fragments():
    options, positional = gateway.read_documentation(DOC)
    assert positional == ['_input', 'other']
    assert options['rules']['type'] == 'raw'        # from the vfio.migration._rules fragment
    assert options['names'] == {'description': 'x', 'type': 'list', 'elements': 'str'}


def test_good_arguments_reach_the_function_as_plain_values(demo):
    args, kwargs = demo.run(echo, {'a': (1, 2)}, 3, names='one', flag=True, colour='red', rules=None)
    assert list(args) == [{'a': [1, 2]}, 3]
    assert kwargs == {'names': ['one'], 'flag': True, 'colour': 'red', 'rules': None}


def test_every_problem_is_listed_in_one_error(demo):
    with pytest.raises(AnsibleFilterError) as info:
        demo.run(echo, ['not', 'a', 'dict'], True, names=['a', 2], flag='yes', colour='blue')
    assert str(info.value) == (
        "vfio.migration.demo: the input must be a dict, got list; colour must be one of red, green, got 'blue'; "
        "flag must be true or false, got str; names must be a list of strings, got int at index 1; "
        "other must be an integer, got bool")


def test_required_and_positional_count(demo):
    with pytest.raises(AnsibleFilterError, match=r'^vfio.migration.demo: the input is required$'):
        demo.run(echo, None)
    with pytest.raises(AnsibleFilterError, match=r'takes 2 positional argument\(s\) \(_input, other\), got 3'):
        demo.run(echo, {}, 1, 2)


def test_kind_arguments_go_to_their_check(demo, monkeypatch):
    with pytest.raises(AnsibleFilterError, match="^vfio.migration.demo: invalid vfio facts for host 'facts': expected "
                       "the vfio facts \\(a mapping\\), got a string$"):
        demo.run(echo, {}, facts='checked against the schema, not by type')
    monkeypatch.setitem(gateway.KIND_CHECKS, gateway.FACTS, lambda name, value, arguments: ['%s: bad facts' % name])
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.demo: facts: bad facts$'):
        demo.run(echo, {}, facts={})


def test_lazy_arguments_are_neither_copied_nor_checked():
    lazy = gateway.Gateway('demo', DOC, kinds={'_input': gateway.LAZY})
    value = ('a tuple', 'stays')
    assert lazy.run(echo, value)[0][0] is value


@pytest.mark.parametrize('error', [EngineError('e'), ReportError('e'), PreflightInputError('e')])
def test_every_error_of_the_collection_has_one_base_and_one_prefix(demo, error):
    assert isinstance(error, VfioError)

    def fail(*args, **kwargs):
        raise error
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.demo: e$'):
        demo.run(fail, {})


def test_unexpected_errors_and_deep_input_are_filter_errors_too(demo):
    def boom(*args, **kwargs):
        raise KeyError('k')

    def deep(*args, **kwargs):
        raise RecursionError()
    with pytest.raises(AnsibleFilterError, match="^vfio.migration.demo: unexpected KeyError: 'k'$"):
        demo.run(boom, {})
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.demo: the input is nested too deeply$'):
        demo.run(deep, {})


def test_every_filter_of_the_collection_has_a_gateway_matching_its_documentation():
    import importlib
    import os
    import inspect
    directory = os.path.join(os.path.dirname(gateway.__file__), '..', 'filter')
    names = sorted(f[:-3] for f in os.listdir(directory) if f.endswith('.py') and not f.startswith('_'))
    assert len(names) >= 14
    for name in names:
        module = importlib.import_module('ansible_collections.vfio.migration.plugins.filter.' + name)
        assert module._GATEWAY.name == name  # pylint: disable=protected-access
        options, positional = module._GATEWAY.options  # pylint: disable=protected-access
        parameters = list(inspect.signature(module.FilterModule().filters()[name]).parameters)
        # the Python parameters are the positional options, then the other options
        assert len(parameters) == len(options), name
        assert set(positional) <= set(options), name


def test_plain_turns_string_subclasses_into_exact_str():

    class Unsafe(str):
        def __str__(self):  # pylint: disable=invalid-str-returned  # like AnsibleUnsafeText on 2.16
            return self

    value = gateway.plain({Unsafe('k'): [Unsafe('nvidia-230'), True, 3, 1.5, None]})
    key = list(value)[0]
    assert type(key) is str and type(value[key][0]) is str      # pylint: disable=unidiomatic-typecheck
    assert value == {'k': ['nvidia-230', True, 3, 1.5, None]}


class _Text(str):
    """A str subclass (what ansible-core's unsafe text is)."""


_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                    st.text(max_size=5).map(_Text))
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=3), st.text(max_size=3).map(_Text)), inner, max_size=4)), max_leaves=20)


def _exact(value):
    """True when ``value`` is made of exact dict, list, str, int, float, bool and None only."""
    if isinstance(value, dict):
        return type(value) is dict and all(_exact(k) and _exact(v) for k, v in value.items())  # pylint: disable=unidiomatic-typecheck
    if isinstance(value, list):
        return type(value) is list and all(_exact(v) for v in value)  # pylint: disable=unidiomatic-typecheck
    return value is None or type(value) in (bool, int, float, str)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(_VALUES)
def test_plain_is_an_equal_copy_of_exact_types(value):
    copied = gateway.plain(value)
    assert _exact(copied)
    assert copied == json.loads(json.dumps(value))


def test_facts_checked_by_an_outer_filter_are_not_checked_again_after_an_inner_one(demo, monkeypatch):
    # pylint: disable=import-outside-toplevel,protected-access
    from ansible_collections.vfio.migration.plugins.plugin_utils import _schema
    from ansible_collections.vfio.migration.tests.unit.helpers.hosts import dev, host
    calls = []
    real = _schema._VALID
    monkeypatch.setattr(_schema, '_VALID', lambda facts: calls.append(id(facts)) or real(facts))
    outer_facts, inner_facts = host(dev('a')), host(dev('b'))

    def outer(_input, other=None, facts=None):
        demo.run(echo, {}, facts=inner_facts)            # a filter run inside this one
        _schema.validate_facts(facts, 'outer')           # as the engine does: already checked
        return facts

    checked = demo.run(outer, {}, facts=outer_facts)
    assert len(calls) == 2 and calls[0] == id(checked)   # the outer facts once, the inner ones once
    _schema.validate_facts(checked, 'after')             # outside every filter call: checked again
    assert len(calls) == 3
