# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Synthetic fleets for the engine benchmarks: schema_version 1 facts, deterministic.

A *profile* is a host template: GPU board and vGPU types, NVIDIA host driver, NIC VFs and
kernel, how many VMs use what. ``fleet(hosts, profiles)`` draws ``profiles`` distinct
templates and gives them to ``hosts`` hosts round-robin, each with its own names and ids.
"""

from __future__ import annotations

import importlib.util
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def _load_fingerprint():
    """``fingerprint`` of this checkout's ``_profile.py`` (standard library only), loaded by path:
    the fleet is the same whichever tree a benchmark imports (``--tree``, see ``_trees.py``)."""
    path = os.path.join(REPO, 'plugins', 'module_utils', '_profile.py')
    spec = importlib.util.spec_from_file_location('_bench_fleet_profile', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fingerprint


fingerprint = _load_fingerprint()

BOARDS = {
    'T4': (('10de', '1eb8', '10de', '12a2'), ['nvidia-222', 'nvidia-230', 'nvidia-234'], [16, 16, 1]),
    'A100': (('10de', '20f1', '10de', '145f'), ['nvidia-468', 'nvidia-469', 'nvidia-470'], [10, 5, 2]),
    'L4': (('10de', '27b8', '10de', '16ca'), ['nvidia-901', 'nvidia-902'], [6, 3]),
}
NV_VERSIONS = ['535.129.03', '550.54.16', '550.90.07']
KERNELS = ['6.1.0-18-amd64', '6.8.0-45-generic', '6.10.2-1-amd64']
CX6_PF = ('15b3', '101d', '15b3', '0016')
CX6_VF = ('15b3', '101e', '15b3', '0016')


def _pci(ids):
    return {'vendor': ids[0], 'device': ids[1], 'subsystem_vendor': ids[2], 'subsystem_device': ids[3],
            'class': '030200', 'revision': 'a1'}


def _profiles(count, seed):
    rng = random.Random(seed)
    seen, out = set(), []
    while len(out) < count:
        board = rng.choice(sorted(BOARDS))
        ntypes = len(BOARDS[board][1])
        template = (
            board,
            rng.randint(1, 4),                      # GPUs
            rng.randrange(ntypes),                  # vGPU type in use on this host
            rng.choice(NV_VERSIONS),
            rng.choice(KERNELS),
            rng.randint(0, 3),                      # VMs with a vGPU
            rng.randint(0, 2),                      # of which with a NIC VF too
            rng.choice([0, 4, 8]),                  # spare VFs of the NIC (see host_facts)
        )
        if template in seen:
            continue
        seen.add(template)
        out.append(template)
    return out


def host_facts(template, index):
    board, gpus, tindex, nv, kernel, vms, nic_vms, spare_vfs = template
    ids, types, maxes = BOARDS[board]
    type_id, max_inst = types[tindex], maxes[tindex]
    devices, mdev_types, sriov = [], [], []
    per_gpu = {}
    for v in range(vms):
        gpu = v % gpus
        per_gpu[gpu] = per_gpu.get(gpu, 0) + 1
        vm = 'vm-%d-%d' % (index, v)
        rec = {
            'id': '%08x-0000-4000-8000-%012x' % (index, v), 'kind': 'mdev', 'device_api': 'vfio-pci',
            'type': type_id, 'driver': 'nvidia', 'parent': '0000:%02x:00.0' % (0x3b + gpu), 'iommu_group': str(100 + v),
            'numa_node': 0, 'pci': _pci(ids), 'software_version': nv, 'software_version_source': 'module',
            'migration': {'capable': True, 'reason': 'NVIDIA vGPU host driver'}, 'attributes': {},
            'in_use': {'pid': 4000 + v, 'vm': vm, 'holder': '/dev/vfio/%d' % (100 + v)},
        }
        rec['fingerprint'] = fingerprint(rec)
        devices.append(rec)
        if v < nic_vms:
            vf = {
                'id': '0000:5e:%02x.%d' % (v // 8, v % 8 + 1), 'kind': 'pci', 'device_api': 'vfio-pci',
                'type': 'pci-%s:%s:%s:%s' % CX6_VF, 'driver': 'mlx5_vfio_pci', 'parent': '0000:5e:00.0',
                'iommu_group': str(200 + v), 'numa_node': 0, 'pci': _pci(CX6_VF), 'software_version': kernel,
                'software_version_source': 'kernel', 'migration': {'capable': True, 'reason': 'mlx5_vfio_pci'},
                'attributes': {}, 'in_use': {'pid': 4000 + v, 'vm': vm, 'holder': '/dev/vfio/%d' % (200 + v)},
            }
            vf['fingerprint'] = fingerprint(vf)
            devices.append(vf)
    for gpu in range(gpus):
        used = per_gpu.get(gpu, 0)
        avail = max_inst - used if used else max_inst
        entry = {
            'parent': '0000:%02x:00.0' % (0x3b + gpu), 'type': type_id, 'kind': 'mdev', 'name': type_id,
            'description': None, 'device_api': 'vfio-pci', 'available_instances': max(avail, 0), 'driver': 'nvidia',
            'pci': _pci(ids), 'software_version': nv, 'software_version_source': 'module',
            'migration': {'capable': True, 'reason': 'NVIDIA vGPU host driver'},
        }
        entry['fingerprint'] = fingerprint(entry)
        mdev_types.append(entry)
    # a PF whose VFs a VM holds cannot add more (the count changes only through 0): the spare VFs
    # of a host with NIC VMs are on the second port, with SR-IOV off
    sriov.append({'pf': '0000:5e:00.0', 'pci': _pci(CX6_PF), 'driver': 'mlx5_core', 'numa_node': 0,
                  'totalvfs': nic_vms or spare_vfs, 'numvfs': nic_vms, 'vf_device': '101e'})
    if nic_vms and spare_vfs:
        sriov.append({'pf': '0000:5e:00.1', 'pci': _pci(CX6_PF), 'driver': 'mlx5_core', 'numa_node': 0,
                      'totalvfs': spare_vfs, 'numvfs': 0, 'vf_device': '101e'})
    return {
        'schema_version': 1,
        'host': {'kernel_release': kernel, 'iommu': {'enabled': True, 'groups': 64},
                 'modules': {'nvidia': {'version': nv, 'srcversion': None}}},
        'devices': sorted(devices, key=lambda d: d['id']),
        'mdev_types': mdev_types,
        'sriov': sriov,
        'summary': {},
        'warnings': [],
    }


def plan_fleet(hosts=2000, drained=500, vms_per_drained=4, profiles=200, seed=11):
    """``(facts_by_host, drain)``: ``drained`` hosts with ``vms_per_drained`` VMs each, the rest
    over ``profiles`` templates with 0-2 VMs and spare capacity."""
    rng = random.Random(seed)
    templates = _profiles(profiles, seed)
    facts, drain = {}, []
    for i in range(hosts):
        board, gpus, tindex, nv, kernel, vms, nic_vms, spare = templates[i % profiles]
        if i < drained:
            template = (board, max(gpus, 2), tindex, nv, kernel, vms_per_drained, min(nic_vms, 2), spare)
        else:
            template = (board, gpus, tindex, nv, kernel, min(vms, 2), min(nic_vms, vms, 2), spare)
        name = 'host%05d' % i
        facts[name] = host_facts(template, i)
        if i < drained:
            drain.append(name)
    rng.shuffle(drain)
    return facts, sorted(drain)


def fleet(hosts, profiles, seed=7):
    """``{host name: facts}`` for ``hosts`` hosts over ``profiles`` distinct templates."""
    templates = _profiles(profiles, seed)
    return dict(('host%05d' % i, host_facts(templates[i % profiles], i)) for i in range(hosts))
