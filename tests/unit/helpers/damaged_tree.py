# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build a small healthy sys/proc/dev tree, then damage it: the input of the property tests.

:func:`build` lays out a host with every kind the facts module reads (a GPU with an mdev
type and instance, an SR-IOV PF with a vGPU VF, a vfio-pci function with an iommufd cdev,
processes holding groups and cdevs, a QEMU command line with vfio-pci options, the kernel's
config in ``boot`` and ``proc/config.gz``) and, beside the roots, an ``outside`` directory that
the module must never read.  :func:`damage` applies one of :data:`DAMAGES` to one entry.
"""

from __future__ import annotations

import gzip
import os
import shutil

from ansible_collections.vfio.migration.tests.unit.helpers.sysfs_tree import FakeHost

UUID = '2c3f0b2a-1b1e-4f6e-9a55-0d8f2e2f6a01'
ODD = ('\u00b2', '\u0663', '1\u00b9', '1_0', '+1', ' 7 ', '0x\u0661')


def build(base):
    """The healthy host under ``base`` (a :class:`FakeHost`) and its sorted entries below the roots."""
    host = FakeHost(base)
    host.module('nvidia', version='550.54.16', taint='POE')
    gpu = host.pci('0000:3b:00.0', '10de', '1eb8', driver='nvidia', module='nvidia', group=20, totalvfs=4,
                   numvfs=1, vf_device='20f1')
    host.mdev_parent(gpu)
    host.mdev_type(gpu, 'nvidia-230', 'GRID T4-1Q', available=3, description='num_heads=4')
    host.mdev(gpu, UUID, 'nvidia-230', group=30, files={'migration_version': '1.0'})
    vf = host.pci('0000:3b:00.4', '10de', '20f1', physfn='0000:3b:00.0', driver='nvidia', group=21)
    os.makedirs(os.path.join(vf, 'nvidia'))
    for name, text in (('current_vgpu_type', '0'), ('creatable_vgpu_types', 'ID : Name\n1414 : NVIDIA A100-4C')):
        with open(os.path.join(vf, 'nvidia', name), 'w') as handle:
            handle.write(text + '\n')
    nic = host.pci('0000:5e:00.1', '8086', '1889', driver='vfio-pci', module='vfio_pci', group=7)
    host.vfio_dev(nic, 0)
    os.makedirs(host.s('class', 'iommu', 'dmar0'))
    host.process(4242, ['qemu-system-x86_64', '-name', 'guest=web-01', '-device',
                        'vfio-pci,host=0000:5e:00.1,x-device-dirty-page-tracking=off,enable-migration=on'],
                 {4: '/dev/vfio/30', 5: '/dev/vfio/devices/vfio0'})
    # the kernel's build options, in both places the module looks (host.kernel_config)
    config = b'CONFIG_IOMMUFD=m\n# CONFIG_IOMMUFD_DRIVER is not set\nCONFIG_VFIO_CONTAINER=y\n'
    os.makedirs(host.boot)
    with open(os.path.join(host.boot, 'config-' + host.kernel), 'wb') as handle:
        handle.write(config)
    with open(os.path.join(host.proc, 'config.gz'), 'wb') as handle:
        handle.write(gzip.compress(config, mtime=0))
    host.process(77, ['bash'], {0: '/dev/null'})
    host.group_node(30)
    host.group_node(7)
    outside = os.path.join(host.base, 'outside')
    os.makedirs(os.path.join(outside, 'dmar1'))
    with open(os.path.join(outside, 'secret'), 'w') as handle:
        handle.write('0x10de\n')
    os.symlink('/dev/vfio/7', os.path.join(outside, '3'))
    entries = []
    for root in (host.sys, host.proc, host.dev, host.boot):
        for top, dirs, files in os.walk(root):
            entries.extend(os.path.join(top, name) for name in sorted(dirs + files))
    return host, outside, sorted(entries)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _replace_file(path, data):
    _remove(path)
    with open(path, 'wb') as handle:
        handle.write(data)


def _replace_link(path, text):
    _remove(path)
    os.symlink(text, path)


def _device(path, _arg, _ctx):
    _remove(path)
    try:
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))   # a character device (/dev/null's numbers)
    except (PermissionError, OSError):
        os.mkfifo(path)


def _rename(path, new):
    if os.path.lexists(path):
        target = os.path.join(os.path.dirname(path), new)
        _remove(target)
        os.rename(path, target)


DAMAGES = {
    'dangling': lambda p, a, c: _replace_link(p, 'nowhere/%d' % a),
    'loop': lambda p, a, c: _replace_link(p, os.path.basename(p) if a % 2 else './' + os.path.basename(p) + '/x'),
    'escape_abs': lambda p, a, c: _replace_link(p, c['outside'] if a % 2 else '/'),
    'escape_rel': lambda p, a, c: _replace_link(p, os.path.relpath(c['outside'], os.path.dirname(p))),
    'file_for_dir': lambda p, a, c: _replace_file(p, b'1\n'),
    'dir_for_file': lambda p, a, c: (_remove(p), os.mkdir(p)),
    'non_utf8_name': lambda p, a, c: _rename(p, os.fsdecode(os.fsencode(os.path.basename(p)) + b'\xff')),
    'non_utf8_content': lambda p, a, c: _replace_file(p, b'\xff\xfe\x80\n'),
    'non_utf8_link': lambda p, a, c: _replace_link(p, os.fsdecode(b'../\xff%d' % a)),
    'huge': lambda p, a, c: _replace_file(p, b'a' * (65536 if a % 2 else 70000)),
    'empty': lambda p, a, c: _replace_file(p, b''),
    'fifo': lambda p, a, c: (_remove(p), os.mkfifo(p)),
    'device': _device,
    'odd_digit_name': lambda p, a, c: _rename(p, ODD[a % len(ODD)]),
    'odd_digit_content': lambda p, a, c: _replace_file(p, ODD[a % len(ODD)].encode() + b'\n'),
    'odd_digit_link': lambda p, a, c: _replace_link(p, '/dev/vfio/' + ODD[a % len(ODD)]),
    'long_link': lambda p, a, c: _replace_link(p, 'x/' * (1000 + a % 1000)),
    'cross_link': lambda p, a, c: _replace_link(p, os.path.relpath(c['entries'][a % len(c['entries'])],
                                                                   os.path.dirname(p))),
}


def damage(path, kind, arg, ctx):
    """Apply the damage ``kind`` to ``path`` (skipped when an earlier damage removed it)."""
    if not os.path.isdir(os.path.dirname(path)) or os.path.islink(os.path.dirname(path)):
        return
    DAMAGES[kind](path, arg, ctx)
