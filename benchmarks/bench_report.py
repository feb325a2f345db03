# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark: the fleet report over thousands of hosts from a jsonfile fact cache.

    python benchmarks/bench_report.py [--hosts 2000] [--formats json,csv,markdown,html]

1. Builds the simulated fleet (``tests/sim``) and gathers its real ``vfio`` facts once into a
   jsonfile cache with ``ansible-playbook``.
2. Synthesises a cache of ``--hosts`` hosts from those facts: each new host copies one
   simulated host's facts under a new name (``<simhost>-<n>``), with its VM names varied.
3. Times, end to end, ``ansible-playbook`` running the ``vfio.migration.report`` role in a
   play on localhost with ``vfio_report_facts=reuse`` (no host contacted), and a same-run
   baseline: the same play reading every host's facts from the cache and writing one file,
   without the collection's filters (what ansible-core costs anyway).
4. Replays the collection's part in-process on the same facts (engine + report model +
   each format) to split the time: inside the collection vs ansible-core.

Prints seconds per host and the shares, the size of each file the role wrote (the CSV's in
bytes and rows, against a spreadsheet's 1,048,576 rows), and writes
``benchmarks/output/bench_report.json``. The target is under 60 s for 2,000 hosts on a 2-core
machine.

Ansible's commands are taken from the directory of the Python running this script (its
virtualenv, e.g. ``.venvs/core-2.19/bin/python benchmarks/bench_report.py``), never from PATH;
that directory is also put first on the PATH of the commands it starts.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = os.path.join(ROOT, 'tests', 'integration', 'targets', 'role_report')
BINDIR = os.path.dirname(os.path.abspath(sys.executable))
SPREADSHEET_ROWS = 1048576

PLAY = """---
- name: Fleet report from the fact cache
  hosts: localhost
  gather_facts: false
  roles:
    - role: vfio.migration.report
      vars:
        vfio_report_hosts: all
        vfio_report_facts: reuse
        vfio_report_dir: "{{ report_dir }}"
        vfio_report_formats: "{{ formats }}"
        vfio_report_timestamp: false
"""

BASELINE = """---
- name: Baseline - read every host's facts from the cache and write one file, no collection code
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the facts of every host
      ansible.builtin.set_fact:
        _facts: >-
          {%- set ns = namespace(facts=[]) -%}
          {%- for host in groups['all'] -%}
          {%-   set ns.facts = ns.facts + [hostvars[host].ansible_facts.vfio | default(none)] -%}
          {%- endfor -%}
          {{ dict(groups['all'] | zip(ns.facts)) }}
    - name: Write something per host
      ansible.builtin.copy:
        content: "{{ _facts | dict2items | map(attribute='key') | join('\\n') }}"
        dest: "{{ report_dir }}/baseline.txt"
        mode: "0644"
"""


def venv_tool(name):
    """The path of ``name`` beside the Python running this script (its virtualenv's bin)."""
    path = os.path.join(BINDIR, name)
    if not os.access(path, os.X_OK):
        raise SystemExit('%s not found beside %s: run this script with the Python of a virtualenv that has '
                         'ansible-core (e.g. .venvs/core-2.19/bin/python)' % (name, sys.executable))
    return path


def file_sizes(report_dir):
    """``{file name: {'bytes', 'rows'}}`` of the files the role wrote (rows: lines)."""
    sizes = {}
    for path in sorted(glob.glob(os.path.join(report_dir, 'vfio-report.*'))):
        with open(path, 'rb') as handle:
            rows = sum(1 for _line in handle)
        sizes[os.path.basename(path)] = {'bytes': os.path.getsize(path), 'rows': rows}
    return sizes


def collections_path(work):
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ['ansible_collections', 'vfio']:
        return os.sep.join(parts[:-3])
    os.makedirs(os.path.join(work, 'collections', 'ansible_collections', 'vfio'))
    os.symlink(ROOT, os.path.join(work, 'collections', 'ansible_collections', 'vfio', 'migration'))
    return os.path.join(work, 'collections')


def run(cmd, env, log):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    elapsed = time.perf_counter() - start
    with open(log, 'w') as handle:
        handle.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit('%s failed (%d), see %s' % (' '.join(cmd[:2]), proc.returncode, log))
    return elapsed


def read_cache_entry(path):
    """A jsonfile cache entry: (facts, wrapped); ansible-core 2.19 wraps them in ``__payload__``."""
    with open(path) as handle:
        data = json.load(handle)
    if isinstance(data, dict) and set(data) == {'__payload__'}:
        return json.loads(data['__payload__']), True
    return data, False


def write_cache_entry(path, facts, wrapped):
    with open(path, 'w') as handle:
        json.dump({'__payload__': json.dumps(facts)} if wrapped else facts, handle)


def synthesise(sim_cache, sim_hosts, out_cache, inventory, count):
    """Write ``count`` cache entries from the simulated hosts' facts, and an inventory.

    Cache file names are ``<prefix><host>`` (ansible-core 2.19 adds a prefix of its own), so
    each file is matched to its simulated host and the new name keeps the prefix.
    """
    sources = []
    for path in sorted(glob.glob(os.path.join(sim_cache, '*'))):
        base = os.path.basename(path)
        host = max((h for h in sim_hosts if base.endswith(h)), key=len, default=None)
        if host is None:
            continue
        facts, wrapped = read_cache_entry(path)
        sources.append((host, base[:-len(host)], facts, wrapped))
    if not sources:
        raise SystemExit('no facts in %s' % sim_cache)
    os.makedirs(out_cache)
    groups = {}
    for n in range(count):
        origin, prefix, facts, wrapped = sources[n % len(sources)]
        name = '%s-%04d' % (origin, n)
        facts = json.loads(json.dumps(facts))
        for dev in facts.get('vfio', {}).get('devices', []):
            if dev.get('in_use') and dev['in_use'].get('vm'):
                dev['in_use']['vm'] = '%s-%04d' % (dev['in_use']['vm'], n)
        write_cache_entry(os.path.join(out_cache, prefix + name), facts, wrapped)
        groups.setdefault(origin.replace('-', '_'), []).append(name)
    with open(inventory, 'w') as handle:
        for group, names in sorted(groups.items()):
            handle.write('[%s]\n%s\n\n' % (group, '\n'.join(names)))
    return sum(len(names) for names in groups.values())


def replay(cache, formats):
    """The collection's share, measured in-process on the same facts."""
    sys.path.insert(0, os.environ['ANSIBLE_COLLECTIONS_PATH'].split(':')[0])
    from ansible_collections.vfio.migration.plugins.filter.report_model import report_model
    from ansible_collections.vfio.migration.plugins.filter.report_render import report_render
    facts = {}
    for path in glob.glob(os.path.join(cache, '*')):
        facts[os.path.basename(path)] = read_cache_entry(path)[0]['vfio']
    timings = {}
    start = time.perf_counter()
    model = report_model(facts, hosts_without_facts=[], facts_source='cache')
    timings['report_model'] = time.perf_counter() - start
    # as the role does: the model is kept as its JSON text, every other format starts from it
    start = time.perf_counter()
    text = report_render(model, 'json')
    timings['render_json'] = time.perf_counter() - start
    timings['bytes_json'] = len(text.encode('utf-8'))
    for fmt in formats:
        if fmt == 'json':
            continue
        start = time.perf_counter()
        out = report_render(text, fmt)
        timings['render_' + fmt] = time.perf_counter() - start
        timings['bytes_' + fmt] = len(out.encode('utf-8'))
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=2000)
    parser.add_argument('--formats', default='json,csv,markdown,html')
    parser.add_argument('--keep', action='store_true', help='keep the work directory')
    args = parser.parse_args()
    formats = args.formats.split(',')

    work = tempfile.mkdtemp(prefix='vfio-bench-report-')
    out_dir = os.path.join(HERE, 'output')
    os.makedirs(out_dir, exist_ok=True)
    playbook = venv_tool('ansible-playbook')
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='False',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='False', ANSIBLE_HOST_KEY_CHECKING='False',
               PATH=os.pathsep.join([BINDIR] + [p for p in os.environ.get('PATH', '').split(os.pathsep) if p]))
    cache_env = dict(ANSIBLE_CACHE_PLUGIN='ansible.builtin.jsonfile', ANSIBLE_CACHE_PLUGIN_TIMEOUT='86400')
    env['ANSIBLE_COLLECTIONS_PATH'] = collections_path(work)
    os.environ['ANSIBLE_COLLECTIONS_PATH'] = env['ANSIBLE_COLLECTIONS_PATH']
    try:
        inventory = subprocess.run([sys.executable, os.path.join(TARGET, 'files', 'sim_inventory.py'), ROOT, work],
                                   check=True, env=env, stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
        sim_cache = os.path.join(work, 'sim-cache')
        gather = os.path.join(ROOT, 'tests', 'integration', 'targets', 'role_report_cache', 'gather.yml')
        run([playbook, '-i', inventory, gather],
            dict(env, ANSIBLE_CACHE_PLUGIN_CONNECTION=sim_cache, **cache_env), os.path.join(work, 'gather.log'))
        cache = os.path.join(work, 'cache')
        fleet_inventory = os.path.join(work, 'fleet.ini')
        with open(inventory) as handle:
            sim_hosts = list(json.load(handle)['all']['hosts'])
        synthesise(sim_cache, sim_hosts, cache, fleet_inventory, args.hosts)
        for name, text in (('report.yml', PLAY), ('baseline.yml', BASELINE)):
            with open(os.path.join(work, name), 'w') as handle:
                handle.write(text)
        report_dir = os.path.join(work, 'report')
        os.makedirs(report_dir)
        fenv = dict(env, ANSIBLE_CACHE_PLUGIN_CONNECTION=cache, **cache_env)
        base = [playbook, '-i', fleet_inventory, '-e', 'report_dir=' + report_dir]
        baseline = run(base + [os.path.join(work, 'baseline.yml')], fenv, os.path.join(work, 'baseline.log'))
        total = run(base + ['-e', json.dumps({'formats': formats}), os.path.join(work, 'report.yml')],
                    fenv, os.path.join(work, 'report.log'))
        summary = None
        if 'json' in formats:
            with open(os.path.join(report_dir, 'vfio-report.json')) as handle:
                summary = json.load(handle)['summary']
        written = file_sizes(report_dir)
        timings = replay(cache, formats)
        inside = sum(v for k, v in timings.items() if not k.startswith('bytes_'))
        result = {
            'hosts': args.hosts, 'formats': formats,
            'seconds_total': round(total, 2), 'seconds_per_host': round(total / args.hosts, 5),
            'seconds_baseline': round(baseline, 2), 'ratio_to_baseline': round(total / baseline, 2),
            'seconds_collection': round(inside, 2),
            'share_collection': round(inside / total, 3), 'share_ansible_core': round(1 - inside / total, 3),
            'collection_breakdown': dict((k, round(v, 3)) for k, v in timings.items() if not k.startswith('bytes_')),
            'bytes': dict((k[6:], v) for k, v in timings.items() if k.startswith('bytes_')),
            'files_written': written,
            'summary': summary and {k: summary[k] for k in ('hosts', 'classes', 'pairs', 'compatible_pairs')},
            'target_seconds': 60, 'within_target': total < 60,
        }
        with open(os.path.join(out_dir, 'bench_report.json'), 'w') as handle:
            json.dump(result, handle, indent=2, sort_keys=True)
        print('report over %d hosts from a jsonfile cache: %.1f s end to end (%.4f s/host, target < 60 s: %s)'
              % (args.hosts, total, total / args.hosts, 'met' if total < 60 else 'MISSED'))
        print('baseline (ansible-core reading the same cache, no collection code): %.1f s; report/baseline = %.2f'
              % (baseline, total / baseline))
        print('inside the collection: %.1f s (%.0f %%), ansible-core and the rest: %.0f %%'
              % (inside, 100 * inside / total, 100 - 100 * inside / total))
        print('  ' + ', '.join('%s %.2f s' % kv for kv in sorted(result['collection_breakdown'].items())))
        print('  file sizes: ' + ', '.join('%s %.1f MB' % (k, v / 1e6) for k, v in sorted(result['bytes'].items())))
        for name, size in sorted(written.items()):
            print('written %s: %d bytes (%.1f MB), %d rows%s'
                  % (name, size['bytes'], size['bytes'] / 1e6, size['rows'],
                     ' (spreadsheet limit %d: %s)' % (SPREADSHEET_ROWS, 'fits' if size['rows'] <= SPREADSHEET_ROWS
                                                      else 'TOO MANY') if name.endswith('.csv') else ''))
        return 0 if total < 60 else 1
    finally:
        if args.keep:
            print('work directory kept: %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
