# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Directed host x host verdicts for a whole inventory, per compatibility class.

A host's *class key* is what the verdicts depend on and nothing else: the keys of its
devices in use grouped by VM (its demand) and the keys and capacities of its slot pools
(its offer); names, ids and addresses are left out. Hosts with equal class keys get equal
verdicts in every row and column, so the engine compares class pairs, not host pairs, and
memoises on (demand, offer) so classes that share a demand or an offer share work too.

The verdict of source class S to destination class D answers: could *every* device in use
on a host of S be placed on one host of D at once? It is computed on the aggregated
problem (device keys with counts against pool keys with summed capacities, see
``_verdicts.py``), whose maximum flow equals the per-device one. ``placements`` is the number of devices the maximum
matching places (all of them when compatible); ``unplaced`` lists, per device key left
over, a representative device, how many such devices, and the reasons per candidate.
Hosts with nothing in use are trivially evacuable: compatible with every destination.
"""

from __future__ import annotations

import hashlib

from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused

from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine, build_models
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._verdicts import AggregateDemand, AggregateOffer, Verdicts

__all__ = ['compat_matrix']


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
    classes, host_class, reps = _classes(models)
    verdicts = _class_verdicts(engine, reps)
    out = {
        'hosts': list(models),
        'classes': classes,
        'host_class': host_class,
        'verdicts': verdicts,
    }
    if expand:
        out['pairs'] = _pairs(models, host_class, verdicts)
    return out


def _classes(models):
    """``(classes, host_class, reps)``: the compatibility classes (ids by first host name), each
    host's class id, and per class ``(id, hosts, demand id, demand, offer id, offer)``, the
    aggregated demand and offer shared by the classes with the same signature."""
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
        demand = AggregateDemand(model)
        dsig = demand.signature()
        if dsig not in demands:
            demands[dsig] = (len(demands), demand)
        did, demand = demands[dsig]
        osig = key[1]
        if osig not in offers:
            offers[osig] = (len(offers), AggregateOffer(model))
        oid, offer = offers[osig]
        # small integers stand for the signatures below: tuples do not cache their hash
        reps.append((cid, len(members), did, demand, oid, offer))
    return classes, host_class, reps


def _class_verdicts(engine, reps):
    """``{source class: {destination class: verdict}}``, one verdict per (demand, offer) pair."""
    judge = Verdicts(engine)
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
    return verdicts


def _pairs(models, host_class, verdicts):
    """``expand``: one entry per directed host pair, each reason with its ``device`` and ``vm``."""
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
    return pairs
