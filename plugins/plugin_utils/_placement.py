# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Capacity-aware placement of source devices on one destination's slots.

The devices to move are the left side, the destination's pools (free devices, mdev types
with ``available_instances``, PFs with VFs still to create) the right side, each pool
``capacity`` copies of one slot; an edge means the directed comparison says yes. A maximum
*b-matching* (augmenting paths, Kuhn's algorithm with capacities: equivalent to max-flow
source -> devices -> pools -> sink) places as many devices as any assignment can, where
first-fit can strand a device whose only slot an earlier, more flexible device took.

Devices of one VM move together or not at all. Which VMs to move when not all fit is a
packing problem; the engine searches VM subsets depth-first, most constrained VM first
(the first leaf is the greedy answer), with a bound, and stops after ``budget`` search
nodes: ``optimal`` in the result says whether the search finished (it does for every
realistic single host).

Every device left over gets, per candidate slot profile, why it was refused: the rules
that said no, ``capacity`` (compatible but taken by other placed devices), or
``vm_atomicity`` (another device of its VM has no place).
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._inventory import Pool

__all__ = ['Matcher', 'place', 'Placement', 'with_capacity', 'merge_reasons']


class Matcher(object):
    """Incremental b-matching of demands to pools (Kuhn's augmenting paths with capacities)."""

    __slots__ = ('adj', 'caps', 'assign', 'holders')

    def __init__(self, adj, caps):
        self.adj = adj                          # demand index -> [pool index]
        self.caps = caps                        # pool index -> capacity
        self.assign = [-1] * len(adj)           # demand -> pool
        self.holders = [[] for _slot in caps]       # pool -> [demand]

    def _augment(self, i, seen):
        for j in self.adj[i]:
            if j in seen:
                continue
            seen.add(j)
            holders = self.holders[j]
            if len(holders) < self.caps[j]:
                holders.append(i)
                self.assign[i] = j
                return True
            for k in list(holders):
                if self._augment(k, seen):
                    holders.remove(k)
                    holders.append(i)
                    self.assign[i] = j
                    return True
        return False

    def add(self, i):
        """Place demand ``i`` (re-routing others as needed); False when no augmenting path exists."""
        return self._augment(i, set())

    def snapshot(self):
        return (list(self.assign), [list(h) for h in self.holders])

    def restore(self, snap):
        self.assign = list(snap[0])
        self.holders = [list(h) for h in snap[1]]

    def add_group(self, members):
        """Place every demand of ``members`` or none (state unchanged on failure)."""
        snap = self.snapshot()
        for i in members:
            if not self.add(i):
                self.restore(snap)
                return False
        return True


class Placement(object):
    """Result of :func:`place`: ``placed`` [(Demand, Pool)], ``unplaced`` [(Demand, reasons)]."""

    __slots__ = ('placed', 'unplaced', 'optimal', 'used')

    def __init__(self, placed, unplaced, optimal, used):
        self.placed = placed
        self.unplaced = unplaced
        self.optimal = optimal
        self.used = used          # pool id -> slots taken

    @property
    def complete(self):
        return not self.unplaced


def _candidates(comparator, demand, pools):
    """(compatible pool indices, {pool key: (first pool, count, reasons)} of refusing pools)."""
    ok_idx, refused = [], {}
    for j, pool in enumerate(pools):
        compatible, reasons = comparator.compare_keyed(demand.key, demand.record, pool.key, pool.record)
        if compatible:
            ok_idx.append(j)
        else:
            entry = refused.get(pool.key)
            if entry is None:
                refused[pool.key] = [pool, 1, reasons]
            else:
                entry[1] += 1
    return ok_idx, refused


def _tag(reasons, pool, count):
    out = []
    for reason in reasons:
        item = {'candidate': pool.id if pool is not None else None, 'candidates': count}
        item.update(reason)
        out.append(item)
    return out


def merge_reasons(reasons):
    """Say each (rule, message) once: a source-side refusal (``source_migration_capable``) is
    the same for every candidate, so it is listed once with the candidates counted together."""
    out, seen = [], {}
    for reason in reasons:
        key = (reason.get('rule'), reason.get('message'))
        first = seen.get(key)
        if first is None:
            item = dict(reason)
            seen[key] = item
            out.append(item)
        elif 'candidates' in first:
            first['candidates'] = (first.get('candidates') or 0) + (reason.get('candidates') or 0)
    return out


def with_capacity(pools, caps):
    """Copies of ``pools`` with the capacities of ``caps`` (pool id -> slots left); empty ones dropped."""
    out = []
    for pool in pools:
        left = caps.get(pool.id, pool.capacity)
        if left > 0:
            clone = Pool.__new__(Pool)
            for attr in Pool.__slots__:
                setattr(clone, attr, getattr(pool, attr))
            clone.capacity = left
            out.append(clone)
    return out


def place(demands, pools, comparator, budget=20000):
    """Place ``demands`` (a list of :class:`Demand`) on ``pools`` (list of :class:`Pool`).

    Capacities are the pools' ``capacity``; pools are not changed. Returns a :class:`Placement`.
    """
    adj, refused = [], []
    for demand in demands:
        ok_idx, ref = _candidates(comparator, demand, pools)
        # scarce pools first: leaves the flexible slots for flexible devices on the first pass
        ok_idx.sort(key=lambda j: (pools[j].capacity, j))
        adj.append(ok_idx)
        refused.append(ref)
    caps = [p.capacity for p in pools]
    groups = {}
    for i, demand in enumerate(demands):
        groups.setdefault(demand.vm_key, []).append(i)
    hopeless = set(k for k, members in groups.items() if any(not adj[i] for i in members))
    live = [k for k in groups if k not in hopeless]

    def constraint(k):
        members = groups[k]
        room = min(sum(caps[j] for j in adj[i]) for i in members)
        return (room - len(members), -len(members), k)
    live.sort(key=constraint)

    matcher = Matcher(adj, caps)
    optimal = True
    chosen = []
    if live and matcher.add_group([i for k in live for i in groups[k]]):
        chosen = list(live)
    elif live:
        matcher = Matcher(adj, caps)
        chosen, optimal = _search(matcher, live, groups, budget)
    placed_set = set(i for k in chosen for i in groups[k])

    placed, unplaced, used = [], [], {}
    for i, demand in enumerate(demands):
        if i in placed_set:
            pool = pools[matcher.assign[i]]
            placed.append((demand, pool))
            used[pool.id] = used.get(pool.id, 0) + 1
    for i, demand in enumerate(demands):
        if i in placed_set:
            continue
        reasons = []
        k = demand.vm_key
        if adj[i]:
            if k in hopeless:
                blockers = [demands[m].id for m in groups[k] if not adj[m]]
                reasons.append({'candidate': None, 'candidates': 0, 'rule': 'vm_atomicity', 'field': 'in_use.vm',
                                'source': demand.vm, 'destination': None,
                                'message': 'the devices of one VM move together, and %s of the same VM has no '
                                           'compatible place on this destination' % ', '.join(blockers)})
            else:
                seen_keys = set()
                for j in adj[i]:
                    pool = pools[j]
                    if pool.key in seen_keys:
                        continue
                    seen_keys.add(pool.key)
                    same = [p for p in pools if p.key == pool.key]
                    total = sum(p.capacity for p in same)
                    reasons.append({'candidate': pool.id, 'candidates': len(same), 'rule': 'capacity',
                                    'field': 'capacity', 'source': 1, 'destination': total,
                                    'message': 'compatible, but the %d slot(s) of this kind on the destination '
                                               'are needed by the other devices placed there' % total})
                if len(groups[k]) > 1:
                    reasons.append({'candidate': None, 'candidates': 0, 'rule': 'vm_atomicity', 'field': 'in_use.vm',
                                    'source': demand.vm, 'destination': None,
                                    'message': 'the devices of one VM move together, and not all devices of '
                                               'this VM fit on the destination at once'})
        for pool, count, why in refused[i].values():
            reasons.extend(_tag(why, pool, count))
        if not pools:
            reasons.append({'candidate': None, 'candidates': 0, 'rule': 'capacity', 'field': 'capacity',
                            'source': 1, 'destination': 0,
                            'message': 'the destination offers no free device, no mdev type with available '
                                       'instances and no VF still to create'})
        unplaced.append((demand, merge_reasons(reasons)))
    return Placement(placed, unplaced, optimal, used)


def _search(matcher, order, groups, budget):
    """Depth-first choice of the VM subset to place (include first, then exclude)."""
    best = {'value': (-1, -1), 'chosen': [], 'snap': None}
    sizes = [len(groups[k]) for k in order]
    rest_vms = [0] * (len(order) + 1)
    rest_devs = [0] * (len(order) + 1)
    for pos in range(len(order) - 1, -1, -1):
        rest_vms[pos] = rest_vms[pos + 1] + 1
        rest_devs[pos] = rest_devs[pos + 1] + sizes[pos]
    state = {'nodes': 0, 'complete': True}

    def visit(pos, chosen, vms, devs):
        state['nodes'] += 1
        if (vms, devs) > best['value']:
            best['value'] = (vms, devs)
            best['chosen'] = list(chosen)
            best['snap'] = matcher.snapshot()
        if pos == len(order):
            return
        if (vms + rest_vms[pos], devs + rest_devs[pos]) <= best['value']:
            return
        if state['nodes'] > budget:
            state['complete'] = False
            return
        k = order[pos]
        snap = matcher.snapshot()
        if matcher.add_group(groups[k]):
            chosen.append(k)
            visit(pos + 1, chosen, vms + 1, devs + sizes[pos])
            chosen.pop()
            matcher.restore(snap)
        visit(pos + 1, chosen, vms, devs)

    visit(0, [], 0, 0)
    if best['snap'] is not None:
        matcher.restore(best['snap'])
    return best['chosen'], state['complete']
