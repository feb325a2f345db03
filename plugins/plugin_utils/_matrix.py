# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Directed host x host verdicts for a whole inventory, per compatibility class.

A host's *class key* is what the verdicts depend on and nothing else: the keys of its
devices in use grouped by VM (its demand) and the keys and capacities of its slot pools
(its offer); names, ids and addresses are left out. Hosts with equal class keys get equal
verdicts in every row and column, so the engine compares class pairs, not host pairs, and
memoises on (demand, offer) so classes that share a demand or an offer share work too.

The verdict of source class S to destination class D answers: could *every* device in use
on a host of S be placed on one host of D at once? It is computed on the aggregated
problem (device keys with counts against pool keys with summed capacities), whose maximum
flow equals the per-device one. ``placements`` is the number of devices the maximum
matching places (all of them when compatible); ``unplaced`` lists, per device key left
over, a representative device, how many such devices, and the reasons per candidate.
Hosts with nothing in use are trivially evacuable: compatible with every destination.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused

from ansible_collections.vfio.migration.plugins.plugin_utils._check import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._inventory import signature_of, usable
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import (
    Matcher, Shares, _share_reason, _tag, merge_reasons, spent_reasons, taken_reason)

__all__ = ['compat_matrix', 'class_verdict', 'build_models']


def build_models(engine, facts_by_host):
    if not isinstance(facts_by_host, Mapping):
        raise ArgumentError('facts_by_host must be a mapping of host name -> vfio facts, got %s'
                            % type(facts_by_host).__name__)
    models = {}
    for name in sorted(facts_by_host, key=str):
        if not isinstance(name, str):
            raise ArgumentError('facts_by_host keys must be host names (strings), found %r' % (name,))
        models[name] = engine.host(name, facts_by_host[name])
    return models


class _Demand(object):
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


class _Offer(object):
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


class _Verdicts(object):
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
            hit = _tag(self.comparator.compare_keyed(dk, demand.record, pk, pool.record)[1], pool, 1)
            self.tagged[key] = hit
        return hit

    def _spent(self, dk, rep, offer, count, compat, osig):
        """The reasons of :func:`spent_reasons` for device key ``dk`` when no pool of ``offer`` takes it
        (a new list each time: callers extend it)."""
        if compat:
            return []
        key = (dk, osig, count) if osig is not None else None
        hit = self.spent_lists.get(key) if key is not None else None
        if hit is None:
            hit = spent_reasons(self.comparator, dk, rep.record, offer.spent, count, named=False)
            if key is not None:
                self.spent_lists[key] = hit
        return list(hit)

    def verdict(self, demand, offer, osig=None):
        """``{compatible, placements, unplaced}``: all of ``demand`` on one host offering ``offer``.

        ``osig`` (the offer's signature) lets the compatible pool list of a device key be
        reused across every demand that has that key.
        """
        if not demand.total:
            return {'compatible': True, 'placements': 0, 'unplaced': []}
        if offer.shared:
            return self._shared_verdict(demand, offer, osig)
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
                return {'compatible': True, 'placements': demand.total, 'unplaced': []}
        matcher, placed, left = _match(demand, compat, [offer.caps[pk] for pk in offer.keys])
        if not left:
            return {'compatible': True, 'placements': placed, 'unplaced': []}
        unplaced = []
        for dk in demand.keys:
            if dk not in left:
                continue
            rep = demand.reps[dk]
            key = (dk, osig, demand.counts[dk]) if osig is not None else None
            reasons = self.reason_lists.get(key) if key is not None else None
            if reasons is None:
                reasons = self._spent(dk, rep, offer, demand.counts[dk], compat[dk], osig)
                for j in compat[dk]:
                    pk = offer.keys[j]
                    reasons.append(taken_reason(offer.reps[pk].id, 1, demand.counts[dk], offer.caps[pk]))
                for pk in offer.keys:
                    if not self.compatible(dk, rep, pk, offer.reps[pk]):
                        reasons.extend(self.refusals(dk, rep, pk, offer.reps[pk]))
                if not offer.keys:
                    reasons.append({'candidate': None, 'candidates': 0, 'rule': 'capacity', 'field': 'capacity',
                                    'source': demand.counts[dk], 'destination': 0,
                                    'message': 'the destination offers no free device, no mdev type with '
                                               'available instances and no VF still to create'})
                reasons = merge_reasons(reasons)
                if key is not None:
                    self.reason_lists[key] = reasons
            unplaced.append(_left_over(rep, left[dk], reasons))
        return {'compatible': False, 'placements': placed, 'unplaced': unplaced}

    def _shared_verdict(self, demand, offer, osig):
        """:meth:`verdict` for an offer with pools that share a parent's capacity: those are
        matched one by one (their parents' budgets checked where each path ends)."""
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
            return {'compatible': True, 'placements': demand.total, 'unplaced': []}
        matcher, placed, left = _match(demand, compat, caps, offer.layout)
        if not left:
            return {'compatible': True, 'placements': placed, 'unplaced': []}
        pools = [e[2] for e in entries]
        unplaced = []
        for dk in demand.keys:
            if dk not in left:
                continue
            rep = demand.reps[dk]
            reasons, seen = self._spent(dk, rep, offer, demand.counts[dk], compat[dk], osig), set()
            for j in compat[dk]:
                pk = entries[j][0]
                why = matcher.blocked(j) if len(matcher.holders[j]) < caps[j] else None
                if why is not None:
                    reasons.append(_share_reason(matcher, pools, j, why))
                    continue
                if pk in seen:
                    continue
                seen.add(pk)
                total = sum(e[1] for e in entries if e[0] == pk)
                reasons.append(taken_reason(pools[j].id, 1, demand.counts[dk], total))
            key = (dk, osig, demand.counts[dk], tuple((r['candidate'], r['destination'], r['message']) for r in reasons))
            merged = self.reason_lists.get(key) if osig is not None else None
            if merged is None:
                for pk, pool in offer.pool_keys().items():
                    if not self.compatible(dk, rep, pk, pool):
                        reasons.extend(self.refusals(dk, rep, pk, pool))
                merged = merge_reasons(reasons)
                if osig is not None:
                    self.reason_lists[key] = merged
            unplaced.append(_left_over(rep, left[dk], merged))
        return {'compatible': False, 'placements': placed, 'unplaced': unplaced}


def class_verdict(engine, src, dst):
    """``{compatible, placements, unplaced}`` for moving all of ``src``'s devices in use to ``dst``."""
    return _Verdicts(engine).verdict(_Demand(src), _Offer(dst))


def _class_fingerprint(key):
    return 'sha256:' + hashlib.sha256(repr(key).encode('utf-8', 'backslashreplace')).hexdigest()


def compat_matrix(facts_by_host, rules=None, expand=False, engine=None):
    """The fleet matrix (see the module docstring and docs/architecture.md "Engine outputs")."""
    with gc_paused():
        return _compat_matrix(facts_by_host, rules, expand, engine)


def _compat_matrix(facts_by_host, rules, expand, engine):
    engine = engine or Engine(rules)
    if not isinstance(expand, bool):
        raise ArgumentError('expand must be true or false')
    models = build_models(engine, facts_by_host)
    by_key = {}
    for name, model in models.items():
        key = (model.demand_signature(), model.offer_signature())
        by_key.setdefault(key, []).append(name)
    ordered = sorted(by_key.items(), key=lambda item: item[1][0])
    classes, host_class, reps = [], {}, []
    demands, offers = {}, {}
    for number, (key, members) in enumerate(ordered, 1):
        cid = 'c%d' % number
        model = models[members[0]]
        classes.append({'id': cid, 'hosts': members, 'fingerprint': _class_fingerprint(key),
                        'devices_in_use': model.device_count(), 'vms': len(model.vms)})
        for member in members:
            host_class[member] = cid
        demand = _Demand(model)
        dsig = demand.signature()
        if dsig not in demands:
            demands[dsig] = (len(demands), demand)
        did, demand = demands[dsig]
        osig = key[1]
        if osig not in offers:
            offers[osig] = (len(offers), _Offer(model))
        oid, offer = offers[osig]
        # small integers stand for the signatures below: tuples do not cache their hash
        reps.append((cid, len(members), did, demand, oid, offer))
    judge = _Verdicts(engine)
    memo = {}
    verdicts = {}
    for scid, ssize, did, demand, _oid, _offer in reps:
        row = {}
        for dcid, _dsize, _did, _demand, oid, offer in reps:
            if scid == dcid and ssize < 2:
                continue
            pair = (did, oid)
            result = memo.get(pair)
            if result is None:
                result = judge.verdict(demand, offer, ('matrix', oid))
                memo[pair] = result
            row[dcid] = result
        verdicts[scid] = row
    out = {
        'hosts': list(models),
        'classes': classes,
        'host_class': host_class,
        'verdicts': verdicts,
    }
    if expand:
        pairs = []
        for src in models:
            scid = host_class[src]
            for dst in models:
                if dst == src:
                    continue
                verdict = verdicts[scid][host_class[dst]]
                reasons = []
                for entry in verdict['unplaced']:
                    for reason in entry['reasons']:
                        item = {'device': entry['source'], 'vm': entry['vm']}
                        item.update(reason)
                        reasons.append(item)
                pairs.append({'source': src, 'destination': dst, 'compatible': verdict['compatible'],
                              'reasons': reasons})
        out['pairs'] = pairs
    return out
