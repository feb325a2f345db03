# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Render the report model as Markdown (GitHub-flavoured tables), readable in a terminal.

Strings from hosts are escaped for Markdown *and* for the HTML a wiki renders it to:
``&``, ``<`` and ``>`` become entities, Markdown punctuation is backslash-escaped, line
breaks become spaces, so a value can neither open a tag nor break a table row.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._reasons import and_more
from ansible_collections.vfio.migration.plugins.plugin_utils._report_model import PairIndex

# Characters that mean something inside a line (values never start a line: tables, headings
# and list items put text before them), so '.', '-', '#' and '+' can stay as they are.
_MD_SPECIAL = '\\`*_[]|~'


def md(value):
    """Escape one value for a Markdown table cell or paragraph."""
    if value is None:
        return ''
    text = ' '.join(str(value).split())
    out = []
    for char in text:
        if char == '&':
            out.append('&amp;')
        elif char == '<':
            out.append('&lt;')
        elif char == '>':
            out.append('&gt;')
        elif char in _MD_SPECIAL:
            out.append('\\' + char)
        else:
            out.append(char)
    return ''.join(out)


def _table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for column in header) + '|']
    for row in rows:
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines


def _header_lines(model, title):
    """Title, where the facts came from, and the summary counts."""
    s = model['summary']
    lines = ['# ' + title, '']
    meta = '%d hosts from %s facts' % (s['hosts'], md(model['facts_source']))
    if model.get('generated_at'):
        meta += ', generated %s' % md(model['generated_at'])
    if model.get('rules'):
        meta += ', rules: %s' % ', '.join(md(r) for r in model['rules'])
    lines += [meta + '.', '']
    lines += [
        '- **%d / %d** directed host pairs compatible' % (s['compatible_pairs'], s['pairs']),
        '- **%d** compatibility classes' % s['classes'],
        '- **%d / %d** assigned devices in use' % (s['devices_in_use'], s['devices']),
        '- **%d** hosts cannot be evacuated' % len(s['hosts_not_evacuable']),
    ]
    if s['hosts_without_facts']:
        lines.append('- **%d** hosts without facts (left out): %s'
                     % (len(s['hosts_without_facts']), ', '.join(md(n) for n in s['hosts_without_facts'])))
    lines.append('')
    return lines


def _mark(pair):
    return '?' if pair is None else ('\u2713' if pair['compatible'] else '\u2717')


def _host_matrix_lines(model):
    """The host x host matrix, then every incompatible host pair with its reasons."""
    index = PairIndex(model)
    names = [h['name'] for h in model['hosts']]
    lines = ['## Host matrix (source row \u2192 destination column)', '',
             '`\u2713` compatible, `\u2717` incompatible (reasons below), `\u2014` same host. '
             'Columns are numbered like the rows.', '']
    rows = []
    for i, src in enumerate(names, 1):
        rows.append(['%d. %s' % (i, md(src))] + ['\u2014' if src == dst else _mark(index.get(src, dst))
                                                 for dst in names])
    lines += _table(['source \u2193 / destination \u2192'] + [str(i) for i in range(1, len(names) + 1)], rows)
    lines += ['', '### Incompatible pairs', '']
    bad = [p for p in index if p is not None and not p['compatible']]
    for pair in bad:
        why = '; '.join(md(r) for r in pair['reasons']) or 'no reason recorded'
        lines.append('- **%s \u2192 %s**: %s' % (md(pair['source']), md(pair['destination']), why))
    if not bad:
        lines.append('None.')
    lines.append('')
    return lines


def _class_matrix_lines(model, matrix_max_hosts):
    """The class x class matrix, then every incompatible class pair with its reasons."""
    lines = ['## Class matrix (source row \u2192 destination column)', '',
             '%d hosts are more than %d: verdicts are shown between compatibility classes.'
             % (len(model['hosts']), matrix_max_hosts), '']
    ids = [c['id'] for c in model['classes']]
    verdicts = dict(((c['source'], c['destination']), c) for c in model['class_matrix'])
    rows = [[md(src)] + [_mark(verdicts.get((src, dst))) for dst in ids] for src in ids]
    lines += _table(['source \u2193 / destination \u2192'] + [md(i) for i in ids], rows)
    lines += ['', '### Incompatible class pairs', '']
    for pair in model['class_matrix']:
        if not pair['compatible']:
            why = '; '.join(md(r) for r in pair['reasons'])
            lines.append('- **%s \u2192 %s**: %s' % (md(pair['source']), md(pair['destination']), why))
    lines.append('')
    return lines


def _not_evacuable_lines(hosts):
    """One table row per device that cannot leave its host."""
    lines = ['## Hosts that cannot be evacuated', '']
    blocked_rows = []
    for host in hosts:
        if host['evacuation']['evacuable']:
            continue
        for b in host['evacuation']['blocked'] or [{'device': '', 'vm': None, 'type': None, 'reasons': []}]:
            blocked_rows.append([md(host['name']), md(b.get('device')), md(b.get('vm')), md(b.get('type')),
                                 '; '.join(md(r) for r in b.get('reasons') or [])])
    if blocked_rows:
        lines += _table(['Host', 'Device', 'VM', 'Type', 'Why it cannot move'], blocked_rows)
    else:
        lines.append('None: every in-use device has a compatible destination with capacity.')
    lines.append('')
    return lines


def _offer_text(offer):
    """One entry of a class profile: type, driver, version and how many."""
    return '%s%s%s %s' % (
        md(offer['type']), (' ' + md(offer['driver'])) if offer['driver'] else '',
        (' v' + md(offer['software_version'])) if offer['software_version'] else '',
        ('(%d creatable)' % offer['count']) if offer['kind'] == 'mdev_type' else ('\u00d7%d' % offer['count']))


def _class_table_lines(classes):
    """Each compatibility class: its hosts (the first 20) and what it offers."""
    rows = []
    for c in classes:
        shown = and_more([md(n) for n in c['hosts'][:20]], limit=None, total=len(c['hosts']))
        rows.append([md(c['id']), shown, '; '.join(_offer_text(p) for p in c['profile']) or 'no assignable devices'])
    return ['## Compatibility classes', ''] + _table(['Class', 'Hosts', 'Offers'], rows) + ['']


def _device_row(dev):
    capable = {True: 'capable', False: 'not capable'}.get(dev['migration_capable'], 'unknown')
    user = ''
    if dev['in_use']:
        user = md(dev['in_use']['vm']) if dev['in_use']['vm'] is not None else 'pid %s' % md(dev['in_use']['pid'])
    version = md(dev['software_version'])
    if dev['software_version_source']:
        version += ' (%s)' % md(dev['software_version_source'])
    return [md(dev['id']), md(dev['kind']), md(dev['type']), md(dev['driver']), version, capable, user]


def _host_section_lines(host):
    """One host: class, kernel, devices, mdev and SR-IOV capacity, warnings."""
    lines = ['### %s' % md(host['name']), '',
             'Class %s, kernel %s, %d devices (%d in use)%s.' % (
                 md(host['class']), md(host['kernel_release'] or 'unknown'), len(host['devices']),
                 sum(1 for d in host['devices'] if d['in_use']),
                 '' if host['evacuation']['evacuable'] else ', **cannot be evacuated**'), '']
    if host['devices']:
        lines += _table(['Device', 'Kind', 'Type', 'Driver', 'Version', 'Migration', 'In use by'],
                        [_device_row(d) for d in host['devices']])
        lines.append('')
    if host['capacity']['mdev_types']:
        lines += _table(['Parent', 'mdev type', 'Name', 'Available'],
                        [[md(t['parent']), md(t['type']), md(t['name']), md(t['available_instances'])]
                         for t in host['capacity']['mdev_types']])
        lines.append('')
    if host['capacity']['sriov']:
        lines += _table(['PF', 'Device', 'Driver', 'VFs created / total', 'VFs still possible'],
                        [[md(v['pf']), md(v['vendor_device']), md(v['driver']),
                          '%s / %s' % (md(v['numvfs']), md(v['totalvfs'])), md(v['free_vfs'])]
                         for v in host['capacity']['sriov']])
        lines.append('')
    for w in host['warnings']:
        lines.append('- warning: %s' % md(w))
    if host['warnings']:
        lines.append('')
    return lines


def render_markdown(model, matrix_max_hosts=60, title='VFIO live-migration compatibility report'):
    """Return the Markdown text (str)."""
    lines = _header_lines(model, title)
    if len(model['hosts']) <= matrix_max_hosts:
        lines += _host_matrix_lines(model)
    else:
        lines += _class_matrix_lines(model, matrix_max_hosts)
    lines += _not_evacuable_lines(model['hosts'])
    lines += _class_table_lines(model['classes'])
    lines += ['## Hosts', '']
    for host in model['hosts']:
        lines += _host_section_lines(host)
    return '\n'.join(lines).rstrip('\n') + '\n'
