# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""gather() on small sysfs-shaped trees, one scenario per test."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils import _nvidia
from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.plugins.module_utils._profile import fingerprint
from ansible_collections.vfio.migration.tests.unit.helpers.audit import Audit

KERNEL = '6.8.0-45-generic'
T4 = dict(vendor='10de', device='1eb8', subvendor='10de', subdevice='12a2', cls='030200', rev='a1')
T4_DESC = 'num_heads=4, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=16'
UUID1 = '2c3f0b2a-1b1e-4f6e-9a55-0d8f2e2f6a01'
UUID2 = '6a1e3c5d-0000-4000-8000-00000000beef'


def facts_of(host, **kwargs):
    kwargs.setdefault('software_versions', {})
    kwargs.setdefault('scan_processes', True)
    return gather(host.sys, host.proc, host.dev, **kwargs)


def by_id(facts):
    return dict((d['id'], d) for d in facts['devices'])


T4_TYPES = (('nvidia-222', 'GRID T4-1B', 16), ('nvidia-230', 'GRID T4-1Q', 15), ('nvidia-234', 'GRID T4-16Q', 0))


def t4_host(host, nvidia_version='550.54.16', types=T4_TYPES):
    host.module('nvidia', version=nvidia_version, srcversion='2D3C1D8E5F6A7B8C', taint='POE')
    gpu = host.pci('0000:3b:00.0', driver='nvidia', module='nvidia', group=20, numa=0, **T4)
    host.mdev_parent(gpu)
    for type_id, name, available in types:
        host.mdev_type(gpu, type_id, name, available=available, description=T4_DESC)
    host.mdev(gpu, UUID1, 'nvidia-230', group=30, files={'nvidia/vgpu_params': 'frame_rate_limiter=0'})
    host.mdev(gpu, UUID2, 'nvidia-230', group=31)
    host.process(4242, ['/usr/bin/qemu-system-x86_64', '-name', 'guest=web-01,debug-threads=on'],
                 {3: '/dev/vfio/vfio', 4: '/dev/vfio/30'})
    return gpu


def test_empty_host(host):
    facts = facts_of(host)
    assert facts == {
        'schema_version': 1,
        'host': {'kernel_release': KERNEL, 'kernel_config': None, 'iommu': {'enabled': False, 'groups': 0}, 'modules': {}},
        'devices': [], 'mdev_types': [], 'sriov': [], 'warnings': [],
        'summary': {
            'devices': 0, 'devices_by_kind': {'ap': 0, 'ccw': 0, 'mdev': 0, 'nvidia_vgpu': 0, 'pci': 0},
            'devices_free': 0, 'devices_in_use': 0, 'mdev_available_instances': 0, 'mdev_types': 0,
            'migration_capable': 0, 'migration_not_capable': 0, 'migration_unknown': 0, 'processes_scanned': True,
            'sriov_free_vfs': 0, 'sriov_numvfs': 0, 'sriov_pfs': 0, 'sriov_totalvfs': 0, 'vms': 0, 'warnings': 0,
        },
    }


def test_sriov_pf_with_variant_and_plain_vfio_vfs(host):
    host.pci('0000:3b:00.0', '15b3', '101d', subdevice='0016', driver='mlx5_core', module='mlx5_core', group=10,
             numa=1, totalvfs=8, numvfs=3, vf_device='101e', bridge='pci0000:3a')
    vf1 = host.pci('0000:3b:00.2', '15b3', '101e', subdevice='0016', driver='mlx5_vfio_pci', module='mlx5_vfio_pci',
                   physfn='0000:3b:00.0', group=11, numa=1)
    host.pci('0000:3b:00.3', '15b3', '101e', subdevice='0016', driver='vfio-pci', module='vfio_pci',
             physfn='0000:3b:00.0', group=12, numa=1)
    host.pci('0000:3b:00.4', '15b3', '101e', subdevice='0016', physfn='0000:3b:00.0', group=13)   # unbound VF
    host.pci('0000:00:1f.6', '8086', '15bb', driver='e1000e', module='e1000e', group=1)            # host NIC
    host.vfio_dev(vf1, 0)
    host.process(77, ['qemu-kvm', '-name', 'guest=db-7'], {12: '/dev/vfio/devices/vfio0'})
    facts = facts_of(host)
    assert [d['id'] for d in facts['devices']] == ['0000:3b:00.2', '0000:3b:00.3']
    vf = by_id(facts)['0000:3b:00.2']
    expected = {
        'id': '0000:3b:00.2', 'kind': 'pci', 'device_api': 'vfio-pci', 'type': 'pci-15b3:101e:15b3:0016',
        'driver': 'mlx5_vfio_pci', 'parent': '0000:3b:00.0', 'iommu_group': '11', 'numa_node': 1,
        'pci': {'vendor': '15b3', 'device': '101e', 'subsystem_vendor': '15b3', 'subsystem_device': '0016',
                'class': '020000', 'revision': '00'},
        'software_version': KERNEL, 'software_version_source': 'kernel',
        'migration': {'capable': True, 'features': ['dirty_tracking', 'p2p', 'pre_copy', 'stop_copy'],
                      'reason': vf['migration']['reason'], 'state_size': None, 'dma_logging': None},
        'attributes': {}, 'cdev': '/dev/vfio/devices/vfio0', 'config_space': None,
        'in_use': {'pid': 77, 'vm': 'db-7', 'machine_type': None, 'holder': '/dev/vfio/devices/vfio0',
                   'qemu_options': None},
    }
    expected['fingerprint'] = fingerprint(expected)
    assert vf == expected
    assert 'firmware' in vf['migration']['reason']
    plain = by_id(facts)['0000:3b:00.3']
    assert plain['migration']['capable'] is False and 'assignment only' in plain['migration']['reason']
    assert plain['in_use'] is None and plain['cdev'] is None
    assert plain['type'] == vf['type'] and plain['fingerprint'] != vf['fingerprint']   # driver differs
    assert facts['sriov'] == [{
        'pf': '0000:3b:00.0', 'driver': 'mlx5_core', 'numa_node': 1, 'totalvfs': 8, 'numvfs': 3, 'vf_device': '101e',
        'pci': {'vendor': '15b3', 'device': '101d', 'subsystem_vendor': '15b3', 'subsystem_device': '0016',
                'class': '020000', 'revision': '00'},
    }]
    assert facts['host']['modules'] == {'mlx5_vfio_pci': {'srcversion': None, 'version': None},
                                        'vfio_pci': {'srcversion': None, 'version': None}}
    assert facts['host']['iommu'] == {'enabled': True, 'groups': 5}
    summary = facts['summary']
    assert (summary['devices'], summary['devices_in_use'], summary['sriov_free_vfs'], summary['vms']) == (2, 1, 5, 1)
    assert facts['warnings'] == []


def test_t4_mdev_host(host):
    t4_host(host)
    facts = facts_of(host)
    assert [t['type'] for t in facts['mdev_types']] == ['nvidia-222', 'nvidia-230', 'nvidia-234']
    t230 = facts['mdev_types'][1]
    assert t230 == {
        'parent': '0000:3b:00.0', 'type': 'nvidia-230', 'kind': 'mdev', 'name': 'GRID T4-1Q', 'description': T4_DESC,
        'device_api': 'vfio-pci', 'available_instances': 15, 'driver': 'nvidia',
        'pci': {'vendor': '10de', 'device': '1eb8', 'subsystem_vendor': '10de', 'subsystem_device': '12a2',
                'class': '030200', 'revision': 'a1'},
        'software_version': '550.54.16', 'software_version_source': 'module',
        'migration': t230['migration'], 'fingerprint': t230['fingerprint'],
    }
    assert t230['migration']['capable'] is True
    used = by_id(facts)[UUID1]
    assert used['kind'] == 'mdev' and used['type'] == 'nvidia-230' and used['parent'] == '0000:3b:00.0'
    assert used['in_use'] == {'pid': 4242, 'vm': 'web-01', 'machine_type': None, 'holder': '/dev/vfio/30', 'qemu_options': None}
    assert used['attributes'] == {'vgpu_params': 'frame_rate_limiter=0'}
    assert used['numa_node'] == 0 and used['iommu_group'] == '30'
    # a device and the type that would receive it share the fingerprint
    assert used['fingerprint'] == t230['fingerprint'] == by_id(facts)[UUID2]['fingerprint']
    assert by_id(facts)[UUID2]['in_use'] is None
    assert facts['host']['modules'] == {'nvidia': {'version': '550.54.16', 'srcversion': '2D3C1D8E5F6A7B8C'}}
    assert facts['summary']['mdev_available_instances'] == 31
    assert facts['sriov'] == []   # the T4 is no SR-IOV PF


def test_gvt_g_and_sample_mdevs(host):
    igd = host.pci('0000:00:02.0', '8086', '3e92', cls='030000', driver='i915', module='i915', group=0)
    host.mdev_parent(igd)
    host.mdev_type(igd, 'i915-GVTg_V5_4', 'GVTg_V5_4', available=3,
                   description='low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4')
    host.mdev(igd, UUID1, 'i915-GVTg_V5_4', group=40)
    mtty = host.virtual('virtual', 'mtty', 'mtty')
    host.mdev_parent(mtty)
    host.mdev_type(mtty, 'mtty-1', 'Single port serial', available=24)
    host.mdev(mtty, UUID2, 'mtty-1', group=41)
    mdpy = host.virtual('virtual', 'mdpy', 'mdpy')
    host.mdev_parent(mdpy)
    host.mdev_type(mdpy, 'mdpy-vga', 'vga', available=4, description='virtual display, 640x480 framebuffer')
    host.module('mtty', taint='OE')
    facts = facts_of(host)
    gvt, mtty_dev = by_id(facts)[UUID1], by_id(facts)[UUID2]
    assert (gvt['driver'], gvt['migration']['capable'], gvt['software_version_source']) == ('i915', False, 'kernel')
    assert gvt['pci']['device'] == '3e92'
    assert mtty_dev['pci'] is None and mtty_dev['parent'] == 'mtty' and mtty_dev['driver'] == 'mtty'
    assert mtty_dev['migration']['capable'] is True                        # kernel 6.8 >= 6.7
    assert (mtty_dev['software_version'], mtty_dev['software_version_source']) == (None, None)   # out of tree, no version
    types = dict((t['type'], t) for t in facts['mdev_types'])
    assert types['mtty-1']['description'] is None
    assert types['mdpy-vga']['migration']['capable'] is False
    assert [(t['parent'], t['type']) for t in facts['mdev_types']] == [
        ('0000:00:02.0', 'i915-GVTg_V5_4'), ('mdpy', 'mdpy-vga'), ('mtty', 'mtty-1')]


def test_mtty_on_an_old_kernel(make_host):
    host = make_host('old', kernel='6.1.0-18-amd64')
    mtty = host.virtual('virtual', 'mtty', 'mtty')
    host.mdev_parent(mtty)
    host.mdev_type(mtty, 'mtty-2', 'Dual port serial', available=12)
    facts = facts_of(host)
    assert facts['mdev_types'][0]['migration']['capable'] is False
    assert '6.1.0-18-amd64' in facts['mdev_types'][0]['migration']['reason']


def _nvidia_vf(host, addr, pf, current, creatable):
    vf = host.pci(addr, '10de', '20f1', subvendor='10de', subdevice='145f', cls='030200', driver='nvidia',
                  module='nvidia', physfn=pf, group=int(addr[-1]) + 50)
    os.makedirs(os.path.join(vf, 'nvidia'))
    with open(os.path.join(vf, 'nvidia', 'current_vgpu_type'), 'w') as handle:
        handle.write('%s\n' % current)
    with open(os.path.join(vf, 'nvidia', 'creatable_vgpu_types'), 'w') as handle:
        handle.write('ID    : vGPU Name\n' + ''.join('%s  : %s\n' % c for c in creatable))
    return vf


def test_nvidia_sriov_vgpu(host):
    host.module('nvidia', version='550.54.16', taint='POE')
    host.pci('0000:41:00.0', '10de', '20f1', subvendor='10de', subdevice='145f', cls='030200', driver='nvidia',
             module='nvidia', totalvfs=16, numvfs=4, group=49)
    both = [('468', 'NVIDIA A100-4C'), ('469', 'NVIDIA A100-5C')]
    _nvidia_vf(host, '0000:41:00.4', '0000:41:00.0', 468, [])
    _nvidia_vf(host, '0000:41:00.5', '0000:41:00.0', 0, both)
    _nvidia_vf(host, '0000:41:00.6', '0000:41:00.0', 0, both[:1])
    _nvidia_vf(host, '0000:41:00.7', '0000:41:00.0', 0, [])
    host.process(900, ['qemu', '-name', 'guest=train-1'], {5: '/dev/vfio/54'})
    facts = facts_of(host)
    (vgpu,) = facts['devices']
    assert (vgpu['id'], vgpu['kind'], vgpu['type'], vgpu['parent'], vgpu['driver']) == (
        '0000:41:00.4', 'nvidia_vgpu', 'nvidia-468', '0000:41:00.0', 'nvidia')
    assert vgpu['attributes'] == {'vgpu_type_name': 'NVIDIA A100-4C'}
    assert vgpu['pci']['device'] == '20f1' and vgpu['software_version'] == '550.54.16'
    assert vgpu['in_use'] == {'pid': 900, 'vm': 'train-1', 'machine_type': None, 'holder': '/dev/vfio/54', 'qemu_options': None}
    assert vgpu['migration']['capable'] is True
    assert [(t['parent'], t['type'], t['kind'], t['name'], t['available_instances']) for t in facts['mdev_types']] == [
        ('0000:41:00.0', 'nvidia-468', 'nvidia_vgpu', 'NVIDIA A100-4C', 2),
        ('0000:41:00.0', 'nvidia-469', 'nvidia_vgpu', 'NVIDIA A100-5C', 1),
    ]
    assert facts['mdev_types'][0]['fingerprint'] == vgpu['fingerprint']
    assert facts['sriov'][0]['pf'] == '0000:41:00.0'
    assert facts['warnings'] == []


def _a100_with_vfs(host, device, running, free, names):
    host.module('nvidia', version='550.54.16', taint='POE')
    host.pci('0000:41:00.0', '10de', device, subvendor='10de', subdevice='145f', cls='030200', driver='nvidia',
             module='nvidia', totalvfs=32, numvfs=len(running) + free, group=49)
    for index, ident in enumerate(list(running) + [0] * free):
        _nvidia_vf(host, '0000:41:%02x.%d' % (1 + index // 8, index % 8), '0000:41:00.0', ident,
                   [] if ident else names)
    return dict((t['type'], t['available_instances']) for t in facts_of(host)['mdev_types'])


def test_nvidia_sriov_vgpu_capacity_is_what_the_frame_buffer_still_holds(host):
    # 16 free VFs all list A100-4C (a VF lists what the GPU can still create), but an A100 40GB
    # runs at most 10 A100-4C and 4 already run: 6 more fit, not 16.
    assert _a100_with_vfs(host, '20f1', ['468'] * 4, 16, [('468', 'NVIDIA A100-4C')]) == {'nvidia-468': 6}


def test_nvidia_sriov_vgpu_capacity_on_an_empty_gpu(host):
    # nothing runs: every type is listed on all 20 free VFs; each is capped by its max_instance
    names = [('468', 'NVIDIA A100-4C'), ('471', 'NVIDIA A100-10C'), ('473', 'NVIDIA A100-40C')]
    assert _a100_with_vfs(host, '20f1', [], 20, names) == {'nvidia-468': 10, 'nvidia-471': 4, 'nvidia-473': 1}


def test_nvidia_sriov_vgpu_capacity_with_mixed_sizes(host):
    # mixed-size mode: 2 x A100-10C (20 GiB) and 1 x A100-4C (4 GiB) leave 16 GiB: four more 4C (not
    # 10 - 1 = 9) and one more 10C (not 4 - 2 = 2), though all 10 free VFs list both
    names = [('468', 'NVIDIA A100-4C'), ('471', 'NVIDIA A100-10C')]
    assert _a100_with_vfs(host, '20f1', ['471', '471', '468'], 10, names) == {'nvidia-468': 4, 'nvidia-471': 1}


def test_nvidia_sriov_vgpu_capacity_stays_an_upper_bound_when_max_instance_is_unknown(host):
    # a board the module has no frame buffer size for, and a MIG-backed profile: free VFs count
    assert _a100_with_vfs(host, '2330', ['468'] * 4, 16, [('468', 'NVIDIA A100-4C')]) == {'nvidia-468': 16}


def test_nvidia_sriov_vgpu_capacity_for_mig_backed_profiles_is_the_vf_count(host):
    assert _a100_with_vfs(host, '20f1', ['500'], 7, [('500', 'NVIDIA A100-1-5C')]) == {'nvidia-500': 7}


def test_nvidia_profile_framebuffer_and_max_instance():
    assert [_nvidia.profile_framebuffer(n) for n in (
        'NVIDIA A100-4C', 'GRID T4-16Q', 'NVIDIA A100-1-5C', 'NVIDIA H200X-1-18C', 'NVIDIA A100-0C', 'odd', None)] == [
        4, 16, None, None, None, None, None]
    assert [_nvidia.max_instance('20f1', 'NVIDIA A100-%dC' % n) for n in (4, 5, 8, 10, 20, 40, 80)] == [
        10, 8, 5, 4, 2, 1, None]
    assert _nvidia.max_instance('2330', 'NVIDIA H100-4C') is None
    assert _nvidia.room('20f1', 'NVIDIA A100-4C', 10, ['NVIDIA A100-4C'] * 10) == 0
    assert _nvidia.room('20f1', 'NVIDIA A100-4C', 4, ['NVIDIA A100-4C'] * 4 + [None]) == 6
    assert _nvidia.room('20f1', 'NVIDIA A100-1-5C', 0, []) is None


def test_nvidia_sriov_vgpu_on_a_vfio_variant_driver(host):
    host.module('nvidia', version='550.54.16', taint='POE')
    host.pci('0000:41:00.0', '10de', '20f1', subvendor='10de', subdevice='145f', cls='030200', driver='nvidia',
             module='nvidia', totalvfs=16, numvfs=2, group=49)
    vf = _nvidia_vf(host, '0000:41:00.4', '0000:41:00.0', 468, [('468', 'NVIDIA A100-4C')])
    os.unlink(os.path.join(vf, 'driver'))
    host.bind(vf, 'nvidia_vfio_pci', module='nvidia_vfio_pci')
    free = _nvidia_vf(host, '0000:41:00.5', '0000:41:00.0', 0, [('468', 'NVIDIA A100-4C')])
    os.unlink(os.path.join(free, 'driver'))
    host.bind(free, 'nvidia_vfio_pci', module='nvidia_vfio_pci')
    facts = facts_of(host)
    assert [(d['id'], d['kind'], d['type'], d['driver']) for d in facts['devices']] == [
        ('0000:41:00.4', 'nvidia_vgpu', 'nvidia-468', 'nvidia_vfio_pci')]
    assert [(t['type'], t['available_instances']) for t in facts['mdev_types']] == [('nvidia-468', 1)]


def test_s390_ccw_and_ap(host):
    sch = host.virtual('css0', '0.0.fffe')
    with open(os.path.join(sch, 'type'), 'w') as handle:
        handle.write('0\n')
    host.bind(sch, 'vfio_ccw', bus='css', module='vfio_ccw')
    host.mdev_parent(sch)
    host.mdev_type(sch, 'vfio_ccw-io', 'I/O subchannel (Non-QDIO)', device_api='vfio-ccw', available=0)
    host.mdev(sch, UUID1, 'vfio_ccw-io', group=0)
    matrix = host.virtual('vfio_ap', 'matrix')
    host.bind(matrix, 'vfio_ap', bus='matrix', module='vfio_ap')
    host.mdev_parent(matrix)
    host.mdev_type(matrix, 'vfio_ap-passthrough', 'VFIO AP Passthrough Device', device_api='vfio-ap', available=64)
    host.mdev(matrix, UUID2, 'vfio_ap-passthrough', group=1,
              files={'matrix': '05.0004\n05.0005', 'control_domains': '0004'})
    facts = facts_of(host)
    ccw, ap = by_id(facts)[UUID1], by_id(facts)[UUID2]
    assert (ccw['kind'], ccw['device_api'], ccw['driver'], ccw['parent'], ccw['pci']) == (
        'ccw', 'vfio-ccw', 'vfio_ccw', '0.0.fffe', None)
    assert ccw['attributes'] == {'subchannel_type': '0'}
    assert ccw['migration']['capable'] is False
    assert (ap['kind'], ap['device_api'], ap['driver'], ap['parent']) == ('ap', 'vfio-ap', 'vfio_ap', 'matrix')
    assert ap['attributes'] == {'matrix': '05.0004\n05.0005', 'control_domains': '0004'}
    assert ap['migration']['capable'] is False
    assert facts['summary']['devices_by_kind'] == {'ap': 1, 'ccw': 1, 'mdev': 0, 'nvidia_vgpu': 0, 'pci': 0}
    assert [t['kind'] for t in facts['mdev_types']] == ['ccw', 'ap']
    assert facts['warnings'] == []


def test_broken_entries_become_warnings_and_the_rest_is_returned(host, tmp_path):
    good = host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci', group=7)
    bus = host.s('bus/pci/devices')
    os.symlink('../../../devices/pci0000:00/0000:99:00.0', os.path.join(bus, '0000:99:00.0'))     # dangling
    (tmp_path / 'elsewhere').mkdir()
    os.symlink(str(tmp_path / 'elsewhere'), os.path.join(bus, '0000:98:00.0'))                    # escapes
    broken = host.pci('0000:5e:00.2', '8086', '1889', driver='vfio-pci', group=8)
    os.unlink(os.path.join(broken, 'device'))                                                      # unreadable id
    os.makedirs(os.path.join(broken, 'device'))
    gpu = t4_host(host)
    os.unlink(os.path.join(gpu, UUID2, 'mdev_type'))
    os.symlink('../mdev_supported_types/nvidia-999', os.path.join(gpu, UUID2, 'mdev_type'))       # dangling type
    facts = facts_of(host)
    assert facts['warnings'] == sorted([
        '/sys/bus/pci/devices/0000:98:00.0: link to %s leaves the root, not followed' % (tmp_path / 'elsewhere'),
        '/sys/bus/pci/devices/0000:99:00.0: dangling link to ../../../devices/pci0000:00/0000:99:00.0',
        '/sys/devices/pci0000:00/0000:3b:00.0/%s/mdev_type: dangling link to ../mdev_supported_types/nvidia-999' % UUID2,
        '/sys/devices/pci0000:00/0000:5e:00.2/device: is a directory, not a file',
    ])
    assert facts['summary']['warnings'] == 4
    ids = by_id(facts)
    assert set(ids) == {'0000:5e:00.1', '0000:5e:00.2', UUID1}
    assert ids['0000:5e:00.2']['pci']['device'] is None and ids['0000:5e:00.2']['type'] == 'pci-8086:None:8086:0000'
    assert ids['0000:5e:00.1']['pci']['device'] == '1889'
    assert good


def test_two_runs_and_two_identical_hosts_are_byte_identical(make_host):
    one, two = make_host('one'), make_host('two')
    for host in (one, two):
        t4_host(host)
        host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci', group=7)
        os.symlink('../../../devices/pci0000:00/0000:99:00.0', host.s('bus/pci/devices/0000:99:00.0'))
    first = json.dumps(facts_of(one))
    assert json.dumps(facts_of(one)) == first
    assert json.dumps(facts_of(two)) == first          # warnings name host paths, not the tree's location
    assert json.dumps(facts_of(one), sort_keys=True) == first   # keys come sorted


def test_fingerprints_across_hosts(make_host):
    def fps(host):
        facts = facts_of(host)
        return by_id(facts)[UUID1]['fingerprint'], facts['mdev_types'][1]['fingerprint']

    base = make_host('base')
    t4_host(base)
    same = make_host('same')
    t4_host(same)
    newer = make_host('newer')
    t4_host(newer, nvidia_version='550.90.07')
    assert fps(base) == fps(same)
    assert fps(base)[0] != fps(newer)[0]
    # another type on the same slot
    other_type = make_host('other_type')
    t4_host(other_type)
    link = os.path.join(other_type.pci_dir('0000:3b:00.0'), UUID1, 'mdev_type')
    os.unlink(link)
    os.symlink('../mdev_supported_types/nvidia-222', link)
    assert fps(other_type)[0] != fps(base)[0]
    # another board (subsystem id), another driver
    a = make_host('a')
    a.pci('0000:5e:00.1', '8086', '1889', subdevice='0001', driver='vfio-pci', group=7)
    b = make_host('b')
    b.pci('0000:5e:00.1', '8086', '1889', subdevice='0002', driver='vfio-pci', group=7)
    c = make_host('c')
    c.pci('0000:5e:00.1', '8086', '1889', subdevice='0001', driver='acme_vfio_pci', group=7)
    d = make_host('d')
    d.pci('0000:af:00.3', '8086', '1889', subdevice='0001', driver='vfio-pci', group=9, numa=1)   # other slot only
    fp = dict((h, facts_of(h)['devices'][0]['fingerprint']) for h in (a, b, c, d))
    assert fp[a] != fp[b] and fp[a] != fp[c] and fp[a] == fp[d]


def test_overrides_and_process_scan_switch(host):
    t4_host(host)
    host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci', group=7)
    facts = facts_of(host, software_versions={'nvidia': '535.1', 'nvidia-230': '550.2', 'vfio_pci': '9'},
                     scan_processes=False)
    ids = by_id(facts)
    assert (ids[UUID1]['software_version'], ids[UUID1]['software_version_source']) == ('550.2', 'override')
    assert ids['0000:5e:00.1']['software_version'] == '9'
    types = dict((t['type'], t) for t in facts['mdev_types'])
    assert types['nvidia-222']['software_version'] == '535.1'
    assert all(d['in_use'] is None for d in facts['devices'])
    assert facts['summary']['processes_scanned'] is False


def test_group_held_by_several_processes_prefers_the_named_vm(host):
    host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', group=7)
    host.process(10, ['helper'], {3: '/dev/vfio/7'})
    host.process(20, ['qemu', '-name', 'guest=vm-b'], {3: '/dev/vfio/7'})
    host.process(30, ['qemu', '-name', 'guest=vm-c'], {3: '/dev/vfio/7'})
    assert facts_of(host)['devices'][0]['in_use'] == {'pid': 20, 'vm': 'vm-b', 'machine_type': None, 'holder': '/dev/vfio/7', 'qemu_options': None}


def test_missing_roots_are_warnings(tmp_path):
    facts = gather(str(tmp_path / 'no-sys'), str(tmp_path / 'no-proc'), str(tmp_path / 'no-dev'))
    assert facts['devices'] == [] and facts['host']['kernel_release'] is None
    assert [w.split(':')[0] for w in facts['warnings']] == ['/dev', '/proc', '/sys']


def test_never_opens_side_effect_files_nor_writes(host, monkeypatch):
    t4_host(host)
    host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', group=7,
             files={'rom': 'x', 'resource0': 'x', 'reset': '', 'remove': ''})
    opened = []
    real_open = os.open

    def spy(path, flags, *args, **kwargs):
        opened.append((path, flags))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, 'open', spy)
    facts_of(host)
    names = set(os.path.basename(path) for path, _flags in opened)
    # config is read (read-only, for config_space); rom/resource/reset/remove never
    assert not names & {'rom', 'resource', 'resource0', 'reset', 'remove', 'create'}
    assert all(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND) == 0 for _p, flags in opened)


# ------------------------------------------------ hostile and broken trees (issue 10)

def valid_json(facts):
    text = json.dumps(facts, ensure_ascii=False)
    assert json.loads(text.encode('utf-8').decode('utf-8')) == facts


def test_odd_digits_in_every_number_never_crash_the_scan(host):
    gpu = host.pci('0000:3b:00.0', '10de', '20f1', driver='nvidia', module='nvidia', group=1, totalvfs=2, numvfs=2,
                   files={'numa_node': '\u0663'})
    host.mdev_parent(gpu)
    host.mdev_type(gpu, 'nvidia-\u00b2', 'GRID A100-4C', available=1)
    host.mdev_type(gpu, 'nvidia-1', 'GRID A100-4C', available=1)
    for index, current in enumerate(('\u00b2', '1\u00b9')):
        vf = host.pci('0000:3b:00.%d' % (4 + index), '10de', '20f1', physfn='0000:3b:00.0', driver='nvidia')
        os.makedirs(os.path.join(vf, 'nvidia'))
        with open(os.path.join(vf, 'nvidia', 'current_vgpu_type'), 'w') as handle:
            handle.write(current + '\n')
        with open(os.path.join(vf, 'nvidia', 'creatable_vgpu_types'), 'w') as handle:
            handle.write('ID : Name\n\u00b2 : NVIDIA A100-4C\n')
    for pid in ('\u00b2', '\u0663'):
        os.makedirs(os.path.join(host.proc, pid, 'fd'))
        os.symlink('/dev/vfio/\u00b2', os.path.join(host.proc, pid, 'fd', '3'))
    with open(os.path.join(host.proc, 'sys/kernel/osrelease'), 'w') as handle:
        handle.write('\u00b2.8.0\n')
    facts = facts_of(host)
    assert [t['type'] for t in facts['mdev_types']] == ['nvidia-1', 'nvidia-\u00b2']
    assert '/sys/devices/pci0000:00/0000:3b:00.4/nvidia/current_vgpu_type: not a vGPU type id: %r' % '\u00b2' \
        in facts['warnings']
    assert "/sys/devices/pci0000:00/0000:3b:00.0/numa_node: not an integer: %r" % '\u0663' in facts['warnings']
    valid_json(facts)


def test_a_link_text_of_thousands_of_components_is_resolved_without_recursion(host):
    os.makedirs(host.s('class', 'mdev_bus'))
    os.symlink('x/' * 2000 + 'y', host.s('class', 'mdev_bus', '0000:3b:00.0'))
    os.symlink('/'.join(['..'] * 3 + ['devices'] + ['.'] * 1500), host.s('bus', 'pci', 'devices', '0000:3b:00.1'))
    facts = facts_of(host)
    assert facts['devices'] == []
    assert any(line.startswith('/sys/class/mdev_bus/0000:3b:00.0: dangling link') for line in facts['warnings'])


# -------------------------------------------------------------- 2. valid UTF-8

def test_non_utf8_names_and_link_texts_are_escaped_with_a_warning(host):
    bad = os.fsdecode(b'0000:5e:00.\xff')
    host.pci(bad, '8086', '1889', driver='vfio-pci', module='vfio_pci')
    os.symlink(os.fsdecode(b'../../../kernel/iommu_groups/\xfe'), host.pci_dir(bad) + '/iommu_group')
    os.makedirs(host.s('kernel', 'iommu_groups', os.fsdecode(b'\xfe')))
    facts = facts_of(host)
    device = facts['devices'][0]
    assert device['id'] == '0000:5e:00.\\xff'
    assert device['iommu_group'] == '\\xfe'
    assert '0000:5e:00.\\xff: not valid UTF-8, bytes shown as \\xNN' in facts['warnings']
    valid_json(facts)


# -------------------------------------------------------------- 3. containment

def _outside_holder(host, tmp_path):
    """A device on group 7, and an fd directory outside proc_root that holds group 7."""
    host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci', group=7)
    outside = tmp_path / 'outside'
    (outside / 'fd').mkdir(parents=True)
    os.symlink('/dev/vfio/7', str(outside / 'fd' / '3'))
    (outside / 'iommu' / 'dmar0').mkdir(parents=True)
    (outside / 'devices' / 'vfio0').mkdir(parents=True)
    return outside


def test_directory_links_out_of_the_roots_are_never_listed(host, tmp_path):
    outside = _outside_holder(host, tmp_path)
    os.makedirs(os.path.join(host.proc, '4242'))
    os.symlink(str(outside / 'fd'), os.path.join(host.proc, '4242', 'fd'))
    os.symlink(str(outside / 'iommu'), host.s('class', 'iommu'))
    os.makedirs(os.path.join(host.dev, 'vfio'))
    os.symlink(str(outside / 'devices'), os.path.join(host.dev, 'vfio', 'devices'))
    with Audit(host.sys, host.proc, host.dev) as audit:
        facts = facts_of(host)
    assert audit.outside == [] and audit.writes == []
    assert facts['devices'][0]['in_use'] is None            # a free device does not look held
    assert facts['host']['iommu'] == {'enabled': True, 'groups': 1}
    assert '/proc/4242/fd: is a symbolic link, not followed' in facts['warnings']
    assert any(w.startswith('/sys/class/iommu: link to ') and w.endswith('leaves the root, not followed')
               for w in facts['warnings'])
    assert any(w.startswith('/dev/vfio/devices: link to ') for w in facts['warnings'])


def test_a_parent_directory_link_out_of_the_root_is_not_read_through(host, tmp_path):
    outside = tmp_path / 'outside'
    (outside / 'kernel').mkdir(parents=True)
    (outside / 'kernel' / 'osrelease').write_text('6.8.0-secret\n')
    os.unlink(os.path.join(host.proc, 'sys', 'kernel', 'osrelease'))
    os.rmdir(os.path.join(host.proc, 'sys', 'kernel'))
    os.symlink(str(outside / 'kernel'), os.path.join(host.proc, 'sys', 'kernel'))
    with Audit(host.sys, host.proc, host.dev) as audit:
        facts = facts_of(host)
    assert audit.outside == []
    assert facts['host']['kernel_release'] is None


@pytest.mark.parametrize('kind', ['fifo', 'device'])
def test_fifos_and_device_nodes_in_place_of_attributes_are_never_opened(host, kind):
    directory = host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci', group=7)
    path = os.path.join(directory, 'vendor')
    os.unlink(path)
    if kind == 'fifo':
        os.mkfifo(path)
    else:
        try:
            os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))   # a character device, like /dev/null
        except PermissionError:
            pytest.skip('mknod needs root')
    with Audit(host.sys, host.proc, host.dev) as audit:
        facts = facts_of(host)
    assert audit.special == []
    assert '/sys/devices/pci0000:00/0000:5e:00.1/vendor: not a regular file, not read' in facts['warnings']


# ----------------------------------------------------------- 4. silent losses

def test_files_for_directories_non_links_and_empty_values_are_warnings(host):
    os.rmdir(host.s('bus', 'pci', 'devices'))
    with open(host.s('bus', 'pci', 'devices'), 'w') as handle:
        handle.write('')
    os.makedirs(host.s('bus', 'mdev', 'devices', UUID1))           # a directory, not a link
    with open(os.path.join(host.proc, 'sys/kernel/osrelease'), 'w') as handle:
        handle.write('\n')
    with open(host.s('class', 'mdev_bus'), 'w') as handle:
        handle.write('')
    facts = facts_of(host)
    assert '/sys/bus/pci/devices: not a directory' in facts['warnings']
    assert '/sys/bus/mdev/devices/%s: is not a symbolic link, skipped' % UUID1 in facts['warnings']
    assert '/proc/sys/kernel/osrelease: is empty' in facts['warnings']
    assert '/sys/class/mdev_bus: not a directory' in facts['warnings']
    assert facts['host']['kernel_release'] is None


def test_hex_ids_are_ascii_hex_only(host):
    host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci',
             files={'device': '0x1_889', 'vendor': '0x\u0668\u0660\u0668\u0666'})
    pci = facts_of(host)['devices'][0]['pci']
    assert pci['device'] is None and pci['vendor'] is None
