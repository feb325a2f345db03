# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: report_render
short_description: Render a fleet compatibility report as JSON, CSV, Markdown, HTML or a terminal summary
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Turns the model made by P(vfio.migration.report_model#filter) into the text of one report
    file. The C(vfio.migration.report) role writes each format with it.
  - V(json) is the model itself with sorted keys and two-space indentation (stable keys,
    byte-identical output for identical input).
  - V(csv) is one file a spreadsheet opens at fleet scale, in sections (a title row, a header
    row, the rows, a blank row). C(hosts) has one row per host (C(host), C(class), C(devices),
    C(devices_in_use), C(evacuable), C(destinations)); C(class pairs) has one row per directed
    pair of compatibility classes (C(source_class), C(destination_class), C(compatible),
    C(host_pairs), C(rules) joined with C(; ), C(reasons) joined with C( | )). The verdict of
    host A to host B is the row of their classes. A third section, C(host pairs that differ from
    their class pair), appears only when the model lists host pairs and one differs from its
    class pair. n hosts in k classes give n + k x k + 5 rows; every host pair stays in the JSON.
    A cell that would start a spreadsheet formula (C(=), C(+), C(-), C(@), TAB, CR) gets a
    leading apostrophe.
  - V(markdown) is readable in a terminal and renders in a wiki; values are escaped for Markdown
    and for HTML.
  - V(html) is one self-contained page (inline CSS and JavaScript pinned by a
    Content-Security-Policy with their hashes; nothing loaded from elsewhere) with the matrix
    coloured by verdict, the reasons of a red cell on hover or click, the compatibility
    classes, per-host device and capacity tables and the hosts that cannot be evacuated. Every
    value is HTML-escaped.
  - V(summary) is a few lines for the play output.
positional: _input, format
options:
  _input:
    description:
      - The report model returned by P(vfio.migration.report_model#filter), or its JSON text
        as this filter renders it with V(json) (cheaper to keep in a variable, since Ansible passes a
        string along without walking it).
    type: raw
    required: true
  format:
    description: The format to render.
    type: str
    required: true
    choices: [json, csv, markdown, html, summary]
  matrix_max_hosts:
    description:
      - V(markdown) and V(html) draw the host x host matrix up to this many hosts and the
        class x class matrix above.
    type: int
    default: 60
  title:
    description: Title of the V(markdown) and V(html) documents.
    type: str
    default: VFIO live-migration compatibility report
"""

EXAMPLES = r"""
- name: Write the HTML report
  ansible.builtin.copy:
    content: "{{ model | vfio.migration.report_render('html') }}"
    dest: /srv/reports/vfio.html
    mode: "0644"
  delegate_to: localhost
  run_once: true
  vars:
    model: "{{ facts_by_host | vfio.migration.report_model(hosts_without_facts=[]) }}"

- name: Print the summary
  ansible.builtin.debug:
    msg: "{{ model | vfio.migration.report_render('summary') }}"
"""

RETURN = r"""
_value:
  description: The rendered document (ending with a newline).
  type: str
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import LAZY, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._report_build import render_report

# a model is rendered as given (it can be large); its JSON text is a string anyway
_GATEWAY = Gateway('report_render', DOCUMENTATION, kinds={'_input': LAZY})


def report_render(model, format, matrix_max_hosts=60, title='VFIO live-migration compatibility report'):  # pylint: disable=redefined-builtin
    return _GATEWAY.run(render_report, model, format, matrix_max_hosts=matrix_max_hosts, title=title)


class FilterModule(object):
    def filters(self):
        return {'report_render': report_render}
