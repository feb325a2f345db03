# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark: migration_plan draining 500 hosts (2,000 VMs) onto the rest of a 2,000-host fleet.

    python benchmarks/bench_engine_plan.py [--hosts 2000] [--drain 500] [--vms-per-host 4]

The fleet is synthetic (benchmarks/_fleet.py): the drained hosts carry 4 VMs each (a vGPU,
some with a ConnectX-6 Dx VF too), the others 0-2 VMs and spare vGPU and VF capacity over
200 host templates. Prints the time, VMs placed (and blocked), devices placed and waves, and
the ratio to a baseline timed in the same run on the same facts: compat_matrix, the pairwise
verdicts by class that any placement starts from.
Optimality on small instances is checked by the unit tests against brute force.

With ``--measure`` only migration_plan is timed (the engine called directly, the facts schema
check it makes, and the filter) and printed as one JSON line; ``--tree DIR``
imports the collection from DIR (``benchmarks/_trees.py``; ``benchmarks/compare.py`` uses both).

Writes benchmarks/output/bench_engine_plan.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _trees  # noqa: E402

_trees.select_tree()

import _fleet  # noqa: E402

from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix  # noqa: E402
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=2000)
    parser.add_argument('--drain', type=int, default=500)
    parser.add_argument('--vms-per-host', type=int, default=4)
    parser.add_argument('--wave-size', type=int, default=10)
    parser.add_argument('--runs', type=int, default=2)
    _trees.add_options(parser)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    facts, drain = _fleet.plan_fleet(args.hosts, args.drain, args.vms_per_host)
    if args.measure:
        # the engine called directly checks the facts itself; the filter (what playbooks call) has its
        # gateway make a plain copy and check them, then runs the engine
        # pylint: disable=import-outside-toplevel
        from ansible_collections.vfio.migration.plugins.filter.migration_plan import FilterModule
        from ansible_collections.vfio.migration.plugins.plugin_utils._schema import validate_facts
        plan_filter = FilterModule().filters()['migration_plan']
        label = '%d hosts, %d drained' % (args.hosts, len(drain))
        _trees.emit({
            'migration_plan engine, ' + label: _trees.best_times(
                lambda: migration_plan(facts, drain, wave_size=args.wave_size), args.runs)[1],
            '  of which the facts schema check, %d hosts' % args.hosts: _trees.best_times(
                lambda: [validate_facts(value, name) for name, value in facts.items()], args.runs)[1],
            'migration_plan filter, ' + label: _trees.best_times(
                lambda: plan_filter(facts, drain=drain, wave_size=args.wave_size), args.runs)[1],
        }, _trees.digest([facts, drain]))
        return 0
    print('fleet: %d hosts, draining %d, built in %.1f s (not timed below)'
          % (args.hosts, len(drain), time.perf_counter() - start))
    times, plan = [], None
    for _run in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        plan = migration_plan(facts, drain, wave_size=args.wave_size)
        times.append((time.perf_counter() - start, time.process_time() - start_cpu))
    summary = plan['summary']
    seconds, cpu = min(times)
    print('migration_plan: %.3f s wall (best of %d; %.3f s CPU); VMs placed %d of %d (%d blocked), devices placed %d, '
          '%d waves of up to %d hosts, hosts fully evacuated %d of %d'
          % (seconds, args.runs, cpu, summary['vms_placed'], summary['vms'], summary['vms_blocked'],
             summary['devices_placed'], len(plan['waves']), args.wave_size, len(summary['hosts_evacuated']),
             len(drain)))
    baseline = []
    for _run in range(args.runs):
        start = time.perf_counter()
        compat_matrix(facts)
        baseline.append(time.perf_counter() - start)
    print('baseline, same run and facts: compat_matrix %.3f s (best of %d); ratio migration_plan/compat_matrix = %.2f'
          % (min(baseline), args.runs, seconds / min(baseline)))
    out = {'hosts': args.hosts, 'drained': len(drain), 'seconds': seconds, 'cpu_seconds': cpu, 'vms': summary['vms'],
           'baseline_compat_matrix_seconds': min(baseline), 'ratio_to_baseline': seconds / min(baseline),
           'vms_placed': summary['vms_placed'], 'vms_blocked': summary['vms_blocked'],
           'devices_placed': summary['devices_placed'], 'waves': len(plan['waves'])}
    os.makedirs(os.path.join(HERE, 'output'), exist_ok=True)
    with open(os.path.join(HERE, 'output', 'bench_engine_plan.json'), 'w') as handle:
        json.dump(out, handle, indent=2, sort_keys=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
