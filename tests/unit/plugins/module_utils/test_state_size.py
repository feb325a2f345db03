# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""migration.state_size: the device-state bytes a migration is expected to move."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.plugins.module_utils._state_size import (
    MTTY_HEADER, MTTY_PORT, annotate, state_size)

UUID = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'


def record(driver='mtty', type_='mtty-2', capable=True):
    return {'driver': driver, 'type': type_, 'migration': {'capable': capable, 'reason': 'x'}}


def test_mtty_layout_is_a_header_and_one_serial_port_per_port():
    # struct mtty_data header and struct serial_port of samples/vfio-mdev/mtty.c (x86-64)
    assert (MTTY_HEADER, MTTY_PORT) == (24, 36)


@pytest.mark.parametrize('type_, size', [('mtty-1', 60), ('mtty-2', 96)])
def test_mtty_sizes_are_what_qemu_moved_in_the_kernel_lane(type_, size):
    # tests/kernel/groundtruth.md: QEMU's query-migrate vfio.transferred on Debian 6.12
    assert state_size(record(type_=type_)) == size


@pytest.mark.parametrize('rec', [
    record(capable=False),                      # mtty before 6.7: no migration, no state
    record(capable=None),
    record(driver='mdpy', type_='mdpy-xga'),    # layout not fixed / unknown
    record(driver='vfio-pci', type_='pci-8086:10ca:1af4:1100'),
    record(type_='mtty-x'),
    {'driver': 'mtty', 'type': 'mtty-1', 'migration': None},
    {'driver': 'mtty', 'type': None, 'migration': {'capable': True}},
])
def test_unknown_or_not_migratable_is_null(rec):
    assert state_size(rec) is None


def test_annotate_sets_the_key_and_skips_records_without_migration():
    recs = [record(), record(capable=False), {'driver': 'mtty', 'type': 'mtty-1', 'migration': None}]
    annotate(recs)
    assert [r['migration'] and r['migration'].get('state_size') for r in recs] == [96, None, None]
    assert list(recs[0]['migration']) == ['capable', 'reason', 'state_size']   # keys stay sorted


def _mtty_host(make_host, kernel):
    host = make_host('h' + kernel.replace('.', ''), kernel=kernel)
    mtty = host.virtual('virtual', 'mtty', 'mtty')
    host.mdev_parent(mtty)
    host.mdev_type(mtty, 'mtty-1', 'Single port serial', available=21)
    host.mdev_type(mtty, 'mtty-2', 'Dual port serial', available=10)
    host.mdev(mtty, UUID, 'mtty-2', group=13)
    return gather(host.sys, host.proc, host.dev)


def test_facts_carry_the_state_size_of_devices_and_types(make_host):
    facts = _mtty_host(make_host, '6.12.118+deb12-amd64')
    assert [d['migration']['state_size'] for d in facts['devices']] == [96]
    assert dict((t['type'], t['migration']['state_size']) for t in facts['mdev_types']) == {
        'mtty-1': 60, 'mtty-2': 96}


def test_facts_before_6_7_have_no_state_size(make_host):
    facts = _mtty_host(make_host, '6.1.0-57-amd64')
    assert [d['migration']['state_size'] for d in facts['devices']] == [None]
    assert [t['migration']['state_size'] for t in facts['mdev_types']] == [None, None]
