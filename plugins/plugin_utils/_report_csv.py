# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the report model as CSV: one row per directed host pair.

Columns: source, destination, compatible, source_class, destination_class, rules, reasons.
``compatible`` is ``true``/``false``; ``rules`` names the rules that refused (joined with
"; ") and ``reasons`` joins the reasons with " | " when the model lists host pairs one by one
(``pairs``). Otherwise both are empty: a large fleet's n x (n - 1) rows would each repeat
text that is the same for every host pair of a class pair (see the JSON ``class_matrix``,
reached through the two class columns).
Strings that came from hosts are neutralised against spreadsheet formula injection:
a cell that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a leading apostrophe
(the OWASP recommendation), and the csv module quotes what needs quoting.
"""

from __future__ import annotations

import csv
import io

COLUMNS = ('source', 'destination', 'compatible', 'source_class', 'destination_class', 'rules', 'reasons')
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def cell(value):
    """One CSV cell, safe to open in a spreadsheet."""
    text = '' if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _row_text(values):
    out = io.StringIO()
    csv.writer(out, lineterminator='\n').writerow(values)
    return out.getvalue()


def render_csv(model):
    """Return the CSV text (str, header included, ``\\n`` line ends).

    Built row by row from per-host and per-class-pair pieces quoted once each, since a
    fleet of n hosts has n x (n - 1) rows.
    """
    parts = [_row_text(COLUMNS)]
    if model.get('pairs') is not None:
        class_of = dict((h['name'], h['class']) for h in model['hosts'])
        for pair in model['pairs']:
            parts.append(_row_text((
                cell(pair['source']), cell(pair['destination']), 'true' if pair['compatible'] else 'false',
                cell(class_of.get(pair['source'])), cell(class_of.get(pair['destination'])),
                cell('; '.join(pair['rules'])), cell(' | '.join(pair['reasons'])))))
        return ''.join(parts)
    names = [h['name'] for h in model['hosts']]
    class_of = dict((h['name'], h['class']) for h in model['hosts'])
    quoted = dict((n, _row_text([cell(n)])[:-1]) for n in names)
    tails = {}
    for entry in model['class_matrix']:
        tails[(entry['source'], entry['destination'])] = ',' + _row_text((
            'true' if entry['compatible'] else 'false', cell(entry['source']), cell(entry['destination']), '', ''))
    for source in names:
        head = quoted[source] + ','
        source_class = class_of[source]
        parts.append(''.join(head + quoted[d] + tails[(source_class, class_of[d])]
                             for d in names if d != source))
    return ''.join(parts)
