# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules for what QEMU and the kernel check on resume: PCI config identity, PRE_COPY,
the NVIDIA host driver policy and machine type. Each rule: a case it refuses (with the
concrete difference in its message) and one it allows."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vfio.migration.tests.unit.engine_hosts import CX6DX_VF, T4, dev, offer
from ansible_collections.vfio.migration.plugins.plugin_utils._compare import Comparator
from ansible_collections.vfio.migration.plugins.plugin_utils._operators import OPERATORS, machine_version
from ansible_collections.vfio.migration.plugins.plugin_utils._rules import load_rule_set

LAYOUT = {'header_type': '00', 'capabilities': ['01@40', '10@60', '11@9c'], 'extended_capabilities': ['000e@100']}
PRE = ['dirty_tracking', 'p2p', 'pre_copy', 'stop_copy']
NO_PRE = ['dirty_tracking', 'p2p', 'stop_copy']


def vf(ident, vm=None, **changes):
    """A ConnectX VF on mlx5_vfio_pci with a config layout and migration features; ``changes``
    are dotted paths (``pci.revision``) to set."""
    record = dev(ident, board=CX6DX_VF, vm=vm, version='6.8.0-45-generic')
    record['config_space'] = copy.deepcopy(LAYOUT)
    record['migration']['features'] = list(PRE)
    return changed(record, **changes)


def changed(record, **changes):
    record = copy.deepcopy(record)
    for path, value in changes.items():
        node = record
        parts = path.split('__')
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return record


def vgpu(ident, version, vm=None, machine=None):
    record = dev(ident, board=T4, type='nvidia-230', vm=vm, version=version)
    if record['in_use'] is not None:
        record['in_use']['machine_type'] = machine
    return record


SOURCE = vf('src', vm='db-01')

CASES = [
    # name, rules argument, source, destination, [(rule, text in message)] (empty: compatible)
    ('identical layout', None, SOURCE, vf('dst'), []),
    ('revision differs', None, SOURCE, vf('dst', pci__revision='01'),
     [('pci_revision', 'a1 on the source, 01 on the destination')]),
    ('class/prog-if differs', None, SOURCE, vf('dst', pci__class='020001'),
     [('pci_class', '030200 on the source, 020001 on the destination')]),
    ('header type differs', None, SOURCE, vf('dst', config_space__header_type='01'),
     [('pci_header_type', '00 on the source, 01 on the destination')]),
    ('capability moved', None, SOURCE, vf('dst', config_space__capabilities=['01@40', '10@60', '11@a0']),
     [('pci_capabilities', 'only the source has 11@9c, only the destination has 11@a0')]),
    ('capability order', None, SOURCE, vf('dst', config_space__capabilities=['01@40', '11@9c', '10@60']),
     [('pci_capabilities', 'the same entries in another order')]),
    ('extended capability added', None, SOURCE,
     vf('dst', config_space__extended_capabilities=['000e@100', '001b@150']),
     [('pci_extended_capabilities', 'only the source has nothing, only the destination has 001b@150')]),
    ('layout unknown on the destination (no root): no verdict', None, SOURCE, vf('dst', config_space=None), []),
    ('layout unknown on the source: no verdict', None, vf('src', vm='db-01', config_space=None), vf('dst'), []),
    ('PRE_COPY source, destination without', None, SOURCE, vf('dst', migration__features=NO_PRE),
     [('pre_copy_asymmetry', 'features [dirty_tracking, p2p, stop_copy]')]),
    ('no PRE_COPY source, destination with', None, vf('src', vm='db-01', migration__features=NO_PRE), vf('dst'), []),
    ('PRE_COPY unknown on the destination: no verdict', None, SOURCE, vf('dst', migration__features=None), []),
    ('strict: newer driver of the branch refused', None, vgpu('a', '550.54.16', vm='x', machine='pc-q35-9.1'),
     vgpu('b', '550.90.07'), [('nvidia_host_driver_equal', 'the source runs 550.54.16, the destination 550.90.07')]),
    ('same branch: newer driver allowed on machine type 9.1', {'disable': ['nvidia_host_driver_equal']},
     vgpu('a', '550.54.16', vm='x', machine='pc-q35-9.1'), vgpu('b', '550.90.07'), []),
    ('same branch: machine type 8.2 refused', {'disable': ['nvidia_host_driver_equal']},
     vgpu('a', '550.54.16', vm='x', machine='pc-q35-8.2'), offer('gpu', T4, 'nvidia-230', 4, version='550.90.07'),
     [('nvidia_vsc_machine_type', 'machine type pc-q35-8.2, older than 9.1')]),
    ('same branch: RHEL machine type is not judged', {'disable': ['nvidia_host_driver_equal']},
     vgpu('a', '550.54.16', vm='x', machine='pc-q35-rhel9.4.0'), vgpu('b', '550.90.07'), []),
    ('same branch: older driver refused', {'disable': ['nvidia_host_driver_equal']},
     vgpu('a', '550.90.07', vm='x', machine='pc-q35-9.1'), vgpu('b', '550.54.16'),
     [('software_version', 'the source runs 550.90.07'), ('nvidia_host_driver_branch', 'never to an older release')]),
    ('same branch: other branch refused', {'disable': ['nvidia_host_driver_equal']},
     vgpu('a', '535.161.07', vm='x', machine='pc-q35-9.1'), vgpu('b', '550.54.16'),
     [('software_version', 'the source runs 535.161.07'), ('nvidia_host_driver_branch', "source's branch")]),
    ('policy off: only the generic version rule is left',
     {'disable': ['nvidia_host_driver_equal', 'nvidia_host_driver_branch']},
     vgpu('a', '550.54.16', vm='x', machine='pc-q35-9.1'), vgpu('b', '550.90.07'), []),
    ('equal versions on machine type 8.2', None, vgpu('a', '550.54.16', vm='x', machine='pc-q35-8.2'),
     vgpu('b', '550.54.16'), []),
]


@pytest.mark.parametrize('name, rules, src, dst, expected', CASES, ids=[c[0] for c in CASES])
def test_resume_rules(name, rules, src, dst, expected):
    compatible, reasons = Comparator(load_rule_set(rules)).compare(src, dst)
    got = [(r['rule'], r['message']) for r in reasons]
    assert compatible is (not expected), got
    assert len(got) == len(expected), got
    for (rule, text), (grule, gmessage) in zip(expected, got):
        assert (rule, True) == (grule, text in gmessage), gmessage


@pytest.mark.parametrize('value, version', [
    ('pc-q35-8.2', '8.2'), ('pc-i440fx-9.0', '9.0'), ('virt-9.1', '9.1'), ('s390-ccw-virtio-8.2', '8.2'),
    ('pc-q35-2.12', '2.12'), ('q35', None), ('pc', None), ('pc-q35-rhel9.4.0', None),
])
def test_machine_version(value, version):
    assert machine_version(value) == version


def test_machine_type_operator_sides_and_bad_spec():
    op = OPERATORS['machine_type']
    assert op('pc-q35-9.0', None, {'side': 'source', 'spec': '>=9.1'}) == (False, {'side': 'source', 'value': 'pc-q35-9.0'})
    assert op('pc-q35-10.0', None, {'side': 'source', 'spec': '>=9.1'}) == (True, {})
    assert op(None, 'pc-q35-8.0', {'side': 'destination', 'spec': '>=9.1'})[0] is False
    ok, details = op('pc-q35-9.0', None, {'side': 'source', 'spec': '>=>9'})
    assert ok is False and 'not a version specifier' in details['problem']


def test_sequence_and_branch_operators():
    seq = OPERATORS['sequence_equal']
    assert seq(['a', 'b'], ['a', 'b'], {}) == (True, {})
    assert seq(['a', 'b'], ['a'], {}) == (False, {'missing': 'b', 'extra': 'nothing'})
    assert seq('x', ['x'], {}) == (True, {})
    branch = OPERATORS['same_major_at_least']
    assert branch('550.54.16', '550.54.16', {}) == (True, {})
    assert branch('550.54.16', '550.54.15', {}) == (False, {})
    assert branch('550.54.16', '560.35.03', {}) == (False, {})
    assert branch('unknown', '550.54.16', {})[0] is False
