# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""machine_type(): the QEMU machine type of a VM's command line."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._qemu_cmdline import machine_type, option_values


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
    cmdline = b''.join(a.encode() + b'\0' for a in argv)
    assert machine_type(cmdline) == expected
    assert machine_type(cmdline.decode()) == expected


def test_nothing_is_no_machine():
    assert machine_type(None) is None
    assert machine_type(b'') is None


def test_option_values_unescape_double_commas():
    assert option_values('a,,b,key=x,,y,plain') == [(None, 'a,b'), ('key', 'x,y'), (None, 'plain')]
