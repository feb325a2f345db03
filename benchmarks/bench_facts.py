# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark vfio_facts on a large simulated host (run on demand: `make bench`; not a test).

1. Builds a benchmark-sized host with tests/sim/simhost.py (large_description: 64 PFs with
   2,048 VFs, 16 mdev parents x 32 types, 512 mdev instances, 200 processes).
2. Times the module's gather() against a floor measured in the same run: a plain loop that
   only opens and reads the same files and reads the same links that gather() touched (recorded
   while it ran once), each once. Prints best times, the ratio to the floor and peak memory.
3. Times the end-to-end ad hoc `ansible localhost -m vfio.migration.vfio_facts` on that host,
   and on hosts 1/4 and 1/16 of its size, against `ansible localhost -m ansible.builtin.setup
   -a gather_subset=hardware` (and `ping`, the fixed cost of any ad hoc run), with the number of
   nodes (containers and scalars) each result has. Then splits the large host's time into the
   module process on the target (Ansible's payload run again by itself) and the controller's
   handling of the result (end to end - ping - module process): ansible-core's controller walks
   every node of a result several times (templating, tagging, callback output), so that part
   grows with the size of the facts, not with anything the module does.

Targets: gather/floor <= 2.0, and vfio_facts end to end no slower than setup (ratio <= 1.0).

With ``--measure`` only gather() is timed (on ``--host`` when given), also as the real /sys and
/proc are read (no lstat before each open, ``_mounts.py``), and printed as one JSON line;
``--tree DIR`` imports the collection from DIR (``benchmarks/_trees.py``;
``benchmarks/compare.py`` uses both).
"""

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, 'tests', 'sim'))
sys.path.insert(0, HERE)

import simhost  # noqa: E402  pylint: disable=wrong-import-position
import _trees  # noqa: E402  pylint: disable=wrong-import-position

TREE = _trees.select_tree()


def build_large_host(workdir):
    """Build the benchmark's large host (large_description) under ``workdir``/hosts; its directory."""
    return simhost.build_host(simhost.large_description(), os.path.join(workdir, 'hosts'), source='large')


def host_roots(host_dir):
    """gather()'s root arguments for a simulated host's directory."""
    return {'sysfs_root': os.path.join(host_dir, 'sys'), 'proc_root': os.path.join(host_dir, 'proc'),
            'dev_root': os.path.join(host_dir, 'dev')}


def tree_listing(top):
    """Every entry below ``top`` with its link text or file size, depth first: what two runs must share."""
    listing = []
    with os.scandir(top) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_symlink():
            listing.append((entry.name, os.readlink(entry.path)))
        elif entry.is_dir():
            listing.append((entry.name, tree_listing(entry.path)))
        else:
            listing.append((entry.name, entry.stat().st_size))
    return listing


def as_on_sysfs():
    """A context in which the readers of this tree open files as on the real /sys and /proc, one
    open per file, no lstat first (trees since _mounts.py; the simulated host has no FIFO and no
    device node). ``None`` for a tree that always does (the base: it had no lstat yet)."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.vfio.migration.plugins.module_utils import _sysfs
    if not hasattr(_sysfs, 'plain_dirs'):
        return None

    @contextlib.contextmanager
    def plain():
        saved = _sysfs.plain_dirs
        _sysfs.plain_dirs = lambda root, mounts=None, device=None: (lambda directory: True)
        try:
            yield
        finally:
            _sysfs.plain_dirs = saved
    return plain


def measure(gather, roots, repeat, inputs):
    """``--measure``: gather() on the large host as built (a tree on disk: lstat before every open),
    and as the real /sys and /proc are read (one open per file); one JSON line."""
    gather(**roots)  # warm the page cache and the imports
    times = {'vfio_facts gather(), large host': _trees.best_times(lambda: gather(**roots), repeat)[1]}
    plain = as_on_sysfs()
    with plain() if plain is not None else contextlib.nullcontext():
        facts, times['vfio_facts gather(), large host read as /sys is'] = _trees.best_times(lambda: gather(**roots), repeat)
    # the parts of gather() the base did not do at all, timed alone on the same host ("of which" rows:
    # benchmarks/compare.py also prints the rest of the measurement above them against the base)
    # pylint: disable=import-outside-toplevel
    try:
        from ansible_collections.vfio.migration.plugins.module_utils._output import dumps
    except ImportError:  # the base had no UTF-8 and size check of the facts
        dumps = None
    if dumps is not None:
        parts = [facts['warnings'], facts['devices'], facts['sriov'], facts['mdev_types'], facts['host']]
        times['  of which the UTF-8 and size check (one JSON dump)'] = _trees.best_times(lambda: dumps(parts), repeat)[1]
    try:
        from ansible_collections.vfio.migration.plugins.module_utils._qemu_cmdline import assigned_devices
    except ImportError:  # the base read no QEMU options
        assigned_devices = None
    if assigned_devices is not None:
        cmdlines = holder_cmdlines(facts, roots['proc_root'])
        times['  of which the QEMU options of the devices in use'] = _trees.best_times(
            lambda: [assigned_devices(cmdline) for cmdline in cmdlines], repeat)[1]
    _trees.emit(times, _trees.digest(inputs))


def holder_cmdlines(facts, proc_root):
    """The command lines of the processes holding devices (what gather() parses for their options)."""
    cmdlines = []
    for pid in sorted(set(d['in_use']['pid'] for d in facts['devices'] if d['in_use'])):
        with open(os.path.join(proc_root, str(pid), 'cmdline'), 'rb') as handle:
            cmdlines.append(handle.read())
    return cmdlines


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


def run_timed(args, env, repeat):
    """Best wall time of ``repeat`` runs of the command ``args``; its output is discarded."""
    times = []
    for _dummy in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def count_nodes(value):
    """Containers and scalars in a JSON-shaped value: what ansible-core's controller walks per result."""
    if isinstance(value, dict):
        return 1 + sum(count_nodes(item) for item in value.values())
    if isinstance(value, list):
        return 1 + sum(count_nodes(item) for item in value)
    return 1


def scaled_description(scale, host):
    """large_description() with every count divided by ``scale`` (1 is the full benchmark host)."""
    return simhost.large_description(pfs=64 // scale, mdev_parents=16 // scale, instances=512 // scale,
                                     processes=max(200 // scale, 8), host=host)


def payload_time(common, module, module_args, env, workdir, repeat):
    """Best time of the module process alone on the target: Ansible's payload for ``module``, kept
    (ANSIBLE_KEEP_REMOTE_FILES) from one ad hoc run and run again directly, with its arguments inside."""
    remote_tmp = os.path.join(workdir, 'remote-tmp', module.rsplit('.', 1)[-1])
    shutil.rmtree(remote_tmp, ignore_errors=True)
    keep = dict(env, ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=remote_tmp)
    args = common + ['-m', module] + (['-a', module_args] if module_args else [])
    subprocess.run(args, env=keep, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    payloads = [os.path.join(root, name) for root, _dirs, names in os.walk(remote_tmp)
                for name in names if name.startswith('AnsiballZ_')]
    if len(payloads) != 1:
        raise SystemExit('expected one kept AnsiballZ payload under %s, found %d' % (remote_tmp, len(payloads)))
    return run_timed([sys.executable, payloads[0]], env, repeat)


def setup_facts(common, env):
    """The facts setup gather_subset=hardware returns on this machine (for their size)."""
    out = subprocess.run(common + ['-m', 'ansible.builtin.setup', '-a', 'gather_subset=hardware', '-o'],
                         env=dict(env, ANSIBLE_DEPRECATION_WARNINGS='false'), check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index('{'):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--out', default=os.path.join(TOP, 'benchmarks', 'output'), help='where the host is built')
    parser.add_argument('--repeat', type=int, default=5, help='timed runs per measurement (best is reported)')
    parser.add_argument('--adhoc-repeat', type=int, default=3, help='timed end-to-end ansible runs')
    parser.add_argument('--host', default=None, help='with --measure: a large host built already (its directory)')
    _trees.add_options(parser)
    args = parser.parse_args()

    workdir = os.path.abspath(args.out)
    os.makedirs(workdir, exist_ok=True)
    colls = _trees.collections_dir(TREE)
    from ansible_collections.vfio.migration.plugins.module_utils._facts import gather  # pylint: disable=import-outside-toplevel

    start = time.perf_counter()
    host_dir = args.host if args.measure and args.host else build_large_host(workdir)
    built = time.perf_counter() - start
    roots = host_roots(host_dir)
    if args.measure:
        measure(gather, roots, args.repeat, tree_listing(host_dir))
        return 0

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
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1')
    common = [ansible, 'localhost', '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable]
    repeat = args.adhoc_repeat
    setup_args = 'gather_subset=hardware'

    def module_args(root):
        return 'sysfs_root=%s/sys proc_root=%s/proc dev_root=%s/dev' % (root, root, root)

    ping_time = run_timed(common + ['-m', 'ansible.builtin.ping'], env, repeat)
    setup_time = run_timed(common + ['-m', 'ansible.builtin.setup', '-a', setup_args], env, repeat)
    setup_nodes = count_nodes(setup_facts(common, env))
    print()
    print('end to end, ansible ad hoc, best of %d (ping: %.3fs, the fixed cost of any ad hoc run)' % (repeat, ping_time))
    print('%-34s %9s %9s %9s %9s %7s' % ('host', 'devices', 'nodes', 'facts', 'setup hw', 'ratio'))
    sizes = [(16, 'large/16'), (4, 'large/4'), (1, 'large')]
    for scale, name in sizes:
        if scale == 1:
            root, size_facts = host_dir, facts
        else:
            root = simhost.build_host(scaled_description(scale, name.replace('/', '-')), os.path.join(workdir, 'hosts'),
                                      source=name)
            size_facts = gather(sysfs_root=root + '/sys', proc_root=root + '/proc', dev_root=root + '/dev')
        vfio_time = run_timed(common + ['-m', 'vfio.migration.vfio_facts', '-a', module_args(root)], env, repeat)
        print('%-34s %9d %9d %8.3fs %8.3fs %7.2f' % (name, size_facts['summary']['devices'], count_nodes(size_facts),
                                                     vfio_time, setup_time, vfio_time / setup_time))
    print('%-34s %9s %9d %9s %8.3fs   (target: ratio <= 1.0 on the large host)'
          % ('setup gather_subset=hardware', '', setup_nodes, '', setup_time))
    vfio_payload = payload_time(common, 'vfio.migration.vfio_facts', module_args(host_dir), env, workdir, repeat)
    setup_payload = payload_time(common, 'ansible.builtin.setup', setup_args, env, workdir, repeat)
    ping_payload = payload_time(common, 'ansible.builtin.ping', '', env, workdir, repeat)
    fixed = ping_time - ping_payload
    print()
    print('where the end-to-end time goes (fixed: ping end to end - its module process = %.3fs)' % fixed)
    print('%-34s %9s %9s %9s' % ('', 'module', 'result', 'total'))
    for name, total, payload in (('vfio_facts on the large host', vfio_time, vfio_payload),
                                 ('setup gather_subset=hardware', setup_time, setup_payload)):
        print('%-34s %8.3fs %8.3fs %8.3fs' % (name, payload, total - fixed - payload, total))
    print('module: its process on the target alone (Ansible\'s payload run again by itself);')
    print('result: the controller handling its result (total - fixed - module), which grows with the nodes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
