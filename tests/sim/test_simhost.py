# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulated-host builder against the kernel's sysfs layout (run: python -m pytest tests/sim)."""

from __future__ import annotations

import copy
import glob
import importlib.util
import json
import os
import re
import stat
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import simhost  # noqa: E402  pylint: disable=wrong-import-position

HOST_FILES = sorted(glob.glob(os.path.join(HERE, 'hosts', '*.yml')))
# host names in name order (sorting the file names would put mtty-612-b.yml before mtty-612.yml)
HOSTS = sorted(os.path.splitext(os.path.basename(p))[0] for p in HOST_FILES)
# what each simulated host has, so that a loop over it is known not to be empty
WITHOUT_PCI = {'hostile', 'mtty-61', 'mtty-612', 'mtty-612-b', 's390'}
WITH_MDEV_PARENTS = {'broken-links', 'gvtg', 'hostile', 'mtty-61', 'mtty-612', 'mtty-612-b', 's390',
                     't4-a', 't4-b', 't4-c', 't4-d', 't4-e', 't4-f'}
WITHOUT_VFIO_HOLDERS = {'cx6-c', 'empty', 'qat-b', 't4-f'}

# deliberately dangling or looping links of hosts/broken-links.yml, relative to sys/devices
BROKEN_LINKS = {
    'pci0000:00/0000:00:01.0/0000:3b:00.2/driver',
    'pci0000:00/0000:00:01.0/0000:3b:00.3/iommu_group',
    'pci0000:00/0000:00:01.0/0000:3b:01.0/physfn',
    'virtual/mtty/mtty/5c8b4a3e-0d51-4f0e-9b7a-7e5d1c2b3a40/mdev_type',
}


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp('sim')
    simhost.build_all(HOST_FILES, str(out))
    return str(out)


def read(path):
    with open(path, 'rb') as handle:
        return handle.read().decode('utf-8')


def snapshot(root):
    """Every entry below root: (relative path, kind, mode, content or link target)."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                entries.append((rel, 'link', None, os.readlink(full)))
            elif stat.S_ISDIR(st.st_mode):
                entries.append((rel, 'dir', stat.S_IMODE(st.st_mode), None))
            else:
                with open(full, 'rb') as handle:
                    data = handle.read()
                entries.append((rel, 'file', stat.S_IMODE(st.st_mode), data))
    return entries


def pci_functions(host_root):
    base = os.path.join(host_root, 'sys/bus/pci/devices')
    return {name: os.path.realpath(os.path.join(base, name)) for name in sorted(os.listdir(base))}


def rid(addr):
    bus, devfn = addr.split(':')[1:]
    dev, fn = devfn.split('.')
    return (int(bus, 16) << 8) | (int(dev, 16) << 3) | int(fn)


# --------------------------------------------------------------------------------------------
# the library and the inventory
# --------------------------------------------------------------------------------------------

def test_library_has_the_hosts_the_project_needs():
    assert len(HOSTS) >= 12
    for host in ('t4-a', 't4-b', 't4-c', 't4-d', 'a100-sriov', 'cx6-a', 'cx6-b', 'gvtg', 's390', 'hisi',
                 'qat', 'mtty-612', 'mtty-612-b', 'mtty-61', 'gpu-pt', 'empty', 'hostile', 'broken-links'):
        assert host in HOSTS


def test_every_description_names_its_file():
    assert HOST_FILES
    for path in HOST_FILES:
        assert simhost.load_description(path)['host'] == os.path.splitext(os.path.basename(path))[0]


def test_inventory_lists_every_host_with_its_roots():
    with open(os.path.join(HERE, 'inventory.yml')) as handle:
        inv = yaml.safe_load(handle)
    all_vars = inv['all']['vars']
    assert all_vars['ansible_connection'] == 'local'
    assert all_vars['ansible_python_interpreter'] == '{{ ansible_playbook_python }}'
    for key, sub in (('vfio_sysfs_root', 'sys'), ('vfio_proc_root', 'proc'), ('vfio_dev_root', 'dev')):
        assert all_vars[key] == '{{ inventory_dir }}/build/{{ inventory_hostname }}/%s' % sub
    groups = inv['all']['children']
    assert sorted(groups['vfio_hosts']['hosts']) == HOSTS
    for name in ('gpu_t4', 'nic_cx6', 'ibm_z'):
        assert groups[name]['hosts']
    for group in groups.values():
        assert set(group['hosts']) <= set(HOSTS)
    assert not set(groups) & set(HOSTS), 'a group named like a host makes ansible warn'


# --------------------------------------------------------------------------------------------
# links: relative, resolving, and back-linked like the kernel's
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('host', HOSTS)
def test_sys_links_are_relative_and_resolve_inside_the_tree(built, host):
    sysroot = os.path.join(built, host, 'sys')
    dangling = set()
    for dirpath, dirnames, filenames in os.walk(sysroot):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                continue
            target = os.readlink(full)
            assert not target.startswith('/'), '%s -> %s is absolute' % (full, target)
            rel = os.path.relpath(full, os.path.join(sysroot, 'devices'))
            try:
                resolved = os.path.realpath(full, strict=True)
            except OSError:
                dangling.add(rel)
                continue
            assert resolved.startswith(sysroot + '/'), '%s leaves the tree' % full
    assert dangling == (BROKEN_LINKS if host == 'broken-links' else set())


@pytest.mark.parametrize('host', HOSTS)
def test_pci_views_and_back_links(built, host):
    root = os.path.join(built, host)
    sysroot = os.path.join(root, 'sys')
    functions = pci_functions(root)
    assert bool(functions) is (host not in WITHOUT_PCI)
    for addr, real in functions.items():
        assert os.path.basename(real) == addr
        assert real.startswith(os.path.join(sysroot, 'devices', 'pci'))
        assert os.readlink(os.path.join(sysroot, 'bus/pci/devices', addr)).startswith('../../../devices/pci')
        driver = os.path.join(real, 'driver')
        if os.path.exists(driver):
            drv_dir = os.path.realpath(driver)
            assert os.path.dirname(drv_dir) == os.path.join(sysroot, 'bus/pci/drivers')
            assert os.path.realpath(os.path.join(drv_dir, addr)) == real
        group = os.path.join(real, 'iommu_group')
        if os.path.exists(group):
            gdir = os.path.realpath(group)
            assert os.path.dirname(gdir) == os.path.join(sysroot, 'kernel/iommu_groups')
            assert os.path.realpath(os.path.join(gdir, 'devices', addr)) == real
            assert read(os.path.join(gdir, 'type')) in ('DMA\n', 'DMA-FQ\n', 'identity\n', 'blocked\n', 'unknown\n')
        assert os.path.realpath(os.path.join(real, 'subsystem')) == os.path.join(sysroot, 'bus/pci')


@pytest.mark.parametrize('host', [h for h in HOSTS if h != 'broken-links'])
def test_pci_attribute_formats(built, host):
    formats = {
        'vendor': r'0x[0-9a-f]{4}\n', 'device': r'0x[0-9a-f]{4}\n', 'subsystem_vendor': r'0x[0-9a-f]{4}\n',
        'subsystem_device': r'0x[0-9a-f]{4}\n', 'class': r'0x[0-9a-f]{6}\n', 'revision': r'0x[0-9a-f]{2}\n',
        'numa_node': r'-?[0-9]+\n', 'driver_override': r'\(null\)\n|\S+\n',
        'modalias': r'pci:v[0-9A-F]{8}d[0-9A-F]{8}sv[0-9A-F]{8}sd[0-9A-F]{8}bc[0-9A-F]{2}sc[0-9A-F]{2}i[0-9A-F]{2}\n',
    }
    functions = pci_functions(os.path.join(built, host))
    assert bool(functions) is (host not in WITHOUT_PCI)
    for addr, real in functions.items():
        for name, pattern in formats.items():
            value = read(os.path.join(real, name))
            assert re.fullmatch(pattern, value), '%s/%s = %r' % (addr, name, value)
        config = open(os.path.join(real, 'config'), 'rb').read()
        assert len(config) in (256, 4096)
        assert '0x%02x%02x' % (config[1], config[0]) == read(os.path.join(real, 'vendor')).strip()
        assert stat.S_IMODE(os.stat(os.path.join(real, 'remove')).st_mode) == 0o200


def test_t4_values(built):
    fn = pci_functions(os.path.join(built, 't4-a'))['0000:3b:00.0']
    assert read(fn + '/vendor') == '0x10de\n'
    assert read(fn + '/device') == '0x1eb8\n'
    assert read(fn + '/subsystem_device') == '0x12a2\n'
    assert read(fn + '/class') == '0x030200\n'
    assert read(fn + '/revision') == '0xa1\n'
    assert read(fn + '/numa_node') == '0\n'
    assert read(fn + '/driver_override') == '(null)\n'
    assert os.readlink(fn + '/driver') == '../../../../bus/pci/drivers/nvidia'
    assert os.path.basename(os.readlink(fn + '/iommu_group')) == '2'
    assert fn.endswith('/sys/devices/pci0000:00/0000:00:01.0/0000:3b:00.0')


# --------------------------------------------------------------------------------------------
# SR-IOV and NVIDIA vGPU on VFs
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('host', ['a100-sriov', 'cx6-a', 'cx6-b', 'hisi', 'qat'])
def test_sriov_links_follow_offset_and_stride(built, host):
    functions = pci_functions(os.path.join(built, host))
    pfs = [a for a, d in functions.items() if os.path.exists(d + '/sriov_totalvfs')]
    assert pfs
    for pf in pfs:
        d = functions[pf]
        num = int(read(d + '/sriov_numvfs'))
        total = int(read(d + '/sriov_totalvfs'))
        offset = int(read(d + '/sriov_offset'))
        stride = int(read(d + '/sriov_stride'))
        assert 0 <= num <= total
        links = sorted(n for n in os.listdir(d) if n.startswith('virtfn'))
        assert len(links) == num
        for i in range(num):
            vf = os.path.realpath(os.path.join(d, 'virtfn%d' % i))
            assert rid(os.path.basename(vf)) == rid(pf) + offset + stride * i
            assert os.readlink(os.path.join(d, 'virtfn%d' % i)) == '../' + os.path.basename(vf)
            assert os.path.realpath(vf + '/physfn') == d
            assert read(vf + '/device').strip() == '0x' + read(d + '/sriov_vf_device').strip()


def test_cx6_drivers_and_free_capacity(built):
    functions = pci_functions(os.path.join(built, 'cx6-a'))
    drivers = {a: os.path.basename(os.readlink(d + '/driver')) for a, d in functions.items()
               if os.path.lexists(d + '/driver')}
    vf_drivers = sorted(drivers[a] for a, d in functions.items() if os.path.lexists(d + '/physfn'))
    assert vf_drivers == ['mlx5_core'] * 2 + ['mlx5_vfio_pci'] * 4 + ['vfio-pci'] * 2
    cx6b = pci_functions(os.path.join(built, 'cx6-b'))['0000:5e:00.0']
    assert int(read(cx6b + '/sriov_numvfs')) < int(read(cx6b + '/sriov_totalvfs'))


def test_nvidia_sriov_vgpu_files(built):
    functions = pci_functions(os.path.join(built, 'a100-sriov'))
    pf = functions['0000:17:00.0']
    assert not os.path.exists(pf + '/nvidia')
    assert not os.path.exists(pf + '/mdev_supported_types')
    running = free = 0
    for i in range(int(read(pf + '/sriov_numvfs'))):
        vf = os.path.realpath('%s/virtfn%d' % (pf, i))
        current = read(vf + '/nvidia/current_vgpu_type')
        lines = read(vf + '/nvidia/creatable_vgpu_types').splitlines()
        assert lines[0] == 'ID    : vGPU Name'
        for line in lines[1:]:
            assert re.fullmatch(r'[0-9]+ *: NVIDIA \S+', line), line
        if current == '468\n':
            running += 1
            assert lines == ['ID    : vGPU Name']
        else:
            assert current == '0\n'
            free += 1
            assert lines[1:] == ['468   : NVIDIA A100-4C']
        assert os.path.basename(os.readlink(vf + '/driver')) == 'nvidia_vgpu_vfio'
        assert os.path.isdir(vf + '/vfio-dev')
    assert (running, free) == (4, 16)


# --------------------------------------------------------------------------------------------
# mediated devices
# --------------------------------------------------------------------------------------------

def mdev_parents(host_root):
    base = os.path.join(host_root, 'sys/class/mdev_bus')
    return {n: os.path.realpath(os.path.join(base, n)) for n in sorted(os.listdir(base))} if os.path.isdir(base) else {}


@pytest.mark.parametrize('host', [h for h in HOSTS if h != 'broken-links'])
def test_mdev_layout(built, host):
    root = os.path.join(built, host)
    sysroot = os.path.join(root, 'sys')
    parents = mdev_parents(root)
    assert bool(parents) is (host in WITH_MDEV_PARENTS)
    for name, parent in parents.items():
        types_dir = os.path.join(parent, 'mdev_supported_types')
        for type_id in os.listdir(types_dir):
            tdir = os.path.join(types_dir, type_id)
            for attr in ('name', 'device_api', 'available_instances'):
                assert read(os.path.join(tdir, attr)).endswith('\n')
            assert re.fullmatch(r'[0-9]+\n', read(tdir + '/available_instances'))
            assert stat.S_IMODE(os.stat(tdir + '/create').st_mode) == 0o200
            for uuid in os.listdir(tdir + '/devices'):
                inst = os.path.realpath(os.path.join(tdir, 'devices', uuid))
                assert inst == os.path.join(parent, uuid)
                assert os.path.realpath(inst + '/mdev_type') == tdir
                assert os.path.realpath(os.path.join(sysroot, 'bus/mdev/devices', uuid)) == inst
                assert stat.S_IMODE(os.stat(inst + '/remove').st_mode) == 0o200
                group = os.path.realpath(inst + '/iommu_group')
                assert read(group + '/name') == 'vfio-noiommu\n'
                assert read(group + '/type') == 'unknown\n'
                assert os.path.realpath(os.path.join(group, 'devices', uuid)) == inst
                drv = os.path.realpath(inst + '/driver')
                assert os.path.dirname(drv) == os.path.join(sysroot, 'bus/mdev/drivers')
                assert os.path.realpath(os.path.join(drv, uuid)) == inst
                assert os.path.exists(os.path.join(root, 'dev/vfio', os.path.basename(group)))


def available(parent):
    tdir = os.path.join(parent, 'mdev_supported_types')
    return {t: int(read(os.path.join(tdir, t, 'available_instances'))) for t in sorted(os.listdir(tdir))}


def test_available_instances_follow_the_instances(built):
    t4 = mdev_parents(os.path.join(built, 't4-a'))
    assert available(t4['0000:3b:00.0']) == {'nvidia-222': 0, 'nvidia-230': 12, 'nvidia-234': 0}
    assert available(t4['0000:af:00.0']) == {'nvidia-222': 0, 'nvidia-230': 0, 'nvidia-234': 0}
    assert read(t4['0000:3b:00.0'] + '/mdev_supported_types/nvidia-230/name') == 'GRID T4-1Q\n'
    assert read(t4['0000:3b:00.0'] + '/mdev_supported_types/nvidia-230/description') == (
        'num_heads=4, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=16\n')
    mtty = mdev_parents(os.path.join(built, 'mtty-612'))['mtty']
    assert mtty.endswith('/sys/devices/virtual/mtty/mtty')
    assert available(mtty) == {'mtty-1': 21, 'mtty-2': 10}
    assert not os.path.exists(mtty + '/mdev_supported_types/mtty-1/description')
    assert read(mtty + '/mdev_supported_types/mtty-2/name') == 'Dual port serial\n'
    gvt = mdev_parents(os.path.join(built, 'gvtg'))['0000:00:02.0']
    assert available(gvt) == {'i915-GVTg_V5_4': 2, 'i915-GVTg_V5_8': 2}
    assert read(gvt + '/mdev_supported_types/i915-GVTg_V5_4/description') == (
        'low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4\n')


def test_s390_layout(built):
    root = os.path.join(built, 's390')
    sch = os.path.join(root, 'sys/devices/css0/0.0.fffe')
    assert read(sch + '/type') == '0\n'
    assert read(sch + '/modalias') == 'css:t0\n'
    assert os.path.realpath(os.path.join(root, 'sys/bus/css/devices/0.0.fffe')) == sch
    assert os.path.basename(os.readlink(sch + '/driver')) == 'vfio_ccw'
    parents = mdev_parents(root)
    assert available(parents['0.0.fffe']) == {'vfio_ccw-io': 0}
    assert available(parents['0.0.fffd']) == {'vfio_ccw-io': 1}
    assert read(sch + '/mdev_supported_types/vfio_ccw-io/device_api') == 'vfio-ccw\n'
    assert read(sch + '/mdev_supported_types/vfio_ccw-io/name') == 'I/O subchannel (Non-QDIO)\n'
    matrix = parents['matrix']
    assert matrix == os.path.join(root, 'sys/devices/vfio_ap/matrix')
    assert os.readlink(matrix + '/driver') == '../../../bus/matrix/drivers/vfio_ap'
    tdir = matrix + '/mdev_supported_types/vfio_ap-passthrough'
    assert read(tdir + '/device_api') == 'vfio-ap\n'
    assert read(tdir + '/name') == 'VFIO AP Passthrough Device\n'
    matrices = sorted(read(os.path.join(tdir, 'devices', u, 'matrix')) for u in os.listdir(tdir + '/devices'))
    assert matrices == ['04.0047\n04.0048\n', '05.0047\n']
    for u in os.listdir(tdir + '/devices'):
        for name in ('assign_adapter', 'assign_domain', 'unassign_adapter', 'assign_control_domain'):
            assert stat.S_IMODE(os.stat(os.path.join(tdir, 'devices', u, name)).st_mode) == 0o200
    assert os.path.basename(os.readlink(os.path.join(root, 'sys/devices/ap/card04/04.0047/driver'))) == 'vfio_ap'
    assert read(os.path.join(root, 'sys/bus/ap/apmask')).startswith('0xf3ff')


# --------------------------------------------------------------------------------------------
# modules, proc, dev
# --------------------------------------------------------------------------------------------

def test_modules(built):
    t4a, t4b = (os.path.join(built, h, 'sys/module') for h in ('t4-a', 't4-b'))
    assert read(t4a + '/nvidia/version') == '550.54.16\n'
    assert read(t4b + '/nvidia/version') == '535.161.07\n'
    assert 'O' in read(t4a + '/nvidia/taint')
    cx6 = os.path.join(built, 'cx6-a', 'sys/module')
    # as in the captured Debian kernels: no MODULE_VERSION, so neither version nor srcversion
    assert not os.path.exists(cx6 + '/mlx5_vfio_pci/version')
    assert not os.path.exists(cx6 + '/mlx5_vfio_pci/srcversion')
    assert read(cx6 + '/mlx5_vfio_pci/taint') == '\n'
    assert os.readlink(cx6 + '/mlx5_vfio_pci/drivers/pci:mlx5_vfio_pci') == '../../../bus/pci/drivers/mlx5_vfio_pci'
    assert read(cx6 + '/vfio/version') == '0.3\n'
    assert re.fullmatch(r'[0-9A-F]{23}\n', read(cx6 + '/vfio/srcversion'))
    assert read(os.path.join(built, 'mtty-612', 'sys/module/mtty/version')) == '0.1\n'
    assert os.readlink(os.path.join(built, 'cx6-a', 'sys/bus/pci/drivers/vfio-pci/module')) == '../../../../module/vfio_pci'
    assert not os.path.lexists(os.path.join(built, 'cx6-a', 'sys/bus/pci/drivers/pcieport/module'))  # built in
    assert 'O' in read(os.path.join(built, 'mtty-612', 'sys/module/mtty/taint'))


def vfio_fds(host_root):
    out = {}
    proc = os.path.join(host_root, 'proc')
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        for fd in os.listdir(os.path.join(proc, pid, 'fd')):
            target = os.readlink(os.path.join(proc, pid, 'fd', fd))
            if target.startswith('/dev/vfio/') and target != '/dev/vfio/vfio':
                out.setdefault(int(pid), []).append(target)
    return out


@pytest.mark.parametrize('host', [h for h in HOSTS if h != 'broken-links'])
def test_proc_and_dev_agree_with_sys(built, host):
    root = os.path.join(built, host)
    assert read(os.path.join(root, 'proc/sys/kernel/osrelease')) == \
        simhost.load_description(os.path.join(HERE, 'hosts', host + '.yml'))['kernel'] + '\n'
    holders = vfio_fds(root)
    assert bool(holders) is (host not in WITHOUT_VFIO_HOLDERS)
    for pid, targets in holders.items():
        cmdline = open(os.path.join(root, 'proc', str(pid), 'cmdline'), 'rb').read()
        assert cmdline.endswith(b'\0') and b'-name\0' in cmdline
        for target in targets:
            assert os.path.isfile(os.path.join(root, target.lstrip('/'))), target
            name = target.rsplit('/', 1)[1]
            if target.startswith('/dev/vfio/devices/'):
                assert os.path.isdir(os.path.join(root, 'sys/class/vfio-dev', name))
            else:
                assert os.listdir(os.path.join(root, 'sys/kernel/iommu_groups', name, 'devices'))
    # /dev/vfio/<group> exactly for the groups holding a VFIO device (vfio-dev/ below a member)
    vfio_groups = set()
    groups_dir = os.path.join(root, 'sys/kernel/iommu_groups')
    for group in os.listdir(groups_dir):
        for member in os.listdir(os.path.join(groups_dir, group, 'devices')):
            if os.path.isdir(os.path.join(groups_dir, group, 'devices', member, 'vfio-dev')):
                vfio_groups.add(group)
    dev_vfio = os.path.join(root, 'dev/vfio')
    listed = set(os.listdir(dev_vfio)) - {'vfio', 'devices'} if os.path.isdir(dev_vfio) else set()
    assert listed == vfio_groups
    assert os.path.isfile(os.path.join(dev_vfio, 'vfio')) == bool(vfio_groups)


def test_in_use_examples(built):
    def vms(host):
        root = os.path.join(built, host, 'proc')
        names = {}
        for pid in os.listdir(root):
            if pid.isdigit():
                args = open(os.path.join(root, pid, 'cmdline'), 'rb').read().split(b'\0')
                if b'-name' in args:
                    names[int(pid)] = args[args.index(b'-name') + 1].decode('utf-8')
        return sorted(names.values())
    assert vms('t4-a') == ['guest=web-01,debug-threads=on', 'guest=web-02,debug-threads=on',
                           'guest=web-03,debug-threads=on', 'ml-train-01']
    hostile = vms('hostile')
    assert 'guest=<script>alert(1)</script>,debug-threads=on' in hostile
    assert 'guest=comma,,separated,,name,debug-threads=on' in hostile
    assert 'O\'Brien "the VM" </td> Ünïcødé-日本' in hostile
    assert vms('empty') == ['guest=plain-vm,debug-threads=on']
    assert vfio_fds(os.path.join(built, 'empty')) == {}
    gpu = os.path.join(built, 'gpu-pt')
    assert list(vfio_fds(gpu).values()) == [['/dev/vfio/devices/vfio0']]
    assert read(os.path.join(gpu, 'sys/class/vfio-dev/vfio0/dev')) == '511:0\n'
    assert os.path.isfile(os.path.join(gpu, 'dev/iommu'))
    assert not os.path.exists(os.path.join(built, 't4-a', 'dev/vfio/devices'))
    assert not os.path.exists(os.path.join(built, 't4-a', 'sys/class/vfio-dev/vfio0/dev'))
    cx6 = vfio_fds(os.path.join(built, 'cx6-a'))
    assert sorted(len(t) for t in cx6.values()) == [1, 1, 2]


def test_broken_links_host_damage(built):
    fns = os.path.join(built, 'broken-links', 'sys/devices/pci0000:00/0000:00:01.0')
    assert os.path.isdir(fns + '/0000:3b:00.4/vendor')
    assert stat.S_IMODE(os.stat(fns + '/0000:3b:00.5/device').st_mode) == 0
    assert read(fns + '/0000:3b:00.6/class') == '0xZZZZ\n'
    with pytest.raises(UnicodeDecodeError):
        read(fns + '/0000:3b:00.7/subsystem_vendor')
    proc = os.path.join(built, 'broken-links', 'proc')
    assert os.readlink(proc + '/2500/fd/99') == '/dev/vfio/999'
    assert open(proc + '/77/cmdline', 'rb').read() == b''


# --------------------------------------------------------------------------------------------
# determinism and idempotence
# --------------------------------------------------------------------------------------------

def _build_in_a_process(out, seed):
    """``simhost.py build`` of every host in a fresh process with string hash seed ``seed``."""
    env = dict(os.environ, PYTHONHASHSEED=seed)
    run = subprocess.run([sys.executable, os.path.join(HERE, 'simhost.py'), 'build'] + HOST_FILES + ['--out', out],
                         env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_two_builds_are_identical_and_rebuild_replaces(tmp_path):
    """Two processes with different PYTHONHASHSEED values build the same trees."""
    first, second = str(tmp_path / 'a'), str(tmp_path / 'b')
    _build_in_a_process(first, '1')
    _build_in_a_process(second, '2')
    assert sorted(os.listdir(second)) == HOSTS
    for host in HOSTS:
        assert snapshot(os.path.join(first, host)) == snapshot(os.path.join(second, host)), host
    junk = os.path.join(first, 't4-a', 'sys', 'junk')
    with open(junk, 'w') as handle:
        handle.write('left over')
    simhost.build_host(simhost.load_description(os.path.join(HERE, 'hosts', 't4-a.yml')), first)
    assert not os.path.exists(junk)
    assert snapshot(os.path.join(first, 't4-a')) == snapshot(os.path.join(second, 't4-a'))
    assert sorted(os.listdir(first)) == HOSTS  # no temporary directories left behind


def test_cli_build_and_check(tmp_path):
    script = os.path.join(HERE, 'simhost.py')
    files = [os.path.join(HERE, 'hosts', h + '.yml') for h in ('empty', 'mtty-612')]
    run = subprocess.run([sys.executable, script, 'build'] + files + ['--out', str(tmp_path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert sorted(os.listdir(str(tmp_path))) == ['empty', 'mtty-612']
    run = subprocess.run([sys.executable, script, 'check'] + HOST_FILES, capture_output=True, text=True, check=False)
    assert run.returncode == 0 and '%d host description(s) valid' % len(HOST_FILES) in run.stdout


def _vgpu_creatable(tmp_path, current, total=12):
    """Build one A100 with ``total`` VFs running ``current`` ({vf index: type}); return the type
    ids each free VF lists."""
    desc = {'host': 'fb', 'kernel': '6.8.0-45-generic', 'pci': [{
        'addr': '17:00.0', 'id': '10de:20f1', 'class': '030200', 'driver': 'nvidia',
        'sriov': {'total': str(total), 'offset': '4', 'vf': {'driver': 'nvidia_vgpu_vfio'}},
        'vgpu': {'types': {'468': 'NVIDIA A100-4C', '471': 'NVIDIA A100-10C'},
                 'max': {'468': '10', '471': '4'},
                 'current': dict((str(i), str(t)) for i, t in current.items())}}]}
    root = simhost.build_host(desc, str(tmp_path))
    pf = pci_functions(root)['0000:17:00.0']
    lists = []
    for i in range(total):
        vf = os.path.realpath('%s/virtfn%d' % (pf, i))
        if read(vf + '/nvidia/current_vgpu_type') == '0\n':
            lists.append([line.split(':')[0].strip() for line in read(vf + '/nvidia/creatable_vgpu_types').splitlines()[1:]])
    return lists


def test_nvidia_sriov_free_vfs_list_a_type_only_while_the_gpu_holds_another(tmp_path):
    # a VF lists what can still be created on the GPU: with 9 of 10 A100-4C the 3 free VFs list it,
    # with 10 (the frame buffer used up) they list nothing
    assert _vgpu_creatable(tmp_path / 'a', dict((i, 468) for i in range(9))) == [['468']] * 3
    assert _vgpu_creatable(tmp_path / 'b', dict((i, 468) for i in range(10))) == [[]] * 2
    # nothing runs: every type on every free VF
    assert _vgpu_creatable(tmp_path / 'c', {}, total=2) == [['468', '471']] * 2
    # mixed sizes share the frame buffer: 2 x 10C + 4 x 4C = 36 of 40 GiB leaves room for a 4C only
    assert _vgpu_creatable(tmp_path / 'd', {0: 471, 1: 471, 2: 468, 3: 468, 4: 468, 5: 468}, total=8) == [['468']] * 2
    assert _vgpu_creatable(tmp_path / 'e', {0: 471, 1: 471, 2: 468}, total=4) == [['468', '471']]


def test_kernel_config_and_device_options(tmp_path):
    desc = copy.deepcopy(BASE)
    desc.update(kernel_config={'CONFIG_IOMMUFD': 'm', 'CONFIG_IOMMUFD_DRIVER': 'n'},
                vms=[{'name': 'a', 'device_options': {'x-device-dirty-page-tracking': 'off'}}])
    simhost.build_host(desc, str(tmp_path))
    root = tmp_path / desc['host']
    assert (root / 'boot' / ('config-' + desc['kernel'])).read_text() == (
        'CONFIG_IOMMUFD=m\n# CONFIG_IOMMUFD_DRIVER is not set\n')
    cmdlines = [p.read_bytes().split(b'\0') for p in (root / 'proc').glob('*/cmdline')]
    (devices,) = [[a for i, a in enumerate(c) if i and c[i - 1] == b'-device'] for c in cmdlines if b'-device' in c]
    assert [json.loads(d)['x-device-dirty-page-tracking'] for d in devices] == ['off']
    # without kernel_config there is no boot directory at all
    desc.pop('kernel_config')
    simhost.build_host(desc, str(tmp_path / 'plain'))
    assert not (tmp_path / 'plain' / desc['host'] / 'boot').exists()


def test_large_host_small_variant(tmp_path):
    desc = simhost.large_description(pfs=2, vfs_per_pf=4, mdev_parents=2, types_per_parent=3, instances=5,
                                     processes=12, host='mini')
    root = simhost.build_host(desc, str(tmp_path))
    functions = pci_functions(root)
    assert len([a for a, d in functions.items() if os.path.lexists(d + '/physfn')]) == 8
    assert len(os.listdir(os.path.join(root, 'sys/bus/mdev/devices'))) == 5
    assert len(os.listdir(os.path.join(root, 'sys/class/mdev_bus'))) == 2
    pids = [p for p in os.listdir(os.path.join(root, 'proc')) if p.isdigit()]
    assert len(pids) == 12


def test_large_description_defaults_reach_the_benchmark_size():
    model = simhost.normalize(simhost.large_description())
    vfs = [f for f in model['pci'] if f['is_vf']]
    assert len([f for f in model['pci'] if f['sriov']]) >= 64 and len(vfs) == 2048
    assert len(model['parents']) == 16
    assert all(len(p['mdev']['types']) == 32 for p in model['parents'])
    assert len(model['instances']) == 512
    assert len(model['vm_list']) + len(model['processes']) + 3 == 200


# --------------------------------------------------------------------------------------------
# validation: the message names the file and the field
# --------------------------------------------------------------------------------------------

BASE = {
    'host': 'v', 'kernel': '6.1.0',
    'pci': [{'addr': '3b:00.0', 'id': '10de:1eb8', 'class': '030200', 'driver': 'nvidia',
             'mdev': {'types': {'nvidia-230': {'name': 'GRID T4-1Q', 'max': '16'}},
                      'instances': [{'type': 'nvidia-230', 'vm': 'a'}]}}],
}


def broken(change):
    desc = copy.deepcopy(BASE)
    change(desc)
    return desc


@pytest.mark.parametrize('change, field, words', [
    (lambda d: d.pop('kernel'), 'kernel', 'is required'),
    (lambda d: d.update(colour='red'), 'colour', 'unknown key'),
    (lambda d: d['pci'][0].update(addr='3b:00'), 'pci[0].addr', 'PCI address'),
    (lambda d: d['pci'][0].update(id='10de'), 'pci[0000:3b:00.0].id', 'vendor:device'),
    (lambda d: d['pci'][0].update(klass='x'), 'pci[0].klass', 'unknown key'),
    (lambda d: d['pci'][0].update({'class': '0x3000000'}), 'pci[0000:3b:00.0].class', 'hex digits'),
    (lambda d: d['pci'][0].update(numa='two'), 'pci[0000:3b:00.0].numa', 'integer'),
    (lambda d: d['pci'][0]['mdev']['types'].update({'i915-x': {}}), 'pci[0000:3b:00.0].mdev.types.i915-x',
     '<parent driver>-<type>'),
    (lambda d: d['pci'][0]['mdev']['types']['nvidia-230'].update(max='-1'),
     'pci[0000:3b:00.0].mdev.types.nvidia-230.max', 'must be >= 0'),
    (lambda d: d['pci'][0]['mdev']['instances'][0].update(type='nvidia-999'),
     'pci[0000:3b:00.0].mdev.instances[0].type', 'unknown type'),
    (lambda d: d['pci'][0]['mdev']['instances'].extend([{'type': 'nvidia-230'}] * 16),
     'pci[0000:3b:00.0].mdev.types.nvidia-230.max', '17 instances exist but max is 16'),
    (lambda d: d['pci'][0]['mdev']['instances'][0].update(uuid='not-a-uuid'),
     'pci[0000:3b:00.0].mdev.instances[0].uuid', 'not a UUID'),
    (lambda d: d['pci'].append(dict(d['pci'][0], mdev=None)), 'pci[0000:3b:00.0].addr', 'used twice'),
    (lambda d: d['pci'][0].update(sriov={'total': '4', 'num': '8'}), 'pci[0000:3b:00.0].sriov.num', 'cannot exceed'),
    (lambda d: d['pci'][0].update(sriov={'total': '4', 'vfs': {'7': {}}}), 'pci[0000:3b:00.0].sriov.vfs.7',
     'does not exist'),
    (lambda d: d['pci'].append({'addr': '5e:00.0', 'id': '15b3:101d', 'driver': 'mlx5_core', 'vm': 'b'}),
     'pci[0000:5e:00.0].vm', 'VFIO driver'),
    (lambda d: d.update(iommu='false', pci=[{'addr': '5e:00.0', 'id': '15b3:101e', 'driver': 'vfio-pci'}]),
     'pci[0000:5e:00.0].driver', 'iommu is disabled'),
    (lambda d: d.update(vms=[{'name': 'a', 'iommufd': 'true'}]), 'vms[0].iommufd', 'vfio_cdev is off'),
    (lambda d: d.update(kernel_config={'IOMMUFD': 'y'}), 'kernel_config', 'start with CONFIG_'),
    (lambda d: d.update(kernel_config={'CONFIG_IOMMUFD': 'yes'}), 'kernel_config.CONFIG_IOMMUFD', 'y, m, n'),
    (lambda d: d.update(vms=[{'name': 'a', 'device_options': ['x']}]), 'vms[0].device_options', 'mapping'),
    (lambda d: d.update(css=[{'id': '0.0.zz'}]), 'css[0].id', 'subchannel id'),
    (lambda d: d.update(ap={'cards': {'04': {}}, 'queues': {'04.0047': 'cex4queue'},
                            'mdevs': [{'matrix': {'adapters': ['04'], 'domains': ['0047']}}]}),
     'ap.mdevs[0].matrix', 'not bound to vfio_ap'),
    (lambda d: d.update(broken={'dangling_driver': ['0000:99:00.0']}), 'broken.dangling_driver[0]', 'not a PCI address'),
    (lambda d: d.update(broken={'garbage': ['0000:3b:00.0']}), 'broken.garbage[0]', 'expected <device>/<file>'),
    (lambda d: d['pci'][0].update(vgpu={'types': {'468': 'NVIDIA A100-4C'}}), 'pci[0000:3b:00.0].vgpu',
     'needs an sriov block'),
    (lambda d: d['pci'][0].update(mdev=None, sriov={'total': '4', 'vf': {'driver': 'nvidia_vgpu_vfio'}},
                                  vgpu={'types': {'468': 'NVIDIA A100-4C'}, 'current': {'0': '469'}}),
     'pci[0000:3b:00.0].vgpu.current.0', 'type 469 is not listed'),
    (lambda d: d['pci'][0].update(mdev=None, sriov={'total': '4', 'vf': {'driver': 'nvidia_vgpu_vfio'}},
                                  vgpu={'types': {'468': 'NVIDIA A100-4C', '473': 'NVIDIA A100-40C'},
                                        'max': {'468': '10', '473': '1'}, 'current': {'0': '468', '1': '473'}}),
     'pci[0000:3b:00.0].vgpu.current', 'more than the whole GPU'),
    (lambda d: (d['pci'][0]['mdev']['types'].update({'nvidia-222': {'max': '16'}}),
                d['pci'][0]['mdev']['instances'].append({'type': 'nvidia-222'})),
     'pci[0000:3b:00.0].mdev.instances', 'one vGPU type per physical GPU'),
])
def test_validation_errors_name_file_and_field(change, field, words):
    with pytest.raises(simhost.DescriptionError) as err:
        simhost.normalize(broken(change), 'hosts/v.yml')
    message = str(err.value)
    assert message.startswith('hosts/v.yml: %s: ' % field), message
    assert words in message


def test_base_description_is_valid():
    model = simhost.normalize(copy.deepcopy(BASE), 'hosts/v.yml')
    assert [i['vm'] for i in model['instances']] == ['a']


def test_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / 'bad.yml'
    bad.write_text('host: [unclosed\n')
    with pytest.raises(simhost.DescriptionError, match=r'bad\.yml: not valid YAML'):
        simhost.load_description(str(bad))
    octal = tmp_path / 'oct.yml'
    octal.write_text('kernel: 6.1.0\npci:\n  - {addr: 3b:00.0, id: "15b3:101d", class: 020000, vm: no}\n')
    desc = simhost.load_description(str(octal))
    assert desc['host'] == 'oct' and desc['pci'][0]['class'] == '020000' and desc['pci'][0]['vm'] == 'no'
    dup = tmp_path / 'dup.yml'
    dup.write_text('host: empty\nkernel: 6.1.0\n')
    with pytest.raises(simhost.DescriptionError, match=r"\.yml: host: 'empty' is also described by .*\.yml$") as err:
        simhost.build_all([os.path.join(HERE, 'hosts', 'empty.yml'), str(dup)], str(tmp_path / 'out'))
    assert 'dup.yml' in str(err.value) and 'empty.yml' in str(err.value)
    assert not os.path.exists(str(tmp_path / 'out')), 'nothing is built when a description is bad'


def test_cli_reports_errors_without_traceback(tmp_path):
    bad = tmp_path / 'bad.yml'
    bad.write_text('kernel: 6.1.0\npci:\n  - {addr: 3b:00.0, id: 10de:1eb8, numa: lots}\n')
    run = subprocess.run([sys.executable, os.path.join(HERE, 'simhost.py'), 'check', str(bad)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert run.stderr.strip() == 'simhost: error: %s: pci[0000:3b:00.0].numa: expected an integer, got %r' % (
        bad, 'lots')


# --------------------------------------------------------------------------------------------
# against a real kernel: trees captured from Debian guests by the kernel lane (tests/captures)
# --------------------------------------------------------------------------------------------

CAPTURES = os.path.join(os.path.dirname(HERE), 'captures')
UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


@pytest.fixture(scope='module', params=[('debian-6.12.json.xz', 'mtty-612'), ('debian-6.1.json.xz', 'mtty-61')],
                ids=['6.12', '6.1'])
def captured(request, tmp_path_factory):
    """(sysfs root of a captured Debian guest, the library host that mirrors its mtty setup)."""
    spec = importlib.util.spec_from_file_location('vfio_capture_load', os.path.join(CAPTURES, 'load.py'))
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    archive, host = request.param
    roots = loader.load(os.path.join(CAPTURES, archive), str(tmp_path_factory.mktemp('capture')))
    return roots['sysfs_root'], host


def shape(directory, skip=()):
    """Entries of one sysfs directory as {name: kind or normalized link target}; write-only files
    (which a capture cannot read) and empty directories (which it does not record) left out."""
    out = {}
    for name in os.listdir(directory):
        full = os.path.join(directory, name)
        key = UUID_RE.sub('UUID', name)
        if name in skip:
            continue
        if os.path.islink(full):
            target = UUID_RE.sub('UUID', os.readlink(full))
            out[key] = re.sub(r'iommu_groups/[0-9]+$', 'iommu_groups/N', target)
        elif os.path.isdir(full):
            if os.listdir(full):
                out[key] = 'dir'
        elif stat.S_IMODE(os.stat(full).st_mode) & 0o444:
            out[key] = 'file'
    return out


def test_mdev_layout_matches_a_captured_kernel(built, captured):
    sysroot, host = captured
    cap = os.path.join(sysroot, 'devices/virtual/mtty/mtty')
    sim = os.path.join(built, host, 'sys/devices/virtual/mtty/mtty')
    assert shape(sim) == shape(cap)
    for type_id in ('mtty-1', 'mtty-2'):
        ctype, stype = (os.path.join(p, 'mdev_supported_types', type_id) for p in (cap, sim))
        assert shape(stype) == shape(ctype)
        for attr in ('name', 'device_api', 'available_instances'):
            assert read(os.path.join(stype, attr)) == read(os.path.join(ctype, attr))
    # an mtty-2 instance: same files and links, link targets equal up to UUID and group number
    (cinst,) = [os.path.join(cap, u) for u in os.listdir(cap + '/mdev_supported_types/mtty-2/devices')]
    (sinst,) = [os.path.join(sim, u) for u in os.listdir(sim + '/mdev_supported_types/mtty-2/devices')]
    assert shape(sinst) == shape(cinst)
    assert read(sinst + '/uevent') == read(cinst + '/uevent') == 'DRIVER=mtty\n'
    (cvfio,) = glob.glob(cinst + '/vfio-dev/vfio*')
    (svfio,) = glob.glob(sinst + '/vfio-dev/vfio*')
    assert shape(svfio) == shape(cvfio)
    assert read(svfio + '/uevent') == read(cvfio + '/uevent') == ''
    assert shape(os.path.realpath(sinst + '/iommu_group')) == shape(os.path.realpath(cinst + '/iommu_group'))
    for name in ('name', 'type'):
        assert read(os.path.realpath(sinst + '/iommu_group') + '/' + name) == \
            read(os.path.realpath(cinst + '/iommu_group') + '/' + name)


def test_module_and_pci_layout_match_a_captured_kernel(built, captured):
    sysroot, host = captured
    for module in ('mtty', 'mdev', 'vfio', 'vfio_pci', 'vfio_iommu_type1'):
        cap = shape(os.path.join(sysroot, 'module', module))
        sim = shape(os.path.join(built, host if module != 'vfio_pci' else 'gpu-pt', 'sys/module', module))
        assert sim == cap, module
    # a vfio-pci function: everything the builder writes is there on the real kernel (which has more)
    cap = shape(os.path.join(sysroot, 'devices/pci0000:00/0000:00:02.0'))
    sim = shape(os.path.join(built, 'gpu-pt', 'sys/devices/pci0000:00/0000:00:02.0/0000:66:00.0'), skip=('config',))
    assert set(sim) <= set(cap)
    for name in ('driver', 'subsystem', 'iommu', 'iommu_group'):
        assert sim[name].count('../') == cap[name].count('../') + 1  # one level deeper, below a root port
        assert sim[name].rsplit('../', 1)[1] == cap[name].rsplit('../', 1)[1]
