# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Which process (and which VM) holds a VFIO device: the ``in_use`` of the facts.

A device is held when a process has its IOMMU group (``/dev/vfio/<group>``) or its iommufd
character device (``/dev/vfio/devices/vfioN``) open; the holders come from
``_processes.scan``.  ``vfio_facts`` marks every device with :func:`mark`; the write
modules ask :class:`DeviceHolders` before they change a device.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils import _processes
from ansible_collections.vfio.migration.plugins.module_utils._qemu_cmdline import assigned_devices

__all__ = ['pick', 'holder', 'mark', 'DeviceHolders', 'describe']


def pick(entries):
    """The holder to report: one with a VM name first, then the lowest pid."""
    return sorted(entries, key=lambda e: (e['vm'] is None, e['pid']))[0]


def holder(holders, group, cdev):
    """The holder of the device in IOMMU group ``group`` with cdev ``cdev`` (either may be ``None``)."""
    entries = holders.get(('group', group)) if group else None
    if not entries and cdev:
        entries = holders.get(('cdev', cdev))
    return pick(entries) if entries else None


def mark(devices, holders, vfio_dev, cmdlines):
    """Set ``in_use`` of every device record that somebody holds, with the ``qemu_options``
    the holder's command line gives the device.

    :param holders: ``_processes.scan`` result.
    :param vfio_dev: ``{resolved device path: 'vfioN'}``; records carry their path in ``_real``.
    :param cmdlines: ``{pid: command line}`` of the holders (``_processes.scan``).
    """
    if not holders:
        return
    assigned = {}    # pid -> assigned_devices() of its command line, parsed once
    for device in devices:
        found = holder(holders, device['iommu_group'], vfio_dev.get(device['_real']))
        if found:
            pid = found['pid']
            if pid not in assigned:
                assigned[pid] = assigned_devices(cmdlines.get(pid))
            options = assigned[pid].get(device['id'])
            # one holder entry may hold a whole group: the options are the device's own;
            # the keys of _processes.scan's entries, in sorted order as every dict of the facts
            device['in_use'] = {'holder': found['holder'], 'machine_type': found['machine_type'], 'pid': pid,
                                'qemu_options': None if options is None else dict(options), 'vm': found['vm']}


class DeviceHolders(object):
    """Who holds single devices, for the write modules; ``/proc`` is scanned once, when first asked.

    :param sys_reader: the ``/sys`` :class:`Reader`; ``proc_reader`` the ``/proc`` one.
    :param dev_root: the ``dev_root`` option, so fd links into a captured tree are understood.
    """

    def __init__(self, sys_reader, proc_reader, dev_root):
        self.sys = sys_reader
        self.proc = proc_reader
        self.dev_root = dev_root
        self._holders = None

    def of(self, real):
        """The holder of the device whose resolved sysfs directory is ``real``, or ``None``.

        Reads the device's ``iommu_group`` link and its ``vfio-dev/vfioN`` names.
        """
        if self._holders is None:
            self._holders = _processes.scan(self.proc, self.dev_root) if self.proc.ok else {}
        if not self._holders:
            return None
        group = self.sys.link_name(real + '/iommu_group')
        cdevs = [name for name in self.sys.listdir(real + '/vfio-dev') if name.startswith('vfio')]
        for cdev in cdevs or [None]:
            found = holder(self._holders, group, cdev)
            if found:
                return found
        return None


def describe(found):
    """``VM web-01 (pid 4242)`` or ``pid 4242`` for a holder."""
    if found['vm']:
        return 'VM %s (pid %d)' % (found['vm'], found['pid'])
    return 'pid %d' % found['pid']
