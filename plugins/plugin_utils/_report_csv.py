# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the report model as CSV: one row per directed host pair.

Columns: source, destination, compatible, source_class, destination_class, reasons.
``compatible`` is ``true``/``false``; ``reasons`` joins the engine's reasons with " | ".
Strings that came from hosts are neutralised against spreadsheet formula injection:
a cell that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a leading apostrophe
(the OWASP recommendation), and the csv module quotes what needs quoting.
"""

from __future__ import annotations

import csv
import io

from ansible_collections.vfio.migration.plugins.plugin_utils._report_model import PairIndex

COLUMNS = ('source', 'destination', 'compatible', 'source_class', 'destination_class', 'reasons')
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def cell(value):
    """One CSV cell, safe to open in a spreadsheet."""
    text = '' if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def render_csv(model):
    """Return the CSV text (str, header included, ``\\n`` line ends)."""
    class_of = dict((h['name'], h['class']) for h in model['hosts'])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(COLUMNS)
    rows = []
    for pair in PairIndex(model):
        rows.append((
            cell(pair['source']), cell(pair['destination']),
            'true' if pair['compatible'] else 'false',
            cell(class_of.get(pair['source'])), cell(class_of.get(pair['destination'])),
            cell(' | '.join(pair['reasons'])),
        ))
        if len(rows) >= 4096:
            writer.writerows(rows)
            rows = []
    writer.writerows(rows)
    return out.getvalue()
