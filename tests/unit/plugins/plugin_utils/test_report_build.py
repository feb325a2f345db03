# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_report_build: the steps behind the report_model and report_render filters."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ReportError
from ansible_collections.vfio.migration.plugins.plugin_utils._report_build import build_report, render_report
from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import fleet


def test_build_from_hostvars_lists_hosts_without_facts():
    hostvars = dict((name, {'ansible_facts': {'vfio': facts}}) for name, facts in fleet().items())
    hostvars['nofacts'] = {}
    model = build_report(hostvars, hosts=sorted(hostvars), evacuation=False)
    assert model['summary']['hosts'] == len(fleet())
    assert model['summary']['hosts_without_facts'] == ['nofacts']


def test_bad_input_and_bad_models_are_report_errors():
    with pytest.raises(ReportError, match='the input must be a dictionary of host name -> vfio facts, got list'):
        build_report([])
    with pytest.raises(ReportError, match='matrix_max_hosts must be a non-negative integer'):
        render_report({}, 'html', matrix_max_hosts=-1)
    with pytest.raises(ReportError, match='make it with vfio.migration.report_model'):
        render_report({'report_version': 1}, 'summary')
