# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""tools/headers.py: one licence header everywhere; it rewrites earlier variants, and the tree has none left."""

from __future__ import annotations

import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HEADER = ('# Copyright (c) vfio.migration contributors\n'
          '# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)\n'
          '# SPDX-License-Identifier: GPL-3.0-or-later\n')


def _tool():
    spec = importlib.util.spec_from_file_location('vfio_headers', os.path.join(REPO, 'tools', 'headers.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_earlier_variants_are_rewritten_once():
    tool = _tool()
    old = ('# -*- coding: utf-8 -*-\n# Copyright: contributors to the vfio.migration collection\n'
           '# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)\n'
           '"""Doc."""\n')
    new = tool.wanted('plugins/plugin_utils/_x.py', old)
    assert new == HEADER + '\n' + tool.PRIVATE % 'plugin_utils' + '\n\n"""Doc."""\n'
    assert tool.wanted('plugins/plugin_utils/_x.py', new) == new
    assert tool.wanted('tests/x.sh', '#!/bin/sh\nset -e\n') == '#!/bin/sh\n' + HEADER + '\nset -e\n'
    assert tool.wanted('roles/r/tasks/main.yml', '---\n- name: x\n') == HEADER + '\n---\n- name: x\n'


def test_every_file_has_the_header():
    tool = _tool()
    paths = tool.files(REPO)
    assert len(paths) > 200
    differ = []
    for path in paths:
        with open(os.path.join(REPO, path), encoding='utf-8') as handle:
            text = handle.read()
        if tool.wanted(path, text) != text:
            differ.append(path)
    assert differ == [], 'run python3 tools/headers.py'
