# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The CSV rendering of the report model: a host-to-class table and the class pairs."""

from __future__ import annotations

import csv
import io

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_render as rr
from ansible_collections.vfio.migration.plugins.plugin_utils._report_csv import cell

from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import FORMULA_VM, HOSTILE, HOSTILE_HOST, VERSION_REASON, model


def csv_sections(text):
    """``{title: [row dict]}``: each section is a title row, a header row and its rows, then a blank row."""
    rows = list(csv.reader(io.StringIO(text)))
    sections, start = {}, 0
    while start < len(rows):
        end = rows.index([], start) if [] in rows[start:] else len(rows)
        title, header = rows[start], rows[start + 1]
        assert len(title) == 1 and all(len(r) == len(header) for r in rows[start + 2:end])
        sections[title[0]] = [dict(zip(header, r)) for r in rows[start + 2:end]]
        start = end + 1
    return sections


def test_csv_has_a_host_to_class_table_and_one_row_per_class_pair():
    m = model()
    text = rr.render(m, 'csv')
    sections = csv_sections(text)
    assert list(sections) == ['hosts', 'class pairs']
    assert [(h['host'], h['class']) for h in sections['hosts']] == sorted(
        [('kvm-a', 'C1'), ('kvm-b', 'C2'), ('kvm-c', 'C3'), (HOSTILE_HOST, 'C4')])
    assert [h for h in sections['hosts'] if h['host'] == 'kvm-c'] == [
        {'host': 'kvm-c', 'class': 'C3', 'devices': '1', 'devices_in_use': '1', 'evacuable': 'false',
         'destinations': '0'}]
    assert len(sections['class pairs']) == len(m['class_matrix']) == 16
    row = [r for r in sections['class pairs'] if (r['source_class'], r['destination_class']) == ('C3', 'C1')]
    assert row == [{'source_class': 'C3', 'destination_class': 'C1', 'compatible': 'false', 'host_pairs': '1',
                    'rules': 'software_version', 'reasons': VERSION_REASON}]
    assert sum(int(r['host_pairs']) for r in sections['class pairs']) == m['summary']['pairs']
    # n hosts in k classes: n + k x k + 5 rows at most
    assert len(text.splitlines()) == 4 + 16 + 5


def test_csv_gives_every_host_pair_its_verdict_through_the_classes():
    m = model()
    sections = csv_sections(rr.render(m, 'csv'))
    class_of = dict((h['host'], h['class']) for h in sections['hosts'])
    by_class = dict(((r['source_class'], r['destination_class']), r) for r in sections['class pairs'])
    assert len(m['pairs']) == 12
    for pair in m['pairs']:
        row = by_class[(class_of[pair['source']], class_of[pair['destination']])]
        assert row['compatible'] == ('true' if pair['compatible'] else 'false')
        assert row['rules'] == '; '.join(pair['rules'])
        assert row['reasons'] == cell(' | '.join(pair['reasons']))
    # the same file whether or not the JSON lists the host pairs one by one
    assert rr.render(model(pair_details_max_hosts=0), 'csv') == rr.render(m, 'csv')


def test_csv_lists_the_host_pairs_that_differ_from_their_class_pair():
    m = model(pair_verdicts={('kvm-b', 'kvm-a'): {'compatible': False, 'rules': ['capacity'],
                                                  'reasons': ['no free nvidia-230 instance on 0000:3b:00.0']}})
    sections = csv_sections(rr.render(m, 'csv'))
    assert sections['host pairs that differ from their class pair'] == [
        {'source': 'kvm-b', 'destination': 'kvm-a', 'compatible': 'false', 'rules': 'capacity',
         'reasons': 'no free nvidia-230 instance on 0000:3b:00.0'}]


def test_csv_keeps_hostile_text_in_one_cell_and_defuses_formulas():
    m = model()
    sections = csv_sections(rr.render(m, 'csv'))
    assert HOSTILE_HOST in [r['host'] for r in sections['hosts']]
    assert any(r['reasons'].endswith('echo: ' + HOSTILE) for r in sections['class pairs'])
    m['hosts'][0]['name'] = FORMULA_VM
    m['class_matrix'][0]['reasons'] = ['@SUM(A1)']
    sections = csv_sections(rr.render(m, 'csv'))
    assert sections['hosts'][0]['host'] == "'" + FORMULA_VM
    assert sections['class pairs'][0]['reasons'] == "'@SUM(A1)"
    assert cell('-1+2') == "'-1+2" and cell('kvm-a') == 'kvm-a'
