# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The preflight role's reorder mode around ``migration_plan``: what is planned, and the wave groups.

Before the plan, each source keeps only the devices in use that were chosen (``scope``); after
it, a source host with a VM that cannot move, or without facts, is blocked: it is in no wave, and
the waves are numbered without it (``waves``).
"""

from __future__ import annotations

__all__ = ['scope', 'waves']


def scope(facts_by_host, sources, vms=None, devices=None):
    """``facts_by_host`` where each of ``sources`` keeps, of its devices in use, only those named in
    ``devices`` or held by one of ``vms`` (devices not in use stay). Without a choice, unchanged."""
    if not (vms or devices):
        return facts_by_host
    vms, devices = vms or [], devices or []
    out = dict(facts_by_host)
    for source in sources:
        facts = dict(facts_by_host[source])
        facts['devices'] = [d for d in facts['devices']
                            if not d.get('in_use') or d.get('id') in devices or d['in_use'].get('vm') in vms]
        out[source] = facts
    return out


def waves(plan, sources, without_facts=None):
    """``{waves, blocked, memberships}``: the wave host lists without blocked hosts (empty waves
    dropped), the blocked source hosts, and per source host its ``groups``, ``wave`` (null when
    blocked) and ``moves`` (the plan's moves off it)."""
    stuck = set(plan['summary']['hosts_blocked']) | set(without_facts or [])
    blocked = [host for host in sources if host in stuck]
    wave_hosts = [hosts for hosts in ([h for h in w['hosts'] if h not in blocked] for w in plan['waves']) if hosts]
    moves = [m for w in plan['waves'] for m in w['moves']]
    memberships = [{'host': host, 'wave': number,
                    'groups': ['vfio_migration_wave_%d' % number, 'vfio_migration_waves'],
                    'moves': [m for m in moves if m.get('source') == host]}
                   for number, hosts in enumerate(wave_hosts, 1) for host in hosts]
    memberships += [{'host': host, 'wave': None, 'groups': ['vfio_migration_blocked'], 'moves': []}
                    for host in blocked]
    return {'waves': wave_hosts, 'blocked': blocked, 'memberships': memberships}
