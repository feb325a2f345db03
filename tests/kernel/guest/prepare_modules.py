#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kernel-lane guest step: vfio_mdev and vfio_vf against the real kernel, with the facts before and after.

Run by guest.sh after the capture, when the scenario's devices exist (mtty, mdpy parents; NVMe
VFs on vfio-pci, one held by a "VM"; the mtty instance held; igb VFs when QEMU has igb).
Each module runs as in the lane's facts step (``python3 -m <module> <args file>``). Prints
``NOTE prepare ...`` for what it did and ``FAIL prepare ...`` for every check that fails
(the lane fails on any FAIL line).
"""

import json
import os
import subprocess
import sys

SYS = '/sys'
PKG = 'ansible_collections.vfio.migration.plugins.modules.'
ENV = dict(os.environ, PYTHONPATH='/opt/collections:/opt/ansible')
U_NEW = {'mtty': '83b8f4f2-509f-382f-3c1e-e6bfe0fa2001', 'mdpy': '83b8f4f2-509f-382f-3c1e-e6bfe0fa2002'}
U_HELD = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'  # guest.sh's mtty instance, held by mdev-vm
FAILS = []


def check(ok, what):
    if not ok:
        FAILS.append(what)
        print('FAIL prepare %s' % what)


def module(name, args, step):
    path = '/tmp/prepare-%s.json' % step
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
    proc = subprocess.run(check=False, args=[sys.executable, '-m', PKG + name, path], env=ENV, capture_output=True, text=True)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = {'failed': True, 'msg': 'not JSON: %s %s' % (proc.stdout[-500:], proc.stderr[-500:])}
    detail = result.get('msg', result.get('writes'))
    print('NOTE prepare %s: changed=%s failed=%s %s' % (step, result.get('changed'), result.get('failed'), detail))
    return result


def facts():
    return module('vfio_facts', {}, 'facts')['ansible_facts']['vfio']


def avail(vfio, parent, mdev_type):
    return [t['available_instances'] for t in vfio['mdev_types'] if (t['parent'], t['type']) == (parent, mdev_type)]


def mdevs(parent, mdev_type):
    """Create, again (unchanged), remove, again (unchanged); the facts follow each step."""
    uuid = U_NEW[parent]
    spec = {'uuid': uuid, 'parent': parent, 'type': mdev_type}
    before = facts()
    r = module('vfio_mdev', spec, 'create-' + parent)
    created = facts()
    check(r.get('changed') and not r.get('failed'), 'create %s on %s' % (mdev_type, parent))
    parent_dir = os.path.realpath('%s/class/mdev_bus/%s' % (SYS, parent))
    check(r.get('writes') == [{'path': '%s/mdev_supported_types/%s/create' % (parent_dir, mdev_type), 'value': uuid}],
          'create %s wrote %s' % (parent, r.get('writes')))
    check(uuid in [d['id'] for d in created['devices']], 'facts list the new %s mdev' % parent)
    check(avail(created, parent, mdev_type) == [r.get('available_instances', {}).get('after')],
          'available_instances after create %s' % parent)
    check(avail(before, parent, mdev_type)[0] > avail(created, parent, mdev_type)[0],
          'available_instances of %s dropped' % mdev_type)
    r = module('vfio_mdev', spec, 'create-again-' + parent)
    check(not r.get('changed') and not r.get('failed') and r.get('writes') == [], 'second create unchanged')
    r = module('vfio_mdev', dict(spec, state='absent'), 'remove-' + parent)
    remove = {'path': '%s/bus/mdev/devices/%s/remove' % (SYS, uuid), 'value': '1'}
    check(r.get('changed') and r.get('writes') == [remove], 'remove %s' % parent)
    removed = facts()
    check(uuid not in [d['id'] for d in removed['devices']], 'facts no longer list the %s mdev' % parent)
    check(avail(removed, parent, mdev_type) == avail(before, parent, mdev_type), 'available_instances restored')
    r = module('vfio_mdev', dict(spec, state='absent'), 'remove-again-' + parent)
    check(not r.get('changed') and not r.get('failed'), 'second remove unchanged')


def held_refusals(nvme):
    r = module('vfio_mdev', {'uuid': U_HELD, 'state': 'absent'}, 'remove-held')
    check(r.get('failed') and 'in use by VM mdev-vm' in r.get('msg', '') and r.get('writes') == [],
          'removing the held mtty instance is refused')
    check(os.path.exists('%s/bus/mdev/devices/%s' % (SYS, U_HELD)), 'the held mtty instance still exists')
    if nvme:
        r = module('vfio_vf', {'pf': nvme, 'num_vfs': 1}, 'nvme-count-held')
        check(r.get('failed') and 'in use by VM kvm-test-vm' in r.get('msg', '') and r.get('writes') == [],
              'changing the count of the NVMe PF with a held VF is refused')
        r = module('vfio_vf', {'pf': nvme, 'vf_index': 1, 'driver': 'vfio-pci'}, 'nvme-vf-again')
        check(not r.get('failed') and not r.get('changed'), 'the NVMe VF on vfio-pci with its override is unchanged')


def igb_vfs(igb):
    """igb: 4 -> 5 VFs (through 0), bind the new fifth VF to vfio-pci, both idempotent."""
    before = facts()
    r = module('vfio_vf', {'pf': igb, 'num_vfs': 5}, 'igb-count')
    pf_path = os.path.realpath('%s/bus/pci/devices/%s' % (SYS, igb))
    check(r.get('changed') and [w['value'] for w in r.get('writes') or []] == ['0', '5']
          and all(w['path'] == pf_path + '/sriov_numvfs' for w in r['writes']), 'igb count through 0: %s' % r)
    r = module('vfio_vf', {'pf': igb, 'num_vfs': 5}, 'igb-count-again')
    check(not r.get('changed') and r.get('writes') == [], 'igb count again unchanged')
    r = module('vfio_vf', {'pf': igb, 'vf_index': 4, 'driver': 'vfio-pci'}, 'igb-bind')
    vf = os.path.basename(os.path.realpath('%s/virtfn4' % pf_path))
    check(r.get('changed') and not r.get('failed') and r.get('after', {}).get('driver') == 'vfio-pci', 'igb bind')
    check([w['value'] for w in r.get('writes') or []][:1] == ['vfio-pci'] and r['writes'][-1]['value'] == vf,
          'igb bind writes %s' % r.get('writes'))
    r = module('vfio_vf', {'pf': igb, 'vf_index': 4, 'driver': 'vfio-pci'}, 'igb-bind-again')
    check(not r.get('changed') and r.get('writes') == [], 'igb bind again unchanged')
    after = facts()
    numvfs = dict((s['pf'], s['numvfs']) for s in after['sriov'])
    check(numvfs.get(igb) == 5, 'facts: igb numvfs 5 (was %s)' % [s['numvfs'] for s in before['sriov'] if s['pf'] == igb])
    check([d['driver'] for d in after['devices'] if d['id'] == vf] == ['vfio-pci'], 'facts: %s on vfio-pci' % vf)


def pf_of(vendor_device):
    for name in sorted(os.listdir(SYS + '/bus/pci/devices')):
        d = '%s/bus/pci/devices/%s/' % (SYS, name)
        with open(d + 'vendor') as v, open(d + 'device') as dv:
            if (v.read().strip(), dv.read().strip()) == vendor_device and os.path.exists(d + 'sriov_totalvfs'):
                return name
    return None


def main():
    mdevs('mtty', 'mtty-1')
    mdevs('mdpy', 'mdpy-vga')
    held_refusals(pf_of(('0x1b36', '0x0010')))
    igb = pf_of(('0x8086', '0x10c9'))
    if igb:
        igb_vfs(igb)
    else:
        print('NOTE prepare: no igb in this QEMU, VF count and binding checked on NVMe only')
    print('NOTE prepare: %d failed checks' % len(FAILS))


if __name__ == '__main__':
    main()
