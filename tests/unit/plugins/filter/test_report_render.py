# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The report_render filter: a report model (or its JSON text) in, the document of one format out."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.filter.report_render import report_render
from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import model


def test_every_format_renders_and_json_text_is_accepted():
    report = model()
    assert json.loads(report_render(report, 'json')) == json.loads(json.dumps(report))
    assert report_render(report, 'summary').startswith(report_render(report_render(report, 'json'), 'summary'))
    assert report_render(report, 'html').lstrip().lower().startswith('<!doctype html>')


@pytest.mark.parametrize('args, kwargs, message', [
    (({'summary': {}}, 'html'), {}, 'vfio.migration.report_render: the input is not a report model'),
    ((None, 'pdf'), {}, 'vfio.migration.report_render: '),
    ((None, 'csv'), {'matrix_max_hosts': -1}, 'matrix_max_hosts must be a non-negative integer'),
])
def test_errors_are_filter_errors(args, kwargs, message):
    if args[0] is None:
        args = (model(),) + args[1:]
    with pytest.raises(AnsibleFilterError, match=message):
        report_render(*args, **kwargs)
