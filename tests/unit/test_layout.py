# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""tests/unit/ mirrors plugins/: one test file per filter and per plugin_utils / module_utils module.

``plugins/filter/<name>.py`` is tested by ``tests/unit/plugins/filter/test_<name>.py``;
``plugins/{plugin_utils,module_utils}/_<name>.py`` by ``tests/unit/plugins/<dir>/test_<name>.py``.
A test file named after nothing in plugins/ fails too (the helpers that build hosts live in
``tests/unit/helpers/``), except the property tests: ``test_properties_<what>.py`` runs
generated input through several modules at once.
"""

from __future__ import annotations

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIRRORED = ('filter', 'plugin_utils', 'module_utils', 'modules')


def _python_files(directory):
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith('.py') and name != '__init__.py')


def _expected_test(kind, name):
    return 'test_%s' % (name[1:] if kind in ('plugin_utils', 'module_utils') else name)


@pytest.mark.parametrize('kind', MIRRORED)
def test_every_test_file_is_named_after_a_plugin_file(kind):
    plugins = _python_files(os.path.join(REPO, 'plugins', kind))
    expected = set(_expected_test(kind, name) for name in plugins)
    tests = _python_files(os.path.join(REPO, 'tests', 'unit', 'plugins', kind))
    assert tests, 'no test file under tests/unit/plugins/%s' % kind
    assert [name for name in tests if name not in expected and not name.startswith('test_properties_')] == []


@pytest.mark.parametrize('kind', MIRRORED[:3])
def test_every_filter_and_util_module_has_its_test_file(kind):
    plugins = _python_files(os.path.join(REPO, 'plugins', kind))
    assert plugins
    tests = set(_python_files(os.path.join(REPO, 'tests', 'unit', 'plugins', kind)))
    assert [name for name in plugins if _expected_test(kind, name) not in tests] == []
