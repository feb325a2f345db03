# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Markdown rendering of the report model: escaped tables a terminal shows."""

from __future__ import annotations

import re

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_render as rr
from ansible_collections.vfio.migration.plugins.plugin_utils._report_markdown import md

from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import HOSTILE, VERSION_REASON, model


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
