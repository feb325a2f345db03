# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Render the report model as CSV: a host-to-class table and the class pairs, in one file.

A fleet of n hosts has n x (n - 1) directed host pairs (about 4 million at 2,000 hosts, past
the 1,048,576 rows of a spreadsheet), but hosts of one compatibility class share every
verdict. So the file holds sections, each a title row (one cell), a header row, its rows
and a blank row:

``hosts``
    ``host, class, devices, devices_in_use, evacuable, destinations``: one row per host.
``class pairs``
    ``source_class, destination_class, compatible, host_pairs, rules, reasons``: one row per
    directed class pair, ``host_pairs`` being how many directed host pairs it stands for.
``host pairs that differ from their class pair``
    ``source, destination, compatible, rules, reasons``: only when the model lists host pairs
    one by one and some verdict is not the one of its class pair (absent otherwise).

The verdict for host A -> host B is the ``class pairs`` row of (class of A, class of B). With
n hosts in k classes the file has n + k x k + 5 rows. ``compatible`` is ``true``/``false``;
``rules`` names the rules that refused (joined with "; ") and ``reasons`` joins the reasons
with " | ". Every pair stays in the JSON report (``pairs``, or ``class_matrix`` with each
host's ``class``).
Strings that came from hosts are neutralised against spreadsheet formula injection:
a cell that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a leading apostrophe
(the OWASP recommendation), and the csv module quotes what needs quoting.
"""

from __future__ import annotations

import csv
import io

HOST_COLUMNS = ('host', 'class', 'devices', 'devices_in_use', 'evacuable', 'destinations')
CLASS_PAIR_COLUMNS = ('source_class', 'destination_class', 'compatible', 'host_pairs', 'rules', 'reasons')
HOST_PAIR_COLUMNS = ('source', 'destination', 'compatible', 'rules', 'reasons')
SECTIONS = ('hosts', 'class pairs', 'host pairs that differ from their class pair')
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def cell(value):
    """One CSV cell, safe to open in a spreadsheet."""
    text = '' if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _flag(value):
    return 'true' if value else 'false'


def _verdict_cells(entry):
    """compatible, rules and reasons of a class or host pair."""
    return [_flag(entry['compatible']), cell('; '.join(entry['rules'])), cell(' | '.join(entry['reasons']))]


def _host_rows(model):
    for host in model['hosts']:
        evacuation = host['evacuation']
        yield [cell(host['name']), cell(host['class']), len(host['devices']),
               sum(1 for d in host['devices'] if d['in_use']), _flag(evacuation['evacuable']),
               evacuation.get('destinations', '')]


def _class_pair_rows(model):
    size = dict((c['id'], len(c['hosts'])) for c in model['classes'])
    for entry in model['class_matrix']:
        src, dst = entry['source'], entry['destination']
        host_pairs = size.get(src, 0) * (size.get(dst, 0) - (src == dst))
        verdict = _verdict_cells(entry)
        yield [cell(src), cell(dst), verdict[0], host_pairs] + verdict[1:]


def _differing_host_pair_rows(model):
    """Host pairs whose verdict is not their class pair's (only from per-pair overrides)."""
    class_of = dict((h['name'], h['class']) for h in model['hosts'])
    by_class = dict(((c['source'], c['destination']), c) for c in model['class_matrix'])
    for pair in model.get('pairs') or []:
        entry = by_class.get((class_of.get(pair['source']), class_of.get(pair['destination'])))
        if entry is None or any(pair[key] != entry[key] for key in ('compatible', 'rules', 'reasons')):
            yield [cell(pair['source']), cell(pair['destination'])] + _verdict_cells(pair)


def render_csv(model):
    """Return the CSV text (str, ``\\n`` line ends): the sections described above."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    sections = [(SECTIONS[0], HOST_COLUMNS, list(_host_rows(model))),
                (SECTIONS[1], CLASS_PAIR_COLUMNS, list(_class_pair_rows(model)))]
    differing = list(_differing_host_pair_rows(model))
    if differing:
        sections.append((SECTIONS[2], HOST_PAIR_COLUMNS, differing))
    for index, (title, columns, rows) in enumerate(sections):
        if index:
            writer.writerow([])
        writer.writerow([title])
        writer.writerow(columns)
        writer.writerows(rows)
    return out.getvalue()
