# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One entry point for every format of the report model: JSON, summary, and the model given as JSON text."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_render as rr

from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import HOSTILE, HOSTILE_HOST, model


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


CONTROL = 'line\nbreak\r\x1b[31mred\x00nul\u2028sep'


def test_json_keeps_hostile_strings_as_data_and_escapes_control_characters():
    m = model()
    m['hosts'][1]['name'] = CONTROL
    text = rr.render(m, 'json')
    assert json.loads(text)['hosts'][1]['name'] == CONTROL
    assert HOSTILE_HOST in [h['name'] for h in json.loads(text)['hosts']]
    # one JSON document whose only raw line breaks are its own indentation: no control
    # character of a host string reaches the text unescaped
    assert '\x1b' not in text and '\x00' not in text and '\r' not in text
    assert all(line.startswith((' ', '{', '}')) for line in text.rstrip('\n').split('\n'))
    assert HOSTILE.replace('"', '\\"') in text
