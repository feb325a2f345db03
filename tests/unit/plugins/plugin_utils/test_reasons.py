# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The engine's own reasons: built once (_reasons.py), the same from every entry function."""

from __future__ import annotations

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.plugin_utils import _reasons as r
from ansible_collections.vfio.migration.plugins.plugin_utils._check import migration_check
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan

Q1 = dict(board=T4, type='nvidia-230')
B1 = dict(board=T4, type='nvidia-222')


def _check_reasons(src, dst):
    return [x for entry in migration_check(src, dst)['unplaced'] for x in entry['reasons']]


def _matrix_reasons(facts, src, dst):
    m = compat_matrix(facts)
    verdict = m['verdicts'][m['host_class'][src]][m['host_class'][dst]]
    return [x for entry in verdict['unplaced'] for x in entry['reasons']]


def _plan_reasons(facts, drain):
    return [x for vm in migration_plan(facts, drain=[drain])['blocked'] for x in vm['reasons']]


def test_empty_destination_is_one_reason_with_rule_and_field_everywhere():
    busy, empty = host(dev('g0', vm='web', **Q1)), host()
    # 'empty' named first: the matrix takes a class's spent slots from the first host with its offer
    facts = {'busy': busy, 'a-empty': empty}
    found = [_check_reasons(busy, empty), _matrix_reasons(facts, 'busy', 'a-empty'), _plan_reasons(facts, 'busy')]
    for reasons in found:
        assert [(x['rule'], x['field']) for x in reasons] == [('capacity', 'offer')]
        assert r.offers_nothing(reasons[0])
    assert len(set(reasons[0]['message'] for reasons in found)) == 1
    assert found[0][0]['message'] == r.empty_destination_reason(1)['message']


def test_taken_and_refused_reasons_are_not_taken_for_an_empty_destination():
    src = host(dev('g0', vm='a', **Q1), dev('g1', vm='b', **Q1))
    dst = host(offer('0000:3b:00.0', T4, 'nvidia-230', 1), offer('0000:3c:00.0', T4, 'nvidia-222', 4))
    reasons = _check_reasons(src, dst)
    assert [x['rule'] for x in reasons] == ['capacity', 'type']
    assert reasons[0]['field'] == 'capacity' and reasons[0]['destination'] == 1
    assert not any(r.offers_nothing(x) for x in reasons)
    matrix = _matrix_reasons({'s': src, 'd': dst}, 's', 'd')
    assert [(x['rule'], x['field']) for x in matrix] == [(x['rule'], x['field']) for x in reasons]


def test_every_engine_reason_names_its_rule_and_field():
    made = [r.taken_reason('p', 1, 1, 2), r.vm_blocked_reason('web', ['g1']), r.vm_split_reason('web'),
            r.empty_destination_reason(2), r.room_used_reason(2), r.no_destination_reason()]
    assert [(x['rule'], x['field']) for x in made] == [
        ('capacity', 'capacity'), ('vm_atomicity', 'in_use.vm'), ('vm_atomicity', 'in_use.vm'),
        ('capacity', 'offer'), ('capacity', 'capacity'), ('no_destination', 'destinations')]
    assert [r.offers_nothing(x) for x in made] == [False, False, False, True, False, False]


def test_why_unplaced_order_and_merge():
    refusal = {'candidate': 'x', 'candidates': 2, 'rule': 'source_migration_capable', 'field': 'migration.capable',
               'source': False, 'destination': None, 'message': 'the source cannot migrate'}
    spent = [{'candidate': 's', 'candidates': 1, 'rule': 'capacity', 'field': 'in_use', 'source': 1,
              'destination': 0, 'message': 'full'}]
    taken = [r.taken_reason('p', 1, 1, 3)]
    out = r.why_unplaced(spent, taken, [refusal, dict(refusal, candidate='y', candidates=1)],
                         r.vm_split_reason('web'), count=1, empty=True)
    assert [x['field'] for x in out] == ['in_use', 'capacity', 'in_use.vm', 'migration.capable', 'offer']
    assert out[3]['candidates'] == 3            # one source-side refusal, its candidates counted together
    assert r.why_unplaced() == []


def test_and_more_is_written_one_way():
    assert r.and_more(['a', 'b']) == 'a, b'
    assert r.and_more(['a', 'b', 'c', 'd', 'e']) == 'a, b, c and 2 more'
    assert r.and_more(iter(['a', 'b', 'c']), limit=1) == 'a and 2 more'


def test_and_more_with_a_total_beyond_the_items_and_another_separator():
    assert r.and_more(['a', 'b'], limit=None, total=5) == 'a, b and 3 more'
    assert r.and_more([], limit=None, total=2) == 'and 2 more'
    assert r.and_more(['x', 'y', 'z'], limit=2, sep='; ') == 'x; y and 1 more'
    assert (r.more(4), r.more(4, up_to=True)) == ('and 4 more', 'and up to 4 more')


def test_no_destination_has_a_machine_readable_field_like_every_reason():
    from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan
    from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host
    plan = migration_plan({'a': host(dev('g0', T4, vm='web'))}, drain=['a'])
    reason = plan['blocked'][0]['reasons'][0]
    assert (reason['rule'], reason['field'], reason['destination']) == ('no_destination', 'destinations', 0)
    assert all(isinstance(reason[key], str) and reason[key] for key in ('rule', 'field', 'message'))
