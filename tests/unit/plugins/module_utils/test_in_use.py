# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The in_use lookup shared by vfio_facts and the write modules agrees with the facts on every simulated host."""

from __future__ import annotations

import glob
import importlib.util
import os

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.plugins.module_utils._in_use import DeviceHolders, describe, holder, pick
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader

SIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'sim')


def _built(once):
    spec = importlib.util.spec_from_file_location('vfio_simhost', os.path.join(SIM, 'simhost.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return once('simhosts', lambda out: module.build_all(sorted(glob.glob(os.path.join(SIM, 'hosts', '*.yml'))), out))


def test_pick_prefers_a_vm_then_the_lowest_pid():
    entries = [{'pid': 5, 'vm': None, 'holder': 'x'}, {'pid': 9, 'vm': 'b', 'holder': 'q'},
               {'pid': 7, 'vm': 'a', 'holder': 'q'}]
    assert pick(entries)['pid'] == 7
    assert holder({('cdev', 'vfio3'): entries}, None, 'vfio3')['vm'] == 'a'
    assert holder({('group', '12'): entries[:1]}, '12', 'vfio3')['pid'] == 5
    assert holder({}, '12', 'vfio3') is None
    assert describe(entries[2]) == 'VM a (pid 7)'
    assert describe(entries[0]) == 'pid 5'


def test_device_holders_agree_with_the_facts(once):
    built = _built(once)
    checked = 0
    for host in sorted(os.listdir(built)):
        roots = [os.path.join(built, host, name) for name in ('sys', 'proc', 'dev')]
        if not os.path.isdir(roots[0]):
            continue
        facts = gather(*roots)
        sys_reader = Reader(roots[0], '/sys')
        holders = DeviceHolders(sys_reader, Reader(roots[1], '/proc'), roots[2])
        mdev_dirs = dict((name, sys_reader.follow(sys_reader.path('bus', 'mdev', 'devices', name)))
                         for name in sys_reader.listdir(sys_reader.path('bus', 'mdev', 'devices')))
        for device in facts['devices']:
            if device['kind'] == 'pci':
                real = sys_reader.resolve(sys_reader.path('bus', 'pci', 'devices', device['id']))
            elif device['id'] in mdev_dirs:
                real = mdev_dirs[device['id']]
            else:
                continue
            # the facts add the options the holder's command line gives this device
            in_use = dict(device['in_use'], qemu_options=None) if device['in_use'] else None
            found = dict(holders.of(real), qemu_options=None) if holders.of(real) else None
            assert found == in_use, (host, device['id'])
            checked += 1
    assert checked > 50
