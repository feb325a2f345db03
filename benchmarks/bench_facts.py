# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark vfio_facts on a large simulated host (run on demand: `make bench`; not a test).

1. Builds a benchmark-sized host with tests/sim/simhost.py (large_description: 64 PFs with
   2,048 VFs, 16 mdev parents x 32 types, 512 mdev instances, 200 processes).
2. Times the module's gather() against a floor measured in the same run: a plain loop that
   only opens and reads the same files and reads the same links that gather() touched (recorded
   while it ran once), each once. Prints best times, the ratio to the floor and peak memory.
3. Times the end-to-end ad hoc `ansible localhost -m vfio.migration.vfio_facts` on that host
   against `ansible localhost -m ansible.builtin.setup -a gather_subset=hardware` and prints
   the ratio.

Targets: gather/floor <= 2.0, and vfio_facts end to end no slower than setup (ratio <= 1.0).
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'sim'))

import simhost  # noqa: E402  pylint: disable=wrong-import-position


def collection_path(workdir):
    """A collections path in which vfio.migration is this checkout."""
    path = os.path.join(workdir, 'collections')
    os.makedirs(os.path.join(path, 'ansible_collections', 'vfio'), exist_ok=True)
    link = os.path.join(path, 'ansible_collections', 'vfio', 'migration')
    if not os.path.lexists(link):
        os.symlink(TOP, link)
    return path


def record_reads(gather, roots):
    """Run gather() once and return the files it opened and the links it read, in order, once each."""
    real_open, real_readlink = os.open, os.readlink
    files, links = {}, {}

    def rec_open(path, flags, *args, **kwargs):
        files.setdefault(os.fsdecode(path), None)
        return real_open(path, flags, *args, **kwargs)

    def rec_readlink(path, *args, **kwargs):
        links.setdefault(os.fsdecode(path), None)
        return real_readlink(path, *args, **kwargs)

    os.open, os.readlink = rec_open, rec_readlink
    try:
        gather(**roots)
    finally:
        os.open, os.readlink = real_open, real_readlink
    return list(files), list(links)


def floor(files, links):
    """The least any reader must do: open and read each file, read each link."""
    for path in files:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.read(fd, 65536)
        except OSError:
            pass
        finally:
            os.close(fd)
    for path in links:
        try:
            os.readlink(path)
        except OSError:
            pass


def best_of(func, repeat):
    times = []
    for _dummy in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def run_adhoc(args, env, repeat):
    times = []
    for _dummy in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--out', default=os.path.join(TOP, 'benchmarks', 'output'), help='where the host is built')
    parser.add_argument('--repeat', type=int, default=5, help='timed runs per measurement (best is reported)')
    parser.add_argument('--adhoc-repeat', type=int, default=3, help='timed end-to-end ansible runs')
    args = parser.parse_args()

    workdir = os.path.abspath(args.out)
    os.makedirs(workdir, exist_ok=True)
    colls = collection_path(workdir)
    sys.path.insert(0, colls)
    from ansible_collections.vfio.migration.plugins.module_utils._facts import gather  # pylint: disable=import-outside-toplevel

    start = time.perf_counter()
    desc = simhost.large_description()
    host_dir = simhost.build_host(desc, os.path.join(workdir, 'hosts'), source='large')
    built = time.perf_counter() - start
    roots = {'sysfs_root': os.path.join(host_dir, 'sys'), 'proc_root': os.path.join(host_dir, 'proc'),
             'dev_root': os.path.join(host_dir, 'dev')}

    facts = gather(**roots)  # warm the page cache and the imports
    files, links = record_reads(gather, roots)
    gather_best, gather_median = best_of(lambda: gather(**roots), args.repeat)
    floor_best, floor_median = best_of(lambda: floor(files, links), args.repeat)

    tracemalloc.start()
    gather(**roots)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    summary = facts['summary']
    print('large host built in %.1fs: %s' % (built, host_dir))
    print('  %d devices (%s), %d mdev types, %d SR-IOV PFs, %d VMs, %d warnings'
          % (summary['devices'], ', '.join('%s %d' % kv for kv in sorted(summary['devices_by_kind'].items()) if kv[1]),
             len(facts['mdev_types']), len(facts['sriov']), summary['vms'], len(facts['warnings'])))
    print('  gather() touched %d files and %d links' % (len(files), len(links)))
    print()
    print('%-34s %10s %10s' % ('in process (best of %d)' % args.repeat, 'best', 'median'))
    print('%-34s %9.3fs %9.3fs' % ('vfio_facts gather()', gather_best, gather_median))
    print('%-34s %9.3fs %9.3fs' % ('floor: open+read files, readlinks', floor_best, floor_median))
    print('%-34s %10.2f   (target <= 2.0)' % ('ratio gather / floor', gather_best / floor_best))
    print('%-34s %8.1f MiB' % ('peak traced memory of gather()', peak / 2.0 ** 20))
    print('%-34s %8.1f MiB' % ('peak RSS of this process', maxrss_kib / 1024.0))

    bindir = os.path.dirname(sys.executable)
    ansible = os.path.join(bindir, 'ansible') if os.path.exists(os.path.join(bindir, 'ansible')) else shutil.which('ansible')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=colls, ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    common = [ansible, 'localhost', '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable]
    module_args = ' '.join('%s=%s' % kv for kv in sorted(roots.items()))
    vfio_time = run_adhoc(common + ['-m', 'vfio.migration.vfio_facts', '-a', module_args], env, args.adhoc_repeat)
    setup_time = run_adhoc(common + ['-m', 'ansible.builtin.setup', '-a', 'gather_subset=hardware'], env, args.adhoc_repeat)
    print()
    print('%-34s %10s' % ('end to end, ansible ad hoc (best of %d)' % args.adhoc_repeat, ''))
    print('%-34s %9.3fs' % ('vfio.migration.vfio_facts', vfio_time))
    print('%-34s %9.3fs' % ('setup gather_subset=hardware', setup_time))
    print('%-34s %10.2f   (target <= 1.0)' % ('ratio vfio_facts / setup', vfio_time / setup_time))
    return 0


if __name__ == '__main__':
    sys.exit(main())
