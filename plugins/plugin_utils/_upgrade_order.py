# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The order of a rolling upgrade (``upgrade_order``).

Given target driver versions for some hosts (``{host: {driver or module: version}}``; the
key ``kernel`` sets the kernel release and every version that came from it, for in-tree
drivers), upgrade them one at a time; before a host is upgraded its VMs are evacuated (by
the evacuation planner, ``_plan.py``) to any other host. A moved device takes the
destination's version: a VM that moved onto an upgraded host runs on the newer driver and,
since a newer driver accepts an older stream and never the reverse, cannot go back to an old
host. At each step the evacuable host with the fewest devices in use is upgraded next
(greedy; when no remaining host can be evacuated the order stops and the rest is reported as
blocked, with reasons); for up to 8 target hosts the orders are searched depth first (same
preference first, with backtracking, within a budget of evacuation plans), so an order is
found whenever one exists within that budget (``searched`` in the result).
The VMs' freed devices stay on the upgraded host as free devices (an mdev instance is kept
as a free instance of its type), so later hosts can use them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine, build_models
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused
from ansible_collections.vfio.migration.plugins.plugin_utils._host_model import fingerprint_of, share_state, shared_left
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import evacuation_plan, host_names

__all__ = ['upgrade_order']


def _targets(value, known):
    """``{host: {driver: version}}`` from either accepted form."""
    if not isinstance(value, Mapping):
        raise ArgumentError('targets must be a mapping: {host: {driver: version}} or '
                            '{hosts: [...], versions: {driver: version}}')
    if set(value) <= set(('hosts', 'versions')) and 'versions' in value:
        hosts = host_names(value.get('hosts'), 'targets.hosts', known) or []
        versions = value['versions']
        value = dict((h, versions) for h in hosts)
    out = {}
    for host, versions in value.items():
        host_names([host], 'targets', known)
        if not isinstance(versions, Mapping) or not versions:
            raise ArgumentError('targets[%r] must map driver (or module) names to the target version' % (host,))
        out[host] = dict((str(k), str(v)) for k, v in versions.items())
    return out


def _upgrade_record(record, versions):
    driver = record.get('driver')
    target = None
    if driver is not None:
        target = versions.get(driver, versions.get(driver.replace('-', '_')))
    if target is None and record.get('software_version_source') == 'kernel':
        target = versions.get('kernel')
    if target is None or record.get('software_version') == target:
        return False
    record['software_version'] = target
    record['software_version_source'] = 'override'
    record['fingerprint'] = None
    record['fingerprint'] = fingerprint_of(record)
    return True


def _apply_moves(facts, source, chosen, models):
    """Move the planned VMs in ``facts`` (copies, changed in place); returns the touched hosts."""
    touched = set([source])
    src_devices = dict((d['id'], d) for d in facts[source]['devices'])
    for vm, (dest_name, placement) in chosen.items():
        touched.add(dest_name)
        dst = facts[dest_name]
        for demand, pool in placement.placed:
            in_use = copy.deepcopy(demand.record.get('in_use'))
            if pool.kind == 'device':
                for record in dst['devices']:
                    if record['id'] == pool.id:
                        record['in_use'] = in_use
                        break
            else:
                base = pool.record
                record = dict((k, copy.deepcopy(base.get(k))) for k in (
                    'kind', 'device_api', 'type', 'driver', 'pci', 'software_version', 'software_version_source',
                    'migration', 'attributes'))
                record['kind'] = record.get('kind') or 'mdev'
                record['attributes'] = record.get('attributes') or {}
                record['id'] = 'planned:%s:%s' % (dest_name, demand.id)
                record['parent'] = pool.destination
                record['iommu_group'] = None
                record['numa_node'] = None
                record['in_use'] = in_use
                record['fingerprint'] = None
                record['fingerprint'] = fingerprint_of(record)
                dst['devices'].append(record)
                if pool.kind == 'mdev':
                    for entry in dst.get('mdev_types') or ():
                        if entry['parent'] == base['parent'] and entry['type'] == base['type']:
                            entry['available_instances'] = max(0, entry['available_instances'] - 1)
                elif pool.kind == 'vf':
                    for entry in dst.get('sriov') or ():
                        if entry['pf'] == pool.destination:
                            entry['numvfs'] = (entry.get('numvfs') or 0) + 1
            freed = src_devices.get(demand.id)
            if freed is not None:
                freed['in_use'] = None
    for dest_name in touched:
        _share_leftovers(facts[dest_name], models[dest_name], chosen, dest_name)
    return touched


def _share_leftovers(dst, model, chosen, dest_name):
    """After moves onto ``dest_name``: what the new instances took from a parent's shared
    capacity, shown on its other types as the driver would (``available_instances`` of each
    shared type = min(its own left, budget left // its weight); the other types of a
    ``one_type`` parent drop to 0)."""
    taken = {}
    for name, placement in chosen.values():
        if name != dest_name:
            continue
        for _demand, pool in placement.placed:
            if pool.kind == 'mdev' and pool.share is not None:
                taken[pool.id] = taken.get(pool.id, 0) + 1
    if not taken:
        return
    pools = [p for p in model.pools if p.share is not None]
    caps = dict((p.id, p.capacity - taken.get(p.id, 0)) for p in pools)
    state = share_state(pools, caps)
    left = dict((p.id, shared_left(p, caps[p.id], state)) for p in pools)
    for entry in dst.get('mdev_types') or ():
        ident = '%s/%s' % (entry['parent'], entry['type'])
        if ident in left:
            entry['available_instances'] = max(0, left[ident])


def _upgrade_step(engine, facts, models, host, versions):
    """Evacuate and upgrade ``host``: ``((facts, models, step), plan)``, or ``(None, plan)``.

    ``facts`` and ``models`` are not changed: the hosts the step touches are copied.
    """
    plan, chosen = evacuation_plan(engine, models, [host])
    if not plan['feasible']:
        return None, plan
    touched = set([host]) | set(dest for dest, _placement in chosen.values())
    facts = dict(facts)
    for name in touched:
        facts[name] = copy.deepcopy(facts[name])
    _apply_moves(facts, host, chosen, models)
    changed = []
    for record in facts[host]['devices'] + facts[host]['mdev_types']:
        if _upgrade_record(record, versions):
            changed.append(record.get('id') or '%s/%s' % (record.get('parent'), record.get('type')))
    if 'kernel' in versions and isinstance(facts[host].get('host'), dict):
        facts[host]['host'] = dict(facts[host]['host'], kernel_release=versions['kernel'])
    modules = (facts[host].get('host') or {}).get('modules') or {}
    for module, info in modules.items():
        if module in versions and isinstance(info, dict):
            info['version'] = versions[module]
    models = dict(models)
    for name in touched:
        models[name] = engine.host(name, facts[name], validate=False)
    step = {'host': host, 'versions': dict(versions), 'moves': [m for w in plan['waves'] for m in w['moves']],
            'upgraded': sorted(changed)}
    return (facts, models, step), plan


_UPGRADE_SEARCH_HOSTS = 8      # backtracking over orders only for this many target hosts ...
_UPGRADE_SEARCH_BUDGET = 300   # ... and at most this many evacuation plans


def upgrade_order(facts_by_host, targets, rules=None, engine=None):
    """An order in which to upgrade the ``targets`` hosts so every VM always has a place to go."""
    with gc_paused():
        engine = engine or Engine(rules)
        models = build_models(engine, facts_by_host)
        targets = _targets(targets, models)
        facts = dict((name, copy.deepcopy(dict(models[name].facts))) for name in models)
        for name in facts:
            for key in ('devices', 'mdev_types', 'sriov'):
                facts[name][key] = list(facts[name].get(key) or [])
        steps, budget = None, {'plans': 0}
        searched = len(targets) <= _UPGRADE_SEARCH_HOSTS
        if searched:
            steps = _search_order(engine, facts, models, targets, set(targets), budget)
        blocked, remaining = [], []
        if steps is None:
            steps, remaining, blocked = _greedy_order(engine, facts, models, targets)
        for number, step in enumerate(steps, 1):
            step['step'] = number
        return {
            'feasible': not remaining,
            'order': [s['host'] for s in steps],
            'steps': steps,
            'not_upgraded': sorted(remaining),
            'blocked': blocked,
            'searched': searched and budget['plans'] < _UPGRADE_SEARCH_BUDGET,
        }


def _next_hosts(remaining, models):
    """The hosts still to upgrade in the order they are tried: fewest devices in use first."""
    return sorted(remaining, key=lambda h: (models[h].device_count(), h))


def _search_order(engine, facts, models, targets, remaining, budget):
    """Depth first over orders (fewest devices in use first): the steps of a full order, or None
    (none exists, or ``budget['plans']`` reached ``_UPGRADE_SEARCH_BUDGET`` evacuation plans)."""
    if not remaining:
        return []
    for host in _next_hosts(remaining, models):
        if budget['plans'] >= _UPGRADE_SEARCH_BUDGET:
            return None
        budget['plans'] += 1
        result, _plan = _upgrade_step(engine, facts, models, host, targets[host])
        if result is None:
            continue
        rest = _search_order(engine, result[0], result[1], targets, remaining - set([host]), budget)
        if rest is not None:
            return [result[2]] + rest
    return None


def _greedy_order(engine, facts, models, targets):
    """``(steps, hosts not upgraded, blocked VMs)``: the evacuable host with the fewest devices in
    use next, until none is; the blocked VMs are those of every host left, in that order."""
    steps, remaining, blocked = [], sorted(targets), []
    while remaining:
        attempts, done = {}, None
        for host in _next_hosts(remaining, models):
            result, plan = _upgrade_step(engine, facts, models, host, targets[host])
            attempts[host] = plan
            if result is not None:
                done = result
                break
        if done is None:
            for host in _next_hosts(remaining, models):
                blocked.extend(attempts[host]['blocked'])
            break
        facts, models, step = done
        steps.append(step)
        remaining.remove(step['host'])
    return steps, remaining, blocked
