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

import _fleet  # noqa: E402  (sets up the collection import path)

from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine, build_models  # noqa: E402
from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused  # noqa: E402
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix  # noqa: E402
from ansible_collections.vfio.migration.plugins.plugin_utils._placement import Matcher  # noqa: E402


def naive_pair(engine, src, dst):
    """Every device in use on ``src`` against every slot pool of ``dst``, uncached; then match."""
    demands = [d for group in src.vms.values() for d in group]
    adj = []
    for demand in demands:
        adj.append([j for j, pool in enumerate(dst.pools)
                    if engine.comparator.compare(demand.record, pool.record)[0]])
    matcher = Matcher(adj, [p.capacity for p in dst.pools])
    return all(matcher.add(i) for i in range(len(demands)))


def best_of(runs, func, cpu=None):
    """Best wall-clock time of ``runs`` calls (and, in ``cpu``, the process CPU time of that run)."""
    best, result = None, None
    for _run in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func()
        wall, used = time.perf_counter() - start, time.process_time() - start_cpu
        if best is None or wall < best:
            best = wall
            if cpu is not None:
                cpu[:] = [used]
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=10000)
    parser.add_argument('--profiles', type=int, default=200)
    parser.add_argument('--naive-hosts', type=int, default=1000)
    parser.add_argument('--naive-sample', type=int, default=3000)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--target', type=float, default=2.0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    facts = _fleet.fleet(args.hosts, args.profiles)
    print('fleet: %d hosts over %d profiles built in %.1f s (not timed below)'
          % (args.hosts, args.profiles, time.perf_counter() - start))

    cpu = []
    seconds, matrix = best_of(args.runs, lambda: compat_matrix(facts), cpu)
    pairs = sum(len(row) for row in matrix['verdicts'].values())
    compatible = sum(1 for row in matrix['verdicts'].values() for v in row.values() if v['compatible'])
    print('compat_matrix: %d hosts in %.3f s wall (best of %d; %.3f s CPU) = %.0f hosts/s; %d classes, '
          '%d class pairs (%d compatible); target < %.1f s: %s'
          % (args.hosts, seconds, args.runs, cpu[0], args.hosts / seconds, len(matrix['classes']), pairs,
             compatible, args.target, 'met' if seconds < args.target else 'NOT met'))
    if cpu[0] < seconds * 0.7:
        print('note: CPU time is well below wall time: the machine is busy with other work, so the wall '
              'time overstates the engine\'s cost')

    names = sorted(facts)[:args.naive_hosts]
    subset = dict((n, facts[n]) for n in names)
    engine_small = best_of(args.runs, lambda: compat_matrix(subset))[0]
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
            naive_pair(engine, models[a], models[b])
        naive_sample = time.perf_counter() - start
    all_pairs = len(names) * (len(names) - 1)
    naive_total = naive_sample / len(sample) * all_pairs
    ratio = naive_total / engine_small
    print('same run, %d hosts (%d ordered pairs): engine %.3f s; naive all-pairs %.1f s '
          '(extrapolated from %d sampled pairs at %.1f us/pair); ratio naive/engine = %.0fx'
          % (len(names), all_pairs, engine_small, naive_total, len(sample), naive_sample / len(sample) * 1e6, ratio))

    out = {
        'hosts': args.hosts, 'profiles': args.profiles, 'seconds': seconds, 'cpu_seconds': cpu[0], 'hosts_per_second': args.hosts / seconds,
        'classes': len(matrix['classes']), 'class_pairs': pairs, 'target_seconds': args.target,
        'target_met': seconds < args.target,
        'naive': {'hosts': len(names), 'pairs': all_pairs, 'engine_seconds': engine_small,
                  'naive_seconds_extrapolated': naive_total, 'sampled_pairs': len(sample),
                  'ratio': ratio},
    }
    os.makedirs(os.path.join(HERE, 'output'), exist_ok=True)
    with open(os.path.join(HERE, 'output', 'bench_engine_matrix.json'), 'w') as handle:
        json.dump(out, handle, indent=2, sort_keys=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
