# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTML rendering of the report model: one self-contained page, every host string escaped."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_render as rr

from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import HOSTILE, HOSTILE_HOST, VERSION_REASON, model


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
    assert doc.scripts
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
