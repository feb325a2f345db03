# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Render the report model as one self-contained HTML page.

The page has no external asset: CSS and JavaScript are inline and pinned by a
Content-Security-Policy with their SHA-256 hashes, so that even a string that escaped
escaping could not run a script. Every value is escaped by Jinja2's autoescape (a
private Environment, not Ansible's templar, which does not honour autoescape).
The script only reads the DOM and writes with ``textContent`` / ``cloneNode``.
"""

from __future__ import annotations

import base64
import hashlib

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from ansible_collections.vfio.migration.plugins.plugin_utils._report_model import PairIndex

CSS = """
:root{--ok:#1b7f3b;--ok-bg:#d7f0dd;--bad:#b3261e;--bad-bg:#fbd9d6;--self:#9e9e9e;--self-bg:#eeeeee;
--ink:#1d2330;--muted:#5c6475;--line:#d9dde5;--accent:#2a5bd7;--panel:#f6f7fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:#fff}
header{padding:18px 28px 10px;border-bottom:1px solid var(--line);background:var(--panel)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:15px;margin:16px 0 6px}
.meta{color:var(--muted);margin:0}
main{padding:0 28px 40px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px;background:#fff}
.card b{display:block;font-size:22px}.card span{color:var(--muted)}
.card.alert{border-color:var(--bad);background:var(--bad-bg)}
table{border-collapse:collapse}
table.data{width:100%;margin:6px 0 12px}
table.data th,table.data td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
table.data th{background:var(--panel);font-weight:600}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px}
.matrix-layout{display:flex;gap:20px;align-items:flex-start;flex-wrap:wrap}
.matrix-wrap{overflow:auto;max-width:100%;border:1px solid var(--line);border-radius:6px}
table.matrix th,table.matrix td{border:1px solid #fff;padding:0}
table.matrix thead th{background:var(--panel);font-weight:600;vertical-align:bottom;padding:6px 2px}
table.matrix thead th.col span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:inline-block;
max-height:180px;overflow:hidden;text-overflow:ellipsis}
table.matrix tbody th{background:var(--panel);text-align:right;padding:2px 8px;white-space:nowrap;font-weight:600}
table.matrix td.cell{width:30px;min-width:30px;height:28px;text-align:center;cursor:default;font-weight:700}
td.ok{background:var(--ok-bg);color:var(--ok)}
td.bad{background:var(--bad-bg);color:var(--bad);cursor:pointer}
td.self{background:var(--self-bg);color:var(--self)}
td.cell:focus{outline:3px solid var(--accent);outline-offset:-3px}
td.hl,th.hl{box-shadow:inset 0 0 0 2px rgba(42,91,215,.35)}
td.pinned{outline:3px solid var(--ink);outline-offset:-3px}
.corner{font-size:11px;color:var(--muted);font-weight:400;text-align:left;padding:4px 8px}
#detail{flex:1 1 320px;min-width:300px;max-width:560px;border:1px solid var(--line);border-radius:8px;padding:12px 16px;
background:var(--panel);position:sticky;top:10px}
#detail h3{margin-top:0}
#detail .verdict{display:inline-block;border-radius:4px;padding:1px 8px;font-weight:700}
#detail .verdict.ok{background:var(--ok-bg);color:var(--ok)}#detail .verdict.bad{background:var(--bad-bg);color:var(--bad)}
#detail ul{padding-left:20px;margin:8px 0 0}#detail li{margin:4px 0;word-break:break-word}
.legend{color:var(--muted)}.legend i{display:inline-block;width:14px;height:14px;vertical-align:-2px;margin:0 4px 0 10px;border-radius:3px}
.legend i.ok{background:var(--ok-bg);border:1px solid var(--ok)}.legend i.bad{background:var(--bad-bg);border:1px solid var(--bad)}
.legend i.self{background:var(--self-bg);border:1px solid var(--self)}
details#incompatible-pairs-list>summary{cursor:pointer;font-weight:600;margin:14px 0 6px}
details.host{border:1px solid var(--line);border-radius:6px;margin:8px 0;padding:0 12px}
details.host>summary{cursor:pointer;padding:8px 0;font-weight:600}
details.host>summary .muted{font-weight:400}
.muted{color:var(--muted)}.yes{color:var(--ok);font-weight:600}.no{color:var(--bad);font-weight:600}
.pill{display:inline-block;border-radius:10px;padding:0 8px;background:var(--panel);border:1px solid var(--line);margin:1px 2px;font-size:12px}
.reasons-src{display:none}
.empty{color:var(--muted);font-style:italic}
"""

JS = """
(function () {
  'use strict';
  var panel = document.getElementById('detail');
  if (!panel) { return; }
  var title = document.getElementById('detail-title');
  var verdict = document.getElementById('detail-verdict');
  var body = document.getElementById('detail-reasons');
  var pinned = null;
  function highlight(cell, on) {
    var row = cell.parentNode;
    var col = cell.cellIndex;
    var table = row.parentNode.parentNode;
    var head = table.tHead.rows[0].cells[col];
    if (head) { head.classList.toggle('hl', on); }
    if (row.cells[0]) { row.cells[0].classList.toggle('hl', on); }
  }
  function show(cell) {
    title.textContent = cell.getAttribute('data-src') + ' \\u2192 ' + cell.getAttribute('data-dst');
    var bad = cell.classList.contains('bad');
    verdict.textContent = bad ? 'incompatible' : (cell.classList.contains('ok') ? 'compatible' : 'same host');
    verdict.className = 'verdict ' + (bad ? 'bad' : 'ok');
    while (body.firstChild) { body.removeChild(body.firstChild); }
    var ref = cell.getAttribute('data-reasons');
    var source = ref ? document.getElementById(ref) : null;
    if (source) {
      var items = source.querySelectorAll('li');
      for (var i = 0; i < items.length; i++) { body.appendChild(items[i].cloneNode(true)); }
    } else {
      var li = document.createElement('li');
      li.className = 'empty';
      li.textContent = bad ? 'no reason recorded' : 'every in-use device has a compatible destination';
      body.appendChild(li);
    }
    panel.setAttribute('data-src', cell.getAttribute('data-src'));
    panel.setAttribute('data-dst', cell.getAttribute('data-dst'));
  }
  var cells = document.querySelectorAll('td.cell');
  for (var i = 0; i < cells.length; i++) {
    (function (cell) {
      cell.addEventListener('mouseenter', function () { highlight(cell, true); if (!pinned) { show(cell); } });
      cell.addEventListener('mouseleave', function () { highlight(cell, false); });
      cell.addEventListener('focus', function () { show(cell); });
      cell.addEventListener('click', function () {
        if (pinned) { pinned.classList.remove('pinned'); }
        pinned = (pinned === cell) ? null : cell;
        if (pinned) { cell.classList.add('pinned'); }
        show(cell);
      });
      cell.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); cell.click(); }
      });
    })(cells[i]);
  }
})();
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src '{{ css_hash }}'; script-src '{{ js_hash }}'; img-src data:; {#
#}base-uri 'none'; form-action 'none'">
<meta name="generator" content="vfio.migration.report (report_version {{ m.report_version }})">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p class="meta">{{ s.hosts }} hosts from {{ m.facts_source }} facts{% if m.generated_at %} · generated {{ m.generated_at }}{% endif %}{% if m.rules %} {#
#}· rules: {{ m.rules | join(', ') }}{% endif %}</p>
</header>
<main>
<section id="summary" class="cards">
<div class="card"><b id="count-hosts">{{ s.hosts }}</b><span>hosts with facts</span></div>
<div class="card"><b id="count-classes">{{ s.classes }}</b><span>compatibility classes</span></div>
<div class="card"><b id="count-compatible">{{ s.compatible_pairs }} / {{ s.pairs }}</b><span>directed pairs compatible</span></div>
<div class="card"><b>{{ s.devices_in_use }} / {{ s.devices }}</b><span>assigned devices in use</span></div>
<div class="card{% if s.hosts_not_evacuable %} alert{% endif %}"><b id="count-not-evacuable">{{ s.hosts_not_evacuable | length }}</b><span>hosts {#
#}that cannot be evacuated</span></div>
{% if s.hosts_without_facts %}<div class="card alert"><b>{{ s.hosts_without_facts | length }}</b><span>hosts without facts</span></div>{% endif %}
</section>

<section id="matrix">
<h2>{{ 'Host' if host_matrix else 'Class' }} &times; {{ 'host' if host_matrix else 'class' }} compatibility</h2>
<p class="legend">Rows are sources, columns destinations; a cell says whether every in-use device of the source could live-migrate to the destination.
<i class="ok"></i>compatible<i class="bad"></i>incompatible (click or hover for {#
#}the reasons){% if host_matrix %}<i class="self"></i>same host{% else %} (a class's own cell is between different hosts of that class){% endif %}</p>{#
#}
{% if not host_matrix %}<p class="muted">{{ s.hosts }} hosts are more than the {{ matrix_max_hosts }} shown host by host: the matrix is drawn {#
#}between compatibility classes (hosts with identical offers share a verdict); find each host's class below.</p>{% endif %}
<div class="matrix-layout">
<div class="matrix-wrap">
<table class="matrix" id="{{ 'host-matrix' if host_matrix else 'class-matrix' }}">
<thead><tr><th class="corner">source &darr; / destination &rarr;</th>{% for c in axis %}<th class="col" scope="col" title="{{ c.title }}"><span>{#
#}{{ c.label }}</span></th>{% endfor %}</tr></thead>
<tbody>
{% for r in rows %}<tr><th scope="row" title="{{ r.title }}">{{ r.label }}</th>{% for c in r.cells %}<td class="cell {{ c.css }}" tabindex="0" {#
#}data-src="{{ c.src }}" data-dst="{{ c.dst }}"{% if c.ref %} data-reasons="{{ c.ref }}"{% endif %} title="{{ c.tip }}">{{ c.mark }}</td>{% endfor %}</tr>{#
#}
{% endfor %}
</tbody>
</table>
</div>
<aside id="detail" aria-live="polite">
<h3 id="detail-title">Select a cell</h3>
<span id="detail-verdict" class="verdict"></span>
<ul id="detail-reasons"><li class="empty">Click or hover a red cell to see why that migration would fail.</li></ul>
</aside>
</div>
<div class="reasons-src">
{% for ref, reasons in reason_sets %}<ul id="{{ ref }}">{% for r in reasons %}<li>{{ r }}</li>{% endfor %}</ul>
{% endfor %}
</div>
{% if host_matrix and incompatible %}
<details id="incompatible-pairs-list">
<summary>All {{ incompatible | length }} incompatible host pairs with their reasons</summary>
<table class="data" id="incompatible-pairs">
<thead><tr><th>Source</th><th>Destination</th><th>Why</th></tr></thead>
<tbody>
{% for p in incompatible %}<tr><td>{{ p.source }}</td><td>{{ p.destination }}</td><td><ul>{% for r in p.reasons %}<li>{{ r }}</li>{% endfor %}</ul>{#
#}</td></tr>
{% endfor %}
</tbody>
</table>
</details>
{% endif %}
</section>

<section id="evacuation">
<h2>Hosts that cannot be evacuated</h2>
{% if s.hosts_not_evacuable %}
<p>These hosts run VMs with assigned devices that no other host in the report can take, even when the VMs are spread over several destinations. {#
#}Draining them for maintenance means stopping those VMs.</p>
<table class="data" id="evacuation-table">
<thead><tr><th>Host</th><th>Device</th><th>VM</th><th>Type</th><th>Why it cannot move</th></tr></thead>
<tbody>
{% for h in m.hosts if not h.evacuation.evacuable %}{% for b in h.evacuation.blocked %}
<tr><td>{{ h.name }}</td><td class="mono">{{ b.device }}</td><td>{{ b.vm if b.vm is not none else '' }}</td>{#
#}<td class="mono">{{ b.type if b.type is not none else '' }}</td>{#
#}<td><ul>{% for r in b.reasons %}<li>{{ r }}</li>{% endfor %}</ul></td></tr>
{% else %}
<tr><td>{{ h.name }}</td><td colspan="4" class="empty">no destination for its devices</td></tr>
{% endfor %}{% endfor %}
</tbody>
</table>
{% else %}
<p class="empty">Every host can be evacuated: each in-use device has a compatible destination with capacity.</p>
{% endif %}
{% if s.hosts_without_facts %}
<h3>Hosts without facts</h3>
<p>No VFIO facts were found for these hosts (not gathered, unreachable, or missing {#
#}from the fact cache); they are left out of the matrix: {% for n in s.hosts_without_facts %}<span {#
#}class="pill">{{ n }}</span>{% endfor %}</p>
{% endif %}
</section>

<section id="classes">
<h2>Compatibility classes</h2>
<p class="muted">Hosts in one class offer identical devices and capacity, so they share every verdict.</p>
<table class="data" id="class-table">
<thead><tr><th>Class</th><th>Hosts</th><th>Offers</th></tr></thead>
<tbody>
{% for c in m.classes %}<tr><td><b>{{ c.id }}</b></td><td>{% for n in c.hosts[:class_hosts_max] %}<span {#
#}class="pill">{{ n }}</span>{% endfor %}{% if c.hosts | length > class_hosts_max %} {#
#}<span class="muted">and {{ c.hosts | length - class_hosts_max }} more</span>{% endif %}</td>
<td>{% for p in c.profile %}<div><span class="mono">{{ p.type }}</span>{% if p.driver %} &middot; {{ p.driver }}{% endif %}{% if p.software_version %} {#
#}&middot; v{{ p.software_version }}{% endif %} <span class="muted">{% if p.kind == 'mdev_type' %}{{ p.count }} creatable{% else %}&times;{{ p.count }} {#
#}{{ p.kind }}{% endif %}</span></div>{% else %}<span class="empty">no assignable devices</span>{% endfor %}</td></tr>
{% endfor %}
</tbody>
</table>
</section>

<section id="hosts">
<h2>Hosts</h2>
{% for h in m.hosts %}
<details class="host" id="host-{{ loop.index }}"{% if host_matrix and loop.length <= 12 %} open{% endif %}>
<summary>{{ h.name }} <span class="muted">&middot; class {{ h.class }} &middot; kernel {{ h.kernel_release or 'unknown' }} &middot; {{ h.devices | length }} {#
#}devices, {{ h.devices | selectattr('in_use') | list | length }} in use{% if not h.evacuation.evacuable %} &middot; </span><span class="no">{#
#}cannot be evacuated</span>{% else %}</span>{% endif %}</summary>
{% if h.devices %}
<table class="data devices">
<thead><tr><th>Device</th><th>Kind</th><th>Type</th><th>Driver</th><th>Software version</th><th>Migration</th><th>In use by</th></tr></thead>
<tbody>
{% for d in h.devices %}<tr><td class="mono">{{ d.id }}</td><td>{{ d.kind }}</td><td class="mono">{{ d.type }}</td><td>{{ d.driver or '' }}</td>{#
#}<td>{{ d.software_version or '' }}{% if d.software_version_source %} <span class="muted">({{ d.software_version_source }})</span>{% endif %}</td>{#
#}
<td>{% if d.migration_capable %}<span class="yes">capable</span>{% elif d.migration_capable is sameas false %}<span class="no">not capable</span>{#
#}{% else %}<span class="muted">unknown</span>{% endif %}{% if d.migration_reason %}<br><span class="muted">{{ d.migration_reason }}</span>{% endif %}</td>{#
#}
<td>{% if d.in_use %}{{ d.in_use.vm if d.in_use.vm is not none else 'pid ' ~ d.in_use.pid }}{% else %}<span class="muted">free</span>{% endif %}</td>{#
#}</tr>
{% endfor %}
</tbody>
</table>
{% else %}<p class="empty">No VFIO devices.</p>{% endif %}
{% if h.capacity.mdev_types %}
<h3>Mediated device capacity</h3>
<table class="data capacity">
<thead><tr><th>Parent</th><th>Type</th><th>Name</th><th>Description</th><th>Available</th><th>Software version</th></tr></thead>
<tbody>
{% for t in h.capacity.mdev_types %}<tr><td class="mono">{{ t.parent }}</td><td class="mono">{{ t.type }}</td><td>{{ t.name or '' }}</td><td>{#
#}{{ t.description or '' }}</td><td>{{ t.available_instances if t.available_instances is not none else '' }}</td><td>{{ t.software_version or '' }}</td>{#
#}</tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if h.capacity.sriov %}
<h3>SR-IOV capacity</h3>
<table class="data capacity">
<thead><tr><th>Physical function</th><th>Device</th><th>Driver</th><th>VFs created</th><th>VFs still possible</th></tr></thead>
<tbody>
{% for v in h.capacity.sriov %}<tr><td class="mono">{{ v.pf }}</td><td class="mono">{{ v.vendor_device or '' }}</td><td>{{ v.driver or '' }}</td>{#
#}<td>{{ v.numvfs if v.numvfs is not none else '' }} / {{ v.totalvfs if v.totalvfs is not none else '' }}</td>{#
#}<td>{{ v.free_vfs if v.free_vfs is not none else '' }}</td>{#
#}</tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if h.evacuation.single_host and h.devices | selectattr('in_use') | list %}<p>All its devices in use could move to any of {{ h.evacuation.destinations }} {#
#}host(s) of class{{ 'es' if h.evacuation.destination_classes | length > 1 else '' }} {% for c in h.evacuation.destination_classes %}<span class="pill">{#
#}{{ c }}</span>{% endfor %}.</p>
{% elif h.evacuation.evacuable and h.devices | selectattr('in_use') | list %}<p>No single host takes all its devices in use; spread over several {#
#}hosts they could all move.</p>
{% elif not h.evacuation.evacuable %}<p class="no">Cannot be evacuated: {% for b in h.evacuation.blocked %}<span {#
#}class="pill">{{ b.device }}{% if b.vm is not none %} {#
#}({{ b.vm }}){% endif %}</span>{% endfor %}</p>
{% endif %}
{% if h.warnings %}<h3>Warnings</h3><ul>{% for w in h.warnings %}<li>{{ w }}</li>{% endfor %}</ul>{% endif %}
</details>
{% endfor %}
</section>
</main>
<script>{{ js }}</script>
</body>
</html>
"""


def _csp_hash(text):
    return 'sha256-' + base64.b64encode(hashlib.sha256(text.encode('utf-8')).digest()).decode('ascii')


_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def _matrix_view(model, host_matrix):
    """Axis labels, cells and deduplicated reason lists for the matrix table."""
    reason_refs = {}
    reason_sets = []

    def ref_for(reasons):
        key = tuple(reasons)
        if not key:
            return None
        if key not in reason_refs:
            reason_refs[key] = 'reasons-%d' % (len(reason_refs) + 1)
            reason_sets.append((reason_refs[key], list(key)))
        return reason_refs[key]

    if host_matrix:
        index = PairIndex(model)
        names = [h['name'] for h in model['hosts']]
        axis = [{'label': n, 'title': '%s (class %s)' % (h['name'], h['class'])} for n, h in zip(names, model['hosts'])]
        lookup = index.get
    else:
        verdicts = dict(((c['source'], c['destination']), c) for c in model['class_matrix'])
        names = [c['id'] for c in model['classes']]
        axis = [{'label': c['id'], 'title': '%d hosts' % len(c['hosts'])} for c in model['classes']]

        def lookup(source, destination):
            return verdicts.get((source, destination))
    rows = []
    incompatible = []
    for i, src in enumerate(names):
        cells = []
        for dst in names:
            if host_matrix and src == dst:
                cells.append({'css': 'self', 'src': src, 'dst': dst, 'ref': None,
                              'tip': '%s: same host' % src, 'mark': '\u2014'})
                continue
            pair = lookup(src, dst)
            if pair is None:
                cells.append({'css': 'self', 'src': src, 'dst': dst, 'ref': None,
                              'tip': '%s \u2192 %s: no verdict' % (src, dst), 'mark': '?'})
                continue
            if pair['compatible']:
                cells.append({'css': 'ok', 'src': src, 'dst': dst, 'ref': ref_for(pair['reasons']),
                              'tip': '%s \u2192 %s: compatible' % (src, dst), 'mark': '\u2713'})
            else:
                if host_matrix:
                    incompatible.append({'source': src, 'destination': dst, 'reasons': pair['reasons']})
                cells.append({'css': 'bad', 'src': src, 'dst': dst, 'ref': ref_for(pair['reasons']),
                              'tip': '%s \u2192 %s: incompatible\n%s' % (src, dst, '\n'.join(pair['reasons'])),
                              'mark': '\u2717'})
        rows.append({'label': axis[i]['label'], 'title': axis[i]['title'], 'cells': cells})
    return axis, rows, reason_sets, incompatible


def render_html(model, matrix_max_hosts=60, title='VFIO live-migration compatibility report', class_hosts_max=50):
    """Return the HTML page (str) for a report model."""
    host_matrix = len(model['hosts']) <= matrix_max_hosts
    axis, rows, reason_sets, incompatible = _matrix_view(model, host_matrix)
    return _TEMPLATE.render(
        m=model, s=model['summary'], title=title, css=Markup(CSS), js=Markup(JS),
        css_hash=_csp_hash(CSS), js_hash=_csp_hash(JS),
        host_matrix=host_matrix, matrix_max_hosts=matrix_max_hosts,
        axis=axis, rows=rows, reason_sets=reason_sets, incompatible=incompatible,
        class_hosts_max=class_hosts_max,
    )
