# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

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

Rolling upgrades (``upgrade_order``) are planned with this planner: ``_upgrade_order.py``.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine, build_models
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import place, with_capacity
from ansible_collections.vfio.migration.plugins.plugin_utils._reasons import no_destination_reason, room_used_reason
from ansible_collections.vfio.migration.plugins.plugin_utils._verdicts import AggregateDemand, AggregateOffer, Verdicts

__all__ = ['migration_plan', 'evacuation_plan', 'host_names', 'Planner']

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
        self.offer = AggregateOffer(pools=self.model.pools, caps=self.left)
        self.sig = self.offer.signature()


class _VM(object):
    __slots__ = ('host', 'key', 'name', 'demands', 'summary', 'sig', 'options')

    def __init__(self, host, key, demands):
        self.host = host
        self.key = key
        self.name = demands[0].vm
        self.demands = sorted(demands, key=lambda d: d.id)
        self.summary = AggregateDemand(demands=self.demands)
        self.sig = self.summary.signature()
        self.options = 0


class Planner(object):
    """Plan the evacuation of ``drain`` onto the other hosts of ``models``."""

    def __init__(self, engine, models, drain, destinations=None):
        self.engine = engine
        self.judge = Verdicts(engine)
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
            return [no_destination_reason()]
        merged, order = {}, []
        fresh = {}
        for sig, names in start_groups[:_REASON_GROUPS]:
            model = self.models[names[0]]
            result = place(vm.demands, model.pools, self.engine.comparator, spent=model.spent, named=False)
            items = []
            if result.complete:
                items.append(room_used_reason(len(vm.demands)))
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


def host_names(value, what, known):
    """``value`` (a host name or a list of them, or None) checked against ``known`` hosts, without repeats."""
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


def evacuation_plan(engine, models, drain, destinations=None, wave_size=1):
    """``(plan, chosen)``: the ``migration_plan`` result, and per VM moved ``(destination, Placement)``."""
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
        drain = host_names(drain, 'drain', models)
        if drain is None:
            raise ArgumentError('drain must list the hosts to empty')
        destinations = host_names(destinations, 'destinations', models)
        return evacuation_plan(engine, models, drain, destinations, wave_size)[0]
