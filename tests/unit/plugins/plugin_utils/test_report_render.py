# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The JSON report keeps hostile host strings as data (docs/security.md, report escaping)."""

from __future__ import annotations

import json

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_render as rr
from ansible_collections.vfio.migration.tests.unit.plugins.plugin_utils.report_fixture import HOSTILE, HOSTILE_HOST, model

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
