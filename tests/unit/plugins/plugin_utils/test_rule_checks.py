# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rules are fully checked when they are loaded: message templates and JMESPath expressions."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import RuleError
from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev
from ansible_collections.vfio.migration.plugins.plugin_utils._rule_checks import expression_problem, message_problem
from ansible_collections.vfio.migration.plugins.plugin_utils._rules import load_rule_set


def test_plain_placeholders_and_record_expressions_pass():
    assert message_problem('{source} is not {destination} ({field})') is None
    assert expression_problem('pci.vendor', 'select') is None
    assert expression_problem('source.kind == `"pci"`', 'when') is None


def test_each_problem_is_named():
    assert message_problem('{source.__class__}').startswith('the message uses {source.__class__}')
    assert message_problem('{') .startswith('the message is not a valid template')
    assert expression_problem('pci.[', 'select').startswith('is not valid JMESPath')
    assert expression_problem('nope(driver)', 'select') == 'calls nope(), which JMESPath does not have'


# Rules are fully checked when loaded (issue 10, item 7).

def _inline(**changes):
    rule = {'name': 'r', 'description': 'd', 'source': 's', 'select': 'driver', 'operator': 'equal',
            'message': '{source} is not {destination}'}
    rule.update(changes)
    return {'defaults': False, 'rules': [rule]}


@pytest.mark.parametrize('changes, problem', [
    ({'message': '{source.__class__}'}, 'the message uses {source.__class__}: only plain placeholders'),
    ({'message': '{source[0]}'}, 'the message uses {source[0]}'),
    ({'message': '{source!r}'}, 'the message uses {source!r}'),
    ({'message': '{source:>99999}'}, 'the message uses {source:>99999}'),
    ({'message': '{source:{destination}}'}, 'the message uses {source:{destination}}'),
    ({'message': '{}'}, 'the message uses {}'),
    ({'message': '{0}'}, 'the message uses {0}'),
    ({'message': 'x' * 1001}, 'the message is longer than 1000 characters'),
    ({'description': 'd' * 5000}, "'description' must be a string of at most 4000 characters"),
    ({'select': 'no_such_function(driver)'}, "select 'no_such_function(driver)' calls no_such_function(), which"),
    ({'select': 'length(driver, id)'}, 'calls length() with 2 argument(s), it takes 1'),
    ({'select': 'abs(driver)'}, "select 'abs(driver)' cannot apply to a record"),
    ({'when': 'source.driver && frobnicate(@)'}, 'calls frobnicate(), which JMESPath does not have'),
    ({'select': {'source': 'driver', 'destination': 'sum(type)'}}, "select.destination 'sum(type)' cannot apply"),
    ({'match': {'max(source.pci)': 1}}, "match key 'max(source.pci)' cannot apply to a record"),
])
def test_rules_are_fully_checked_at_load_time(changes, problem):
    with pytest.raises(RuleError) as info:
        load_rule_set(_inline(**changes))
    assert "rules from the inline rules, rule 'r': " in str(info.value)
    assert problem in str(info.value)


def test_a_rule_that_meets_values_it_cannot_take_is_a_rule_error():
    # abs() takes the sample's numa_node 0, not the null of a device without NUMA node
    rule = list(load_rule_set(_inline(when='abs(source.numa_node) >= `0`')))[0]
    src, dst = dev('a', T4), dev('b', T4)
    assert rule.evaluate(src, dst) is None
    src['numa_node'] = None
    with pytest.raises(RuleError, match="rule 'r': cannot be evaluated on a -> b: .*abs"):
        rule.evaluate(src, dst)
