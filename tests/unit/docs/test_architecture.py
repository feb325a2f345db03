# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""docs/architecture.md lists every file of plugins/ in its Layout, and nothing that is gone."""

from __future__ import annotations

import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _layout_block():
    with open(os.path.join(REPO, 'docs', 'architecture.md')) as handle:
        text = handle.read()
    section = text.split('\n## Layout\n', 1)[1].split('\n## ', 1)[0]
    return section.split('```\n', 2)[1]


def test_layout_lists_every_file_of_plugins_and_only_those():
    listed = re.findall(r'^(plugins/\S+\.py)\s', _layout_block(), re.MULTILINE)
    assert len(listed) == len(set(listed)), 'a file is listed twice'
    present = sorted(os.path.relpath(os.path.join(top, name), REPO)
                     for top, _dirs, names in os.walk(os.path.join(REPO, 'plugins'))
                     for name in names if name.endswith('.py') and name != '__init__.py')
    assert len(present) > 50
    assert sorted(set(present) - set(listed)) == [], 'files of plugins/ without a line in docs/architecture.md'
    assert sorted(set(listed) - set(present)) == [], 'lines of docs/architecture.md naming no file'
