# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_mdev_ensure: an mdev with a given UUID and type made to exist on its parent, or not."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._in_use import DeviceHolders
from ansible_collections.vfio.migration.plugins.module_utils._mdev_ensure import ensure, find
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused, Writer

UUID = '2c3f0b2a-1b1e-4f6e-9a55-0d8f2e2f6a01'
PARENT = 'mtty'


def _host(host, available=2, with_mdev=False):
    parent = host.virtual('mtty', 'mtty')
    host.mdev_parent(parent)
    host.mdev_type(parent, 'mtty-1', available=available)
    if with_mdev:
        host.mdev(parent, UUID, 'mtty-1')
    return parent


def _run(host, spec, check_mode=False):
    reader = Reader(host.sys, '/sys')
    writer = Writer(reader, check_mode)
    holders = DeviceHolders(reader, Reader(host.proc, '/proc'), host.dev)
    return ensure(reader, writer, holders, dict({'uuid': UUID, 'parent': PARENT, 'type': 'mtty-1'}, **spec),
                  verify=False), writer


def test_present_writes_the_uuid_to_create(host):
    parent = _host(host)
    result, writer = _run(host, {'state': 'present'})
    assert result['changed'] and result['after'] == {'exists': True, 'parent': PARENT, 'type': 'mtty-1'}
    assert result['available_instances']['before'] == 2
    assert [w['value'] for w in writer.writes] == [UUID]
    with open(os.path.join(parent, 'mdev_supported_types', 'mtty-1', 'create')) as handle:
        assert handle.read() == UUID


def test_an_existing_mdev_is_found_and_left_alone(host):
    _host(host, with_mdev=True)
    assert find(Reader(host.sys, '/sys'), UUID)['type'] == 'mtty-1'
    result, writer = _run(host, {'state': 'present'})
    assert result['changed'] is False and writer.writes == []
    with pytest.raises(Refused, match='exists with type mtty-1, not mtty-2; remove it first'):
        _run(host, {'state': 'present', 'type': 'mtty-2'})


def test_absent_in_check_mode_writes_nothing(host):
    parent = _host(host, with_mdev=True)
    before = sorted(os.listdir(os.path.join(parent, UUID)))
    result, writer = _run(host, {'state': 'absent'}, check_mode=True)
    assert result['changed'] and result['after']['exists'] is False
    assert [w['value'] for w in writer.writes] == ['1']
    assert sorted(os.listdir(os.path.join(parent, UUID))) == before
    with open(os.path.join(parent, UUID, 'remove')) as handle:
        assert handle.read() == ''


@pytest.mark.parametrize('spec, message', [
    ({'uuid': 'nope'}, "uuid 'nope' is not a UUID"),
    ({'parent': 'other'}, 'mdev parent other not found'),
    ({'type': 'mtty-9'}, 'mdev type mtty-9 is not supported by parent mtty'),
])
def test_refusals_say_why(host, spec, message):
    _host(host)
    with pytest.raises(Refused, match=message):
        _run(host, dict({'state': 'present'}, **spec))


def test_no_room_left_is_refused(host):
    _host(host, available=0)
    with pytest.raises(Refused, match='no room for another mtty-1 on mtty: available_instances is 0'):
        _run(host, {'state': 'present'})
