# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit test set-up: make the collection importable, and build small sysfs-shaped trees.

Under ``ansible-test units`` the collection already sits at
``ansible_collections/vfio/migration``.  Under plain pytest from a checkout it does not,
so a temporary ``ansible_collections/vfio/migration`` symlink to the checkout is put on
``sys.path``.

The :class:`FakeHost` fixture ``host`` lays out real directories, files and relative
symlinks the way the kernel does (``/sys/devices/...`` real, ``/sys/bus`` and
``/sys/class`` views as links), plus ``/proc/<pid>/{fd,cmdline}`` and ``/dev/vfio``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collection_path():
    """A directory holding ``ansible_collections/vfio/migration`` -> this checkout."""
    parts = REPO.rstrip('/').split('/')
    if parts[-3:-1] == ['ansible_collections', 'vfio'] and parts[-1] == 'migration':
        return '/'.join(parts[:-3]) or '/'
    base = tempfile.mkdtemp(prefix='vfio-migration-collection-')
    os.makedirs(os.path.join(base, 'ansible_collections', 'vfio'))
    os.symlink(REPO, os.path.join(base, 'ansible_collections', 'vfio', 'migration'))
    atexit.register(shutil.rmtree, base, True)
    return base


def _make_importable():
    try:
        import ansible_collections.vfio.migration.plugins.module_utils._profile  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        sys.path.insert(0, _collection_path())


_make_importable()


def _once(directory, build):
    """Run ``build(directory)`` unless an earlier test already did.

    ``ansible-test units`` forks every test (its ``ansible_forked`` plugin), so session or
    module fixtures are set up again in each child; a marker file on disk survives that.
    """
    marker = os.path.join(directory, '.complete')
    if not os.path.exists(marker):
        if os.path.lexists(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        build(directory)
        with open(marker, 'w'):
            pass
    return directory


# Made when pytest imports this file, before any test is forked, so every forked test sees it.
SESSION_DIR = tempfile.mkdtemp(prefix='vfio-migration-tests-')
_OWNER = os.getpid()


@atexit.register
def _remove_session_dir():
    if os.getpid() == _OWNER:
        shutil.rmtree(SESSION_DIR, True)


@pytest.fixture(scope='session')
def once():
    """``once(name, build)``: a directory of this test session built by ``build`` once."""
    def get(name, build):
        return _once(os.path.join(SESSION_DIR, name), build)
    return get


@pytest.fixture(scope='session')
def collections_path(once):
    """A directory to use as ``ANSIBLE_COLLECTIONS_PATH`` for real ``ansible`` runs."""
    def build(directory):
        os.makedirs(os.path.join(directory, 'ansible_collections', 'vfio'))
        os.symlink(REPO, os.path.join(directory, 'ansible_collections', 'vfio', 'migration'))
    return once('collections', build)


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
    """A small host tree: ``<base>/sys``, ``<base>/proc``, ``<base>/dev``."""

    def __init__(self, base, kernel='6.8.0-45-generic'):
        self.base = str(base)
        self.sys = os.path.join(self.base, 'sys')
        self.proc = os.path.join(self.base, 'proc')
        self.dev = os.path.join(self.base, 'dev')
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


@pytest.fixture
def host(tmp_path):
    """An empty :class:`FakeHost` under ``tmp_path/host``."""
    return FakeHost(tmp_path / 'host')


@pytest.fixture
def make_host(tmp_path):
    """Factory for several hosts: ``make_host('a')``."""
    def factory(name, **kwargs):
        return FakeHost(tmp_path / name, **kwargs)
    return factory
