# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from html.parser import HTMLParser

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_render as rr
from ansible_collections.vfio.migration.plugins.plugin_utils._report_csv import cell
from ansible_collections.vfio.migration.plugins.plugin_utils._report_markdown import md

from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import FORMULA_VM, HOSTILE, HOSTILE_HOST, VERSION_REASON, model


class Collector(HTMLParser):
    """Collects elements, attributes and the text inside each element of interest."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.tags = []
        self.cells = []
        self.texts = []
        self._script = None
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == 'td' and 'cell' in attrs.get('class', ''):
            self.cells.append(attrs)
        if tag in ('script', 'style'):
            self._script = (tag, [])

    def handle_endtag(self, tag):
        if self._script and tag == self._script[0]:
            self.scripts.append((tag, ''.join(self._script[1])))
            self._script = None

    def handle_data(self, data):
        if self._script:
            self._script[1].append(data)
        self.texts.append(data)


def parse(text):
    parser = Collector()
    parser.feed(text)
    return parser


# --- CSV ---------------------------------------------------------------------------------

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


# --- Markdown ----------------------------------------------------------------------------

def test_markdown_escapes_markup_and_table_separators():
    assert md('<b>|x</b>') == '&lt;b&gt;\\|x&lt;/b&gt;'
    assert md('a\nb') == 'a b'
    assert md('6.1.0-18-amd64') == '6.1.0-18-amd64'
    text = rr.render(model(), 'markdown')
    assert '<script' not in text and '</td>' not in text
    assert HOSTILE not in text


def test_markdown_has_the_host_matrix_and_the_reasons():
    text = rr.render(model(), 'markdown')
    assert '## Host matrix' in text
    assert re.search(r'^\| 4\. kvm-c \| ✗ \| ✗ \| ✗ \| — \|$', text, re.M)
    assert re.search(r'^\| 3\. kvm-b \| ✓ \| ✓ \| — \| ✓ \|$', text, re.M)
    assert '- **kvm-c → kvm-a**: ' + md(VERSION_REASON) in text
    assert '## Hosts that cannot be evacuated' in text and '| kvm-c |' in text


def test_markdown_draws_classes_above_the_limit():
    text = rr.render(model(), 'markdown', matrix_max_hosts=2)
    assert '## Host matrix' not in text and '## Class matrix' in text
    # classes are ordered by their first host: C4 (the hostile host) sorts first
    assert re.search(r'^\| source ↓ / destination → \| C4 \| C1 \| C2 \| C3 \|$', text, re.M)
    assert re.search(r'^\| C3 \| ✗ \| ✗ \| ✗ \| ✓ \|$', text, re.M)


# --- HTML --------------------------------------------------------------------------------

def test_html_escapes_every_host_string():
    text = rr.render(model(), 'html')
    assert HOSTILE not in text
    assert '<script>alert' not in text
    doc = parse(text)
    assert [t for t, body in doc.scripts].count('script') == 1
    assert not any(tag == 'script' and 'src' in attrs for tag, attrs in doc.tags)
    assert any(HOSTILE_HOST in t for t in doc.texts)
    assert any(c.get('data-src') == HOSTILE_HOST for c in doc.cells)


def test_html_is_self_contained_and_pins_its_code():
    text = rr.render(model(), 'html')
    doc = parse(text)
    for tag, attrs in doc.tags:
        for name in ('src', 'href'):
            assert name not in attrs, (tag, attrs)
    csp = [a['content'] for t, a in doc.tags if t == 'meta' and a.get('http-equiv') == 'Content-Security-Policy'][0]
    assert "default-src 'none'" in csp
    for tag, body in doc.scripts:
        digest = 'sha256-' + base64.b64encode(hashlib.sha256(body.encode('utf-8')).digest()).decode()
        assert digest in csp, tag


def test_html_host_matrix_cells():
    doc = parse(rr.render(model(), 'html'))
    cells = dict(((c['data-src'], c['data-dst']), c) for c in doc.cells)
    assert len(cells) == 16
    assert 'bad' in cells[('kvm-c', 'kvm-a')]['class'] and 'ok' in cells[('kvm-a', 'kvm-b')]['class']
    assert 'self' in cells[('kvm-a', 'kvm-a')]['class']
    assert VERSION_REASON in cells[('kvm-c', 'kvm-a')]['title']
    ref = cells[('kvm-c', 'kvm-a')]['data-reasons']
    assert any(t == 'ul' and a.get('id') == ref for t, a in doc.tags)


def test_html_draws_classes_above_the_limit():
    doc = parse(rr.render(model(), 'html', matrix_max_hosts=3))
    assert any(t == 'table' and a.get('id') == 'class-matrix' for t, a in doc.tags)
    assert len(doc.cells) == 16
    assert set(c['data-src'] for c in doc.cells) == {'C1', 'C2', 'C3', 'C4'}


# --- JSON and summary --------------------------------------------------------------------

def test_json_is_the_model_with_sorted_keys():
    text = rr.render(model(), 'json')
    assert json.loads(text) == json.loads(json.dumps(model()))
    assert text == rr.render(model(), 'json')
    top = list(json.loads(text))
    assert top == sorted(top)


def test_summary_names_the_hosts_that_cannot_move():
    text = rr.render(model(), 'summary')
    assert '4 hosts, 4 compatibility classes, 4 of 12 directed host pairs compatible.' in text
    assert 'Cannot be evacuated (1): kvm-c' in text
    assert 'Without facts, left out (1): kvm-z' in text


def test_render_refuses_what_is_not_a_model():
    with pytest.raises(ValueError, match='report_version'):
        rr.render({'summary': {}}, 'html')


def test_the_json_text_renders_like_the_model():
    text = rr.render(model(), 'json')
    assert rr.render(text, 'json') == text
    for fmt in ('csv', 'markdown', 'html', 'summary'):
        assert rr.render(text, fmt) == rr.render(model(), fmt)
    with pytest.raises(ValueError, match='not the JSON of a report model'):
        rr.render('<html>', 'csv')
