# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Build and render the fleet report: the steps behind the report_model and report_render filters.

Reads the facts (from hostvars for the hosts asked for, or as given), runs the engine one time
for the whole inventory (the matrix, then one drain plan per compatibility class for the
evacuation view) and hands the results to ``_report_model``; renders a model with
``_report_render``. Every failure is a :class:`ReportError` (or an engine error) naming what is
wrong.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import EngineError, ReportError
from ansible_collections.vfio.migration.plugins.plugin_utils._hostvars import facts_from_hostvars
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan
from ansible_collections.vfio.migration.plugins.plugin_utils._report_model import (
    build_model, evacuation_view, from_matrix, plain, rules_label)
from ansible_collections.vfio.migration.plugins.plugin_utils._report_render import render
from ansible_collections.vfio.migration.plugins.plugin_utils._schema import unwrap

__all__ = ['build_report', 'render_report']


def _evacuation(facts, classes, verdicts, rules):
    """Per host, whether its devices in use could all leave it (one drain plan per class)."""
    engine = Engine(rules)

    def drain(host):
        return migration_plan(facts, [host], engine=engine)
    return evacuation_view(facts, classes, verdicts, plan=drain)


def _model(facts, matrix, rules, evacuation, **build):
    """The model of plain ``facts`` by host (``matrix`` computed with ``rules`` when None)."""
    if matrix is None:
        matrix = compat_matrix(facts, rules=rules)
    matrix = plain(matrix)
    missing = sorted(set(facts) ^ set(matrix.get('hosts') or []))
    if missing:
        raise ReportError('the matrix and the facts are not about the same hosts (%s); compute the '
                          'matrix from the same facts' % ', '.join(missing[:10]))
    classes, verdicts = from_matrix(matrix, facts)
    evac = _evacuation(facts, classes, verdicts, rules) if evacuation else None
    return build_model(facts, classes, verdicts, evacuation=evac, rules=rules_label(rules), **build)


def build_report(facts_by_host, matrix=None, rules=None, hosts_without_facts=None, facts_source='gathered',
                 generated_at=None, evacuation=True, pair_details_max_hosts=200, hosts=None):
    """The report model (see the report_model filter): ``facts_by_host`` is hostvars when ``hosts`` is given."""
    if hosts is not None:
        facts_by_host, missing = facts_from_hostvars(facts_by_host, hosts)
        hosts_without_facts = list(hosts_without_facts or []) + missing
    if not isinstance(facts_by_host, dict):
        raise ReportError('the input must be a dictionary of host name -> vfio facts, got %s'
                          % type(facts_by_host).__name__)
    try:
        facts = dict((str(name), unwrap(value)) for name, value in plain(facts_by_host).items())
        return _model(facts, matrix, plain(rules), evacuation,
                      hosts_without_facts=[str(h) for h in plain(hosts_without_facts) or []],
                      facts_source=facts_source, generated_at=None if generated_at is None else str(generated_at),
                      pair_details_max_hosts=pair_details_max_hosts)
    except EngineError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ReportError(str(exc))


def render_report(report, fmt, matrix_max_hosts=60, title='VFIO live-migration compatibility report'):
    """The text of ``report`` (a model, or its JSON text) in format ``fmt`` (see the report_render filter)."""
    if matrix_max_hosts < 0:
        raise ReportError('matrix_max_hosts must be a non-negative integer, got %r' % (matrix_max_hosts,))
    try:
        return render(report, fmt, matrix_max_hosts=matrix_max_hosts, title=str(title))
    except (TypeError, ValueError, KeyError) as exc:
        raise ReportError('the input is not a report model (%s: %s); make it with vfio.migration.report_model'
                          % (type(exc).__name__, exc))
