# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark: compat_matrix over a large synthetic fleet, against a naive all-pairs baseline.

    python benchmarks/bench_engine_matrix.py [--hosts 10000] [--profiles 200] [--naive-hosts 1000]

1. Builds ``--hosts`` hosts' schema_version 1 facts over ``--profiles`` distinct host templates
   (benchmarks/_fleet.py: T4 / A100 / L4 vGPU hosts, three NVIDIA drivers, ConnectX-6 Dx VFs
   on three kernels, 0-3 VMs per host).
2. Times the engine's compat_matrix (validation, classes, class verdicts) on all of them;
   prints hosts/s. Target: under 2 s on the 2-core machine.
3. Same run, on the first ``--naive-hosts`` hosts: the engine again, and a naive all-pairs
   comparison of the same facts (every ordered host pair: every device in use against every
   destination slot, rules evaluated without any cache, then the same matching). The naive
   side is timed on ``--naive-sample`` random pairs and extrapolated to all n*(n-1) pairs
   (printed as such); the ratio is naive / engine on the same hosts.

With ``--measure`` only step 2 runs (also through the filter, and alone the facts schema check
and the record profiles the engine computes) and prints one JSON line; ``--tree DIR`` imports the
collection from DIR (``benchmarks/_trees.py``; ``benchmarks/compare.py`` uses both).

Writes benchmarks/output/bench_engine_matrix.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _trees  # noqa: E402

_trees.select_tree()

import _fleet  # noqa: E402

from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix  # noqa: E402


def naive_pair(engine, src, dst, matcher_class):
    """Every device in use on ``src`` against every slot pool of ``dst``, uncached; then match."""
    demands = [d for group in src.vms.values() for d in group]
    adj = []
    for demand in demands:
        adj.append([j for j, pool in enumerate(dst.pools)
                    if engine.comparator.compare(demand.record, pool.record)[0]])
    matcher = matcher_class(adj, [p.capacity for p in dst.pools])
    return all(matcher.add(i) for i in range(len(demands)))


def naive_comparison(facts, args):
    """The engine and the naive all-pairs comparison on the first ``--naive-hosts`` hosts (printed)."""
    # the engine's parts, imported here: --measure needs only compat_matrix, whose API every tree has
    # pylint: disable=import-outside-toplevel
    from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine, build_models
    from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused
    from ansible_collections.vfio.migration.plugins.plugin_utils._placement import Matcher
    names = sorted(facts)[:args.naive_hosts]
    subset = dict((n, facts[n]) for n in names)
    engine_small = _trees.best_times(lambda: compat_matrix(subset), args.runs)[1]['wall']
    engine = Engine()
    models = build_models(engine, subset)
    rng = random.Random(1)
    sample = []
    while len(sample) < args.naive_sample:
        a, b = rng.choice(names), rng.choice(names)
        if a != b:
            sample.append((a, b))
    with gc_paused():
        start = time.perf_counter()
        for a, b in sample:
            naive_pair(engine, models[a], models[b], Matcher)
        naive_sample = time.perf_counter() - start
    all_pairs = len(names) * (len(names) - 1)
    naive_total = naive_sample / len(sample) * all_pairs
    ratio = naive_total / engine_small
    print('same run, %d hosts (%d ordered pairs): engine %.3f s; naive all-pairs %.1f s '
          '(extrapolated from %d sampled pairs at %.1f us/pair); ratio naive/engine = %.0fx'
          % (len(names), all_pairs, engine_small, naive_total, len(sample), naive_sample / len(sample) * 1e6, ratio))
    return {'hosts': len(names), 'pairs': all_pairs, 'engine_seconds': engine_small,
            'naive_seconds_extrapolated': naive_total, 'sampled_pairs': len(sample), 'ratio': ratio}


def measure(facts, args):
    """``--measure``: the engine's compat_matrix, the filter (the gateway's plain copy and schema
    check, then the engine) and the schema check alone; one JSON line."""
    # entry points every tree since the base has, imported here: the rest of this script needs none
    # pylint: disable=import-outside-toplevel
    from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule
    from ansible_collections.vfio.migration.plugins.plugin_utils._schema import validate_facts
    matrix_filter = FilterModule().filters()['compat_matrix']
    hosts = args.hosts
    times = {
        'compat_matrix engine, %d hosts' % hosts: _trees.best_times(lambda: compat_matrix(facts), args.runs)[1],
        # the engine checks the facts itself when called directly (the filter's gateway does it for it)
        '  of which the facts schema check, %d hosts' % hosts: _trees.best_times(
            lambda: [validate_facts(value, name) for name, value in facts.items()], args.runs)[1],
    }
    try:    # the base keyed records by the fingerprint they carry
        from ansible_collections.vfio.migration.plugins.plugin_utils._host_model import profile_key
    except ImportError:
        profile_key = None
    if profile_key is not None:
        records = [record for value in facts.values() for section in ('devices', 'mdev_types')
                   for record in value.get(section) or ()]
        times['  of which the profiles of the records (not the fingerprints they carry)'] = _trees.best_times(
            lambda: [profile_key(record) for record in records], args.runs)[1]
    times['compat_matrix filter, %d hosts' % hosts] = _trees.best_times(lambda: matrix_filter(facts), args.runs)[1]
    _trees.emit(times, _trees.digest(facts))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=10000)
    parser.add_argument('--profiles', type=int, default=200)
    parser.add_argument('--naive-hosts', type=int, default=1000)
    parser.add_argument('--naive-sample', type=int, default=3000)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--target', type=float, default=2.0)
    _trees.add_options(parser)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    facts = _fleet.fleet(args.hosts, args.profiles)
    if args.measure:
        measure(facts, args)
        return 0
    print('fleet: %d hosts over %d profiles built in %.1f s (not timed below)'
          % (args.hosts, args.profiles, time.perf_counter() - start))

    matrix, times = _trees.best_times(lambda: compat_matrix(facts), args.runs)
    seconds, cpu = times['wall'], times['cpu']
    pairs = sum(len(row) for row in matrix['verdicts'].values())
    compatible = sum(1 for row in matrix['verdicts'].values() for v in row.values() if v['compatible'])
    print('compat_matrix: %d hosts in %.3f s wall (best of %d; %.3f s CPU) = %.0f hosts/s; %d classes, '
          '%d class pairs (%d compatible); target < %.1f s: %s'
          % (args.hosts, seconds, args.runs, cpu, args.hosts / seconds, len(matrix['classes']), pairs,
             compatible, args.target, 'met' if seconds < args.target else 'NOT met'))
    if cpu < seconds * 0.7:
        print('note: CPU time is well below wall time: the machine is busy with other work, so the wall '
              'time overstates the engine\'s cost')

    naive = naive_comparison(facts, args)
    out = {
        'hosts': args.hosts, 'profiles': args.profiles, 'seconds': seconds, 'cpu_seconds': cpu, 'hosts_per_second': args.hosts / seconds,
        'classes': len(matrix['classes']), 'class_pairs': pairs, 'target_seconds': args.target,
        'target_met': seconds < args.target,
        'naive': naive,
    }
    os.makedirs(os.path.join(HERE, 'output'), exist_ok=True)
    with open(os.path.join(HERE, 'output', 'bench_engine_matrix.json'), 'w') as handle:
        json.dump(out, handle, indent=2, sort_keys=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
