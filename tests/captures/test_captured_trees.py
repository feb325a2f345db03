# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""vfio_facts on sysfs trees captured from real kernels (tests/captures/, made by tests/kernel/).

Each capture was taken from a Debian kernel booted under QEMU with intel-iommu, NVMe
SR-IOV VFs and an e1000e function on vfio-pci, mtty/mdpy/mbochs mdevs and two processes
named like QEMU VMs holding VFIO groups. Next to the tree it keeps the ground truth that a
shell script read in the guest; the module's reader must agree with it on every kernel.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather

CAPTURES_DIR = os.path.dirname(os.path.abspath(__file__))


def _import(name):
    spec = importlib.util.spec_from_file_location('vfio_captures_' + name, os.path.join(CAPTURES_DIR, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load = _import('load')
truth = _import('truth')
CAPTURES = load.captures(CAPTURES_DIR)
SIDE_EFFECT_NAMES = {'config', 'rom', 'vpd', 'remove', 'rescan', 'reset', 'create', 'new_id', 'remove_id',
                     'bind', 'unbind', 'drivers_probe'}


def _series(path):
    return os.path.basename(path).split('-', 1)[1].rsplit('.json.xz', 1)[0]


@pytest.fixture(params=CAPTURES, ids=[_series(p) for p in CAPTURES])
def captured(request, tmp_path):
    roots = load.load(request.param, str(tmp_path))
    roots['truth'] = truth.parse(roots['ground_truth'])
    roots['facts'] = gather(sysfs_root=roots['sysfs_root'], proc_root=roots['proc_root'],
                            dev_root=roots['dev_root'])
    return roots


def test_captures_cover_debian_6_1_and_6_12():
    assert {'6.1', '6.12'} <= set(_series(p) for p in CAPTURES)


def test_facts_agree_with_the_ground_truth_of_the_guest(captured):
    assert truth.compare(captured['facts'], captured['truth']) == []


def test_a_real_tree_reads_without_warnings(captured):
    # a warning here means the module now reads something the capture lacks: re-run
    # `VFIO_KERNEL_UPDATE_CAPTURES=1 make test-kernel` (or a real kernel disagrees with it)
    assert captured['facts']['warnings'] == []


def test_the_scenario_is_all_there(captured):
    facts, kernel = captured['facts'], captured['kernel']
    assert facts['host']['kernel_release'] == kernel
    assert facts['host']['iommu']['enabled'] is True
    assert sorted(d['type'] for d in facts['devices'] if d['kind'] == 'mdev') == [
        'mbochs-medium', 'mdpy-xga', 'mtty-1', 'mtty-2']
    pfs = dict(((p['pci']['vendor'], p['pci']['device']), p) for p in facts['sriov'])
    pci = [d for d in facts['devices'] if d['kind'] == 'pci']
    # NVMe PF (QEMU 1b36:0010) with both VFs on vfio-pci
    nvme = pfs[('1b36', '0010')]
    assert (nvme['driver'], nvme['totalvfs'], nvme['numvfs']) == ('nvme', 2, 2)
    assert len([d for d in pci if d['parent'] == nvme['pf']]) == 2
    # one of the two e1000e functions, whole
    assert [d['type'] for d in pci if d['parent'] is None] == ['pci-8086:10d3:8086:0000']
    # igb (QEMU 8.0+ only): 4 of 7 VFs enabled, 2 on vfio-pci, the other 2 driverless and not devices
    igb = pfs.get(('8086', '10c9'))
    if igb is not None:
        assert (igb['driver'], igb['totalvfs'], igb['numvfs']) == ('igb', 7, 4)
        assert [d['pci']['device'] for d in pci if d['parent'] == igb['pf']] == ['10ca', '10ca']
    assert len(pci) == 3 + (2 if igb else 0)


def test_kernel_config_and_dma_logging(captured):
    """Debian builds neither kernel with CONFIG_IOMMUFD_DRIVER: mtty's dirty tracking (6.7 and later)
    cannot report on 6.12; on 6.1 mtty has no migration at all."""
    facts, kernel = captured['facts'], captured['kernel']
    config = facts['host']['kernel_config']
    assert config['source'] == '/boot/config-' + kernel
    assert config['options']['CONFIG_IOMMUFD_DRIVER'] == 'n'
    mtty = set(d['migration']['dma_logging'] for d in facts['devices'] if d['type'].startswith('mtty'))
    assert mtty == ({'broken'} if kernel.startswith('6.12') else {'none'})


def test_vms_holding_groups_are_named(captured):
    held = dict((d['type'], d['in_use']) for d in captured['facts']['devices'] if d['in_use'])
    assert sorted(v['vm'] for v in held.values()) == ['kvm-test-vm', 'mdev-vm']
    assert held['mtty-2']['vm'] == 'mdev-vm'
    assert held['mtty-2']['holder'].startswith('/dev/vfio/')


def test_mtty_capacity_counts_ports_left(captured):
    # 24 ports; one dual-port (mtty-2) and one single-port (mtty-1) instance exist
    avail = dict((t['type'], t['available_instances']) for t in captured['facts']['mdev_types']
                 if t['parent'] == 'mtty')
    assert avail == {'mtty-1': 21, 'mtty-2': 10}


def test_migration_support_is_what_the_kernel_answered(captured):
    # the guest asked each device no VM held with VFIO_DEVICE_FEATURE(MIGRATION, GET)
    truth_ = captured['truth']
    kernel_says = dict((ident, rec['capable'] == '1') for ident, rec in truth_['migration'].items())
    held = set(h['group'] for h in truth_['holders'])
    assert set(kernel_says) == set(ident for ident, rec in list(truth_['pci'].items()) + list(truth_['mdev'].items())
                                   if rec['group'] not in held)
    devices = captured['facts']['devices']
    assert dict((d['id'], d['migration']['capable']) for d in devices if d['id'] in kernel_says) == kernel_says
    # mtty implements migration from kernel 6.7: not on 6.1, yes on 6.12
    mtty1 = [d for d in devices if d['type'] == 'mtty-1'][0]
    assert kernel_says[mtty1['id']] is captured['kernel'].startswith('6.12.')


def test_mdev_parents_are_virtual_devices(captured):
    mdevs = [d for d in captured['facts']['devices'] if d['kind'] == 'mdev']
    assert mdevs
    for device in mdevs:
        assert device['pci'] is None
        assert device['parent'] == device['type'].split('-')[0]


def test_captures_hold_nothing_read_with_side_effects():
    assert CAPTURES
    for archive in CAPTURES:
        doc = load.read(archive)
        entries = doc['entries']
        bad = [p for p in entries if os.path.basename(p) in SIDE_EFFECT_NAMES
               or os.path.basename(p).startswith('resource')]
        # the one exception: config of a function on a vfio driver (base64), for config_space
        vfio = [p for p in bad if os.path.basename(p) == 'config' and 'b' in entries[p]
                and 'vfio' in entries.get(os.path.dirname(p) + '/driver', {}).get('l', '')]
        assert vfio
        # links named like that (e.g. a driver's "bind" never is one) would be harmless; files are not
        assert [p for p in bad if p not in vfio and ('b' in entries[p] or not isinstance(entries[p], dict))] == []


def test_capability_chains_of_real_functions(captured):
    # the module parsed the captured config of every vfio-bound function like guest/pciconf.py did
    pci = [d for d in captured['facts']['devices'] if d['kind'] == 'pci']
    assert pci and len(captured['truth']['config']) == len(pci)
    for device in pci:
        space = device['config_space']
        assert space['header_type'] == '00'
        assert space['capabilities'] and space['extended_capabilities'][0].endswith('@100')


def test_loader_restores_links_files_and_device_nodes(tmp_path):
    roots = load.load(CAPTURES[0], str(tmp_path))
    sysfs = roots['sysfs_root']
    devices = os.path.join(sysfs, 'bus', 'pci', 'devices')
    some = sorted(os.listdir(devices))[0]
    assert os.readlink(os.path.join(devices, some)).startswith('../../../devices/')
    with open(os.path.join(devices, some, 'vendor')) as f:
        assert f.read().startswith('0x')
    assert os.path.isfile(os.path.join(roots['dev_root'], 'vfio', 'vfio'))
    with open(os.path.join(roots['proc_root'], 'sys', 'kernel', 'osrelease')) as f:
        assert f.read().strip() == roots['kernel']


def test_loader_refuses_paths_outside_its_roots(tmp_path):
    with pytest.raises(ValueError):
        load._local(str(tmp_path), '/etc/passwd')  # pylint: disable=protected-access
    with pytest.raises(ValueError):
        load._local(str(tmp_path), '/sys/../etc/passwd')  # pylint: disable=protected-access
