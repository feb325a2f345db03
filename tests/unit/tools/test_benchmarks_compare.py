# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""benchmarks/compare.py: the before/after table, its "of which" parts and the rest held to the target."""

from __future__ import annotations

import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _compare():
    spec = importlib.util.spec_from_file_location('vfio_bench_compare', os.path.join(REPO, 'benchmarks', 'compare.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _times(**cpu):
    return dict((name.replace('_', ' '), {'cpu': value, 'wall': value}) for name, value in cpu.items())


def _cpu_rows(rows):
    return dict((name, (before, after, round(ratio, 2) if ratio else None, mark))
                for name, clock, before, after, ratio, mark in rows if clock == 'cpu')


def test_the_rest_of_a_measurement_is_held_to_the_target_whatever_its_note_allows():
    compare = _compare()
    compare.ALLOWED = {'main': (1.5, 'its parts cost')}
    best = {'base': _times(main=1.0, other=1.0),
            'this': dict(_times(main=1.4, other=1.05), **{'  of which new work': {'cpu': 0.35, 'wall': 0.35}})}
    best['this'] = dict((k, best['this'][k]) for k in ('main', '  of which new work', 'other'))
    rows, failed, noted = compare.rows_of(best, True, 1.10)
    got = _cpu_rows(rows)
    rest = '  the rest of it (main less the parts above)'
    assert list(got) == ['main', '  of which new work', rest, 'other']
    assert got['main'][2:] == (1.4, 'see note (<= 1.50)') and noted == ['main']
    assert got['  of which new work'] == (None, 0.35, None, '')       # the base has no such part
    assert got[rest][:3] == (1.0, 1.4 - 0.35, 1.05) and not failed
    # the same whole with less spent in its parts: the rest is over the target, the note does not cover it
    best['this']['  of which new work'] = {'cpu': 0.2, 'wall': 0.2}
    rows, failed, noted = compare.rows_of(best, True, 1.10)
    assert _cpu_rows(rows)[rest][2:] == (1.2, 'MISSED (> 1.10)') and failed == [rest]


def test_a_part_both_trees_have_comes_off_both_and_is_judged_itself():
    compare = _compare()
    compare.ALLOWED = {'  of which check': (1.7, 'more fields')}
    best = {'base': _times(engine=0.7), 'this': _times(engine=0.8)}
    best['base']['  of which check'] = {'cpu': 0.1, 'wall': 0.1}
    best['this']['  of which check'] = {'cpu': 0.16, 'wall': 0.16}
    rows, failed, noted = compare.rows_of(best, True, 1.10)
    got = _cpu_rows(rows)
    assert got['engine'][2:] == (1.14, 'MISSED (> 1.10)')      # no note for the whole: held to the target
    assert got['  of which check'][2:] == (1.6, 'see note (<= 1.70)') and noted == ['  of which check']
    assert got['  the rest of it (engine less the parts above)'][:3] == (0.6, 0.64, 1.07)
    assert failed == ['engine']


def test_another_base_fails_nothing_and_other_inputs_fail_everything():
    compare = _compare()
    best = {'base': _times(main=1.0), 'this': _times(main=3.0)}
    assert compare.rows_of(best, True, 1.10, gated=False)[1] == []
    assert compare.rows_of(best, False, 1.10, gated=False)[1] == ['main', 'main']
