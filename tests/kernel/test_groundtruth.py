# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How groundtruth.py judges a prediction against a real migration (no QEMU; the errors are the
ones QEMU 10 and mtty gave in the lane, see groundtruth.md)."""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import groundtruth as gt  # noqa: E402  pylint: disable=wrong-import-position

BLOCKER = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1002: VFIO migration is not supported in kernel'
REJECTED = ('destination exited with status 1: qemu-system-x86_64: error while loading state section id '
            '38(0000:00:02.0/vfio) | qemu-system-x86_64: load of migration failed: Bad address')
DIRTY = 'source status failed: ram_save_setup failed: Operation not supported'
NO_TRACKING = ("83b8f4f2-509f-382f-3c1e-e6bfe0fa1016: VFIO device doesn't support device and IOMMU dirty "
               "tracking")


def outcome(case, ok, error=None, vfio_bytes=None):
    return {'case': case, 'outcome': 'completed' if ok else 'failed', 'error': error, 'vfio_bytes': vfio_bytes}


def prediction(ok, rule=None, state_size=None):
    return {'compatible': ok, 'reason': {'rule': rule, 'message': 'm'} if rule else None,
            'source': {'migration': {'capable': True, 'state_size': state_size}}}


@pytest.mark.parametrize('error, cause', [
    (BLOCKER, 'no migration support'), (REJECTED, 'device type'), (DIRTY, 'dirty tracking'),
    (NO_TRACKING, 'dirty tracking blocker'),
    ('something else', 'unrecognised error'), (None, 'unrecognised error')])
def test_error_causes(error, cause):
    assert gt.cause_of_error(error) == cause


def test_agreement_on_success_with_the_predicted_state_size():
    assert gt.judge('6.12', outcome('mtty-2_to_mtty-2', True, vfio_bytes=96), prediction(True, state_size=96)) == (
        'yes', [])


def test_completed_but_never_loaded_fails():
    out = dict(outcome('mtty-1_to_mtty-1', True, vfio_bytes=60), state_loaded=False)
    problems = gt.judge('6.12', out, prediction(True, state_size=60))[1]
    assert 'never left RESUMING' in problems[0]
    assert gt.judge('6.12', dict(out, state_loaded=True), prediction(True, state_size=60)) == ('yes', [])


def test_state_size_mismatch_fails():
    agree, problems = gt.judge('6.12', outcome('mtty-1_to_mtty-1', True, vfio_bytes=60),
                               prediction(True, state_size=96))
    assert agree == 'NO (state size)' and 'QEMU moved 60 bytes' in problems[0]


def test_refusal_for_the_same_cause_agrees():
    assert gt.judge('6.12', outcome('mtty-1_to_mtty-2', False, REJECTED), prediction(False, 'type')) == ('yes', [])
    assert gt.judge('6.1', outcome('mtty-1_to_mtty-1', False, BLOCKER),
                    prediction(False, 'source_migration_capable')) == ('yes', [])


def test_refusal_for_another_cause_fails():
    agree, problems = gt.judge('6.12', outcome('mtty-1_to_mtty-2', False, REJECTED),
                               prediction(False, 'source_migration_capable'))
    assert agree == 'NO (cause)'
    assert 'refused for no migration support, but QEMU/kernel failed for device type' in problems[0]


def test_wrong_verdict_fails_both_ways():
    assert gt.judge('6.12', outcome('mtty-1_to_mtty-2', False, REJECTED), prediction(True))[0] == 'NO'
    assert gt.judge('6.12', outcome('mtty-1_to_mtty-1', True, vfio_bytes=60), prediction(False, 'type'))[0] == 'NO'


def test_an_unexpected_real_outcome_is_a_lane_problem():
    agree, problems = gt.judge('6.12', outcome('mtty-1_to_mtty-1', False, BLOCKER),
                               prediction(False, 'source_migration_capable'))
    assert agree == 'yes' and 'the case exists to show completed' in problems[0]


def test_known_gap_is_reported_only_while_it_stays_as_recorded(monkeypatch):
    case = 'mtty-1_to_mtty-1_qemu-defaults'
    monkeypatch.setitem(gt.KNOWN_GAPS, case, ('dirty tracking', 'why the facts cannot see it'))
    assert gt.judge('6.12', outcome(case, False, DIRTY), prediction(True)) == ('known gap', [])
    # another cause behind the same disagreement is a real mismatch
    assert gt.judge('6.12', outcome(case, False, BLOCKER), prediction(True))[0] == 'NO'
    # a closed gap fails until it is removed from KNOWN_GAPS
    agree, problems = gt.judge('6.12', outcome(case, False, DIRTY), prediction(False, 'device_dirty_tracking_report'))
    assert 'known gap %s closed' % case in problems[0]


def test_dirty_tracking_failures_agree_with_their_rules():
    assert gt.judge('6.12', outcome('mtty-1_to_mtty-1_qemu-defaults', False, DIRTY),
                    prediction(False, 'device_dirty_tracking_report')) == ('yes', [])
    assert gt.judge('6.12', outcome('mtty-1_to_mtty-1_no-device-tracking', False, NO_TRACKING),
                    prediction(False, 'dirty_tracking_blocker')) == ('yes', [])
    # the two dirty-tracking failures are different causes
    assert gt.judge('6.12', outcome('mtty-1_to_mtty-1_no-device-tracking', False, NO_TRACKING),
                    prediction(False, 'device_dirty_tracking_report'))[0] == 'NO (cause)'


def test_facts_of_a_case(tmp_path):
    (tmp_path / 'facts-case-x.json').write_text('{"ansible_facts": {"vfio": {"devices": ["case"]}}}')
    fallback = {'devices': ['series']}
    assert gt.facts_of_case({'case': 'x', 'facts': 'facts-case-x.json'}, str(tmp_path), fallback) == (
        {'devices': ['case']}, None)
    # cases of a guest that gathered none, and cases whose QEMU never started, use the series' facts
    assert gt.facts_of_case({'case': 'x'}, str(tmp_path), fallback) == (fallback, None)
    assert gt.facts_of_case({'case': 'x', 'facts': None, 'stage': 'source start'}, str(tmp_path), fallback) == (
        fallback, None)
    facts, error = gt.facts_of_case({'case': 'x', 'facts': None, 'stage': 'migrate', 'facts_error': 'boom'},
                                    str(tmp_path), fallback)
    assert facts is None and error == 'boom'
    facts, error = gt.facts_of_case({'case': 'x', 'facts': 'missing.json'}, str(tmp_path), fallback)
    assert facts is None and 'unreadable' in error


def test_destination_facts_offer_only_the_destination_device():
    facts = {'devices': [{'id': 'a', 'in_use': {'pid': 1}}, {'id': 'b', 'in_use': {'pid': 2}}],
             'mdev_types': [{'type': 'mtty-1'}], 'sriov': [{'pf': 'x'}], 'host': {}}
    dst = gt.destination_facts(facts, facts['devices'][1])
    assert dst['devices'] == [{'id': 'b', 'in_use': None}] and dst['mdev_types'] == [] and dst['sriov'] == []
    assert facts['devices'][1]['in_use'] == {'pid': 2}   # the input is left alone
