# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Make a mediated device with a given UUID and type exist on a parent, or not.

The kernel's interface (``Documentation/driver-api/vfio-mediated-device.rst``,
``drivers/vfio/mdev/mdev_sysfs.c``): writing a UUID to
``<parent>/mdev_supported_types/<type>/create`` creates the device, writing ``1`` to its
``remove`` attribute removes it; ``/sys/class/mdev_bus/<parent>`` lists the parents,
``/sys/bus/mdev/devices/<uuid>`` the devices, and each device's ``mdev_type`` link names
its type.  These are the only two writes made here.
"""

from __future__ import annotations

import os
import re

from ansible_collections.vfio.migration.plugins.module_utils._in_use import describe
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused

__all__ = ['ensure', 'find']

_UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')


def find(reader, uuid):
    """``{'dir', 'parent', 'parent_dir', 'type'}`` of the mdev ``uuid``, or ``None`` when it does not exist."""
    devices = reader.resolve(reader.path('bus', 'mdev', 'devices'), quiet_missing=True)
    if devices is None:
        return None
    link = devices + '/' + uuid
    if not os.path.lexists(link):
        return None
    real = reader.follow(link)
    if real is None:
        return None
    parent_dir = real.rsplit('/', 1)[0]
    return {'dir': real, 'parent': parent_dir.rsplit('/', 1)[-1], 'parent_dir': parent_dir,
            'type': reader.link_name(real + '/mdev_type')}


def _state(found):
    if found is None:
        return {'exists': False, 'parent': None, 'type': None}
    return {'exists': True, 'parent': found['parent'], 'type': found['type']}


def _parent_dir(reader, parent):
    bus = reader.resolve(reader.path('class', 'mdev_bus'), quiet_missing=True)
    names = reader.listdir(bus) if bus else []
    if parent not in names:
        raise Refused('mdev parent %s not found in %s (parents: %s)'
                      % (parent, reader.show(reader.path('class', 'mdev_bus')), ', '.join(names) or 'none'))
    real = reader.entry(bus, parent)
    if real is None:
        raise Refused('mdev parent %s: %s does not resolve inside %s'
                      % (parent, reader.show(bus + '/' + parent), reader.label))
    return real


def _type_dir(reader, parent_dir, parent, mdev_type):
    types = reader.subdir(parent_dir, 'mdev_supported_types')
    names = reader.listdir(types) if types else []
    found = reader.subdir(types, mdev_type) if types and mdev_type in names else None
    if found is None:
        raise Refused('mdev type %s is not supported by parent %s (types: %s)'
                      % (mdev_type, parent, ', '.join(names) or 'none'))
    return found


def _mismatch(found, parent, mdev_type):
    """Why the existing device ``found`` is not the one asked for, or ``None``."""
    wrong = []
    if parent is not None and found['parent'] != parent:
        wrong.append('parent %s, not %s' % (found['parent'], parent))
    if mdev_type is not None and found['type'] != mdev_type:
        wrong.append('type %s, not %s' % (found['type'], mdev_type))
    return ' and '.join(wrong) or None


def ensure(reader, writer, holders, spec, verify=True):
    """Make the mdev of ``spec`` (``uuid``, ``parent``, ``type``, ``state``) so.

    :param writer: a :class:`~._sysfs_write.Writer` on ``reader``'s root.
    :param holders: a :class:`~._in_use.DeviceHolders`; a held mdev is never removed.
    :param verify: after a write, read again and fail unless the kernel did it (a simulated
        tree's files do not act, so its tests turn this off).
    :returns: ``{'changed', 'before', 'after', 'available_instances': {'before', 'after'}}``.
    :raises Refused: with the reason, when the change cannot or must not be made.
    """
    uuid = spec['uuid'].lower()
    if not _UUID.match(uuid):
        raise Refused('uuid %r is not a UUID (8-4-4-4-12 hexadecimal digits)' % spec['uuid'])
    found = find(reader, uuid)
    if found is not None:
        wrong = _mismatch(found, spec['parent'], spec['type'])
        if wrong:
            raise Refused('mdev %s exists with %s; remove it first' % (uuid, wrong))
    if spec['state'] == 'present':
        return _present(reader, writer, uuid, spec, found, verify)
    return _absent(reader, writer, holders, uuid, found, verify)


def _result(changed, before, after, type_dir, reader, avail_before):
    avail_after = reader.read_int(type_dir + '/available_instances') if type_dir else None
    return {'changed': changed, 'before': before, 'after': after,
            'available_instances': {'before': avail_before, 'after': avail_after}}


def _present(reader, writer, uuid, spec, found, verify):
    parent_dir = _parent_dir(reader, spec['parent'])
    type_dir = _type_dir(reader, parent_dir, spec['parent'], spec['type'])
    avail = reader.read_int(type_dir + '/available_instances')
    before = _state(found)
    if found is not None:
        return _result(False, before, before, type_dir, reader, avail)
    if avail is not None and avail < 1:
        raise Refused('no room for another %s on %s: available_instances is %d' % (spec['type'], spec['parent'], avail))
    writer.write(type_dir, 'create', uuid)
    after = {'exists': True, 'parent': spec['parent'], 'type': spec['type']}
    if verify and not writer.check_mode:
        made = find(reader, uuid)
        if made is None or _mismatch(made, spec['parent'], spec['type']):
            raise Refused('wrote %s to %s but the kernel shows %s' % (uuid, writer.writes[-1]['path'], _state(made)))
    return _result(True, before, after, type_dir, reader, avail)


def _absent(reader, writer, holders, uuid, found, verify):
    before = _state(found)
    if found is None:
        return _result(False, before, before, None, reader, None)
    held = holders.of(found['dir'])
    if held:
        raise Refused('mdev %s is in use by %s; not removed' % (uuid, describe(held)))
    type_dir = reader.follow(found['dir'] + '/mdev_type')
    avail = reader.read_int(type_dir + '/available_instances') if type_dir else None
    writer.write(found['dir'], 'remove', '1', shown=reader.show(reader.path('bus', 'mdev', 'devices', uuid, 'remove')))
    if verify and not writer.check_mode and find(reader, uuid) is not None:
        raise Refused('wrote 1 to %s but the kernel still has the device' % writer.writes[-1]['path'])
    return _result(True, before, _state(None), type_dir, reader, avail)
