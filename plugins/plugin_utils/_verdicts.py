# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Aggregated verdicts: may all of one demand be placed at once on one offer?

``compat_matrix`` asks it per (source class, destination class), ``migration_plan`` per
(VM, destination host as capacity is taken). Both sides are aggregated by record key:
an :class:`AggregateDemand` counts the devices in use per device key, an
:class:`AggregateOffer` sums the slots per pool key (pools that share a parent's capacity
are kept one by one, with their share's budget). The maximum flow of the aggregated
problem equals the per-device one, so the verdict is that of the devices themselves.
:class:`Verdicts` answers with the (device key, pool key) comparisons cached; the reasons
of what is left over come from ``_reasons.why_unplaced``, as ``migration_check``'s do.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._host_model import signature_of, usable
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import Matcher, Shares
from ansible_collections.vfio.migration.plugins.plugin_utils._reasons import (
    share_reason, spent_reasons, tag, taken_reason, why_unplaced)

__all__ = ['AggregateDemand', 'AggregateOffer', 'Verdicts', 'class_verdict']


class AggregateDemand(object):
    """A host's devices in use, aggregated by key: ``keys``, ``counts``, ``reps``, ``total``."""

    __slots__ = ('keys', 'counts', 'reps', 'total')

    def __init__(self, model=None, demands=None):
        self.keys, self.counts, self.reps = [], {}, {}
        groups = model.vms.values() if model is not None else [demands]
        for group in groups:
            for demand in group:
                if demand.key not in self.counts:
                    self.keys.append(demand.key)
                    self.reps[demand.key] = demand
                    self.counts[demand.key] = 0
                self.counts[demand.key] += 1
        self.total = sum(self.counts.values())

    def signature(self):
        return tuple(sorted(self.counts.items(), key=repr))


class AggregateOffer(object):
    """A host's pools, aggregated by key: ``keys``, ``caps``, ``reps``.

    Pools that share a parent's capacity are not aggregated: ``shared`` lists them one by
    one (``[pool key, slots, pool]``), ``layout`` is their :class:`Shares` with each
    share's budget left (indices counted after ``keys``), or None when there are none.
    """

    __slots__ = ('keys', 'caps', 'reps', 'shared', 'spent', '_layout', '_rooms', '_sig', '_entries', '_pool_keys',
                 '_total')

    def __init__(self, model=None, pools=None, caps=None):
        self.keys, self.caps, self.reps, self.shared = [], {}, {}, []
        self.spent = model.spent if model is not None else None    # slots with no room, asked on refusal only
        self._sig = self._entries = self._pool_keys = self._total = self._layout = self._rooms = None
        pools = model.pools if model is not None else pools
        items, state = usable(pools, caps)
        for pool, left in items:
            if pool.share is not None:
                if left > 0:
                    self.shared.append([pool.key, left, pool])
                continue
            if left <= 0:
                continue
            if pool.key not in self.caps:
                self.keys.append(pool.key)
                self.reps[pool.key] = pool
                self.caps[pool.key] = 0
            self.caps[pool.key] += left
        if self.shared:
            # canonical order (parents by what they offer, then pool keys): offers with one
            # signature share the cached lists of compatible entry indices
            groups = {}
            for entry in self.shared:
                groups.setdefault(entry[2].share, []).append(entry)
            for items in groups.values():
                items.sort(key=lambda e: (repr(e[0]), e[1]))
            order = sorted(groups.values(), key=lambda items: (
                state[items[0][2].share][0], repr([(e[0], e[1], e[2].weight) for e in items])))
            self.shared = [e for items in order for e in items]
            self._sig = signature_of(self.caps, [(e[2], e[1]) for e in self.shared], state)
            self._rooms = dict((share, room) for share, (room, _lock) in state.items())

    @property
    def layout(self):
        """The :class:`Shares` of :meth:`entries` (shares with their budget left), or None."""
        if self._layout is None and self.shared:
            self._layout = Shares([(None, 0)] * len(self.keys) + [(e[2].share, e[2].weight) for e in self.shared])
            self._layout.rooms = [self._rooms[share] for share in self._layout.shares]
        return self._layout

    def signature(self):
        if self._sig is not None:
            return self._sig
        return tuple(sorted(self.caps.items(), key=repr))

    def pool_keys(self):
        """Every pool key offered (aggregated or shared) with a representative pool."""
        if not self.shared:
            return self.reps
        if self._pool_keys is None:
            self._pool_keys = dict(self.reps)
            for pk, _left, pool in self.shared:
                self._pool_keys.setdefault(pk, pool)
        return self._pool_keys

    def entries(self):
        """``(pool key, slots, representative pool)`` per matching index: aggregated keys, then shared pools."""
        if self._entries is None:
            self._entries = [(pk, self.caps[pk], self.reps[pk]) for pk in self.keys]
            self._entries.extend((pk, left, pool) for pk, left, pool in self.shared)
        return self._entries

    def total(self):
        if self._total is None:
            self._total = sum(self.caps.values()) + sum(e[1] for e in self.shared)
        return self._total


def _left_over(rep, count, reasons):
    """An ``unplaced`` entry: a representative device, how many of its key are left, why."""
    return {'source': rep.id, 'vm': rep.vm, 'type': rep.record.get('type'), 'count': count, 'reasons': reasons}


def _first_fit(demand, compat, caps, layout):
    """True when every device of ``demand`` fits first-fit (device keys in order, each onto
    its compatible entries in order) within ``caps`` and the shares of ``layout``: a quick yes
    (an assignment that keeps every constraint); False says nothing."""
    taken = [0] * len(caps)
    used = [0] * len(layout.rooms)
    kind = [-1] * len(layout.rooms)         # one_type shares: the entry whose type is placed
    for dk in demand.keys:
        need = demand.counts[dk]
        for j in compat[dk]:
            s = layout.of[j]
            room = caps[j] - taken[j]
            if s >= 0:
                if layout.one_type[s] and kind[s] not in (-1, j):
                    continue
                room = min(room, (layout.rooms[s] - used[s]) // layout.weights[j])
            if room <= 0:
                continue
            take = min(room, need)
            taken[j] += take
            if s >= 0:
                used[s] += take * layout.weights[j]
                kind[s] = j
            need -= take
            if not need:
                break
        if need:
            return False
    return True


def _match(demand, compat, caps, layout=None):
    """Match every device of ``demand`` (its keys' compatible pool indices in ``compat``):
    ``(matcher, devices placed, {device key: devices left over})``."""
    adj, owner = [], []
    for dk in demand.keys:
        for _copy in range(demand.counts[dk]):
            adj.append(compat[dk])
            owner.append(dk)
    matcher = Matcher(adj, caps, layout)
    placed = 0
    for i in range(len(adj)):
        if adj[i] and matcher.add(i):
            placed += 1
    left = {}
    if placed < demand.total:
        for i, dk in enumerate(owner):
            if matcher.assign[i] < 0:
                left[dk] = left.get(dk, 0) + 1
    return matcher, placed, left


class Verdicts(object):
    """Class verdicts with the (device key, pool key) answers cached."""

    def __init__(self, engine):
        self.comparator = engine.comparator
        self.ok = {}
        self.tagged = {}
        self.lists = {}
        self.reason_lists = {}
        self.spent_lists = {}

    def compatible(self, dk, demand, pk, pool):
        key = (dk, pk)
        hit = self.ok.get(key)
        if hit is None:
            hit = self.comparator.compare_keyed(dk, demand.record, pk, pool.record)[0]
            self.ok[key] = hit
        return hit

    def refusals(self, dk, demand, pk, pool):
        key = (dk, pk)
        hit = self.tagged.get(key)
        if hit is None:
            hit = tag(self.comparator.compare_keyed(dk, demand.record, pk, pool.record)[1], pool, 1)
            self.tagged[key] = hit
        return hit

    def refused_by(self, dk, rep, pool_reps):
        """The rules' refusals of device key ``dk`` (representative ``rep``) by the pools of
        ``pool_reps`` (pool key -> representative pool) that do not take it."""
        return [reason for pk, pool in pool_reps for reason in
                (() if self.compatible(dk, rep, pk, pool) else self.refusals(dk, rep, pk, pool))]

    def _spent(self, dk, rep, offer, count, compat, osig):
        """The reasons of :func:`spent_reasons` for device key ``dk`` when no pool of ``offer`` takes it."""
        if compat:
            return []
        key = (dk, osig, count) if osig is not None else None
        hit = self.spent_lists.get(key) if key is not None else None
        if hit is None:
            hit = spent_reasons(self.comparator, dk, rep.record, offer.spent, count, named=False)
            if key is not None:
                self.spent_lists[key] = hit
        return hit

    def verdict(self, demand, offer, osig=None):
        """``{compatible, placements, unplaced}``: all of ``demand`` on one host offering ``offer``.

        ``osig`` (the offer's signature) lets the compatible pool list of a device key be
        reused across every demand that has that key.
        """
        if not demand.total:
            return {'compatible': True, 'placements': 0, 'unplaced': []}
        if offer.shared:
            found, explain = self._match_shared(demand, offer, osig), self._shared_reasons
        else:
            found, explain = self._match_plain(demand, offer, osig), self._plain_reasons
        if found is None:
            return {'compatible': True, 'placements': demand.total, 'unplaced': []}
        matcher, placed, left, compat = found
        if not left:
            return {'compatible': True, 'placements': placed, 'unplaced': []}
        unplaced = [_left_over(demand.reps[dk], left[dk], explain(dk, demand, offer, compat[dk], matcher, osig))
                    for dk in demand.keys if dk in left]
        return {'compatible': False, 'placements': placed, 'unplaced': unplaced}

    def _match_plain(self, demand, offer, osig):
        """``(matcher, placed, left over, compatible entries per device key)`` on an offer without
        shared pools, or None when every device key has one compatible pool key with room."""
        compat = {}
        single = True
        cache = self.lists
        for dk in demand.keys:
            ok = cache.get((dk, osig)) if osig is not None else None
            if ok is None:
                rep = demand.reps[dk]
                ok = [j for j, pk in enumerate(offer.keys) if self.compatible(dk, rep, pk, offer.reps[pk])]
                if osig is not None:
                    cache[(dk, osig)] = ok
            compat[dk] = ok
            if len(ok) != 1:
                single = False
        if single:
            need = {}
            for dk in demand.keys:
                j = compat[dk][0]
                need[j] = need.get(j, 0) + demand.counts[dk]
            if all(need[j] <= offer.caps[offer.keys[j]] for j in need):
                return None
        return _match(demand, compat, [offer.caps[pk] for pk in offer.keys]) + (compat,)

    def _plain_reasons(self, dk, demand, offer, compat, _matcher, osig):
        """Why devices of key ``dk`` are left over on an offer without shared pools (cached per offer)."""
        rep, count = demand.reps[dk], demand.counts[dk]
        key = (dk, osig, count) if osig is not None else None
        reasons = self.reason_lists.get(key) if key is not None else None
        if reasons is None:
            taken = [taken_reason(offer.reps[pk].id, 1, count, offer.caps[pk]) for pk in (offer.keys[j] for j in compat)]
            reasons = why_unplaced(self._spent(dk, rep, offer, count, compat, osig), taken,
                                   self.refused_by(dk, rep, ((pk, offer.reps[pk]) for pk in offer.keys)),
                                   count=count, empty=not offer.keys)
            if key is not None:
                self.reason_lists[key] = reasons
        return reasons

    def _match_shared(self, demand, offer, osig):
        """As :meth:`_match_plain` for an offer with pools that share a parent's capacity: those are
        matched one by one (their parents' budgets checked where each path ends); None: first fit
        placed everything."""
        entries = offer.entries()
        compat = {}
        for dk in demand.keys:
            ok = self.lists.get((dk, osig, 'shared')) if osig is not None else None
            if ok is None:
                rep = demand.reps[dk]
                ok = [j for j, (pk, left, pool) in enumerate(entries) if self.compatible(dk, rep, pk, pool)]
                ok.sort(key=lambda j: (entries[j][1], j))
                if osig is not None:
                    self.lists[(dk, osig, 'shared')] = ok
            compat[dk] = ok
        caps = [e[1] for e in entries]
        if _first_fit(demand, compat, caps, offer.layout):
            return None
        return _match(demand, compat, caps, offer.layout) + (compat,)

    def _shared_reasons(self, dk, demand, offer, compat, matcher, osig):
        """Why devices of key ``dk`` are left over on an offer with shared pools (``matcher`` as it
        ended: which shares are full depends on it)."""
        rep, count = demand.reps[dk], demand.counts[dk]
        spent = self._spent(dk, rep, offer, count, compat, osig)
        capacity = _shared_capacity(matcher, offer.entries(), compat, count)
        key = (dk, osig, count, tuple((r['candidate'], r['destination'], r['message']) for r in spent + capacity))
        merged = self.reason_lists.get(key) if osig is not None else None
        if merged is None:
            merged = why_unplaced(spent, capacity, self.refused_by(dk, rep, offer.pool_keys().items()), count=count)
            if osig is not None:
                self.reason_lists[key] = merged
        return merged


def _shared_capacity(matcher, entries, compat, count):
    """Per compatible entry (pool profile) of ``count`` devices left over: kept by its parent's
    shared capacity, or taken by the other devices placed."""
    pools, caps = [e[2] for e in entries], [e[1] for e in entries]
    out, seen = [], set()
    for j in compat:
        pk = entries[j][0]
        why = matcher.blocked(j) if len(matcher.holders[j]) < caps[j] else None
        if why is not None:
            out.append(share_reason(matcher, pools, j, why))
            continue
        if pk in seen:
            continue
        seen.add(pk)
        total = sum(e[1] for e in entries if e[0] == pk)
        out.append(taken_reason(pools[j].id, 1, count, total))
    return out


def class_verdict(engine, src, dst):
    """``{compatible, placements, unplaced}`` for moving all of ``src``'s devices in use to ``dst``."""
    return Verdicts(engine).verdict(AggregateDemand(src), AggregateOffer(dst))
