# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Before/after in one run: the benchmarks' main measurements on a base commit and on this tree.

    python benchmarks/compare.py [--base 31a20f0] [--rounds 3]     (make bench BASE=...)

The base defaults to 31a20f0, the last commit before the hardening of issue #10 (containment
checks, lstat before every open, the UTF-8 and size accounting of the facts, the schema check
of facts at the filter gateway): the issue asks that performance does not regress against it.
Its tree is extracted with ``git archive`` into benchmarks/output/base/<commit>/ (``make clean``
removes it). Without that commit in the history (a shallow clone, no git) the comparison is
skipped with a message, not failed.

Each benchmark runs with ``--measure --tree DIR`` (``benchmarks/_trees.py``) in a process of its
own, once per tree and round, base and this tree taking turns (base first in odd rounds, this
tree first in even ones) so that noise of the machine hits both; the inputs are the same
(``_fleet.py`` and ``tests/sim/simhost.py`` of this checkout, the large host built once), and
each run prints a digest of them that must match. The table has the best of all runs per tree,
CPU time (the process's, less sensitive to other load than wall time) and wall time, and the
ratio this tree / base; ratios above ``--max-ratio`` on CPU time are marked and fail the run.

What the hardening still costs at the time of writing is in docs of the benchmarks' output:
see the ``NOTES`` printed under the table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUTPUT = os.path.join(HERE, 'output')
sys.path.insert(0, os.path.join(REPO, 'tests', 'sim'))

import simhost  # noqa: E402  pylint: disable=wrong-import-position

DEFAULT_BASE = '31a20f0'

# (script, its arguments, measurements gated by --max-ratio)
BENCHMARKS = [
    ('bench_facts.py', ['--repeat', '3'], True),
    ('bench_engine_matrix.py', ['--runs', '2'], True),
    ('bench_engine_plan.py', ['--runs', '1'], False),
]

# What remains of the cost of the hardening, and why (printed under the table).
NOTES = []


def base_tree(base):
    """The directory of ``base``'s tree (extracted once), or ``None`` with the reason printed."""
    try:
        commit = subprocess.run(['git', '-C', REPO, 'rev-parse', '--verify', '--quiet', base + '^{commit}'],
                                check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        shallow = subprocess.run(['git', '-C', REPO, 'rev-parse', '--is-shallow-repository'],
                                 capture_output=True, text=True, check=False).stdout.strip() == 'true'
        print('before/after comparison skipped: commit %s is not in the git history of %s%s'
              % (base, REPO, ' (a shallow clone: `git fetch --unshallow` gets it)' if shallow else ''))
        return None
    top = os.path.join(OUTPUT, 'base', commit)
    tree = os.path.join(top, 'ansible_collections', 'vfio', 'migration')
    stamp = os.path.join(top, '.extracted')
    if not os.path.exists(stamp):
        data = subprocess.run(['git', '-C', REPO, 'archive', '--format=tar', commit],
                              check=True, capture_output=True).stdout
        os.makedirs(tree, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(tree)  # our own commit's files  # nosec
        with open(stamp, 'w') as handle:
            handle.write(commit + '\n')
    return commit, tree


def measure(script, args, tree):
    """One ``--measure`` run of ``script`` importing the collection from ``tree``: its JSON line."""
    cmd = [sys.executable, os.path.join(HERE, script), '--measure', '--tree', tree] + args
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit('%s --measure --tree %s failed (exit status %d)' % (script, tree, proc.returncode))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def interleaved(script, args, trees, rounds):
    """``{tree label: {measurement: {'wall', 'cpu'}}}``, best per tree over ``rounds`` alternating
    runs, and whether every run saw the same inputs."""
    best, inputs = dict((label, {}) for label in trees), set()
    order = list(trees)
    for number in range(rounds):
        for label in (order if number % 2 == 0 else order[::-1]):
            result = measure(script, args, trees[label])
            inputs.add(result['inputs'])
            for name, times in result['measurements'].items():
                kept = best[label].setdefault(name, dict(times))
                for clock in ('wall', 'cpu'):
                    kept[clock] = min(kept[clock], times[clock])
    return best, len(inputs) == 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--base', default=DEFAULT_BASE,
                        help='the commit to compare with (default: %s, before the hardening)' % DEFAULT_BASE)
    parser.add_argument('--rounds', type=int, default=3, help='runs per tree and benchmark, taking turns')
    parser.add_argument('--max-ratio', type=float, default=1.10, help='CPU ratio this/base a gated measurement may reach')
    parser.add_argument('--only', default=None, help='comma-separated benchmark scripts (default: all)')
    args = parser.parse_args(argv)

    found = base_tree(args.base)
    if found is None:
        return 0
    commit, tree = found
    host = simhost.build_host(simhost.large_description(), os.path.join(OUTPUT, 'hosts'), source='large')
    trees = {'base': tree, 'this': REPO}
    rows, failed = [], []
    for script, extra, gated in BENCHMARKS:
        if args.only and script not in args.only.split(','):
            continue
        extra = extra + (['--host', host] if script == 'bench_facts.py' else [])
        best, same = interleaved(script, extra, trees, args.rounds)
        for name in best['this']:
            if name not in best['base']:
                continue
            for clock in ('cpu', 'wall'):
                before, after = best['base'][name][clock], best['this'][name][clock]
                ratio = after / before if before else float('inf')
                mark = ''
                if not same:
                    mark = 'inputs differ between runs!'
                    failed.append(name)
                elif gated and clock == 'cpu' and ratio > args.max_ratio:
                    mark = 'above %.2f' % args.max_ratio
                    failed.append(name)
                rows.append((name, clock, before, after, ratio, mark))
    print('before/after, same run: base %s (%s) vs this tree (%s), best of %d interleaved runs each'
          % (args.base, commit[:12], REPO, args.rounds))
    width = max([len(r[0]) + 7 for r in rows] + [30])
    print('%-*s %10s %10s %8s' % (width, 'measurement', 'base', 'this tree', 'ratio'))
    for name, clock, before, after, ratio, mark in rows:
        print('%-*s %9.3fs %9.3fs %8.2f %s' % (width, '%s (%s)' % (name, clock), before, after, ratio, mark))
    for note in NOTES:
        print('note: ' + note)
    if failed:
        print('missed: CPU ratio above %.2f or inputs not the same: %s' % (args.max_ratio, ', '.join(sorted(set(failed)))))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
