# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""upgrade_order: a rolling upgrade, each host emptied onto hosts that can take its VMs."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import (
    CX6DX_PF, CX6DX_VF, NEW_KERNEL as NEW, OLD_KERNEL as OLD, dev, gpu, host, nic, pf)
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._upgrade_order import upgrade_order


def test_upgrade_order_newer_accepts_older():
    facts = {'h1': nic('h1', OLD, vms=2), 'h2': nic('h2', OLD, vms=1, spare=1), 'h3': nic('h3', OLD, spare=2)}
    result = upgrade_order(facts, {'hosts': ['h1', 'h2', 'h3'], 'versions': {'mlx5_vfio_pci': NEW, 'kernel': NEW}})
    assert result['feasible'] and result['order'] == ['h3', 'h2', 'h1']
    steps = dict((s['host'], s) for s in result['steps'])
    assert steps['h3']['moves'] == []
    assert [(m['vm'], m['destination']) for m in steps['h2']['moves']] == [('h2-vm0', 'h3')]
    # h1's VMs go to an upgraded host (newer accepts older): h2, emptied, takes both (its freed VF and
    # one more); h3's PF now holds h2-vm0 on a VF, and a PF changes a non-zero VF count only through 0
    assert sorted(m['destination'] for m in steps['h1']['moves']) == ['h2', 'h2']
    assert sorted(m['devices'][0]['action'] for m in steps['h1']['moves']) == ['create_vf', 'use']


def test_upgrade_order_never_back_to_an_old_host():
    """Only h1 is upgraded first if its VM can leave; then h2's VM may go to h1 (new), but a VM
    that sits on the upgraded h1 can never return to the old h3."""
    facts = {'h1': nic('h1', OLD, vms=1), 'h2': nic('h2', OLD, vms=1), 'h3': nic('h3', OLD, spare=1)}
    result = upgrade_order(facts, {'h1': {'kernel': NEW}, 'h2': {'kernel': NEW}})
    assert result['feasible']
    first, second = result['steps']
    assert first['host'] == 'h1' and first['moves'][0]['destination'] == 'h3'
    # h2's VM: h3 is full now, h1 is new and free -> goes to h1
    assert second['host'] == 'h2' and second['moves'][0]['destination'] == 'h1'


def test_upgrade_order_blocked_when_equal_versions_are_required():
    """NVIDIA vGPU needs identical host drivers: once one host is upgraded nothing old can land on
    it, so with no spare old capacity the last old host cannot be emptied."""
    facts = {'g1': gpu('g1', vms=(1,), avail=1), 'g2': gpu('g2', vms=(1,), avail=1)}
    result = upgrade_order(facts, {'hosts': ['g1', 'g2'], 'versions': {'nvidia': '550.90.07'}})
    assert not result['feasible']
    assert result['order'] == ['g1']
    assert result['not_upgraded'] == ['g2']
    assert any(r['rule'] == 'nvidia_host_driver_equal' for b in result['blocked'] for r in b['reasons'])


def test_upgrade_targets_errors():
    facts = {'a': nic('a', OLD)}
    with pytest.raises(ArgumentError, match='targets must be a mapping'):
        upgrade_order(facts, ['a'])
    with pytest.raises(ArgumentError, match="targets names host 'zz'"):
        upgrade_order(facts, {'zz': {'kernel': NEW}})
    with pytest.raises(ArgumentError, match=r"targets\['a'\] must map driver"):
        upgrade_order(facts, {'a': 'x'})


def test_upgrade_order_backtracks_where_fewest_devices_first_fails():
    """h1 (one VF) first would send its VM to x0 and leave no host with two free slots for
    h0's two-VF VM; upgrading h0 first (its VM to x0) and then h1 (to the emptied h0) works."""
    def vf(tag, number, vm):
        return dev('%s-vf%d' % (tag, number), vm=vm, board=CX6DX_VF, version=OLD, parent='0000:5e:00.0')
    facts = {
        'h0': host(vf('h0', 0, 'big'), vf('h0', 1, 'big'), pf('0000:5e:00.0', CX6DX_PF, 2, 2, vf_device='101e'),
                   kernel=OLD),
        'h1': host(vf('h1', 0, 'small'), pf('0000:5e:00.0', CX6DX_PF, 1, 1, vf_device='101e'), kernel=OLD),
        'x0': host(pf('0000:5e:00.0', CX6DX_PF, 2, 0, vf_device='101e'), kernel=OLD),
    }
    result = upgrade_order(facts, {'hosts': ['h0', 'h1'], 'versions': {'kernel': NEW}})
    assert result['feasible'] and result['searched']
    assert result['order'] == ['h0', 'h1']
    assert [(m['vm'], m['destination']) for m in result['steps'][0]['moves']] == [('big', 'x0')]
    assert [(m['vm'], m['destination']) for m in result['steps'][1]['moves']] == [('small', 'h0')]
