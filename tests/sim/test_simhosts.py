# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""gather() on the simulated host library (tests/sim/hosts/*.yml built by tests/sim/simhost.py)."""

from __future__ import annotations

import collections
import glob
import importlib.util
import json
import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.tests.unit.helpers.hashseed import outputs_under_seeds

SIM = os.path.dirname(os.path.abspath(__file__))
HOST_FILES = sorted(glob.glob(os.path.join(SIM, 'hosts', '*.yml')))
HOSTS = sorted(os.path.splitext(os.path.basename(path))[0] for path in HOST_FILES)


def _simhost():
    spec = importlib.util.spec_from_file_location('vfio_simhost', os.path.join(SIM, 'simhost.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('simhosts'))
    _simhost().build_all(HOST_FILES, out)
    return out


@pytest.fixture(scope='module')
def facts(built):
    cache = {}

    def get(name):
        if name not in cache:
            base = os.path.join(built, name)
            cache[name] = gather(base + '/sys', base + '/proc', base + '/dev')
        return cache[name]
    return get


def by_id(vfio):
    return dict((d['id'], d) for d in vfio['devices'])


def test_the_library_has_the_promised_hosts():
    assert len(HOSTS) >= 12
    for name in ('t4-a', 't4-b', 't4-c', 't4-d', 'a100-sriov', 'cx6-a', 'gvtg', 's390', 'hisi', 'empty',
                 'mtty-612-b'):
        assert name in HOSTS


def test_every_host_reads_the_same_under_two_hash_seeds(built):
    """gather() of every host in two fresh processes with different PYTHONHASHSEED values: the same bytes."""
    code = ('import json, sys; from ansible_collections.vfio.migration.plugins.module_utils._facts import gather; '
            'print(json.dumps([gather(sys.argv[1] + "/" + h + "/sys", sys.argv[1] + "/" + h + "/proc", '
            'sys.argv[1] + "/" + h + "/dev") for h in sys.argv[2:]]))')
    first, second = outputs_under_seeds(code, args=[built] + HOSTS)
    assert first == second
    assert len(json.loads(first)) == len(HOSTS)


@pytest.mark.parametrize('name', HOSTS)
def test_every_host_reads_deterministically(name, built, facts):
    vfio = facts(name)
    base = os.path.join(built, name)
    again = gather(base + '/sys', base + '/proc', base + '/dev')
    assert json.dumps(again) == json.dumps(vfio)
    assert json.dumps(vfio, sort_keys=True) == json.dumps(vfio)     # keys come sorted
    assert vfio['schema_version'] == 1 and vfio['host']['kernel_release']
    assert [d['id'] for d in vfio['devices']] == sorted(d['id'] for d in vfio['devices'])
    assert vfio['summary']['warnings'] == len(vfio['warnings'])
    if name != 'broken-links':
        assert vfio['warnings'] == []
    for record in vfio['devices'] + vfio['mdev_types']:
        assert record['fingerprint'].startswith('sha256:')
        assert record['migration']['reason']


def test_t4_hosts_identical_but_for_driver_version(facts):
    a, b, c = facts('t4-a'), facts('t4-b'), facts('t4-c')
    fps = dict((name, sorted(d['fingerprint'] for d in v['devices'])) for name, v in (('a', a), ('b', b), ('c', c)))
    assert fps['a'] == fps['c']
    assert set(fps['a']).isdisjoint(fps['b'])
    strip = ('fingerprint', 'software_version', 'in_use', 'id')
    assert ([dict((k, v) for k, v in d.items() if k not in strip) for d in a['devices']] ==
            [dict((k, v) for k, v in d.items() if k not in strip) for d in b['devices']])
    assert set(d['software_version'] for d in a['devices']) == {'550.54.16'}
    assert set(d['software_version'] for d in b['devices']) == {'535.161.07'}
    assert [t['fingerprint'] for t in a['mdev_types']] == [t['fingerprint'] for t in c['mdev_types']]
    vms = sorted(d['in_use']['vm'] for d in a['devices'] if d['in_use'])
    assert vms == ['ml-train-01', 'web-01', 'web-02', 'web-03']
    assert collections.Counter(d['type'] for d in a['devices']) == {'nvidia-230': 4, 'nvidia-234': 1}


def test_t4_d_is_t4_a_with_a_free_gpu(facts):
    a, d = facts('t4-a'), facts('t4-d')
    # the same offer (types, driver): devices of t4-a match types of t4-d by fingerprint
    assert set(t['fingerprint'] for t in d['mdev_types']) == set(t['fingerprint'] for t in a['mdev_types'])
    assert set(dev['fingerprint'] for dev in d['devices']) <= set(dev['fingerprint'] for dev in a['devices'])
    free = dict(((t['parent'], t['type']), t['available_instances']) for t in d['mdev_types'])
    assert free == {('0000:3b:00.0', 'nvidia-222'): 0, ('0000:3b:00.0', 'nvidia-230'): 14,
                    ('0000:3b:00.0', 'nvidia-234'): 0, ('0000:af:00.0', 'nvidia-222'): 16,
                    ('0000:af:00.0', 'nvidia-230'): 16, ('0000:af:00.0', 'nvidia-234'): 1}
    assert sorted(dev['in_use']['vm'] for dev in d['devices']) == ['web-41', 'web-42']


def test_mtty_612_b_has_free_ports(facts):
    a, b = facts('mtty-612'), facts('mtty-612-b')
    assert [(t['type'], t['available_instances']) for t in b['mdev_types']] == [('mtty-1', 23), ('mtty-2', 11)]
    assert [t['fingerprint'] for t in b['mdev_types']] == [t['fingerprint'] for t in a['mdev_types']]
    assert [(dev['type'], dev['in_use']['vm']) for dev in b['devices']] == [('mtty-1', 'serial-02')]


def test_cx6_a_variant_and_plain_vfio(facts):
    vfio = facts('cx6-a')
    capable = collections.Counter((d['driver'], d['migration']['capable']) for d in vfio['devices'])
    assert capable == {('mlx5_vfio_pci', True): 4, ('vfio-pci', False): 2}
    assert set(d['type'] for d in vfio['devices']) == {'pci-15b3:101e:15b3:0083'}
    assert set(d['parent'] for d in vfio['devices']) == {'0000:3b:00.0'}
    assert sorted(d['in_use']['vm'] for d in vfio['devices'] if d['in_use']) == ['app-01', 'db-01', 'db-01', 'legacy-01']
    assert [(p['pf'], p['totalvfs'], p['numvfs'], p['vf_device']) for p in vfio['sriov']] == [
        ('0000:3b:00.0', 8, 8, '101e'), ('0000:3b:00.1', 8, 0, '101e')]


def test_cx6_b_is_a_destination_for_cx6_a(facts):
    a, b = facts('cx6-a'), facts('cx6-b')
    capable_a = set(d['fingerprint'] for d in a['devices'] if d['migration']['capable'])
    assert capable_a == set(d['fingerprint'] for d in b['devices'])
    # port 0: 2 of 8 enabled (6 not, which the held VF keeps it from adding); port 1: 8 to create
    assert b['summary']['sriov_free_vfs'] == 14
    assert [(p['pf'], p['numvfs'], p['totalvfs']) for p in b['sriov']] == [('0000:5e:00.0', 2, 8), ('0000:5e:00.1', 0, 8)]


def test_a100_sriov_vgpu(facts):
    vfio = facts('a100-sriov')
    assert [(d['kind'], d['type'], d['parent']) for d in vfio['devices']] == [
        ('nvidia_vgpu', 'nvidia-468', '0000:17:00.0')] * 4
    assert sorted(d['in_use']['vm'] for d in vfio['devices'] if d['in_use']) == ['ai-01', 'ai-02', 'ai-03']
    assert all(d['software_version'] == '550.90.05' and d['software_version_source'] == 'module'
               for d in vfio['devices'])
    (vtype,) = vfio['mdev_types']
    # 16 free VFs list A100-4C, but the GPU holds 10 and 4 run: 6 more fit
    assert (vtype['type'], vtype['kind'], vtype['available_instances']) == ('nvidia-468', 'nvidia_vgpu', 6)
    assert vtype['fingerprint'] == vfio['devices'][0]['fingerprint']
    assert vfio['sriov'][0]['totalvfs'] == 20


def test_mtty_capability_follows_the_kernel(facts):
    old, new = facts('mtty-61'), facts('mtty-612')
    assert set(d['migration']['capable'] for d in old['devices'] + old['mdev_types']) == {False}
    assert set(d['migration']['capable'] for d in new['devices'] + new['mdev_types']) == {True}
    assert all(d['pci'] is None and d['parent'] == 'mtty' for d in new['devices'])
    assert all(t['description'] is None for t in new['mdev_types'])


def test_gvtg_and_gpu_passthrough(facts):
    (gvt,) = facts('gvtg')['devices']
    assert (gvt['kind'], gvt['driver'], gvt['migration']['capable'], gvt['in_use']['vm']) == ('mdev', 'i915', False, 'desk-01')
    pt = facts('gpu-pt')
    held = [d for d in pt['devices'] if d['in_use']]
    assert [(d['in_use']['vm'], d['in_use']['holder'], d['cdev']) for d in held] == [
        ('render-01', '/dev/vfio/devices/vfio0', '/dev/vfio/devices/vfio0')]
    assert set(d['migration']['capable'] for d in pt['devices']) == {False}


def test_s390(facts):
    vfio = facts('s390')
    kinds = collections.Counter(d['kind'] for d in vfio['devices'])
    assert kinds == {'ap': 2, 'ccw': 1}
    ccw = [d for d in vfio['devices'] if d['kind'] == 'ccw'][0]
    assert (ccw['device_api'], ccw['type'], ccw['attributes']) == ('vfio-ccw', 'vfio_ccw-io', {'subchannel_type': '0'})
    assert all('matrix' in d['attributes'] for d in vfio['devices'] if d['kind'] == 'ap')
    assert set(t['kind'] for t in vfio['mdev_types']) == {'ap', 'ccw'}
    assert vfio['summary']['migration_not_capable'] == 3


def test_hisi_and_qat_variant_drivers(facts):
    hisi, qat = facts('hisi'), facts('qat')
    assert set((d['driver'], d['migration']['capable']) for d in hisi['devices']) == {('hisi_acc_vfio_pci', True)}
    assert set(d['pci']['device'] for d in hisi['devices']) == {'a251', 'a256', 'a259'}
    assert set((d['driver'], d['migration']['capable']) for d in qat['devices']) == {('qat_vfio_pci', True)}
    assert len(qat['devices']) == 8


def test_hostile_strings_are_returned_as_read(facts):
    vfio = facts('hostile')
    assert sorted(d['in_use']['vm'] for d in vfio['devices']) == sorted([
        '<script>alert(1)</script>', 'O\'Brien "the VM" </td> Ünïcødé-日本', 'comma,separated,name'])
    assert vfio['mdev_types'][0]['name'] == '<script>alert(1)</script>'
    assert all(d['migration']['capable'] is None and 'unknown driver evil' in d['migration']['reason']
               for d in vfio['devices'])


def test_empty_host(facts):
    vfio = facts('empty')
    assert vfio['devices'] == [] and vfio['mdev_types'] == [] and vfio['host']['iommu']['enabled'] is True


def test_broken_links_warn_and_still_report(facts):
    vfio = facts('broken-links')
    base = '/sys/devices/pci0000:00/0000:00:01.0/'
    assert vfio['warnings'] == [
        base + '0000:3b:00.2/driver: dangling link to ../../../../bus/pci/drivers/vanished_vfio_pci',
        base + '0000:3b:00.3/iommu_group: too many levels of symbolic links',
        base + '0000:3b:00.4/vendor: is a directory, not a file',
        base + "0000:3b:00.6/class: not a hexadecimal number: '0xZZZZ'",
        base + '0000:3b:00.7/subsystem_vendor: not valid UTF-8 text',
        base + '0000:3b:01.0/physfn: dangling link to ../0000:ff:1f.7',
        '/sys/devices/virtual/mtty/mtty/5c8b4a3e-0d51-4f0e-9b7a-7e5d1c2b3a40/mdev_type: '
        'dangling link to ../mdev_supported_types/gone-1',
    ]
    devices = by_id(vfio)
    assert devices['0000:3b:00.3']['iommu_group'] is None
    assert devices['0000:3b:00.4']['pci']['vendor'] is None
    assert devices['0000:3b:00.2']['driver'] == 'vanished_vfio_pci'
    assert devices['0000:3b:00.2']['migration']['capable'] is None
    assert [t['type'] for t in vfio['mdev_types']] == ['mtty-1', 'mtty-2']
