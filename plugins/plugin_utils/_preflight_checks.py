# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The preflight role's fail and select modes: every source host against every candidate destination.

One ``migration_check`` per (source, destination) pair, destinations in the order given; the first
compatible destination is the one chosen. A source that none takes gets the failure table of
``_preflight.failure_table``. Nothing is decided here that the engine does not decide.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._check import migration_check
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight import failure_table

__all__ = ['preflight_checks']

_NO_FACTS = {
    'reuse': ' (vfio_preflight_facts=reuse contacts no host: fill the fact cache first, or use auto)',
    'other': ' (gathering them failed, see above)',
}


def _scope(facts, vms, devices):
    """``(vms, devices)`` to check on a source: with a choice, the chosen names this source has
    (the engine rejects a VM or device the source does not have); without, ``(None, None)``."""
    if not (vms or devices):
        return None, None
    have_vms = [d['in_use']['vm'] for d in facts['devices'] if d.get('in_use')]
    have_devices = [d['id'] for d in facts['devices']]
    return [v for v in vms or [] if v in have_vms], [d for d in devices or [] if d in have_devices]


def _without_facts(source, mode, facts_from):
    return {'source': source, 'mode': mode, 'vms': None, 'devices': None, 'checks': {}, 'destination': None,
            'placements': [],
            'table': '%s: no vfio facts for this host, nothing can be checked%s'
                     % (source, _NO_FACTS['reuse' if facts_from == 'reuse' else 'other'])}


def _check_source(facts_by_host, source, destinations, mode, vms, devices, rules):
    """The result of one source host: its checks, the chosen destination and placement, or the table."""
    src = facts_by_host[source]
    vms, devices = _scope(src, vms, devices)
    checks = {}
    for destination in destinations:
        if destination != source and destination in facts_by_host:
            checks[destination] = migration_check(src, facts_by_host[destination], devices=devices, vms=vms,
                                                  rules=rules, source_host=source, destination_host=destination)
    chosen = next((name for name, check in checks.items() if check['compatible']), None)
    return {'source': source, 'mode': mode, 'vms': vms, 'devices': devices, 'checks': checks,
            'destination': chosen, 'placements': checks[chosen]['placements'] if chosen is not None else [],
            'table': None if chosen is not None else failure_table(checks, src, source=source)}


def preflight_checks(facts_by_host, sources, destinations, mode='fail', vms=None, devices=None, rules=None,
                     facts_from='gather'):
    """``{source: result}`` for every source host (see the preflight_checks filter)."""
    results = {}
    for source in sources:
        if source not in facts_by_host:
            results[source] = _without_facts(source, mode, facts_from)
        else:
            results[source] = _check_source(facts_by_host, source, destinations or [], mode, vms, devices, rules)
    return results
