# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""One entry point for every output format of the report model."""

from __future__ import annotations

import json

from ansible_collections.vfio.migration.plugins.plugin_utils._report_csv import render_csv
from ansible_collections.vfio.migration.plugins.plugin_utils._report_html import render_html
from ansible_collections.vfio.migration.plugins.plugin_utils._report_markdown import render_markdown
from ansible_collections.vfio.migration.plugins.plugin_utils._report_model import REPORT_VERSION, check_model, plain

FORMATS = ('json', 'csv', 'markdown', 'html', 'summary')


def render_json(model):
    return json.dumps(plain(model), indent=2, sort_keys=True, ensure_ascii=False) + '\n'


def _some(names, limit=20):
    return ', '.join(names[:limit]) + (' ...' if len(names) > limit else '')


def render_summary(model):
    s = model['summary']
    lines = ['%d hosts, %d compatibility classes, %d of %d directed host pairs compatible.'
             % (s['hosts'], s['classes'], s['compatible_pairs'], s['pairs'])]
    lines.append('%d of %d assigned devices in use.' % (s['devices_in_use'], s['devices']))
    if s['hosts_not_evacuable']:
        lines.append('Cannot be evacuated (%d): %s' % (len(s['hosts_not_evacuable']), _some(s['hosts_not_evacuable'])))
    else:
        lines.append('Every host can be evacuated.')
    if s['hosts_without_facts']:
        missing = s['hosts_without_facts']
        lines.append('Without facts, left out (%d): %s' % (len(missing), _some(missing)))
    return '\n'.join(lines) + '\n'


def render(model, fmt, matrix_max_hosts=60, title='VFIO live-migration compatibility report'):
    """Render ``model`` (the model, or its JSON text as rendered here) in format ``fmt``."""
    text = None
    if isinstance(model, str):
        text = str.__str__(model)
        try:
            model = json.loads(text)
        except ValueError as exc:
            raise ValueError('the input text is not the JSON of a report model: %s' % exc)
    check_model(model)
    if fmt == 'json':
        return text if text is not None and text.endswith('\n') else render_json(model)
    if fmt == 'csv':
        return render_csv(model)
    if fmt == 'markdown':
        return render_markdown(model, matrix_max_hosts=matrix_max_hosts, title=title)
    if fmt == 'html':
        return render_html(model, matrix_max_hosts=matrix_max_hosts, title=title)
    if fmt == 'summary':
        return render_summary(model)
    raise ValueError('unknown report format %r' % (fmt,))


__all__ = ['FORMATS', 'REPORT_VERSION', 'render']
