# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine filters are thin: arguments in, verdict out, every failure an AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.engine_hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.compatible import FilterModule as CompatibleFilters
from ansible_collections.vfio.migration.plugins.filter.migration_check import FilterModule as CheckFilters

compatible = CompatibleFilters().filters()['compatible']
migration_check = CheckFilters().filters()['migration_check']

Q1 = dict(board=T4, type='nvidia-230')


def test_compatible_filter_verdict_shape():
    verdict = compatible(dev('a', vm='x', **Q1), offer('p', T4, 'nvidia-230', 1, version='550.90.07'))
    assert verdict['compatible'] is False
    assert verdict['reasons'][0]['rule'] == 'nvidia_host_driver_equal'
    assert set(verdict['reasons'][0]) == {'rule', 'field', 'source', 'destination', 'message'}


@pytest.mark.parametrize('call, text', [
    (lambda: compatible('x', {}), 'vfio.migration.compatible: the source device must be a device record'),
    (lambda: compatible(dict(dev('a'), in_use=[]), dev('b')),
     "invalid vfio facts for host 'the source device': device 'a' field 'in_use': expected a mapping or null"),
    (lambda: compatible(dev('a'), dev('b'), rules={'disable': ['nope']}), "rule 'nope': cannot be disabled"),
    (lambda: compatible(dev('a'), dev('b'), rules=[{'name': 'r', 'description': 'd', 'source': 's',
                                                    'select': 'type', 'operator': 'same', 'message': 'm'}]),
     "rules from the inline rules, rule 'r': unknown operator 'same'"),
    (lambda: migration_check(host(), {'schema_version': 2}, destination_host='dst1'),
     "invalid vfio facts for host 'dst1': field 'schema_version': 2 is not supported"),
    (lambda: migration_check(host(), host(), devices=[1]), 'devices must be a list of strings'),
])
def test_errors_are_filter_errors(call, text):
    with pytest.raises(AnsibleFilterError) as info:
        call()
    assert text in str(info.value)


def test_migration_check_filter_accepts_hostvars_shape():
    src = {'ansible_facts': {'vfio': host(dev('g0', vm='web', **Q1))}}
    dst = {'ansible_facts': {'vfio': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))}}
    result = migration_check(src, dst)
    assert result['compatible'] and result['placements'] == [
        {'source': 'g0', 'destination': '0000:3b:00.0', 'type': 'nvidia-230', 'vm': 'web',
         'action': 'create_mdev', 'slot': '0000:3b:00.0/nvidia-230'}]


def test_compat_matrix_filter():
    from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule
    matrix = FilterModule().filters()['compat_matrix']
    result = matrix({'a': host(dev('g0', vm='web', **Q1)), 'b': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))},
                    expand=True)
    assert result['host_class'] == {'a': 'c1', 'b': 'c2'}
    assert [(p['source'], p['destination'], p['compatible']) for p in result['pairs']] == [
        ('a', 'b', True), ('b', 'a', True)]
    with pytest.raises(AnsibleFilterError, match='vfio.migration.compat_matrix: expand must be true or false'):
        matrix({}, expand='yes')


def test_migration_plan_and_upgrade_order_filters():
    from ansible_collections.vfio.migration.plugins.filter.migration_plan import FilterModule as PlanFilters
    from ansible_collections.vfio.migration.plugins.filter.upgrade_order import FilterModule as OrderFilters
    plan = PlanFilters().filters()['migration_plan']
    order = OrderFilters().filters()['upgrade_order']
    facts = {'a': host(dev('g0', vm='web', **Q1)), 'b': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))}
    result = plan(facts, drain=['a'])
    assert result['feasible'] and result['waves'][0]['moves'][0]['destination'] == 'b'
    with pytest.raises(AnsibleFilterError, match='vfio.migration.migration_plan: drain is required'):
        plan(facts)
    result = order(facts, {'hosts': ['a'], 'versions': {'nvidia': '550.54.16'}})
    assert result['order'] == ['a']
    with pytest.raises(AnsibleFilterError, match='vfio.migration.upgrade_order: targets is required'):
        order(facts)


def test_plain_turns_string_subclasses_into_exact_str():
    from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import plain

    class Unsafe(str):
        def __str__(self):  # pylint: disable=invalid-str-returned  # like AnsibleUnsafeText on 2.16
            return self

    value = plain({Unsafe('k'): [Unsafe('nvidia-230'), True, 3, 1.5, None]})
    key = list(value)[0]
    assert type(key) is str and type(value[key][0]) is str      # pylint: disable=unidiomatic-typecheck
    assert value == {'k': ['nvidia-230', True, 3, 1.5, None]}
    verdict = compatible(dev('a', vm='x', type=Unsafe('nvidia-230')), dev('b', **Q1))
    assert verdict['compatible']
