# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small sysfs-shaped trees for the module_utils tests: :class:`FakeHost`.

It lays out real directories, files and relative symlinks the way the kernel does
(``/sys/devices/...`` real, ``/sys/bus`` and ``/sys/class`` views as links), plus
``/proc/<pid>/{fd,cmdline}`` and ``/dev/vfio``.  ``tests/unit/conftest.py`` hands one out as
the ``host`` fixture.
"""

from __future__ import annotations

import os


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)


def _link(path, target):
    """A relative symlink at ``path`` to the absolute ``target`` (as the kernel makes them)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(os.path.relpath(target, os.path.dirname(path)), path)


class FakeHost(object):
    """A small host tree: ``<base>/sys``, ``<base>/proc``, ``<base>/dev`` (and ``<base>/boot``, the
    default ``boot_root`` beside ``proc``, when a test writes a kernel config there)."""

    def __init__(self, base, kernel='6.8.0-45-generic'):
        self.base = str(base)
        self.sys = os.path.join(self.base, 'sys')
        self.proc = os.path.join(self.base, 'proc')
        self.dev = os.path.join(self.base, 'dev')
        self.boot = os.path.join(self.base, 'boot')     # not made: a host without a kernel config
        self.kernel = kernel
        for path in (self.sys, self.proc, self.dev):
            os.makedirs(path, exist_ok=True)
        for sub in ('bus/pci/devices', 'bus/pci/drivers', 'kernel/iommu_groups', 'module', 'class'):
            os.makedirs(os.path.join(self.sys, sub), exist_ok=True)
        if kernel is not None:
            _write(os.path.join(self.proc, 'sys/kernel/osrelease'), kernel + '\n')

    def s(self, *parts):
        return os.path.join(self.sys, *parts)

    # ---------------------------------------------------------------- modules
    def module(self, name, version=None, srcversion=None, taint=None):
        directory = self.s('module', name)
        os.makedirs(directory, exist_ok=True)
        if version is not None:
            _write(os.path.join(directory, 'version'), version + '\n')
        if srcversion is not None:
            _write(os.path.join(directory, 'srcversion'), srcversion + '\n')
        if taint is not None:
            _write(os.path.join(directory, 'taint'), taint + '\n')
        return directory

    def driver(self, name, bus='pci', module=None):
        directory = self.s('bus', bus, 'drivers', name)
        os.makedirs(directory, exist_ok=True)
        if module is not None:
            if not os.path.isdir(self.s('module', module)):
                self.module(module)
            _link(os.path.join(directory, 'module'), self.s('module', module))
        return directory

    def group(self, number, device_dir):
        gdir = self.s('kernel/iommu_groups', str(number))
        os.makedirs(os.path.join(gdir, 'devices'), exist_ok=True)
        _write(os.path.join(gdir, 'type'), 'DMA\n')
        _link(os.path.join(gdir, 'devices', os.path.basename(device_dir)), device_dir)
        _link(os.path.join(device_dir, 'iommu_group'), gdir)

    def bind(self, device_dir, driver, bus='pci', module=None):
        ddir = self.driver(driver, bus, module)
        _link(os.path.join(device_dir, 'driver'), ddir)
        _link(os.path.join(ddir, os.path.basename(device_dir)), device_dir)

    # -------------------------------------------------------------------- pci
    def pci(self, addr, vendor, device, subvendor=None, subdevice=None, cls='020000', rev='00',
            driver=None, module=None, group=None, numa=-1, bridge='pci0000:00', physfn=None,
            totalvfs=None, numvfs=0, vf_device=None, files=None):
        """A PCI function; returns its real directory."""
        if physfn is not None:
            directory = os.path.join(os.path.dirname(self.pci_dir(physfn)), addr)
        else:
            directory = self.s('devices', bridge, addr)
        os.makedirs(directory, exist_ok=True)
        values = {
            'vendor': '0x' + vendor, 'device': '0x' + device,
            'subsystem_vendor': '0x' + (subvendor or vendor), 'subsystem_device': '0x' + (subdevice or '0000'),
            'class': '0x' + cls, 'revision': '0x' + rev, 'numa_node': str(numa),
            'driver_override': '(null)',
            # files a reader must never open
            'config': '\x00' * 64, 'resource': '0x0 0x0 0x0',
        }
        if totalvfs is not None:
            values['sriov_totalvfs'] = str(totalvfs)
            values['sriov_numvfs'] = str(numvfs)
            if vf_device:
                values['sriov_vf_device'] = vf_device
        values.update(files or {})
        for name, value in values.items():
            _write(os.path.join(directory, name), value + '\n')
        _link(self.s('bus/pci/devices', addr), directory)
        if driver is not None:
            self.bind(directory, driver, module=module)
        if group is not None:
            self.group(group, directory)
        if physfn is not None:
            pf_dir = self.pci_dir(physfn)
            _link(os.path.join(directory, 'physfn'), pf_dir)
            index = len([n for n in os.listdir(pf_dir) if n.startswith('virtfn')])
            _link(os.path.join(pf_dir, 'virtfn%d' % index), directory)
        return directory

    def pci_dir(self, addr):
        return os.path.realpath(self.s('bus/pci/devices', addr))

    def vfio_dev(self, device_dir, number, node=True):
        """``<device>/vfio-dev/vfioN``, its class link and (``node``) ``/dev/vfio/devices/vfioN``."""
        vdir = os.path.join(device_dir, 'vfio-dev', 'vfio%d' % number)
        os.makedirs(vdir, exist_ok=True)
        _write(os.path.join(vdir, 'dev'), '511:%d\n' % number)
        _link(self.s('class/vfio-dev', 'vfio%d' % number), vdir)
        if node:
            _write(os.path.join(self.dev, 'vfio/devices', 'vfio%d' % number), '')

    # ------------------------------------------------------------------- mdev
    def mdev_parent(self, device_dir):
        _link(self.s('class/mdev_bus', os.path.basename(device_dir)), device_dir)

    def mdev_type(self, parent_dir, type_id, name=None, device_api='vfio-pci', available=1, description=None,
                  files=None):
        tdir = os.path.join(parent_dir, 'mdev_supported_types', type_id)
        os.makedirs(os.path.join(tdir, 'devices'), exist_ok=True)
        if name is not None:
            _write(os.path.join(tdir, 'name'), name + '\n')
        if description is not None:
            _write(os.path.join(tdir, 'description'), description + '\n')
        _write(os.path.join(tdir, 'device_api'), device_api + '\n')
        _write(os.path.join(tdir, 'available_instances'), '%d\n' % available)
        _write(os.path.join(tdir, 'create'), '')
        for fname, value in (files or {}).items():
            _write(os.path.join(tdir, fname), value + '\n')
        return tdir

    def mdev(self, parent_dir, uuid, type_id, group=None, files=None):
        mdir = os.path.join(parent_dir, uuid)
        os.makedirs(mdir, exist_ok=True)
        tdir = os.path.join(parent_dir, 'mdev_supported_types', type_id)
        _link(os.path.join(mdir, 'mdev_type'), tdir)
        _link(os.path.join(tdir, 'devices', uuid), mdir)
        _write(os.path.join(mdir, 'remove'), '')
        for fname, value in (files or {}).items():
            _write(os.path.join(mdir, fname), value + '\n')
        _link(self.s('bus/mdev/devices', uuid), mdir)
        if group is not None:
            self.group(group, mdir)
        return mdir

    def virtual(self, *parts):
        """A virtual (non-PCI) device directory under ``/sys/devices``."""
        directory = self.s('devices', *parts)
        os.makedirs(directory, exist_ok=True)
        return directory

    # -------------------------------------------------------------- processes
    def process(self, pid, argv, fds=None):
        pdir = os.path.join(self.proc, str(pid))
        os.makedirs(os.path.join(pdir, 'fd'), exist_ok=True)
        with open(os.path.join(pdir, 'cmdline'), 'wb') as handle:
            handle.write(b''.join(arg.encode() + b'\0' for arg in argv))
        for number, target in sorted((fds or {}).items()):
            os.symlink(target, os.path.join(pdir, 'fd', str(number)))
        return pdir

    def group_node(self, number):
        _write(os.path.join(self.dev, 'vfio', str(number)), '')
