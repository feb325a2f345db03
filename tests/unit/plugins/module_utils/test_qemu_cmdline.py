# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""machine_type() and assigned_devices(): what a VM's QEMU command line says."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._qemu_cmdline import (
    assigned_devices, machine_type, option_values, vm_name)


@pytest.mark.parametrize('argv, expected', [
    # libvirt's form
    (['/usr/bin/qemu-system-x86_64', '-name', 'guest=web-01', '-machine',
      'pc-q35-8.2,usb=off,vmport=off,dump-guest-core=off,memory-backend=pc.ram,hpet=off,acpi=on'], 'pc-q35-8.2'),
    (['qemu-kvm', '-machine', 'accel=kvm,type=pc-i440fx-9.0'], 'pc-i440fx-9.0'),
    (['qemu-kvm', '-M', 'q35'], 'q35'),
    (['qemu-kvm', '--machine', 'virt-9.1,gic-version=3'], 'virt-9.1'),
    (['qemu-kvm', '-machine=pc-q35-7.2'], 'pc-q35-7.2'),
    (['qemu-kvm', '-machine', '{"type": "pc-q35-9.2", "accel": "kvm"}'], 'pc-q35-9.2'),
    # options merge: the last type wins; a later -machine without a type keeps it
    (['qemu-kvm', '-M', 'pc-q35-8.0', '-machine', 'type=pc-q35-9.1', '-machine', 'hpet=off'], 'pc-q35-9.1'),
    (['qemu-kvm', '-machine', 'accel=kvm'], None),
    (['qemu-kvm', '-machine', 'help'], None),
    (['qemu-kvm', '-machine', '{not json'], None),
    (['qemu-kvm', '-machine'], None),
    (['qemu-kvm', '-m', '4096'], None),
    (['bash'], None),
])
def test_machine_type(argv, expected):
    for cmdline in _cmdlines(argv):
        assert machine_type(cmdline) == expected


def _cmdlines(argv):
    """``argv`` as /proc/<pid>/cmdline has it (NUL after each argument), as bytes and as text."""
    data = b''.join(a.encode() + b'\0' for a in argv)
    return data, data.decode()


@pytest.mark.parametrize('function', [machine_type, vm_name])
def test_nothing_is_no_machine_and_no_name(function):
    assert function(None) is None
    assert function(b'') is None


def test_option_values_unescape_double_commas():
    assert option_values('a,,b,key=x,,y,plain') == [(None, 'a,b'), ('key', 'x,y'), (None, 'plain')]


MDEV = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'


@pytest.mark.parametrize('argv, device, expected', [
    # QEMU's option syntax, an mdev by sysfsdev
    (['qemu', '-device', 'vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,enable-migration=on,'
      'x-device-dirty-page-tracking=off,id=hostdev0' % MDEV], MDEV,
     {'enable-migration': 'on', 'x-device-dirty-page-tracking': 'off'}),
    # QEMU's defaults: the device is named, no option set
    (['qemu', '-device', 'vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s' % MDEV], MDEV, {}),
    # libvirt's JSON, a PCI function by host=, with an iommufd backend
    (['qemu', '-device', '{"driver":"vfio-pci","host":"0000:3b:00.2","id":"hostdev0","iommufd":"iommufd0",'
      '"enable-migration":true}'], '0000:3b:00.2', {'enable-migration': 'on', 'iommufd': 'iommufd0'}),
    # host= without a domain means domain 0000; upper case hex
    (['qemu', '-device', 'vfio-pci,host=3B:00.2,x-device-dirty-page-tracking=on'], '0000:3b:00.2',
     {'x-device-dirty-page-tracking': 'on'}),
    # -global defaults, overridden by the device's own option
    (['qemu', '-global', 'vfio-pci.x-device-dirty-page-tracking=off', '-global',
      'driver=vfio-pci,property=enable-migration,value=on',
      '-device', 'vfio-pci,host=0000:3b:00.2,x-device-dirty-page-tracking=auto'], '0000:3b:00.2',
     {'enable-migration': 'on', 'x-device-dirty-page-tracking': 'auto'}),
    # another device, another model, a broken JSON: not this device
    (['qemu', '-device', 'vfio-pci,host=0000:3b:00.3'], '0000:3b:00.2', None),
    (['qemu', '-device', 'virtio-net-pci,host=0000:3b:00.2'], '0000:3b:00.2', None),
    (['qemu', '-device', '{"driver": "vfio-pci", "host": '], '0000:3b:00.2', None),
    (['qemu', '-device'], '0000:3b:00.2', None),
    (['bash'], '0000:3b:00.2', None),
])
def test_options_of_one_device(argv, device, expected):
    cmdline = b''.join(a.encode() + b'\0' for a in argv)
    assert assigned_devices(cmdline).get(device) == expected


def test_device_options_are_bounded():
    cmdline = 'qemu\0-device\0vfio-pci,host=0000:3b:00.2,iommufd=%s\0' % ('x' * 5000)
    assert assigned_devices(cmdline)['0000:3b:00.2'] == {'iommufd': 'x' * 64}


def test_assigned_devices_maps_every_vfio_device_once():
    argv = ['qemu', '-global', 'vfio-pci.enable-migration=on',
            '-device', 'vfio-pci,host=0000:3b:00.2,x-device-dirty-page-tracking=off',
            '-device', '{"driver":"vfio-pci","sysfsdev":"/sys/bus/mdev/devices/%s"}' % MDEV,
            '-device', 'vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/%s' % MDEV.replace('1001', '2002'),
            '-device', 'virtio-net-pci,host=0000:00:03.0',
            # a second -device of the same function does not replace the first
            '-device', 'vfio-pci,host=3b:00.2']
    cmdline = b''.join(a.encode() + b'\0' for a in argv)
    assert assigned_devices(cmdline) == {
        '0000:3b:00.2': {'enable-migration': 'on', 'x-device-dirty-page-tracking': 'off'},
        MDEV: {'enable-migration': 'on'},
        MDEV.replace('1001', '2002'): {},   # -global vfio-pci. does not reach vfio-ap
    }
    assert assigned_devices(b'') == {} and assigned_devices(None) == {}


@pytest.mark.parametrize('argv, name', [
    (['qemu-system-x86_64', '-name', 'guest=web-01,debug-threads=on', '-m', '4096'], 'web-01'),
    (['qemu-kvm', '-name', 'db'], 'db'),
    (['qemu-kvm', '-name', 'db,process=qemu:db'], 'db'),
    (['qemu-kvm', '-name', 'debug-threads=on,guest=late'], 'late'),
    (['qemu-kvm', '-name', 'guest=a,,b,debug-threads=on'], 'a,b'),
    (['qemu-kvm', '--name', 'guest=dash'], 'dash'),
    (['qemu-kvm', '-name=eq'], 'eq'),
    (['qemu-kvm', '-m', '1024'], None),
    (['qemu-kvm', '-name'], None),
    (['qemu-kvm', '-name', 'process=x'], None),
])
def test_vm_name(argv, name):
    for cmdline in _cmdlines(argv):
        assert vm_name(cmdline) == name
