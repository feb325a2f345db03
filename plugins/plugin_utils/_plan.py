# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Evacuation plans: move every VM off the hosts being drained, capacity-aware.

Planning (``migration_plan``):

1. Every VM with devices in use on a drained host must land, with all its devices, on one
   destination host that is not being drained, on slots compatible by the rules, within
   the capacity that is left once the VMs planned before it have landed (slots, and the
   capacity the mdev types of one parent share: ``_Dest.left`` counts the slots taken per
   pool, from which each share's budget left and an NVIDIA GPU's type follow).
2. VMs are planned most constrained first: fewest destination hosts that could take them
   at the start, then most devices. Destination hosts are kept in buckets of identical
   remaining offer; a VM's fit is decided once per (VM profile, bucket), and the tightest
   bucket that fits is taken (best fit), its first host by name.
3. When some VMs are left over and the instance is small, a depth-first search over the
   choices (one host per bucket, or no host) with a bound looks for a plan that moves more
   VMs; ``optimal`` says whether the plan is proven best (everything moved, or the search
   finished). Unit tests compare it with brute force on small random fleets.
4. Waves: the source hosts in the order their VMs were planned (most constrained first),
   ``wave_size`` hosts per wave; all moves off one host are in that host's wave. Since
   destinations only fill up and nothing lands on a drained host, the waves can run in
   order, or all at once, without invalidating each other.

Each VM that cannot move is listed with, per group of destination hosts with the same
offer, why not: the rules that refuse its devices, or ``capacity`` when compatible hosts
exist but the VMs planned before it used their room.

Rolling upgrade (``upgrade_order``): given target driver versions for some hosts
(``{host: {driver or module: version}}``; the key ``kernel`` sets the kernel release and
every version that came from it, for in-tree drivers), upgrade
them one at a time; before a host is upgraded its VMs are evacuated (by the planner
above) to any other host. A moved device takes the destination's version: a VM that
moved onto an upgraded host runs on the newer driver and, since a newer driver accepts an
older stream and never the reverse, cannot go back to an old host. At each step the
evacuable host with the fewest devices in use is upgraded next (greedy; when no remaining
host can be evacuated the order stops and the rest is reported as blocked, with reasons);
for up to 8 target hosts the orders are searched depth first (same preference first, with
backtracking, within a budget of evacuation plans), so an order is found whenever one
exists within that budget (``searched`` in the result).
The VMs' freed devices stay on the upgraded host as free devices (an mdev instance is kept
as a free instance of its type), so later hosts can use them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from ansible_collections.vfio.migration.plugins.plugin_utils._check import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused
from ansible_collections.vfio.migration.plugins.plugin_utils._inventory import fingerprint_of, share_state, shared_left
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import _Demand, _Offer, _Verdicts, build_models
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import place, with_capacity

__all__ = ['migration_plan', 'upgrade_order', 'Planner']

_REASON_HOSTS = 5          # destination host names shown per reason
_REASON_GROUPS = 50        # destination offer groups examined per blocked VM
_EXACT_VMS = 12            # exact search only for instances this small ...
_EXACT_BUDGET = 20000      # ... and at most this many search nodes


class _Dest(object):
    __slots__ = ('name', 'model', 'left', 'offer', 'sig')

    def __init__(self, model):
        self.name = model.name
        self.model = model
        self.left = dict((p.id, p.capacity) for p in model.pools)
        self.refresh()

    def refresh(self):
        self.offer = _Offer(pools=self.model.pools, caps=self.left)
        self.sig = self.offer.signature()


class _VM(object):
    __slots__ = ('host', 'key', 'name', 'demands', 'summary', 'sig', 'options')

    def __init__(self, host, key, demands):
        self.host = host
        self.key = key
        self.name = demands[0].vm
        self.demands = sorted(demands, key=lambda d: d.id)
        self.summary = _Demand(demands=self.demands)
        self.sig = self.summary.signature()
        self.options = 0


class Planner(object):
    """Plan the evacuation of ``drain`` onto the other hosts of ``models``."""

    def __init__(self, engine, models, drain, destinations=None):
        self.engine = engine
        self.judge = _Verdicts(engine)
        self.models = models
        self.drain = list(drain)
        dest_names = [n for n in models if n not in set(self.drain)]
        if destinations is not None:
            allowed = set(destinations)
            dest_names = [n for n in dest_names if n in allowed]
        self.dests = dict((n, _Dest(models[n])) for n in sorted(dest_names))
        self.vms = []
        for name in self.drain:
            for key, group in sorted(models[name].vms.items()):
                self.vms.append(_VM(name, key, group))
        self.fit_memo = {}

    # ------------------------------------------------------------------ fit
    def fits(self, vm, dest):
        key = (vm.sig, dest.sig)
        hit = self.fit_memo.get(key)
        if hit is None:
            hit = self.judge.verdict(vm.summary, dest.offer, ('plan', dest.sig))['compatible']
            self.fit_memo[key] = hit
        return hit

    # --------------------------------------------------------------- buckets
    def _index_reset(self):
        self.buckets = {}        # bucket id -> [sig, sorted host names, representative _Dest]
        self.bucket_of = {}      # sig -> bucket id
        self.by_pool_key = {}    # pool key -> set of bucket ids offering it
        self._next_id = 0
        for name in sorted(self.dests):
            self._bucket_add(self.dests[name])

    def _bucket_add(self, dest):
        bid = self.bucket_of.get(dest.sig)
        if bid is None:
            bid = self._next_id
            self._next_id += 1
            self.bucket_of[dest.sig] = bid
            self.buckets[bid] = [dest.sig, [], dest]
            for pk in dest.offer.pool_keys():
                self.by_pool_key.setdefault(pk, set()).add(bid)
        names = self.buckets[bid][1]
        names.append(dest.name)
        names.sort()

    def _bucket_remove(self, dest):
        bid = self.bucket_of[dest.sig]
        entry = self.buckets[bid]
        entry[1].remove(dest.name)
        if not entry[1]:
            del self.buckets[bid]
            del self.bucket_of[dest.sig]
            for pk in entry[2].offer.pool_keys():
                self.by_pool_key[pk].discard(bid)
        elif entry[2] is dest:
            entry[2] = self.dests[entry[1][0]]

    def _compatible_pool_keys(self, dk, demand):
        hit = self.cpk.get(dk)
        if hit is None:
            hit = set()
            for pk, pool in self.pool_reps.items():
                if self.judge.compatible(dk, demand, pk, pool):
                    hit.add(pk)
            self.cpk[dk] = hit
        return hit

    def _candidates(self, vm):
        """Ids of buckets offering a compatible pool key for every device key of ``vm``."""
        result = None
        for dk in vm.summary.keys:
            ids = set()
            for pk in self._compatible_pool_keys(dk, vm.summary.reps[dk]):
                ids |= self.by_pool_key.get(pk, set())
            result = ids if result is None else (result & ids)
            if not result:
                return ()
        return result or ()

    def _land(self, vm, dest):
        """Place ``vm`` on ``dest`` (slot by slot) and take the capacity; the placement or None."""
        pools = with_capacity(dest.model.pools, dest.left)
        placement = place(vm.demands, pools, self.engine.comparator)
        if not placement.complete:
            return None
        for _demand, pool in placement.placed:
            dest.left[pool.id] -= 1
        dest.refresh()
        return placement

    def _unland(self, placement, dest):
        for _demand, pool in placement.placed:
            dest.left[pool.id] += 1
        dest.refresh()

    # ------------------------------------------------------------------ plan
    def run(self):
        self.pool_reps = {}
        for dest in self.dests.values():
            for pk, pool in dest.offer.pool_keys().items():
                self.pool_reps.setdefault(pk, pool)
        self.cpk = {}
        self._index_reset()
        start_groups = sorted(((entry[0], list(entry[1])) for entry in self.buckets.values()),
                              key=lambda item: item[1][0])
        options = {}
        for vm in self.vms:
            count = options.get(vm.sig)
            if count is None:
                count = 0
                for bid in self._candidates(vm):
                    sig, names, rep = self.buckets[bid]
                    if self.fits(vm, rep):
                        count += len(names)
                options[vm.sig] = count
            vm.options = count
        order = sorted(self.vms, key=lambda v: (v.options, -len(v.demands), v.host, v.key))
        chosen = {}
        for vm in order:
            best = None
            for bid in self._candidates(vm):
                sig, names, rep = self.buckets[bid]
                if not self.fits(vm, rep):
                    continue
                rank = (rep.offer.total(), names[0])
                if best is None or rank < best:
                    best = rank
            if best is None:
                continue
            dest = self.dests[best[1]]
            old_sig = dest.sig
            self._bucket_remove(dest)
            placement = self._land(vm, dest)
            if placement is None:           # aggregated fit said yes; keep the memo honest
                self.fit_memo[(vm.sig, old_sig)] = False
                self._bucket_add(dest)
                continue
            chosen[vm] = (dest.name, placement)
            self._bucket_add(dest)
        optimal = len(chosen) == len(self.vms)
        if not optimal and len(self.vms) <= _EXACT_VMS:
            better, complete = self._exact(order)
            if better is not None and len(better) > len(chosen):
                chosen = better
            optimal = complete
        return order, chosen, optimal, start_groups

    def _exact(self, order):
        """Depth-first search for the most VMs placed (small instances only)."""
        # restart from empty destinations
        for dest in self.dests.values():
            dest.left = dict((p.id, p.capacity) for p in dest.model.pools)
            dest.refresh()
        best = {'count': -1, 'chosen': None}
        state = {'nodes': 0, 'complete': True}
        current = {}

        def visit(pos, placed):
            state['nodes'] += 1
            if placed > best['count']:
                best['count'] = placed
                best['chosen'] = dict(current)
            if pos == len(order) or placed + (len(order) - pos) <= best['count']:
                return
            if state['nodes'] > _EXACT_BUDGET:
                state['complete'] = False
                return
            vm = order[pos]
            tried = set()
            for name in sorted(self.dests):
                dest = self.dests[name]
                if dest.sig in tried:
                    continue
                tried.add(dest.sig)
                if not self.fits(vm, dest):
                    continue
                placement = self._land(vm, dest)
                if placement is None:
                    continue
                current[vm] = (name, placement)
                visit(pos + 1, placed + 1)
                del current[vm]
                self._unland(placement, dest)
            visit(pos + 1, placed)

        visit(0, 0)
        return best['chosen'], state['complete']

    # --------------------------------------------------------------- reasons
    def blocked_reasons(self, vm, start_groups):
        if not self.dests:
            return [{'device': None, 'rule': 'no_destination', 'field': None, 'source': None, 'destination': None,
                     'message': 'no destination host: every host is being drained or excluded', 'hosts': [],
                     'host_count': 0}]
        merged, order = {}, []
        fresh = {}
        for sig, names in start_groups[:_REASON_GROUPS]:
            model = self.models[names[0]]
            result = place(vm.demands, model.pools, self.engine.comparator, spent=model.spent, named=False)
            items = []
            if result.complete:
                items.append({'device': None, 'rule': 'capacity', 'field': 'capacity', 'source': len(vm.demands),
                              'destination': None,
                              'message': 'these hosts could take the VM, but the VMs planned before it used '
                                         'their room'})
            else:
                for demand, reasons in result.unplaced:
                    for reason in reasons:
                        item = {'device': demand.id}
                        item.update(dict((k, v) for k, v in reason.items() if k not in ('candidate', 'candidates')))
                        items.append(item)
            for item in items:
                key = (item['device'], item['rule'], item['message'])
                if key not in merged:
                    merged[key] = item
                    order.append(key)
                    fresh[key] = []
                fresh[key].extend(names)
        out = []
        for key in order:
            item = dict(merged[key])
            names = sorted(set(fresh[key]))
            item['hosts'] = names[:_REASON_HOSTS]
            item['host_count'] = len(names)
            out.append(item)
        return out


def _moves_of(vm, dest_name, placement):
    return {
        'vm': vm.name,
        'source': vm.host,
        'destination': dest_name,
        'devices': [{'source': d.id, 'destination': p.destination, 'type': p.type, 'action': p.action,
                     'slot': p.id} for d, p in sorted(placement.placed, key=lambda dp: dp[0].id)],
    }


def _names(value, what, known):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ArgumentError('%s must be a list of host names, got %s' % (what, type(value).__name__))
    out = []
    for name in value:
        if not isinstance(name, str):
            raise ArgumentError('%s must be a list of host names, found %r' % (what, name))
        if name not in known:
            raise ArgumentError('%s names host %r, which has no facts (hosts: %s)'
                                % (what, name, ', '.join(sorted(known)[:20]) + (' ...' if len(known) > 20 else '')))
        if name not in out:
            out.append(name)
    return out


def _plan(engine, models, drain, destinations=None, wave_size=1):
    planner = Planner(engine, models, drain, destinations)
    order, chosen, optimal, start_groups = planner.run()
    host_rank, moves_by_host = {}, {}
    for rank, vm in enumerate(order):
        host_rank.setdefault(vm.host, rank)
    for vm in order:
        if vm in chosen:
            dest_name, placement = chosen[vm]
            moves_by_host.setdefault(vm.host, []).append(_moves_of(vm, dest_name, placement))
    hosts_in_order = sorted(moves_by_host, key=lambda h: (host_rank[h], h))
    waves = []
    for start in range(0, len(hosts_in_order), wave_size):
        batch = hosts_in_order[start:start + wave_size]
        waves.append({'wave': len(waves) + 1, 'hosts': batch,
                      'moves': [m for h in batch for m in moves_by_host[h]]})
    blocked = []
    for vm in sorted(planner.vms, key=lambda v: (v.host, v.name or '', v.key)):
        if vm in chosen:
            continue
        blocked.append({'host': vm.host, 'vm': vm.name, 'devices': [d.id for d in vm.demands],
                        'reasons': planner.blocked_reasons(vm, start_groups)})
    blocked_hosts = sorted(set(b['host'] for b in blocked))
    return {
        'feasible': not blocked,
        'optimal': optimal,
        'waves': waves,
        'blocked': blocked,
        'summary': {
            'drain': list(drain),
            'vms': len(planner.vms),
            'vms_placed': len(chosen),
            'vms_blocked': len(blocked),
            'devices_placed': sum(len(p.placed) for _d, p in chosen.values()),
            'hosts_evacuated': [h for h in drain if h not in blocked_hosts],
            'hosts_blocked': blocked_hosts,
        },
    }, chosen


def migration_plan(facts_by_host, drain, rules=None, destinations=None, wave_size=1, engine=None):
    """Plan the evacuation of the ``drain`` hosts (see the module docstring)."""
    with gc_paused():
        engine = engine or Engine(rules)
        if not isinstance(wave_size, int) or isinstance(wave_size, bool) or wave_size < 1:
            raise ArgumentError('wave_size must be a positive integer, got %r' % (wave_size,))
        models = build_models(engine, facts_by_host)
        drain = _names(drain, 'drain', models)
        if drain is None:
            raise ArgumentError('drain must list the hosts to empty')
        destinations = _names(destinations, 'destinations', models)
        return _plan(engine, models, drain, destinations, wave_size)[0]


# ------------------------------------------------------------------ upgrade order

def _targets(value, known):
    """``{host: {driver: version}}`` from either accepted form."""
    if not isinstance(value, Mapping):
        raise ArgumentError('targets must be a mapping: {host: {driver: version}} or '
                            '{hosts: [...], versions: {driver: version}}')
    if set(value) <= set(('hosts', 'versions')) and 'versions' in value:
        hosts = _names(value.get('hosts'), 'targets.hosts', known) or []
        versions = value['versions']
        value = dict((h, versions) for h in hosts)
    out = {}
    for host, versions in value.items():
        _names([host], 'targets', known)
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
    plan, chosen = _plan(engine, models, [host])
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
        budget = {'plans': 0}

        def candidates(remaining, state_models):
            return sorted(remaining, key=lambda h: (state_models[h].device_count(), h))

        def search(state_facts, state_models, remaining):
            """Depth first over orders (fewest devices in use first); a full order or None."""
            if not remaining:
                return []
            for host in candidates(remaining, state_models):
                if budget['plans'] >= _UPGRADE_SEARCH_BUDGET:
                    return None
                budget['plans'] += 1
                result, _plan_ = _upgrade_step(engine, state_facts, state_models, host, targets[host])
                if result is None:
                    continue
                rest = search(result[0], result[1], remaining - set([host]))
                if rest is not None:
                    return [result[2]] + rest
            return None

        steps = None
        searched = len(targets) <= _UPGRADE_SEARCH_HOSTS
        if searched:
            steps = search(facts, models, set(targets))
        blocked, remaining = [], sorted(targets)
        if steps is None:
            # greedy: the evacuable host with the fewest devices in use next, until none is
            steps = []
            while remaining:
                attempts, done = {}, None
                for host in candidates(remaining, models):
                    result, plan = _upgrade_step(engine, facts, models, host, targets[host])
                    attempts[host] = plan
                    if result is not None:
                        done = result
                        break
                if done is None:
                    for host in candidates(remaining, models):
                        blocked.extend(attempts[host]['blocked'])
                    break
                facts, models, step = done
                steps.append(step)
                remaining.remove(step['host'])
        else:
            remaining = []
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
