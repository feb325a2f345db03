# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module through real ``ansible`` and ``ansible-playbook`` runs against localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather

UUID = '2c3f0b2a-1b1e-4f6e-9a55-0d8f2e2f6a01'


def _ansible_command(name):
    """The ``ansible`` / ``ansible-playbook`` script of a real ansible-core installation.

    Next to this interpreter when it has one (a virtualenv with ansible-core), else the
    first on ``PATH`` that is not one of ansible-test's injected wrappers: module unit
    tests under ``ansible-test units`` may not import ``ansible.cli``, so the CLI runs as
    its own process with its own interpreter and a clean environment.
    """
    local = os.path.join(os.path.dirname(sys.executable), name)
    candidates = [local] + [os.path.join(d, name) for d in os.environ.get('PATH', '').split(os.pathsep) if d]
    for path in candidates:
        if 'ansible-test-' in path or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        return [path]
    raise AssertionError('no %s command next to %s or on PATH' % (name, sys.executable))


def run(cli, args, collections_path, tmp_path, extra_env=None):
    """Run ``ansible`` (``cli='adhoc'``) or ``ansible-playbook``."""
    command = _ansible_command('ansible' if cli == 'adhoc' else 'ansible-playbook')
    env = dict(os.environ)
    for name in list(env):
        if name.startswith('ANSIBLE_') or name in ('PYTHONPATH', 'PYTEST_ADDOPTS'):
            del env[name]       # ansible-test's restricted import path and settings are not for the CLI
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
    })
    env.update(extra_env or {})
    return subprocess.run(command + args, env=env, cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                          check=False)


def adhoc_result(proc):
    assert ' => ' in proc.stdout, proc.stdout + proc.stderr
    return json.loads(proc.stdout.split(' => ', 1)[1])


@pytest.fixture
def sim(host):
    host.module('nvidia', version='550.54.16', taint='POE')
    gpu = host.pci('0000:3b:00.0', '10de', '1eb8', subvendor='10de', subdevice='12a2', cls='030200', rev='a1',
                   driver='nvidia', module='nvidia', group=20)
    host.mdev_parent(gpu)
    host.mdev_type(gpu, 'nvidia-230', 'GRID T4-1Q', available=15)
    host.mdev(gpu, UUID, 'nvidia-230', group=30)
    host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci', group=7)
    host.process(4242, ['qemu-system-x86_64', '-name', 'guest=web-01,debug-threads=on'], {4: '/dev/vfio/30'})
    return host


def roots(host):
    return 'sysfs_root=%s proc_root=%s dev_root=%s' % (host.sys, host.proc, host.dev)


def test_adhoc_returns_the_facts_of_the_tree(sim, collections_path, tmp_path):
    proc = run('adhoc', ['localhost', '-m', 'vfio.migration.vfio_facts', '-a', roots(sim)], collections_path, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = adhoc_result(proc)
    assert result['changed'] is False
    vfio = result['ansible_facts']['vfio']
    assert vfio == gather(sim.sys, sim.proc, sim.dev, {}, True)
    assert vfio['schema_version'] == 1
    used = [d for d in vfio['devices'] if d['in_use']]
    assert [(d['id'], d['in_use']['vm']) for d in used] == [(UUID, 'web-01')]


def test_adhoc_check_mode_with_overrides_and_no_process_scan(sim, collections_path, tmp_path):
    args = {'sysfs_root': sim.sys, 'proc_root': sim.proc, 'dev_root': sim.dev, 'scan_processes': False,
            'software_versions': {'nvidia-230': '550.90.07', 'vfio-pci': 7}}
    proc = run('adhoc', ['localhost', '--check', '-m', 'vfio.migration.vfio_facts', '-a', json.dumps(args)],
               collections_path, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    vfio = adhoc_result(proc)['ansible_facts']['vfio']
    versions = dict((d['id'], (d['software_version'], d['software_version_source'])) for d in vfio['devices'])
    assert versions == {UUID: ('550.90.07', 'override'), '0000:5e:00.1': ('7', 'override')}
    assert all(d['in_use'] is None for d in vfio['devices'])


def test_bad_override_value_fails_clearly(sim, collections_path, tmp_path):
    proc = run('adhoc', ['localhost', '-m', 'vfio.migration.vfio_facts',
                         '-a', '{"software_versions": {"nvidia": [1, 2]}}'], collections_path, tmp_path)
    assert proc.returncode != 0
    assert "software_versions['nvidia'] must be a version string" in proc.stdout


PLAY = """
- hosts: localhost
  gather_facts: true
  gather_subset: ['!all', 'min']   # setup stays quick; vfio_facts is not given the subset
  gather_timeout: 120               # setup runs beside vfio_facts; a loaded CI machine must not time it out
  module_defaults:
    %(defaults_key)s:
      sysfs_root: %(sys)s
      proc_root: %(proc)s
      dev_root: %(dev)s
  tasks:
    - name: Keep what gather_facts found
      ansible.builtin.copy:
        content: "{{ ansible_facts.vfio | to_json }}"
        dest: %(out)s
        mode: '0644'
    - name: The facts are usable in the play
      ansible.builtin.assert:
        that:
          - ansible_facts.vfio.summary.devices_in_use == 1
          - ansible_facts.vfio.devices | selectattr('in_use') | map(attribute='in_use.vm') | list == ['web-01']
"""


@pytest.mark.parametrize('defaults_key, facts_modules', [
    ('vfio.migration.vfio_facts', 'vfio.migration.vfio_facts'),
    ('group/vfio.migration.vfio', 'ansible.builtin.setup, vfio.migration.vfio_facts'),   # run in parallel with setup
])
def test_as_a_facts_module_of_gather_facts(sim, collections_path, tmp_path, defaults_key, facts_modules):
    out = tmp_path / 'facts.json'
    playbook = tmp_path / 'play.yml'
    playbook.write_text(PLAY % dict(defaults_key=defaults_key, sys=sim.sys, proc=sim.proc, dev=sim.dev, out=out))
    proc = run('playbook', [str(playbook)], collections_path, tmp_path,
               extra_env={'ANSIBLE_FACTS_MODULES': facts_modules})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(out.read_text()) == gather(sim.sys, sim.proc, sim.dev, {}, True)


def test_non_utf8_names_reach_the_controller_escaped(sim, collections_path, tmp_path):
    """ansible-core refuses a module result that is not valid UTF-8: the whole host's facts were lost."""
    bad = os.fsdecode(b'0000:5e:00.\xff')
    sim.pci(bad, '8086', '1889', driver='vfio-pci', module='vfio_pci', group=8)
    proc = run('adhoc', ['localhost', '-m', 'vfio.migration.vfio_facts', '-a', roots(sim)], collections_path, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    vfio = adhoc_result(proc)['ansible_facts']['vfio']
    assert '0000:5e:00.\\xff' in [d['id'] for d in vfio['devices']]
    assert '0000:5e:00.\\xff: not valid UTF-8, bytes shown as \\xNN' in vfio['warnings']


def test_output_bound_options(sim, collections_path, tmp_path):
    args = {'sysfs_root': sim.sys, 'proc_root': sim.proc, 'dev_root': sim.dev, 'max_list_entries': 1}
    proc = run('adhoc', ['localhost', '-m', 'vfio.migration.vfio_facts', '-a', json.dumps(args)], collections_path, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    vfio = adhoc_result(proc)['ansible_facts']['vfio']
    assert len(vfio['devices']) == 1 and vfio['summary']['devices'] == 1
    assert any(w.startswith('devices: 2 entries, the first 1 kept') for w in vfio['warnings'])
    args['max_facts_bytes'] = 0
    proc = run('adhoc', ['localhost', '-m', 'vfio.migration.vfio_facts', '-a', json.dumps(args)], collections_path, tmp_path)
    assert proc.returncode != 0
    assert 'max_facts_bytes must be a positive number' in proc.stdout
