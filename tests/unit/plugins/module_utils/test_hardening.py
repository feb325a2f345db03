# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One test per class of hostile or broken input (issue 10, items 1-5): each fails on the code before it."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils import _facts
from ansible_collections.vfio.migration.plugins.module_utils._capability import kernel_at_least
from ansible_collections.vfio.migration.plugins.module_utils._numbers import (
    is_digits, leading_int, parse_hex, parse_int, split_digits)
from ansible_collections.vfio.migration.plugins.module_utils._nvidia import parse_creatable
from ansible_collections.vfio.migration.plugins.module_utils._processes import parse_holder

from ansible_collections.vfio.migration.tests.unit.plugins.module_utils.audit import Audit

UUID = '2c3f0b2a-1b1e-4f6e-9a55-0d8f2e2f6a01'
# str.isdigit() accepts all of these, int() rejects the first two and accepts the last
ODD_DIGITS = ('\u00b2', '1\u00b9', '\u0663')


def gather(host, **kwargs):
    return _facts.gather(host.sys, host.proc, host.dev, {}, True, **kwargs)


def valid_json(facts):
    text = json.dumps(facts, ensure_ascii=False)
    assert json.loads(text.encode('utf-8').decode('utf-8')) == facts


# ------------------------------------------------------------------ 1. crashes

def test_numbers_are_ascii_only():
    for odd in ODD_DIGITS:
        assert not is_digits(odd)
        assert parse_int(odd) is None
        assert parse_hex(odd) is None
        assert parse_holder('/dev/vfio/' + odd) is None
        assert parse_holder('/dev/vfio/devices/vfio' + odd) is None
        assert parse_creatable('ID : Name\n%s : NVIDIA A100-4C\n' % odd) == []
        assert split_digits('a' + odd + 'b') == ['a' + odd + 'b'] or odd[0] == '1'
    assert parse_int('-1') == -1 and parse_int('1_0') is None and parse_int('+1') is None
    assert parse_hex('0x10DE') == '10de' and parse_hex('1_0') is None and parse_hex('') is None
    assert kernel_at_least('\u00b2.8.0', 6, 7) is None and kernel_at_least('6.\u0663', 6, 7) is None
    assert leading_int('12-rc1') == 12 and kernel_at_least('6.12.0', 6, 7) is True


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
    facts = gather(host)
    assert [t['type'] for t in facts['mdev_types']] == ['nvidia-1', 'nvidia-\u00b2']
    assert '/sys/devices/pci0000:00/0000:3b:00.4/nvidia/current_vgpu_type: not a vGPU type id: %r' % '\u00b2' \
        in facts['warnings']
    assert "/sys/devices/pci0000:00/0000:3b:00.0/numa_node: not an integer: %r" % '\u0663' in facts['warnings']
    valid_json(facts)


def test_a_link_text_of_thousands_of_components_is_resolved_without_recursion(host):
    os.makedirs(host.s('class', 'mdev_bus'))
    os.symlink('x/' * 2000 + 'y', host.s('class', 'mdev_bus', '0000:3b:00.0'))
    os.symlink('/'.join(['..'] * 3 + ['devices'] + ['.'] * 1500), host.s('bus', 'pci', 'devices', '0000:3b:00.1'))
    facts = gather(host)
    assert facts['devices'] == []
    assert any(line.startswith('/sys/class/mdev_bus/0000:3b:00.0: dangling link') for line in facts['warnings'])


# -------------------------------------------------------------- 2. valid UTF-8

def test_non_utf8_names_and_link_texts_are_escaped_with_a_warning(host):
    bad = os.fsdecode(b'0000:5e:00.\xff')
    host.pci(bad, '8086', '1889', driver='vfio-pci', module='vfio_pci')
    os.symlink(os.fsdecode(b'../../../kernel/iommu_groups/\xfe'), host.pci_dir(bad) + '/iommu_group')
    os.makedirs(host.s('kernel', 'iommu_groups', os.fsdecode(b'\xfe')))
    facts = gather(host)
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
        facts = gather(host)
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
        facts = gather(host)
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
        facts = gather(host)
    assert audit.special == []
    assert '/sys/devices/pci0000:00/0000:5e:00.1/vendor: not a regular file, not read' in facts['warnings']


# ----------------------------------------------------------- 4. silent losses

def test_files_for_directories_non_links_and_empty_values_are_warnings(host):
    os.rmdir(host.s('bus', 'pci', 'devices'))
    with open(host.s('bus', 'pci', 'devices'), 'w') as handle:
        handle.write('')
    os.makedirs(host.s('bus', 'mdev', 'devices', UUID))           # a directory, not a link
    with open(os.path.join(host.proc, 'sys/kernel/osrelease'), 'w') as handle:
        handle.write('\n')
    with open(host.s('class', 'mdev_bus'), 'w') as handle:
        handle.write('')
    facts = gather(host)
    assert '/sys/bus/pci/devices: not a directory' in facts['warnings']
    assert '/sys/bus/mdev/devices/%s: is not a symbolic link, skipped' % UUID in facts['warnings']
    assert '/proc/sys/kernel/osrelease: is empty' in facts['warnings']
    assert '/sys/class/mdev_bus: not a directory' in facts['warnings']
    assert facts['host']['kernel_release'] is None


def test_hex_ids_are_ascii_hex_only(host):
    host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci',
             files={'device': '0x1_889', 'vendor': '0x\u0668\u0660\u0668\u0666'})
    pci = gather(host)['devices'][0]['pci']
    assert pci['device'] is None and pci['vendor'] is None


# ------------------------------------------------------------ 5. bounded output

def test_facts_are_bounded_in_total_and_per_list(host):
    gpu = host.pci('0000:3b:00.0', '10de', '1eb8', driver='nvidia', module='nvidia', group=1)
    host.mdev_parent(gpu)
    for index in range(40):
        host.mdev_type(gpu, 'nvidia-%d' % index, 'GRID T4-1Q', description='d' * 60000)
    full = gather(host)
    assert len(json.dumps(full)) > 2000000
    small = gather(host, max_facts_bytes=300000)
    assert len(json.dumps(small, separators=(',', ':'), ensure_ascii=False)) <= 300000
    assert 0 < len(small['mdev_types']) < 40 and small['summary']['mdev_types'] == len(small['mdev_types'])
    assert [t['type'] for t in small['mdev_types']] == [t['type'] for t in full['mdev_types']][:len(small['mdev_types'])]
    assert any(w.startswith('mdev_types: 40 entries, the first %d kept' % len(small['mdev_types']))
               for w in small['warnings'])
    few = gather(host, max_list_entries=3)
    assert len(few['mdev_types']) == 3 and 'mdev_types: 40 entries, the first 3 kept' in few['warnings'][-1]
