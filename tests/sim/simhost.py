# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build simulated hosts: sysfs / procfs / devfs trees laid out as the Linux kernel lays them out.

A short YAML description (``tests/sim/hosts/*.yml``, format in ``tests/sim/README.md``) becomes
``OUT/<host>/{sys,proc,dev}``: real directories under ``sys/devices``, the ``bus``/``class``
views as relative symbolic links, ``driver`` / ``iommu_group`` / ``physfn`` / ``virtfnN`` /
``mdev_type`` links, ``mdev_supported_types``, NVIDIA SR-IOV vGPU files, s390 subchannels and
the vfio-ap matrix, ``/proc/<pid>/{cmdline,comm,fd}`` and ``/dev/vfio``.

Usage::

    python tests/sim/simhost.py build tests/sim/hosts/*.yml --out tests/sim/build
    python tests/sim/simhost.py large --out /tmp/big          # benchmark-sized host
    python tests/sim/simhost.py check tests/sim/hosts/*.yml   # validate only

Importable: :func:`build_host`, :func:`build_all`, :func:`load_description`,
:func:`large_description`; errors are :class:`DescriptionError`.

Kernel sources the layout follows: drivers/pci/pci-sysfs.c, drivers/pci/iov.c,
drivers/iommu/iommu.c, drivers/vfio/vfio_main.c, drivers/vfio/group.c,
drivers/vfio/mdev/mdev_sysfs.c, Documentation/ABI/testing/sysfs-bus-vfio-mdev,
drivers/s390/cio/css.c, drivers/s390/cio/vfio_ccw_ops.c, drivers/s390/crypto/vfio_ap_drv.c,
drivers/s390/crypto/vfio_ap_ops.c, samples/vfio-mdev/mtty.c.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import uuid
from fractions import Fraction

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML is only needed for YAML files
    yaml = None

__all__ = ['DescriptionError', 'build_host', 'build_all', 'load_description', 'large_description',
           'normalize', 'main']

# ---------------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------------

_UUID_NS = uuid.UUID('6b0d8f4e-2f55-4c4e-9d0a-3f1f6c2a9b10')

#: Drivers whose functions are VFIO devices besides ``vfio-pci`` and ``*_vfio_pci``.
_EXTRA_VFIO_DRIVERS = frozenset(('nvidia_vgpu_vfio',))

#: Built-in drivers: no ``module`` link, no ``/sys/module/<name>`` entry written.
_BUILTIN_DRIVERS = frozenset(('pcieport', 'io_subchannel', 'cex4card', 'cex4queue'))

#: driver name -> module name, where they differ beyond '-' -> '_'.
_MODULE_OF_DRIVER = {
    'intel_vgpu_mdev': 'kvmgt',
    'nvidia-vgpu-vfio': 'nvidia_vgpu_vfio',
    '4xxx': 'qat_4xxx',
    'vfio_ccw_mdev': 'vfio_ccw',
    'vfio_ap_mdev': 'vfio_ap',
}

#: Default mdev (instance) driver by parent driver; kernels < 5.16 used ``vfio_mdev`` for all.
_MDEV_DRIVER_OF_PARENT = {
    'nvidia': 'nvidia-vgpu-vfio',
    'i915': 'intel_vgpu_mdev',
    'mtty': 'mtty',
    'mdpy': 'mdpy',
    'mbochs': 'mbochs',
    'vfio_ccw': 'vfio_ccw_mdev',
    'vfio_ap': 'vfio_ap_mdev',
}

#: MODULE_VERSION of in-tree (and sample) modules, as a Debian 6.1 / 6.12 guest shows them.
_MODULE_VERSION = {'vfio': '0.3', 'mdev': '0.1', 'vfio_iommu_type1': '0.2', 'mtty': '0.1', 'nvme': '1.0'}

#: Module parameters visible in sysfs (perm != 0), values as a fresh boot shows them.
_MODULE_PARAMS = {
    'vfio_pci': {'disable_denylist': 'N', 'disable_idle_d3': 'N', 'disable_vga': 'N', 'enable_sriov': 'N',
                 'nointxmask': 'N'},
    'vfio_iommu_type1': {'allow_unsafe_interrupts': 'N', 'disable_hugepages': 'N', 'dma_entry_limit': '65535'},
}

#: Out-of-tree modules and the taint letters they show (P proprietary, O out-of-tree, E unsigned).
_OUT_OF_TREE_TAINT = {'nvidia': 'POE', 'nvidia_vgpu_vfio': 'POE', 'mtty': 'OE', 'mdpy': 'OE',
                      'mbochs': 'OE'}

#: Default QEMU binary by architecture; comm is the first 15 bytes of its basename.
_QEMU = {'x86_64': '/usr/bin/qemu-system-x86_64', 'aarch64': '/usr/bin/qemu-system-aarch64',
         's390x': '/usr/bin/qemu-system-s390x'}

_ADDR_RE = re.compile(r'^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-1][0-9a-fA-F])\.([0-7])$')
_ID_RE = re.compile(r'^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$')
_SCH_RE = re.compile(r'^0\.([0-3])\.([0-9a-f]{4})$')
_APQN_RE = re.compile(r'^([0-9a-f]{2})\.([0-9a-f]{4})$')
_UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')


class DescriptionError(ValueError):
    """A host description is invalid; the message names the file (or host) and the field."""


# ---------------------------------------------------------------------------------------------
# validation helpers: every value goes through one of these, so errors name file and field
# ---------------------------------------------------------------------------------------------

class _Ctx(object):
    def __init__(self, source):
        self.source = source

    def fail(self, field, msg):
        raise DescriptionError('%s: %s: %s' % (self.source, field or '(top level)', msg))

    def mapping(self, value, field, allowed, required=()):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.fail(field, 'expected a mapping, got %s' % type(value).__name__)
        for key in value:
            if key not in allowed:
                self.fail(_join(field, key), 'unknown key (allowed: %s)' % ', '.join(sorted(allowed)))
        for key in required:
            if value.get(key) in (None, ''):
                self.fail(_join(field, key), 'is required')
        return value

    def seq(self, value, field):
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(field, 'expected a list, got %s' % type(value).__name__)
        return value

    def text(self, value, field, default=None, allow_empty=True):
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(field, 'expected a string, got %s' % type(value).__name__)
        value = str(value)
        if not allow_empty and not value:
            self.fail(field, 'must not be empty')
        return value

    def name(self, value, field, default=None):
        value = self.text(value, field, default)
        if value is not None and not _NAME_RE.match(value):
            self.fail(field, '%r is not a valid name (letters, digits, "_", "-", ".")' % value)
        return value

    def integer(self, value, field, default=None, minimum=None, maximum=None):
        if value is None or value == '':
            return default
        if isinstance(value, bool):
            self.fail(field, 'expected an integer, got a boolean')
        if isinstance(value, int):
            result = value
        elif isinstance(value, str):
            try:
                result = int(value, 0) if value.strip().lower().startswith(('0x', '-0x')) else int(value, 10)
            except ValueError:
                self.fail(field, 'expected an integer, got %r' % value)
        else:
            self.fail(field, 'expected an integer, got %s' % type(value).__name__)
        if minimum is not None and result < minimum:
            self.fail(field, 'must be >= %d, got %d' % (minimum, result))
        if maximum is not None and result > maximum:
            self.fail(field, 'must be <= %d, got %d' % (maximum, result))
        return result

    def hexnum(self, value, field, digits, default=None):
        """A hex number written as a string (``030200``, ``0x030200``, ``a1``) or an int."""
        if value is None or value == '':
            return default
        if isinstance(value, bool):
            self.fail(field, 'expected a hex number, got a boolean')
        if isinstance(value, int):
            result = value
        elif isinstance(value, str):
            text = value.strip().lower()
            text = text[2:] if text.startswith('0x') else text
            if not re.match(r'^[0-9a-f]{1,%d}$' % digits, text):
                self.fail(field, 'expected up to %d hex digits, got %r' % (digits, value))
            result = int(text, 16)
        else:
            self.fail(field, 'expected a hex number, got %s' % type(value).__name__)
        if result < 0 or result >= 16 ** digits:
            self.fail(field, 'out of range for %d hex digits: %r' % (digits, value))
        return result

    def boolean(self, value, field, default=False):
        if value is None or value == '':
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ('true', 'yes', 'on', '1'):
            return True
        if isinstance(value, str) and value.lower() in ('false', 'no', 'off', '0'):
            return False
        self.fail(field, 'expected true or false, got %r' % (value,))

    def ids(self, value, field, default=None):
        """``vendor:device`` -> (vendor, device)."""
        if value is None:
            if default is None:
                self.fail(field, 'is required (vendor:device, e.g. 10de:1eb8)')
            return default
        m = _ID_RE.match(str(value))
        if not m:
            self.fail(field, 'expected vendor:device as 4+4 hex digits (e.g. 10de:1eb8), got %r' % (value,))
        return int(m.group(1), 16), int(m.group(2), 16)

    def addr(self, value, field):
        m = _ADDR_RE.match(str(value or ''))
        if not m:
            self.fail(field, 'expected a PCI address like 0000:3b:00.0 or 3b:00.0, got %r' % (value,))
        dom, bus, dev, fn = m.groups()
        dev_i = int(dev, 16)
        if dev_i > 0x1f:
            self.fail(field, 'PCI device number must be <= 1f, got %r' % (value,))
        return '%04x:%02x:%02x.%d' % (int(dom or '0', 16), int(bus, 16), dev_i, int(fn))

    def choice(self, value, field, choices, default):
        if value is None or value == '':
            return default
        if value not in choices:
            self.fail(field, 'expected one of %s, got %r' % (', '.join(choices), value))
        return value


def _join(field, key):
    if isinstance(key, int):
        return '%s[%d]' % (field, key)
    return '%s.%s' % (field, key) if field else str(key)


def _vfio_driver(driver):
    return bool(driver) and (driver in ('vfio-pci', 'vfio_pci') or driver.endswith('_vfio_pci')
                             or driver in _EXTRA_VFIO_DRIVERS)


def _module_of(driver):
    return _MODULE_OF_DRIVER.get(driver, driver.replace('-', '_'))


def _rid(addr):
    dom, bus, devfn = addr.split(':')
    dev, fn = devfn.split('.')
    return int(dom, 16), (int(bus, 16) << 8) | (int(dev, 16) << 3) | int(fn)


def _addr_of(dom, rid):
    return '%04x:%02x:%02x.%d' % (dom, rid >> 8, (rid >> 3) & 0x1f, rid & 7)


def _uuid(*parts):
    return str(uuid.uuid5(_UUID_NS, '/'.join(str(p) for p in parts)))


# ---------------------------------------------------------------------------------------------
# normalization: description (dict) -> model (plain dicts with every default filled in)
# ---------------------------------------------------------------------------------------------

_TOP_KEYS = ('host', 'kernel', 'arch', 'cpus', 'iommu', 'vfio_cdev', 'kernel_cmdline', 'kernel_config', 'modules',
             'pci', 'mdev_parents', 'css', 'ap', 'vms', 'processes', 'broken', 'notes')
_PCI_KEYS = ('addr', 'id', 'subsys', 'class', 'rev', 'numa', 'driver', 'driver_override', 'group',
             'root', 'port', 'sriov', 'mdev', 'vgpu', 'vm', 'name', 'caps', 'ext_caps')
_SRIOV_KEYS = ('total', 'num', 'offset', 'stride', 'autoprobe', 'vf', 'vfs')
_VF_KEYS = ('id', 'subsys', 'class', 'rev', 'numa', 'driver', 'driver_override', 'group', 'vm', 'caps', 'ext_caps')
_MDEV_KEYS = ('capacity', 'pool', 'driver', 'types', 'instances')
_TYPE_KEYS = ('name', 'description', 'device_api', 'max', 'weight', 'available')
_INST_KEYS = ('type', 'uuid', 'vm', 'driver', 'files', 'matrix')
_VGPU_KEYS = ('types', 'max', 'current', 'creatable', 'params')
_VM_KEYS = ('name', 'pid', 'name_style', 'iommufd', 'qemu', 'cmdline', 'comm', 'machine', 'device_options')
_PROC_KEYS = ('pid', 'comm', 'cmdline', 'fds')
_PARENT_KEYS = ('path', 'class', 'driver', 'mdev')
_CSS_KEYS = ('id', 'type', 'driver', 'ccw', 'mdev', 'group')
_AP_KEYS = ('cards', 'queues', 'mdevs', 'apmask', 'aqmask')
_APCARD_KEYS = ('type', 'hwtype', 'driver')
_BROKEN_KEYS = ('dangling_driver', 'link_loop', 'dir_instead_of_file', 'unreadable', 'garbage',
                'dangling_mdev_type', 'dangling_physfn', 'fd_to_missing_group', 'kernel_thread')


def load_description(path):
    """Read one YAML host description.  Scalars stay strings (YAML 1.1 would turn ``030200``
    into an octal number and ``no`` into false); the normalizer converts each field itself."""
    if yaml is None:  # pragma: no cover
        raise DescriptionError('%s: PyYAML is needed to read host descriptions' % path)
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            data = yaml.load(handle, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
    except OSError as exc:
        raise DescriptionError('%s: cannot read: %s' % (path, exc.strerror))
    except yaml.YAMLError as exc:
        raise DescriptionError('%s: not valid YAML: %s' % (path, exc))
    if not isinstance(data, dict):
        raise DescriptionError('%s: (top level): expected a mapping' % path)
    data.setdefault('host', os.path.splitext(os.path.basename(path))[0])
    return data


def normalize(desc, source=None):
    """Validate a description and return the full model (every default filled in)."""
    ctx = _Ctx(source or (desc.get('host') if isinstance(desc, dict) else None) or '<description>')
    desc = ctx.mapping(desc, '', _TOP_KEYS, required=('host', 'kernel'))
    model = {
        'host': ctx.name(desc['host'], 'host'),
        'kernel': ctx.text(desc['kernel'], 'kernel', allow_empty=False),
        'arch': ctx.choice(desc.get('arch'), 'arch', tuple(_QEMU), 'x86_64'),
        'cpus': ctx.integer(desc.get('cpus'), 'cpus', 32, minimum=1, maximum=4096),
    }
    iommu = desc.get('iommu')
    if isinstance(iommu, dict):
        ctx.mapping(iommu, 'iommu', ('enabled', 'domain'))
        model['iommu'] = ctx.boolean(iommu.get('enabled'), 'iommu.enabled', True)
        model['iommu_domain'] = ctx.text(iommu.get('domain'), 'iommu.domain', 'DMA-FQ')
    else:
        model['iommu'] = ctx.boolean(iommu, 'iommu', True)
        model['iommu_domain'] = 'DMA-FQ'
    model['vfio_cdev'] = ctx.boolean(desc.get('vfio_cdev'), 'vfio_cdev', False)
    default_cmdline = 'BOOT_IMAGE=/boot/vmlinuz-%s root=/dev/mapper/vg0-root ro quiet' % model['kernel']
    if model['iommu'] and model['arch'] == 'x86_64':
        default_cmdline += ' intel_iommu=on iommu=pt'
    model['kernel_cmdline'] = ctx.text(desc.get('kernel_cmdline'), 'kernel_cmdline', default_cmdline)
    model['kernel_config'] = _norm_kernel_config(ctx, desc.get('kernel_config'))
    model['modules'] = _norm_modules(ctx, desc.get('modules'))
    model['pci'] = _norm_pci(ctx, ctx.seq(desc.get('pci'), 'pci'))
    model['mdev_parents'] = _norm_virtual_parents(ctx, ctx.seq(desc.get('mdev_parents'), 'mdev_parents'))
    model['css'] = _norm_css(ctx, ctx.seq(desc.get('css'), 'css'))
    model['ap'] = _norm_ap(ctx, desc.get('ap'))
    model['vms'] = _norm_vms(ctx, ctx.seq(desc.get('vms'), 'vms'))
    model['processes'] = _norm_processes(ctx, ctx.seq(desc.get('processes'), 'processes'))
    model['broken'] = _norm_broken(ctx, desc.get('broken'))
    _finish(ctx, model)
    return model


def _norm_modules(ctx, value):
    value = ctx.mapping(value, 'modules', _AnyKeys())
    out = {}
    for name in sorted(value):
        field = _join('modules', name)
        spec = ctx.mapping(value[name], field, ('version', 'srcversion', 'taint', 'builtin'))
        out[ctx.name(name, field)] = {
            'version': ctx.text(spec.get('version'), field + '.version'),
            'srcversion': ctx.text(spec.get('srcversion'), field + '.srcversion'),
            'taint': ctx.text(spec.get('taint'), field + '.taint'),
            'builtin': ctx.boolean(spec.get('builtin'), field + '.builtin', False),
        }
    return out


class _AnyKeys(object):
    """Membership test that accepts every key (for free-form mappings)."""

    def __contains__(self, item):
        return True

    def __iter__(self):
        return iter(())


def _norm_pci(ctx, entries):
    functions = []
    for i, entry in enumerate(entries):
        field = _join('pci', i)
        entry = ctx.mapping(entry, field, _PCI_KEYS, required=('addr', 'id'))
        addr = ctx.addr(entry['addr'], field + '.addr')
        field = 'pci[%s]' % addr
        vendor, device = ctx.ids(entry['id'], field + '.id')
        subsys = ctx.ids(entry.get('subsys'), field + '.subsys', (vendor, device))
        fn = {
            'addr': addr, 'vendor': vendor, 'device': device, 'svendor': subsys[0], 'sdevice': subsys[1],
            'class': ctx.hexnum(entry.get('class'), field + '.class', 6, 0x000000),
            'rev': ctx.hexnum(entry.get('rev'), field + '.rev', 2, 0),
            'numa': ctx.integer(entry.get('numa'), field + '.numa', -1, minimum=-1, maximum=63),
            'driver': ctx.text(entry.get('driver'), field + '.driver'),
            'driver_override': ctx.text(entry.get('driver_override'), field + '.driver_override'),
            'group': ctx.integer(entry.get('group'), field + '.group', None, minimum=0),
            'root': ctx.hexnum(entry.get('root'), field + '.root', 2, None),
            'port': ctx.addr(entry['port'], field + '.port') if entry.get('port') else None,
            'vm': ctx.text(entry.get('vm'), field + '.vm'),
            'caps': _caps(ctx, entry.get('caps'), field + '.caps', 2),
            'ext_caps': _caps(ctx, entry.get('ext_caps'), field + '.ext_caps', 4),
            'is_vf': False, 'pf': None, 'vf_index': None, 'sriov': None, 'mdev': None,
            'vgpu_current': None, 'vgpu_creatable': None, 'field': field,
        }
        if fn['driver'] in ('null', '~', ''):
            fn['driver'] = None
        functions.append(fn)
        if entry.get('mdev') is not None:
            if not fn['driver']:
                ctx.fail(field + '.driver', 'an mdev parent needs a bound driver (its name prefixes the type ids)')
            fn['mdev'] = _norm_mdev(ctx, entry['mdev'], field + '.mdev', fn['driver'])
        if entry.get('sriov') is not None:
            functions.extend(_norm_sriov(ctx, entry, fn, field))
        elif entry.get('vgpu') is not None:
            ctx.fail(field + '.vgpu', 'NVIDIA SR-IOV vGPU needs an sriov block on the same PF')
    seen = {}
    for fn in functions:
        if fn['addr'] in seen:
            ctx.fail(fn['field'] + '.addr', 'address %s is used twice (also by %s)' % (fn['addr'], seen[fn['addr']]))
        seen[fn['addr']] = fn['field']
    return functions


def _caps(ctx, value, field, digits):
    """A capability chain ``['10@70', ...]`` -> ``[(id, offset), ...]`` (standard: 2-digit ids at
    0x40-0xfc; extended: 4-digit ids at 0x100-0xffc), dword-aligned, in chain order."""
    if value is None:
        return []
    low, high = (0x40, 0xfc) if digits == 2 else (0x100, 0xffc)
    chain = []
    for index, item in enumerate(ctx.seq(value, field)):
        where = '%s[%d]' % (field, index)
        text = ctx.text(item, where, allow_empty=False)
        cap_id, sep, offset = text.partition('@')
        try:
            cap_id, offset = int(cap_id, 16), int(offset, 16)
        except ValueError:
            ctx.fail(where, 'expected <id>@<offset> in hex, got %r' % text)
        if not sep or len(text.split('@')[0]) != digits or not low <= offset <= high or offset % 4:
            ctx.fail(where, 'expected a %d-digit id at a dword offset in %#x-%#x, got %r' % (digits, low, high, text))
        chain.append((cap_id, offset))
    if len(set(offset for _id, offset in chain)) != len(chain):
        ctx.fail(field, 'two capabilities at one offset')
    return chain


def _norm_sriov(ctx, entry, pf, field):
    sfield = field + '.sriov'
    spec = ctx.mapping(entry['sriov'], sfield, _SRIOV_KEYS, required=('total',))
    total = ctx.integer(spec['total'], sfield + '.total', minimum=1, maximum=2048)
    num = ctx.integer(spec.get('num'), sfield + '.num', total, minimum=0)
    if num > total:
        ctx.fail(sfield + '.num', 'sriov_numvfs (%d) cannot exceed sriov_totalvfs (%d)' % (num, total))
    offset = ctx.integer(spec.get('offset'), sfield + '.offset', 1, minimum=1)
    stride = ctx.integer(spec.get('stride'), sfield + '.stride', 1, minimum=1)
    vf_spec = ctx.mapping(spec.get('vf'), sfield + '.vf', _VF_KEYS)
    vf_ids = ctx.ids(vf_spec.get('id'), sfield + '.vf.id', (pf['vendor'], pf['device']))
    pf['sriov'] = {'total': total, 'num': num, 'offset': offset, 'stride': stride,
                   'vf_device': vf_ids[1], 'autoprobe': ctx.boolean(spec.get('autoprobe'), sfield + '.autoprobe', True)}
    per_vf = ctx.mapping(spec.get('vfs'), sfield + '.vfs', _AnyKeys())
    overrides = {}
    for key, value in per_vf.items():
        index = ctx.integer(key, sfield + '.vfs', minimum=0)
        if index >= num:
            ctx.fail('%s.vfs.%s' % (sfield, key), 'VF index %d does not exist (sriov num is %d)' % (index, num))
        overrides[index] = ctx.mapping(value, '%s.vfs.%d' % (sfield, index), _VF_KEYS)
    vgpu = None
    if entry.get('vgpu') is not None:
        vgpu = _norm_vgpu(ctx, entry['vgpu'], field + '.vgpu', num)
        if pf['vendor'] != 0x10de:
            ctx.fail(field + '.vgpu', 'NVIDIA SR-IOV vGPU is only for NVIDIA (10de) functions')
    dom, pf_rid = _rid(pf['addr'])
    vfs = []
    for i in range(num):
        over = overrides.get(i, {})
        vfield = '%s.vfs.%d' % (sfield, i)
        rid = pf_rid + offset + stride * i
        if rid > 0xffff:
            ctx.fail(sfield, 'VF %d would have routing id %#x beyond bus ff' % (i, rid))

        def pick(key, conv, default, _over=over, _vfield=vfield):
            if key in _over:
                return conv(_over[key], _vfield + '.' + key)
            if key in vf_spec:
                return conv(vf_spec[key], sfield + '.vf.' + key)
            return default

        vendor, device = pick('id', ctx.ids, vf_ids)
        subsys = pick('subsys', ctx.ids, (pf['svendor'], pf['sdevice']))
        vf = {
            'addr': _addr_of(dom, rid), 'vendor': vendor, 'device': device,
            'svendor': subsys[0], 'sdevice': subsys[1],
            'class': pick('class', lambda v, f: ctx.hexnum(v, f, 6), pf['class']),
            'rev': pick('rev', lambda v, f: ctx.hexnum(v, f, 2), pf['rev']),
            'numa': pick('numa', lambda v, f: ctx.integer(v, f, minimum=-1), pf['numa']),
            'driver': pick('driver', ctx.text, None),
            'driver_override': pick('driver_override', ctx.text, None),
            'group': ctx.integer(over.get('group'), vfield + '.group', None, minimum=0),
            'root': pf['root'], 'port': pf['port'],
            'vm': ctx.text(over.get('vm'), vfield + '.vm'),
            'caps': pick('caps', lambda v, f: _caps(ctx, v, f, 2), pf['caps']),
            'ext_caps': pick('ext_caps', lambda v, f: _caps(ctx, v, f, 4), pf['ext_caps']),
            'is_vf': True, 'pf': pf['addr'], 'vf_index': i, 'sriov': None, 'mdev': None,
            'vgpu_current': None, 'vgpu_creatable': None, 'field': vfield,
        }
        if 'vm' in vf_spec:
            ctx.fail(sfield + '.vf.vm', 'a VM uses one function: set vm per VF under sriov.vfs')
        if vf['driver'] in ('null', '~', ''):
            vf['driver'] = None
        vfs.append(vf)
    if vgpu is not None:
        _apply_vgpu(ctx, vgpu, vfs, field + '.vgpu')
        pf['vgpu'] = vgpu
    return vfs


def _norm_vgpu(ctx, value, field, num):
    spec = ctx.mapping(value, field, _VGPU_KEYS, required=('types',))
    types = {}
    for key, name in ctx.mapping(spec['types'], field + '.types', _AnyKeys()).items():
        tid = ctx.integer(key, field + '.types', minimum=1)
        types[tid] = ctx.text(name, '%s.types.%s' % (field, key), allow_empty=False)
    maxes = {}
    for key, count in ctx.mapping(spec.get('max'), field + '.max', _AnyKeys()).items():
        tid = ctx.integer(key, field + '.max', minimum=1)
        if tid not in types:
            ctx.fail('%s.max.%s' % (field, key), 'type %d is not listed in types' % tid)
        maxes[tid] = ctx.integer(count, '%s.max.%s' % (field, key), minimum=1)
    current = {}
    for key, tid in ctx.mapping(spec.get('current'), field + '.current', _AnyKeys()).items():
        index = ctx.integer(key, field + '.current', minimum=0)
        if index >= num:
            ctx.fail('%s.current.%s' % (field, key), 'VF index %d does not exist (sriov num is %d)' % (index, num))
        tid = ctx.integer(tid, '%s.current.%s' % (field, key), minimum=0)
        if tid and tid not in types:
            ctx.fail('%s.current.%s' % (field, key), 'type %d is not listed in types' % tid)
        current[index] = tid
    creatable = None
    if spec.get('creatable') is not None:
        creatable = {}
        for key, ids in ctx.mapping(spec['creatable'], field + '.creatable', _AnyKeys()).items():
            index = ctx.integer(key, field + '.creatable', minimum=0)
            lst = []
            for j, tid in enumerate(ctx.seq(ids, '%s.creatable.%s' % (field, key))):
                tid = ctx.integer(tid, '%s.creatable.%s[%d]' % (field, key, j), minimum=1)
                if tid not in types:
                    ctx.fail('%s.creatable.%s[%d]' % (field, key, j), 'type %d is not listed in types' % tid)
                lst.append(tid)
            creatable[index] = lst
    for tid in types:
        used = sum(1 for t in current.values() if t == tid)
        if tid in maxes and used > maxes[tid]:
            ctx.fail(field + '.current', '%d VFs use type %d but max is %d' % (used, tid, maxes[tid]))
    share = sum((Fraction(1, maxes[t]) for t in current.values() if t in maxes), Fraction(0))
    if share > 1:
        ctx.fail(field + '.current', 'the vGPUs in current need more than the whole GPU (by max)')
    return {'types': types, 'max': maxes, 'current': current, 'creatable': creatable,
            'params': ctx.text(spec.get('params'), field + '.params', '')}


def _vgpu_fits(vgpu, tid):
    """Whether the GPU can still hold one more vGPU of type ``tid``.  A VF lists what can still
    be created on the GPU: type ``t`` with ``max[t]`` takes 1/max[t] of the frame buffer, and
    the vGPUs already created (of any type with a max) use their share of it."""
    if tid not in vgpu['max']:
        return True
    used = sum((Fraction(1, vgpu['max'][t]) for t in vgpu['current'].values() if t in vgpu['max']), Fraction(0))
    return used + Fraction(1, vgpu['max'][tid]) <= 1


def _apply_vgpu(ctx, vgpu, vfs, field):
    """Set each VF's current and creatable types.  Default creatable rule (time-sliced vGPU,
    one size per GPU unless mixed-size mode is on): a free VF lists every type while nothing
    runs; once VFs run a type it lists only the running types, and only while the GPU's frame
    buffer still holds another one (so once it is used up, free VFs list nothing)."""
    current = vgpu['current']
    running = sorted(set(t for t in current.values() if t))
    for vf in vfs:
        i = vf['vf_index']
        vf['vgpu_current'] = current.get(i, 0)
        if vgpu['creatable'] is not None and i in vgpu['creatable']:
            vf['vgpu_creatable'] = vgpu['creatable'][i]
        elif vf['vgpu_current']:
            vf['vgpu_creatable'] = []
        else:
            pool = running or sorted(vgpu['types'])
            vf['vgpu_creatable'] = [t for t in pool if _vgpu_fits(vgpu, t)]
        if vf['vgpu_current'] and not vf['driver']:
            ctx.fail('%s.current.%d' % (field, i), 'a VF with a vGPU type needs a driver (e.g. nvidia_vgpu_vfio)')


def _norm_mdev(ctx, value, field, parent_driver, fixed_types=None, instances_field=None):
    spec = ctx.mapping(value, field, _MDEV_KEYS)
    capacity = ctx.choice(spec.get('capacity'), field + '.capacity', ('independent', 'exclusive', 'pool'),
                          'exclusive' if parent_driver == 'nvidia' else 'independent')
    pool = ctx.integer(spec.get('pool'), field + '.pool', None, minimum=1)
    if capacity == 'pool' and pool is None:
        ctx.fail(field + '.pool', 'capacity "pool" needs the pool size')
    types = {}
    raw_types = fixed_types if fixed_types is not None else ctx.mapping(spec.get('types'), field + '.types', _AnyKeys())
    if not raw_types:
        ctx.fail(field + '.types', 'an mdev parent needs at least one type')
    for type_id in sorted(raw_types):
        tfield = '%s.types.%s' % (field, type_id)
        if not type_id.startswith(parent_driver + '-') or len(type_id) == len(parent_driver) + 1:
            ctx.fail(tfield, 'type id must be "<parent driver>-<type>" (mdev_sysfs.c), i.e. start with %r'
                     % (parent_driver + '-'))
        if '/' in type_id:
            ctx.fail(tfield, 'type id must not contain "/"')
        t = ctx.mapping(raw_types[type_id], tfield, _TYPE_KEYS)
        types[type_id] = {
            'name': ctx.text(t.get('name'), tfield + '.name'),
            'description': ctx.text(t.get('description'), tfield + '.description'),
            'device_api': ctx.text(t.get('device_api'), tfield + '.device_api', 'vfio-pci', allow_empty=False),
            'max': ctx.integer(t.get('max'), tfield + '.max', 1, minimum=0),
            'weight': ctx.integer(t.get('weight'), tfield + '.weight', 1, minimum=1),
            'available': ctx.integer(t.get('available'), tfield + '.available', None, minimum=0),
        }
    instances = []
    instances_field = instances_field or field + '.instances'
    for j, inst in enumerate(ctx.seq(spec.get('instances'), instances_field)):
        ifield = '%s[%d]' % (instances_field, j)
        inst = ctx.mapping(inst, ifield, _INST_KEYS)
        type_id = ctx.text(inst.get('type'), ifield + '.type', sorted(types)[0] if len(types) == 1 else None)
        if type_id is None:
            ctx.fail(ifield + '.type', 'is required when the parent has several types')
        if type_id not in types:
            ctx.fail(ifield + '.type', 'unknown type %r (known: %s)' % (type_id, ', '.join(sorted(types))))
        u = ctx.text(inst.get('uuid'), ifield + '.uuid')
        if u is not None:
            u = u.lower()
            if not _UUID_RE.match(u):
                ctx.fail(ifield + '.uuid', 'not a UUID: %r' % u)
        files = {}
        for key, content in ctx.mapping(inst.get('files'), ifield + '.files', _AnyKeys()).items():
            if key.startswith('/') or '..' in key.split('/'):
                ctx.fail(ifield + '.files.' + key, 'must be a relative path inside the instance directory')
            files[key] = ctx.text(content, ifield + '.files.' + key, '')
        if inst.get('matrix') is not None and parent_driver != 'vfio_ap':
            ctx.fail(ifield + '.matrix', 'only vfio_ap matrix mdevs have adapters and domains')
        instances.append({'type': type_id, 'uuid': u, 'vm': ctx.text(inst.get('vm'), ifield + '.vm'),
                          'driver': ctx.text(inst.get('driver'), ifield + '.driver'),
                          'files': files, 'matrix': inst.get('matrix'), 'field': ifield, 'index': j})
    driver = ctx.text(spec.get('driver'), field + '.driver', _MDEV_DRIVER_OF_PARENT.get(parent_driver, 'vfio_mdev'))
    mdev = {'capacity': capacity, 'pool': pool, 'types': types, 'instances': instances, 'driver': driver,
            'prefix': parent_driver, 'field': field}
    _check_capacity(ctx, mdev)
    return mdev


def _available(mdev):
    """available_instances per type, as the parent's driver would report it."""
    counts = {t: 0 for t in mdev['types']}
    for inst in mdev['instances']:
        counts[inst['type']] += 1
    out = {}
    used_weight = sum(mdev['types'][i['type']]['weight'] for i in mdev['instances'])
    running = [t for t, n in counts.items() if n]
    for type_id, t in mdev['types'].items():
        if t['available'] is not None:
            out[type_id] = t['available']
        elif mdev['capacity'] == 'pool':
            out[type_id] = max(0, (mdev['pool'] - used_weight) // t['weight'])
        elif mdev['capacity'] == 'exclusive' and running and type_id not in running:
            out[type_id] = 0
        else:
            out[type_id] = max(0, t['max'] - counts[type_id])
    return out


def _check_capacity(ctx, mdev):
    counts = {}
    for inst in mdev['instances']:
        counts[inst['type']] = counts.get(inst['type'], 0) + 1
    if mdev['capacity'] == 'exclusive' and len(counts) > 1:
        ctx.fail(mdev['field'] + '.instances',
                 'capacity "exclusive" (one vGPU type per physical GPU) but instances use %s'
                 % ', '.join(sorted(counts)))
    if mdev['capacity'] == 'pool':
        used = sum(mdev['types'][t]['weight'] * n for t, n in counts.items())
        if used > mdev['pool']:
            ctx.fail(mdev['field'] + '.instances', 'instances need %d of a pool of %d' % (used, mdev['pool']))
    else:
        for type_id, n in sorted(counts.items()):
            t = mdev['types'][type_id]
            if t['available'] is None and n > t['max']:
                ctx.fail('%s.types.%s.max' % (mdev['field'], type_id),
                         '%d instances exist but max is %d' % (n, t['max']))


def _norm_virtual_parents(ctx, entries):
    parents = []
    for i, entry in enumerate(entries):
        field = _join('mdev_parents', i)
        entry = ctx.mapping(entry, field, _PARENT_KEYS, required=('path', 'mdev'))
        path = ctx.text(entry['path'], field + '.path', allow_empty=False).strip('/')
        if '..' in path.split('/') or not path.startswith('virtual/') and not path.startswith('platform/'):
            ctx.fail(field + '.path', 'expected a path under sys/devices such as virtual/mtty/mtty, got %r' % path)
        name = path.rsplit('/', 1)[-1]
        cls = ctx.name(entry.get('class'), field + '.class', path.split('/')[1] if path.startswith('virtual/') else None)
        driver = ctx.name(entry.get('driver'), field + '.driver', cls or name)
        parents.append({'path': path, 'name': name, 'class': cls, 'driver': driver, 'field': field,
                        'mdev': _norm_mdev(ctx, entry['mdev'], field + '.mdev', driver)})
    return parents


def _norm_css(ctx, entries):
    out = []
    for i, entry in enumerate(entries):
        field = _join('css', i)
        entry = ctx.mapping(entry, field, _CSS_KEYS, required=('id',))
        sid = ctx.text(entry['id'], field + '.id').lower()
        if not _SCH_RE.match(sid):
            ctx.fail(field + '.id', 'expected a subchannel id like 0.0.fffe, got %r' % sid)
        field = 'css[%s]' % sid
        sch = {'id': sid, 'type': ctx.integer(entry.get('type'), field + '.type', 0, minimum=0, maximum=15),
               'driver': ctx.text(entry.get('driver'), field + '.driver', 'io_subchannel'),
               'ccw': None, 'mdev': None, 'field': field,
               'group': ctx.integer(entry.get('group'), field + '.group', None, minimum=0)}
        if entry.get('ccw') is not None:
            ccw = ctx.text(entry['ccw'], field + '.ccw').lower()
            if not _SCH_RE.match(ccw):
                ctx.fail(field + '.ccw', 'expected a device number like 0.0.0100, got %r' % ccw)
            if sch['driver'] != 'io_subchannel':
                ctx.fail(field + '.ccw', 'only an io_subchannel-bound subchannel has a ccw device child')
            sch['ccw'] = ccw
        if entry.get('mdev') is not None:
            if sch['driver'] != 'vfio_ccw':
                ctx.fail(field + '.mdev', 'mdevs need the subchannel bound to vfio_ccw')
            fixed = {'vfio_ccw-io': {'name': 'I/O subchannel (Non-QDIO)', 'device_api': 'vfio-ccw', 'max': '1'}}
            sch['mdev'] = _norm_mdev(ctx, entry['mdev'], field + '.mdev', 'vfio_ccw', fixed_types=fixed)
        out.append(sch)
    return out


def _norm_ap(ctx, value):
    if value is None:
        return None
    spec = ctx.mapping(value, 'ap', _AP_KEYS)
    cards = {}
    for key, card in ctx.mapping(spec.get('cards'), 'ap.cards', _AnyKeys()).items():
        cid = ctx.hexnum(key, 'ap.cards', 2)
        c = ctx.mapping(card, 'ap.cards.%s' % key, _APCARD_KEYS)
        cards[cid] = {'type': ctx.text(c.get('type'), 'ap.cards.%s.type' % key, 'CEX7C'),
                      'hwtype': ctx.integer(c.get('hwtype'), 'ap.cards.%s.hwtype' % key, 13, minimum=0),
                      'driver': ctx.text(c.get('driver'), 'ap.cards.%s.driver' % key, 'cex4card')}
    queues = {}
    for key, driver in ctx.mapping(spec.get('queues'), 'ap.queues', _AnyKeys()).items():
        m = _APQN_RE.match(str(key).lower())
        if not m:
            ctx.fail('ap.queues.%s' % key, 'expected an APQN like 04.0047')
        card = int(m.group(1), 16)
        if card not in cards:
            ctx.fail('ap.queues.%s' % key, 'card %02x is not listed in ap.cards' % card)
        queues[(card, int(m.group(2), 16))] = ctx.text(driver, 'ap.queues.%s' % key, 'cex4queue')
    fixed = {'vfio_ap-passthrough': {'name': 'VFIO AP Passthrough Device', 'device_api': 'vfio-ap',
                                     'max': str(256 * 256)}}
    mdev = _norm_mdev(ctx, {'instances': spec.get('mdevs')}, 'ap', 'vfio_ap', fixed_types=fixed,
                      instances_field='ap.mdevs')
    for inst in mdev['instances']:
        mf = inst['field'] + '.matrix'
        m = ctx.mapping(inst['matrix'], mf, ('adapters', 'domains', 'control_domains'))
        inst['adapters'] = sorted(ctx.hexnum(a, '%s.adapters[%d]' % (mf, k), 2)
                                  for k, a in enumerate(ctx.seq(m.get('adapters'), mf + '.adapters')))
        inst['domains'] = sorted(ctx.hexnum(d, '%s.domains[%d]' % (mf, k), 4)
                                 for k, d in enumerate(ctx.seq(m.get('domains'), mf + '.domains')))
        inst['control_domains'] = sorted(
            ctx.hexnum(d, '%s.control_domains[%d]' % (mf, k), 4)
            for k, d in enumerate(ctx.seq(m.get('control_domains'), mf + '.control_domains')))
        for a in inst['adapters']:
            for d in inst['domains']:
                if queues.get((a, d)) != 'vfio_ap':
                    ctx.fail(mf, 'queue %02x.%04x is not bound to vfio_ap (see ap.queues)' % (a, d))
    return {'cards': cards, 'queues': queues, 'mdev': mdev,
            'apmask': ctx.text(spec.get('apmask'), 'ap.apmask'), 'aqmask': ctx.text(spec.get('aqmask'), 'ap.aqmask')}


def _norm_kernel_config(ctx, entry):
    """``{CONFIG_NAME: 'y' | 'm' | 'n'}`` written to ``boot/config-<kernel>``, or ``None`` (no file)."""
    if entry is None:
        return None
    out = {}
    for key, value in ctx.mapping(entry, 'kernel_config', _AnyKeys()).items():
        if not (isinstance(key, str) and key.startswith('CONFIG_')):
            ctx.fail('kernel_config', 'option names start with CONFIG_, got %r' % (key,))
        out[key] = ctx.choice(value, 'kernel_config.' + key, ('y', 'm', 'n'), None)
    return out


def _norm_device_options(ctx, entry, field):
    """``{property: value}`` added to every ``-device`` of the VM (``x-device-dirty-page-tracking: 'off'``)."""
    return dict((ctx.text(key, field, allow_empty=False), ctx.text(value, '%s.%s' % (field, key), allow_empty=False))
                for key, value in ctx.mapping(entry, field, _AnyKeys()).items())


def _norm_vms(ctx, entries):
    vms = {}
    for i, entry in enumerate(entries):
        field = _join('vms', i)
        entry = ctx.mapping(entry, field, _VM_KEYS, required=('name',))
        name = ctx.text(entry['name'], field + '.name', allow_empty=False)
        if name in vms:
            ctx.fail(field + '.name', 'VM %r is listed twice' % name)
        cmdline = entry.get('cmdline')
        if cmdline is not None:
            cmdline = [ctx.text(a, '%s.cmdline[%d]' % (field, k)) for k, a in enumerate(ctx.seq(cmdline, field + '.cmdline'))]
        vms[name] = {'name': name, 'pid': ctx.integer(entry.get('pid'), field + '.pid', None, minimum=2, maximum=4194304),
                     'machine': ctx.text(entry.get('machine'), field + '.machine'),
                     'device_options': _norm_device_options(ctx, entry.get('device_options'), field + '.device_options'),
                     'name_style': ctx.choice(entry.get('name_style'), field + '.name_style',
                                              ('guest', 'plain', 'none'), 'guest'),
                     'iommufd': ctx.boolean(entry.get('iommufd'), field + '.iommufd', None),
                     'qemu': ctx.text(entry.get('qemu'), field + '.qemu'), 'cmdline': cmdline,
                     'comm': ctx.text(entry.get('comm'), field + '.comm'), 'field': field, 'devices': []}
    return vms


def _norm_processes(ctx, entries):
    out = []
    for i, entry in enumerate(entries):
        field = _join('processes', i)
        entry = ctx.mapping(entry, field, _PROC_KEYS, required=('pid', 'comm'))
        cmd = [ctx.text(a, '%s.cmdline[%d]' % (field, k)) for k, a in enumerate(ctx.seq(entry.get('cmdline'), field + '.cmdline'))]
        fds = {}
        for key, target in ctx.mapping(entry.get('fds'), field + '.fds', _AnyKeys()).items():
            fds[ctx.integer(key, field + '.fds', minimum=0)] = ctx.text(target, '%s.fds.%s' % (field, key), allow_empty=False)
        out.append({'pid': ctx.integer(entry['pid'], field + '.pid', minimum=1, maximum=4194304),
                    'comm': ctx.text(entry['comm'], field + '.comm'), 'cmdline': cmd, 'fds': fds, 'field': field})
    return out


def _norm_broken(ctx, value):
    spec = ctx.mapping(value, 'broken', _BROKEN_KEYS)
    out = {}
    for key in _BROKEN_KEYS:
        items = [ctx.text(v, 'broken.%s[%d]' % (key, k)) for k, v in enumerate(ctx.seq(spec.get(key), 'broken.' + key))]
        out[key] = items
    return out


def _finish(ctx, model):
    """Cross-field checks and derived numbers, in the order the kernel would create things."""
    _place_pci(ctx, model)
    next_group = _number_groups(ctx, model)
    _collect_mdevs(ctx, model, next_group)
    _index_vfio_devices(model)
    _place_vms(ctx, model)
    _check_broken(ctx, model)


def _place_pci(ctx, model):
    """Put functions off their root bus below a PCIe root port (auto-numbered unless given);
    VFs sit beside their PF."""
    functions = {fn['addr']: fn for fn in model['pci']}
    for fn in model['pci']:
        if _vfio_driver(fn['driver']) and not model['iommu']:
            ctx.fail(fn['field'] + '.driver', '%s needs an IOMMU group, but iommu is disabled' % fn['driver'])
        if fn['vm'] and not _vfio_driver(fn['driver']):
            ctx.fail(fn['field'] + '.vm', 'only a function bound to a VFIO driver can be used by a VM (driver is %r)'
                     % fn['driver'])
    auto = {}
    for fn in model['pci']:
        if fn['is_vf']:
            continue
        dom, rid = _rid(fn['addr'])
        if fn['root'] is None:
            fn['root'] = 0
        if (rid >> 8) == fn['root']:
            if fn['port']:
                ctx.fail(fn['field'] + '.port', 'the function is on its root bus %02x: it has no port' % fn['root'])
        elif fn['port'] is None:
            auto.setdefault((dom, fn['root'], rid >> 8), []).append(fn)
    slots = {}
    for dom, root, bus in sorted(auto):
        n = slots.get((dom, root), 0)
        slots[(dom, root)] = n + 1
        if n >= 31 * 8:
            ctx.fail('pci', 'more than %d buses below root bus %02x: give some functions a root' % (31 * 8, root))
        # root ports at <root>:01.0, 02.0 ... 1f.0, then further functions of those slots
        for fn in auto[(dom, root, bus)]:
            fn['port'] = '%04x:%02x:%02x.%d' % (dom, root, 1 + n % 31, n // 31)
    ports = {}
    for fn in model['pci']:
        if fn['is_vf']:
            fn['root'], fn['port'] = functions[fn['pf']]['root'], functions[fn['pf']]['port']
        if not fn['port'] or fn['port'] in ports:
            continue
        if fn['port'] in functions:
            ctx.fail(fn['field'] + '.port', 'port %s is also listed as a device' % fn['port'])
        if (_rid(fn['port'])[1] >> 8) != fn['root']:
            ctx.fail(fn['field'] + '.port', 'port %s is not on root bus %02x' % (fn['port'], fn['root']))
        ports[fn['port']] = {
            'addr': fn['port'], 'vendor': 0x8086, 'device': 0x2030, 'svendor': 0x8086, 'sdevice': 0x0000,
            'class': 0x060400, 'rev': 0x04, 'numa': fn['numa'], 'driver': 'pcieport',
            'driver_override': None, 'group': None, 'root': fn['root'], 'port': None, 'vm': None,
            'is_vf': False, 'pf': None, 'vf_index': None, 'sriov': None, 'mdev': None,
            'vgpu_current': None, 'vgpu_creatable': None, 'field': 'bridge ' + fn['port'], 'bridge': True}
    model['bridges'] = [ports[k] for k in sorted(ports)]
    model['all_pci'] = sorted(model['pci'] + model['bridges'], key=lambda f: _rid(f['addr']))


def _number_groups(ctx, model):
    """IOMMU groups: explicit numbers kept, the rest numbered in address order; returns the
    next free number (emulated mdev groups come after)."""
    every = model['all_pci']
    if not model['iommu']:
        for f in every:
            if f['group'] is not None:
                ctx.fail(f['field'] + '.group', 'iommu is disabled: no IOMMU groups')
        return 0
    taken = set(f['group'] for f in every if f['group'] is not None)
    number = 0
    for f in every:
        if f['group'] is None:
            while number in taken:
                number += 1
            f['group'] = number
            taken.add(number)
    return max(taken) + 1 if taken else 0


def _collect_mdevs(ctx, model, next_group):
    """mdev parents in a fixed order (PCI, virtual, css, ap), instance UUIDs and groups."""
    parents = [{'kind': 'pci', 'name': fn['addr'], 'mdev': fn['mdev']} for fn in model['pci'] if fn['mdev']]
    parents += [{'kind': 'virtual', 'name': p['name'], 'virtual': p, 'mdev': p['mdev']} for p in model['mdev_parents']]
    parents += [{'kind': 'css', 'name': sch['id'], 'mdev': sch['mdev']} for sch in model['css'] if sch['mdev']]
    if model['ap']:
        parents.append({'kind': 'ap', 'name': 'matrix', 'mdev': model['ap']['mdev']})
    names = set()
    for p in parents:
        if p['name'] in names:
            ctx.fail(p['mdev']['field'], 'mdev parent name %r is used twice' % p['name'])
        names.add(p['name'])
    uuids = {}
    instances = []
    for p in parents:
        for inst in p['mdev']['instances']:
            if inst['uuid'] is None:
                inst['uuid'] = _uuid(model['host'], p['name'], inst['type'], inst['index'])
            if inst['uuid'] in uuids:
                ctx.fail(inst['field'] + '.uuid', 'UUID %s is used twice (also %s)' % (inst['uuid'], uuids[inst['uuid']]))
            uuids[inst['uuid']] = inst['field']
            inst['parent'] = p
            inst['driver'] = inst['driver'] or p['mdev']['driver']
            instances.append(inst)
    # creation order: by parent, then UUID; each instance gets the next emulated group
    instances.sort(key=lambda x: (x['parent']['name'], x['uuid']))
    for number, inst in enumerate(instances, next_group):
        inst['group'] = number
    model['parents'] = parents
    model['instances'] = instances


def _index_vfio_devices(model):
    """vfio-dev/vfioN numbering, in registration order: PCI functions by address, then mdevs."""
    devices = [('pci', fn) for fn in sorted(model['pci'], key=lambda f: _rid(f['addr'])) if _vfio_driver(fn['driver'])]
    devices += [('mdev', inst) for inst in model['instances']]
    for fn in model['pci']:
        fn['vfio_index'] = None
    for index, (_kind, obj) in enumerate(devices):
        obj['vfio_index'] = index
    model['vfio_devices'] = devices


def _place_vms(ctx, model):
    """VMs are declared in vms or named by a device; each gets a pid (from 2000, by name)."""
    vms = model['vms']
    for kind, obj in model['vfio_devices']:
        name = obj['vm']
        if not name:
            continue
        if name not in vms:
            vms[name] = {'name': name, 'pid': None, 'name_style': 'guest', 'iommufd': None, 'qemu': None,
                         'cmdline': None, 'comm': None, 'machine': None, 'device_options': {},
                         'field': obj['field'], 'devices': []}
        vms[name]['devices'].append((kind, obj))
    pids = {}
    for p in model['processes']:
        if p['pid'] in pids:
            ctx.fail(p['field'] + '.pid', 'pid %d is used twice' % p['pid'])
        pids[p['pid']] = p['field']
    next_pid = 2000
    for name in sorted(vms):
        vm = vms[name]
        if vm['iommufd'] is None:
            vm['iommufd'] = model['vfio_cdev']
        if vm['iommufd'] and not model['vfio_cdev']:
            ctx.fail(vm['field'] + '.iommufd', 'the VM opens VFIO cdevs but vfio_cdev is off for this host')
        if vm['pid'] is None:
            while next_pid in pids:
                next_pid += 1
            vm['pid'] = next_pid
            next_pid += 11
        if vm['pid'] in pids:
            ctx.fail(vm['field'] + '.pid', 'pid %d is used twice (also %s)' % (vm['pid'], pids[vm['pid']]))
        pids[vm['pid']] = vm['field']
    model['vm_list'] = sorted(vms.values(), key=lambda vm: vm['pid'])


def _check_broken(ctx, model):
    known = set(fn['addr'] for fn in model['pci']) | set(inst['uuid'] for inst in model['instances'])
    for key, items in model['broken'].items():
        for k, spec in enumerate(items):
            field = 'broken.%s[%d]' % (key, k)
            if key in ('fd_to_missing_group', 'kernel_thread'):
                if not spec.partition(':')[0].isdigit():
                    ctx.fail(field, 'expected a pid first, got %r' % spec)
                continue
            if key in ('dangling_driver', 'link_loop', 'dangling_mdev_type', 'dangling_physfn'):
                ref = spec
            elif '/' not in spec.strip('/'):
                ctx.fail(field, 'expected <device>/<file>, got %r' % spec)
            else:
                ref = spec.split('/', 1)[0]
            if ref.lower() not in known:
                ctx.fail(field, '%r is not a PCI address or mdev UUID of this host' % ref)


# ---------------------------------------------------------------------------------------------
# tree writer
# ---------------------------------------------------------------------------------------------

class _Tree(object):
    """Writes files, directories and symbolic links below one root; paths are relative."""

    def __init__(self, root):
        self.root = root
        self._dirs = set()

    def _abs(self, rel):
        return os.path.join(self.root, rel)

    def mkdir(self, rel):
        if rel in self._dirs:
            return
        os.makedirs(self._abs(rel), exist_ok=True)
        parts = rel.split('/')
        for i in range(1, len(parts) + 1):
            self._dirs.add('/'.join(parts[:i]))

    def write(self, rel, content, mode=0o444):
        parent = os.path.dirname(rel)
        if parent:
            self.mkdir(parent)
        data = content.encode('utf-8') if isinstance(content, str) else content
        fd = os.open(self._abs(rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            if data:
                os.write(fd, data)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def attr(self, rel, value, mode=0o444):
        """A sysfs attribute: one value and a newline."""
        self.write(rel, '%s\n' % (value,), mode)

    def link(self, rel, target_rel):
        """A relative symbolic link from ``rel`` to ``target_rel`` (both below the root)."""
        parent = os.path.dirname(rel)
        if parent:
            self.mkdir(parent)
        os.symlink(_relative(target_rel, parent), self._abs(rel))

    def rawlink(self, rel, target):
        parent = os.path.dirname(rel)
        if parent:
            self.mkdir(parent)
        os.symlink(target, self._abs(rel))


def _relative(target, start):
    """The relative target sysfs writes for a link in directory ``start`` (fs/kernfs/symlink.c,
    kernfs_get_target_path): climb until the directory is an ancestor of the target's *parent*,
    then descend, so a link to an ancestor still names it (``vfio-dev/vfio0/device`` reads
    ``../../../0000:00:01.1``, not ``../..``)."""
    t = target.split('/')
    b = start.split('/') if start else []
    n = 0
    for x, y in zip(t[:-1], b):
        if x != y:
            break
        n += 1
    return '/'.join(['..'] * (len(b) - n) + t[n:])


def _srcversion(*parts):
    return hashlib.sha1('/'.join(parts).encode('utf-8')).hexdigest()[:23].upper()


def _pci_config(fn):
    cfg = bytearray(256)
    struct.pack_into('<HHHHB', cfg, 0, fn['vendor'], fn['device'], 0x0406 if fn['driver'] else 0, 0x0010, fn['rev'])
    cfg[9] = fn['class'] & 0xff
    cfg[10] = (fn['class'] >> 8) & 0xff
    cfg[11] = (fn['class'] >> 16) & 0xff
    cfg[14] = 0x01 if fn.get('bridge') else 0x00
    if not fn.get('bridge'):
        struct.pack_into('<HH', cfg, 0x2c, fn['svendor'], fn['sdevice'])
    caps, ext = fn.get('caps') or [], fn.get('ext_caps') or []
    if caps:
        cfg[0x34] = caps[0][1]
    for index, (cap_id, offset) in enumerate(caps):
        cfg[offset] = cap_id
        cfg[offset + 1] = caps[index + 1][1] if index + 1 < len(caps) else 0
    if ext:
        cfg.extend(bytes(4096 - len(cfg)))
    for index, (cap_id, offset) in enumerate(ext):
        nxt = ext[index + 1][1] if index + 1 < len(ext) else 0
        struct.pack_into('<I', cfg, offset, cap_id | (1 << 16) | (nxt << 20))
    return bytes(cfg)


def _cpulist(model, numa):
    per = max(1, model['cpus'] // 2)
    if numa < 0:
        return '0-%d' % (model['cpus'] - 1)
    start = (numa % 2) * per
    return '%d-%d' % (start, start + per - 1)


class _Builder(object):
    def __init__(self, model, root):
        self.m = model
        self.t = _Tree(root)
        self.dev_paths = {}     # PCI addr -> sys-relative device dir
        self.drivers = {}       # (bus, driver) -> [device dirs]
        self.groups = {}        # group number -> {'devices': [dirs], 'emulated': bool}
        self.modules = set()
        self.inode = 40000

    # -- helpers -------------------------------------------------------------------------
    def _next_inode(self):
        self.inode += 7
        return self.inode

    def _bind(self, bus, driver, dev_dir):
        self.drivers.setdefault((bus, driver), []).append(dev_dir)
        self.t.link(dev_dir + '/driver', 'sys/bus/%s/drivers/%s' % (bus, driver))
        if driver not in _BUILTIN_DRIVERS:
            self.modules.add(_module_of(driver))

    def _group(self, number, dev_dir, emulated=False):
        g = self.groups.setdefault(number, {'devices': [], 'emulated': emulated})
        g['devices'].append(dev_dir)
        self.t.link(dev_dir + '/iommu_group', 'sys/kernel/iommu_groups/%d' % number)

    def _vfio_dev(self, dev_dir, index):
        vdir = '%s/vfio-dev/vfio%d' % (dev_dir, index)
        self.t.mkdir(vdir)
        uevent = ''  # no device node without CONFIG_VFIO_DEVICE_CDEV (Debian's kernels)
        if self.m['vfio_cdev']:
            self.t.attr(vdir + '/dev', '511:%d' % index)
            uevent = 'MAJOR=511\nMINOR=%d\nDEVNAME=vfio/devices/vfio%d\n' % (index, index)
        self.t.write(vdir + '/uevent', uevent, 0o644)
        self.t.link(vdir + '/subsystem', 'sys/class/vfio-dev')
        self.t.link(vdir + '/device', dev_dir)
        self.t.link('sys/class/vfio-dev/vfio%d' % index, vdir)
        self.modules.update(('vfio',))

    # -- PCI -----------------------------------------------------------------------------
    def pci(self):
        t = self.t
        roots = set()
        for f in self.m['all_pci']:
            root = 'sys/devices/pci%04x:%02x' % (_rid(f['addr'])[0], f['root'])
            roots.add(root)
            if f['is_vf']:
                base = os.path.dirname(self.dev_paths[f['pf']])
            elif f['port']:
                base = self.dev_paths[f['port']]
            else:
                base = root
            self.dev_paths[f['addr']] = base + '/' + f['addr']
        for root in sorted(roots):
            t.mkdir(root)
            t.write(root + '/uevent', '', 0o644)
        # parents before children: bridges sort first because their bus is the root bus
        for f in sorted(self.m['all_pci'], key=lambda f: (f['is_vf'], _rid(f['addr']))):
            self._pci_function(f)

    def _pci_function(self, f):
        t = self.t
        d = self.dev_paths[f['addr']]
        t.mkdir(d)
        t.attr(d + '/vendor', '0x%04x' % f['vendor'])
        t.attr(d + '/device', '0x%04x' % f['device'])
        t.attr(d + '/subsystem_vendor', '0x%04x' % f['svendor'])
        t.attr(d + '/subsystem_device', '0x%04x' % f['sdevice'])
        t.attr(d + '/class', '0x%06x' % f['class'])
        t.attr(d + '/revision', '0x%02x' % f['rev'])
        t.attr(d + '/numa_node', '%d' % f['numa'], 0o644)
        t.attr(d + '/driver_override', f['driver_override'] or '(null)', 0o644)
        t.attr(d + '/enable', '1' if f['driver'] else '0', 0o600)
        t.attr(d + '/irq', '%d' % (16 + (_rid(f['addr'])[1] % 200)))
        t.attr(d + '/local_cpulist', _cpulist(self.m, f['numa']))
        t.attr(d + '/broken_parity_status', '0', 0o644)
        t.write(d + '/config', _pci_config(f), 0o644)
        modalias = 'pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X' % (
            f['vendor'], f['device'], f['svendor'], f['sdevice'], f['class'] >> 16, (f['class'] >> 8) & 0xff,
            f['class'] & 0xff)
        t.attr(d + '/modalias', modalias)
        uevent = ''
        if f['driver']:
            uevent += 'DRIVER=%s\n' % f['driver']
        uevent += 'PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n' % (
            f['class'], f['vendor'], f['device'], f['svendor'], f['sdevice'], f['addr'], modalias)
        t.write(d + '/uevent', uevent, 0o644)
        for name in ('remove', 'rescan', 'reset'):
            t.write(d + '/' + name, '', 0o200)
        t.link(d + '/subsystem', 'sys/bus/pci')
        t.link('sys/bus/pci/devices/' + f['addr'], d)
        if f['driver']:
            self._bind('pci', f['driver'], d)
        if self.m['iommu'] and f['group'] is not None:
            self._group(f['group'], d)
            if self.m['arch'] == 'x86_64':  # the DMAR unit translating for it (intel-iommu)
                t.link(d + '/iommu', 'sys/devices/virtual/iommu/dmar0')
                t.link('sys/devices/virtual/iommu/dmar0/devices/' + f['addr'], d)
        if f['sriov']:
            s = f['sriov']
            t.attr(d + '/sriov_totalvfs', '%d' % s['total'])
            t.attr(d + '/sriov_numvfs', '%d' % s['num'], 0o644)
            t.attr(d + '/sriov_offset', '%d' % s['offset'])
            t.attr(d + '/sriov_stride', '%d' % s['stride'])
            t.attr(d + '/sriov_vf_device', '%x' % s['vf_device'])
            t.attr(d + '/sriov_drivers_autoprobe', '1' if s['autoprobe'] else '0', 0o644)
            dom, rid = _rid(f['addr'])
            for i in range(s['num']):
                vf_addr = _addr_of(dom, rid + s['offset'] + s['stride'] * i)
                t.link('%s/virtfn%d' % (d, i), self.dev_paths[vf_addr])
        if f['is_vf']:
            t.link(d + '/physfn', self.dev_paths[f['pf']])
        if f['vgpu_current'] is not None:
            pf = next(p for p in self.m['pci'] if p['addr'] == f['pf'])
            types = pf['vgpu']['types']
            lines = ['ID    : vGPU Name'] + ['%-6d: %s' % (tid, types[tid]) for tid in f['vgpu_creatable']]
            t.write(d + '/nvidia/creatable_vgpu_types', '\n'.join(lines) + '\n', 0o444)
            t.attr(d + '/nvidia/current_vgpu_type', '%d' % f['vgpu_current'], 0o644)
            if f['vgpu_current']:
                t.write(d + '/nvidia/vgpu_params', pf['vgpu']['params'], 0o644)
        if f.get('vfio_index') is not None:
            self._vfio_dev(d, f['vfio_index'])

    # -- mdev ----------------------------------------------------------------------------
    def mdev(self):
        for p in self.m['parents']:
            if p['kind'] == 'pci':
                pdir = self.dev_paths[p['name']]
            elif p['kind'] == 'virtual':
                pdir = 'sys/devices/' + p['virtual']['path']
            elif p['kind'] == 'css':
                pdir = 'sys/devices/css0/' + p['name']
            else:
                pdir = 'sys/devices/vfio_ap/matrix'
            p['dir'] = pdir
            self._mdev_parent(p, pdir)

    def _mdev_parent(self, p, pdir):
        t = self.t
        mdev = p['mdev']
        t.mkdir(pdir)
        t.link('sys/class/mdev_bus/' + p['name'], pdir)
        if p['kind'] == 'virtual':
            # a class device without a driver (samples/vfio-mdev/mtty.c: class "mtty", device "mtty")
            v = p['virtual']
            t.write(pdir + '/uevent', '', 0o644)
            if v['class']:
                t.link('sys/class/%s/%s' % (v['class'], p['name']), pdir)
                t.link(pdir + '/subsystem', 'sys/class/' + v['class'])
        self.modules.update(('mdev', 'vfio'))
        available = _available(mdev)
        for type_id in sorted(mdev['types']):
            spec = mdev['types'][type_id]
            tdir = '%s/mdev_supported_types/%s' % (pdir, type_id)
            t.mkdir(tdir + '/devices')
            t.write(tdir + '/create', '', 0o200)
            t.attr(tdir + '/device_api', spec['device_api'])
            t.attr(tdir + '/name', spec['name'] if spec['name'] is not None else type_id[len(mdev['prefix']) + 1:])
            t.attr(tdir + '/available_instances', '%d' % available[type_id])
            if spec['description'] is not None:
                t.attr(tdir + '/description', spec['description'])
        for inst in sorted(mdev['instances'], key=lambda i: i['uuid']):
            idir = '%s/%s' % (pdir, inst['uuid'])
            tdir = '%s/mdev_supported_types/%s' % (pdir, inst['type'])
            inst['dir'] = idir
            t.mkdir(idir)
            t.link(idir + '/mdev_type', tdir)
            t.link(tdir + '/devices/' + inst['uuid'], idir)
            t.write(idir + '/remove', '', 0o200)
            t.link(idir + '/subsystem', 'sys/bus/mdev')
            t.write(idir + '/uevent', 'DRIVER=%s\n' % inst['driver'], 0o644)
            t.link('sys/bus/mdev/devices/' + inst['uuid'], idir)
            self._bind('mdev', inst['driver'], idir)
            self._group(inst['group'], idir, emulated=True)
            self._vfio_dev(idir, inst['vfio_index'])
            files = dict(inst['files'])
            if mdev['prefix'] == 'nvidia':
                files.setdefault('nvidia/vgpu_params', '')
            if inst['driver'] == 'mtty':  # samples/vfio-mdev/mtty.c: attribute group "vendor"
                files.setdefault('vendor/sample_mdev_dev', 'This is MDEV %s\n' % inst['uuid'])
            if p['kind'] == 'ap':
                self._ap_instance(idir, inst)
            for rel in sorted(files):
                t.write('%s/%s' % (idir, rel), files[rel], 0o644)

    def _ap_instance(self, idir, inst):
        t = self.t
        for name in ('assign_adapter', 'unassign_adapter', 'assign_domain', 'unassign_domain',
                     'assign_control_domain', 'unassign_control_domain'):
            t.write('%s/%s' % (idir, name), '', 0o200)
        matrix = ''.join('%02x.%04x\n' % (a, d) for a in inst['adapters'] for d in inst['domains'])
        if not inst['domains']:
            matrix = ''.join('%02x.\n' % a for a in inst['adapters'])
        elif not inst['adapters']:
            matrix = ''.join('.%04x\n' % d for d in inst['domains'])
        t.write(idir + '/matrix', matrix, 0o444)
        t.write(idir + '/guest_matrix', matrix if inst['vm'] else '', 0o444)
        t.write(idir + '/control_domains', ''.join('%04x\n' % d for d in inst['control_domains']), 0o444)

    # -- s390 ----------------------------------------------------------------------------
    def css(self):
        if not self.m['css']:
            return
        t = self.t
        t.mkdir('sys/devices/css0')
        t.write('sys/devices/css0/uevent', '', 0o644)
        for sch in self.m['css']:
            d = 'sys/devices/css0/' + sch['id']
            t.mkdir(d)
            t.attr(d + '/type', '%01x' % sch['type'])
            t.attr(d + '/modalias', 'css:t%01X' % sch['type'])
            t.attr(d + '/driver_override', '(null)', 0o644)
            t.write(d + '/uevent', 'DRIVER=%s\nST=%X\nMODALIAS=css:t%01X\n' % (sch['driver'], sch['type'], sch['type']), 0o644)
            t.link(d + '/subsystem', 'sys/bus/css')
            t.link('sys/bus/css/devices/' + sch['id'], d)
            self._bind('css', sch['driver'], d)
            if sch['ccw']:
                cd = d + '/' + sch['ccw']
                t.mkdir(cd)
                t.attr(cd + '/online', '1', 0o644)
                t.attr(cd + '/cutype', '3990/e9')
                t.attr(cd + '/devtype', '3390/0c')
                t.link(cd + '/subsystem', 'sys/bus/ccw')
                t.link('sys/bus/ccw/devices/' + sch['ccw'], cd)
                self._bind('ccw', 'dasd-eckd', cd)

    def ap(self):
        ap = self.m['ap']
        if not ap:
            return
        t = self.t
        t.mkdir('sys/devices/ap')
        for cid in sorted(ap['cards']):
            card = ap['cards'][cid]
            d = 'sys/devices/ap/card%02x' % cid
            t.mkdir(d)
            t.attr(d + '/type', card['type'])
            t.attr(d + '/hwtype', '%d' % card['hwtype'])
            t.attr(d + '/online', '1', 0o644)
            t.link(d + '/subsystem', 'sys/bus/ap')
            t.link('sys/bus/ap/devices/card%02x' % cid, d)
            self._bind('ap', card['driver'], d)
        for (cid, dom) in sorted(ap['queues']):
            d = 'sys/devices/ap/card%02x/%02x.%04x' % (cid, cid, dom)
            t.mkdir(d)
            t.attr(d + '/online', '1', 0o644)
            t.link(d + '/subsystem', 'sys/bus/ap')
            t.link('sys/bus/ap/devices/%02x.%04x' % (cid, dom), d)
            self._bind('ap', ap['queues'][(cid, dom)], d)
        # apmask/aqmask: 256 bits, bit 0 leftmost (ap_bus.c); by default an adapter whose queues
        # are all bound to vfio_ap has its bit cleared, every domain stays set
        bits = ['1'] * 256
        for cid in ap['cards']:
            drivers = [drv for (card, _dom), drv in ap['queues'].items() if card == cid]
            if drivers and all(drv == 'vfio_ap' for drv in drivers):
                bits[cid] = '0'
        apmask = ap['apmask'] or '0x%064x' % int(''.join(bits), 2)
        aqmask = ap['aqmask'] or '0x' + 'f' * 64
        t.attr('sys/bus/ap/apmask', apmask, 0o644)
        t.attr('sys/bus/ap/aqmask', aqmask, 0o644)
        # the vfio_ap root device and its matrix device on the "matrix" bus (vfio_ap_drv.c)
        md = 'sys/devices/vfio_ap/matrix'
        t.mkdir(md)
        t.write('sys/devices/vfio_ap/uevent', '', 0o644)
        t.write(md + '/uevent', 'DRIVER=vfio_ap\n', 0o644)
        t.link(md + '/subsystem', 'sys/bus/matrix')
        t.link('sys/bus/matrix/devices/matrix', md)
        self._bind('matrix', 'vfio_ap', md)

    # -- groups, drivers, modules, class views ------------------------------------------
    def finish_sys(self):
        t = self.t
        t.mkdir('sys/kernel/iommu_groups')
        t.mkdir('sys/bus/pci/devices')
        t.mkdir('sys/bus/pci/drivers')
        t.write('sys/bus/pci/drivers_probe', '', 0o200)  # drivers/base/bus.c: write-only
        if self.m['iommu'] and self.m['arch'] == 'x86_64':
            dmar = 'sys/devices/virtual/iommu/dmar0'
            t.mkdir(dmar + '/devices')
            t.mkdir(dmar + '/intel-iommu')
            t.write(dmar + '/uevent', '', 0o644)
            t.link(dmar + '/subsystem', 'sys/class/iommu')
            t.link('sys/class/iommu/dmar0', dmar)
        vfio_groups = set(obj['group'] for _kind, obj in self.m['vfio_devices'])
        for number in sorted(self.groups):
            g = self.groups[number]
            gd = 'sys/kernel/iommu_groups/%d' % number
            t.mkdir(gd + '/devices')
            if g['emulated']:
                t.attr(gd + '/type', 'unknown')
                t.attr(gd + '/name', 'vfio-noiommu')
            else:
                t.attr(gd + '/type', self.m['iommu_domain'], 0o644)
            t.write(gd + '/reserved_regions', '0x00000000fee00000 0x00000000feefffff msi\n'
                    if not g['emulated'] and self.m['arch'] == 'x86_64' else '', 0o444)
            for dev_dir in sorted(g['devices']):
                t.link('%s/devices/%s' % (gd, os.path.basename(dev_dir)), dev_dir)
        for (bus, driver) in sorted(self.drivers):
            dd = 'sys/bus/%s/drivers/%s' % (bus, driver)
            t.mkdir(dd)
            for name in ('bind', 'unbind', 'uevent'):
                t.write('%s/%s' % (dd, name), '', 0o200)
            if bus == 'pci':
                t.write(dd + '/new_id', '', 0o200)
                t.write(dd + '/remove_id', '', 0o200)
            if driver not in _BUILTIN_DRIVERS:
                t.link(dd + '/module', 'sys/module/' + _module_of(driver))
            for dev_dir in sorted(self.drivers[(bus, driver)]):
                t.link('%s/%s' % (dd, os.path.basename(dev_dir)), dev_dir)
        # legacy VFIO group character devices (class "vfio") and the container (misc "vfio")
        if self.m['vfio_devices']:
            for number in sorted(vfio_groups):
                gd = 'sys/devices/virtual/vfio/%d' % number
                t.mkdir(gd)
                t.attr(gd + '/dev', '%d:%d' % (242, number))
                t.write(gd + '/uevent', 'MAJOR=242\nMINOR=%d\nDEVNAME=vfio/%d\n' % (number, number), 0o644)
                t.link(gd + '/subsystem', 'sys/class/vfio')
                t.link('sys/class/vfio/%d' % number, gd)
            md = 'sys/devices/virtual/misc/vfio'
            t.mkdir(md)
            t.attr(md + '/dev', '10:196')
            t.write(md + '/uevent', 'MAJOR=10\nMINOR=196\nDEVNAME=vfio/vfio\n', 0o644)
            t.link(md + '/subsystem', 'sys/class/misc')
            t.link('sys/class/misc/vfio', md)
            self.modules.update(('vfio', 'vfio_iommu_type1'))
            if self.m['vfio_cdev']:
                self.modules.add('iommufd')
        self._modules()

    def _modules(self):
        """sys/module/<m> as for a loaded module: ``version`` and ``srcversion`` only where the
        module declares MODULE_VERSION (modpost adds srcversion only then), ``drivers/`` links
        ``<bus>:<driver>`` back to the drivers it registered."""
        t = self.t
        given = self.m['modules']
        drivers_of = {}
        for (bus, driver) in self.drivers:
            if driver not in _BUILTIN_DRIVERS:
                drivers_of.setdefault(_module_of(driver), []).append((bus, driver))
        for name in sorted(self.modules | set(given)):
            spec = given.get(name, {})
            d = 'sys/module/' + name
            t.mkdir(d)
            for param, value in sorted(_MODULE_PARAMS.get(name, {}).items()):
                t.attr('%s/parameters/%s' % (d, param), value, 0o644)
            if spec.get('builtin'):
                continue
            t.mkdir(d + '/holders')
            t.attr(d + '/initstate', 'live')
            t.attr(d + '/refcnt', '%d' % len(drivers_of.get(name, ())))
            t.attr(d + '/coresize', '%d' % (16384 + 4096 * (len(name) % 8)))
            t.attr(d + '/initsize', '0')
            t.write(d + '/uevent', '', 0o200)
            version = spec.get('version') or _MODULE_VERSION.get(name)
            if version:
                t.attr(d + '/version', version)
                t.attr(d + '/srcversion', spec.get('srcversion') or _srcversion(name, version))
            taint = spec.get('taint')
            t.attr(d + '/taint', _OUT_OF_TREE_TAINT.get(name, '') if taint is None else taint)
            for bus, driver in sorted(drivers_of.get(name, ())):
                t.link('%s/drivers/%s:%s' % (d, bus, driver), 'sys/bus/%s/drivers/%s' % (bus, driver))

    # -- proc and dev --------------------------------------------------------------------
    def proc_dev(self):
        t = self.t
        m = self.m
        t.attr('proc/sys/kernel/osrelease', m['kernel'])
        t.attr('proc/cmdline', m['kernel_cmdline'])
        if m['kernel_config'] is not None:
            t.write('boot/config-' + m['kernel'], ''.join(
                '%s=%s\n' % (k, v) if v != 'n' else '# %s is not set\n' % k for k, v in sorted(m['kernel_config'].items())),
                0o644)
        t.mkdir('dev')
        t.write('dev/null', '', 0o666)
        t.write('dev/kvm', '', 0o660)
        if m['vfio_devices']:
            t.write('dev/vfio/vfio', '', 0o666)
            groups = sorted(set(obj['group'] for _kind, obj in m['vfio_devices']))
            for g in groups:
                t.write('dev/vfio/%d' % g, '', 0o600)
            if m['vfio_cdev']:
                t.write('dev/iommu', '', 0o660)
                for _kind, obj in m['vfio_devices']:
                    t.write('dev/vfio/devices/vfio%d' % obj['vfio_index'], '', 0o600)
        procs = [
            {'pid': 1, 'comm': 'systemd', 'cmdline': ['/sbin/init', 'splash'],
             'fds': {0: '/dev/null', 1: '/dev/null', 2: '/dev/null', 3: 'anon_inode:[eventpoll]',
                     4: 'socket:[%d]' % self._next_inode()}},
            {'pid': 812, 'comm': 'sshd', 'cmdline': ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'],
             'fds': {0: '/dev/null', 1: 'socket:[%d]' % self._next_inode(), 2: 'socket:[%d]' % self._next_inode(),
                     3: 'socket:[%d]' % self._next_inode()}},
        ]
        if m['vm_list'] or m['vfio_devices']:
            procs.append({'pid': 1290, 'comm': 'libvirtd', 'cmdline': ['/usr/sbin/libvirtd', '--timeout', '120'],
                          'fds': {0: '/dev/null', 1: 'socket:[%d]' % self._next_inode(),
                                  2: 'socket:[%d]' % self._next_inode(), 3: '/run/libvirt/libvirtd.pid'}})
        taken = set(p['pid'] for p in m['processes']) | set(vm['pid'] for vm in m['vm_list'])
        procs = [p for p in procs if p['pid'] not in taken]
        for vm in m['vm_list']:
            procs.append(self._vm_process(vm))
        for p in m['processes']:
            procs.append(p)
        for p in sorted(procs, key=lambda p: p['pid']):
            self._process(p)

    def _vm_process(self, vm):
        m = self.m
        qemu = vm['qemu'] or _QEMU[m['arch']]
        args = [qemu]
        if vm['name_style'] == 'guest':
            args += ['-name', 'guest=%s,debug-threads=on' % vm['name'].replace(',', ',,')]
        elif vm['name_style'] == 'plain':
            args += ['-name', vm['name']]
        machine = vm['machine'] or {'x86_64': 'pc-q35-8.2', 'aarch64': 'virt-8.2', 's390x': 's390-ccw-virtio-8.2'}[m['arch']]
        args += ['-S', '-machine', machine + {'x86_64': ',usb=off,dump-guest-core=off',
                                              'aarch64': ',usb=off,gic-version=3',
                                              's390x': ',usb=off'}[m['arch']],
                 '-accel', 'kvm', '-m', 'size=8388608k', '-smp', '4,sockets=4,cores=1,threads=1',
                 '-uuid', _uuid(m['host'], 'vm', vm['name']), '-no-user-config', '-nodefaults']
        fds = {0: '/dev/null', 1: 'pipe:[%d]' % self._next_inode(), 2: 'pipe:[%d]' % self._next_inode(),
               3: 'socket:[%d]' % self._next_inode(), 4: 'anon_inode:[eventfd]', 5: '/dev/kvm'}
        fd = 20
        if vm['iommufd']:
            fds[fd] = '/dev/iommu'
            args += ['-object', '{"qom-type":"iommufd","id":"iommufd0","fd":"%d"}' % fd]
            fd += 1
        else:
            fds[fd] = '/dev/vfio/vfio'
            fd += 1
        opened = set()
        for n, (kind, obj) in enumerate(vm['devices']):
            dev = {'driver': 'vfio-pci', 'id': 'hostdev%d' % n}
            if kind == 'pci':
                dev.update({'host': obj['addr'], 'bus': 'pci.%d' % (n + 1), 'addr': '0x0'})
            else:
                api = obj['parent']['mdev']['types'][obj['type']]['device_api']
                dev['driver'] = api if api in ('vfio-ccw', 'vfio-ap') else 'vfio-pci'
                dev['sysfsdev'] = '/sys/bus/mdev/devices/' + obj['uuid']
            if vm['iommufd']:
                fds[fd] = '/dev/vfio/devices/vfio%d' % obj['vfio_index']
                dev.update({'iommufd': 'iommufd0', 'fd': str(fd)})
                fd += 1
            elif obj['group'] not in opened:
                fds[fd] = '/dev/vfio/%d' % obj['group']
                opened.add(obj['group'])
                fd += 1
            dev.update(vm['device_options'])
            args += ['-device', json.dumps(dev, separators=(',', ':'), ensure_ascii=False)]
            fds[fd] = 'anon_inode:[vfio-device]'
            fd += 1
        args += ['-msg', 'timestamp=on']
        if vm['cmdline'] is not None:
            args = vm['cmdline']
        comm = vm['comm'] or os.path.basename(qemu)[:15]
        return {'pid': vm['pid'], 'comm': comm, 'cmdline': args, 'fds': fds}

    def _process(self, p):
        t = self.t
        d = 'proc/%d' % p['pid']
        t.mkdir(d + '/fd')
        data = b''.join(a.encode('utf-8') + b'\0' for a in p['cmdline'])
        t.write(d + '/cmdline', data, 0o444)
        t.write(d + '/comm', (p['comm'] + '\n').encode('utf-8'), 0o644)
        t.write(d + '/status', 'Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n'
                % (p['comm'], p['pid'], p['pid'], 0 if p['pid'] == 1 else 1), 0o444)
        for fd in sorted(p['fds']):
            t.rawlink('%s/fd/%d' % (d, fd), p['fds'][fd])

    # -- deliberate damage (broken-links host) ------------------------------------------
    def breakage(self):
        b = self.m['broken']
        t = self.t

        def device_dir(ref):
            if ref in self.dev_paths:
                return self.dev_paths[ref]
            for inst in self.m['instances']:
                if inst['uuid'] == ref:
                    return inst['dir']
            raise DescriptionError('%s: broken: %r is not a PCI address or mdev UUID of this host'
                                   % (self.m['host'], ref))

        def replace(rel):
            path = os.path.join(t.root, rel)
            if os.path.islink(path) or os.path.isfile(path):
                os.unlink(path)
            elif os.path.isdir(path):
                shutil.rmtree(path)
            return path

        for ref in b['dangling_driver']:
            d = device_dir(ref)
            replace(d + '/driver')
            t.link(d + '/driver', 'sys/bus/pci/drivers/vanished_vfio_pci')
        for ref in b['link_loop']:
            d = device_dir(ref)
            replace(d + '/iommu_group')
            t.rawlink(d + '/iommu_group', 'iommu_group')
        for spec in b['dir_instead_of_file']:
            ref, name = spec.rsplit('/', 1)
            d = device_dir(ref)
            replace(d + '/' + name)
            t.mkdir(d + '/' + name)
        for spec in b['unreadable']:
            ref, name = spec.rsplit('/', 1)
            path = os.path.join(t.root, device_dir(ref), name)
            os.chmod(path, 0)
        for spec in b['garbage']:
            # "<device>/<file>=<content>"; content "binary" writes bytes that are not UTF-8
            ref, rest = spec.split('/', 1)
            name, content = (rest.split('=', 1) + [''])[:2]
            data = b'\xff\xfe\x00garbage\n' if content == 'binary' else (content + '\n').encode('utf-8')
            t.write(device_dir(ref) + '/' + name, data, 0o444)
        for ref in b['dangling_mdev_type']:
            d = device_dir(ref)
            replace(d + '/mdev_type')
            t.link(d + '/mdev_type', os.path.dirname(d) + '/mdev_supported_types/gone-1')
        for ref in b['dangling_physfn']:
            d = device_dir(ref)
            replace(d + '/physfn')
            t.link(d + '/physfn', os.path.dirname(d) + '/0000:ff:1f.7')
        for spec in b['fd_to_missing_group']:
            pid, target = (spec.split(':', 1) + [''])[:2]
            t.rawlink('proc/%s/fd/99' % pid, target or '/dev/vfio/999')
        for pid in b['kernel_thread']:
            d = 'proc/%s' % pid
            t.mkdir(d + '/fd')
            t.write(d + '/cmdline', b'', 0o444)
            t.write(d + '/comm', b'kworker/0:1-events\n', 0o644)


# ---------------------------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------------------------

def _rmtree(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def build_host(description, out_dir, source=None):
    """Build one host from a description mapping into ``out_dir/<host>``; return that path.

    The tree is built in a temporary directory beside the old one and swapped in, so a failed
    build leaves the old tree in place and concurrent builds of the same host do not collide.
    """
    model = normalize(description, source)
    os.makedirs(out_dir, exist_ok=True)
    final = os.path.join(out_dir, model['host'])
    tmp = tempfile.mkdtemp(prefix='.%s.building.' % model['host'], dir=out_dir)
    os.chmod(tmp, 0o755)
    try:
        builder = _Builder(model, tmp)
        builder.pci()
        builder.css()
        builder.ap()
        builder.mdev()
        builder.finish_sys()
        builder.proc_dev()
        builder.breakage()
    except BaseException:
        _rmtree(tmp)
        raise
    trash = None
    if os.path.lexists(final):
        trash = tempfile.mkdtemp(prefix='.%s.old.' % model['host'], dir=out_dir)
        try:
            os.rename(final, os.path.join(trash, 'tree'))
        except FileNotFoundError:
            pass
    try:
        os.rename(tmp, final)
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        _rmtree(tmp)  # another build swapped in the same tree meanwhile
    if trash:
        _rmtree(trash)
    return final


def build_all(paths, out_dir):
    """Validate every description first, then build them all; return the built paths."""
    descriptions = []
    hosts = {}
    for path in sorted(paths):
        desc = load_description(path)
        normalize(desc, path)
        host = desc['host']
        if host in hosts:
            raise DescriptionError('%s: host: %r is also described by %s' % (path, host, hosts[host]))
        hosts[host] = path
        descriptions.append((path, desc))
    return [build_host(desc, out_dir, source=path) for path, desc in descriptions]


def large_description(pfs=64, vfs_per_pf=32, mdev_parents=16, types_per_parent=32, instances=512,
                      processes=200, host='large'):
    """A benchmark-sized host: ``pfs`` ConnectX-6 Dx PFs with ``vfs_per_pf`` VFs each (half on
    mlx5_vfio_pci, a quarter on vfio-pci, the rest on mlx5_core), ``mdev_parents`` T4-like GPUs
    with ``types_per_parent`` types each and ``instances`` mdev instances spread over them, and
    ``processes`` processes in all (systemd, sshd, libvirtd, QEMU VMs holding two VFs and up to three
    mdevs each, and plain workers filling up the count)."""
    pci = []
    for i in range(pfs):
        bus = 0x10 + i * 2
        vfs = {}
        for j in range(vfs_per_pf):
            if j < vfs_per_pf // 2:
                vfs[str(j)] = {'driver': 'mlx5_vfio_pci'}
            elif j < vfs_per_pf * 3 // 4:
                vfs[str(j)] = {'driver': 'vfio-pci'}
            else:
                vfs[str(j)] = {'driver': 'mlx5_core'}
        pci.append({'addr': '0000:%02x:00.0' % bus, 'id': '15b3:101d', 'subsys': '15b3:0083', 'class': '020000',
                    'numa': str(i % 2), 'driver': 'mlx5_core',
                    'sriov': {'total': str(vfs_per_pf), 'num': str(vfs_per_pf), 'offset': '1',
                              'vf': {'id': '15b3:101e'}, 'vfs': vfs}})
    per_parent = instances // mdev_parents if mdev_parents else 0
    extra = instances - per_parent * mdev_parents
    for k in range(mdev_parents):
        bus = 0xa0 + k * 2
        types = {}
        for n in range(types_per_parent):
            types['nvidia-%d' % (222 + n)] = {
                'name': 'GRID T4-%dQ' % (n + 1), 'max': str(per_parent + extra),
                'description': 'num_heads=4, frl_config=60, framebuffer=%dM, max_resolution=5120x2880, '
                               'max_instance=%d' % (1024 * (n % 16 + 1), per_parent + extra)}
        count = per_parent + (extra if k == 0 else 0)
        inst = [{'type': 'nvidia-%d' % (222 + (m % types_per_parent))} for m in range(count)]
        pci.append({'addr': '0000:%02x:00.0' % bus, 'id': '10de:1eb8', 'subsys': '10de:12a2', 'class': '030200',
                    'rev': 'a1', 'numa': str(k % 2), 'driver': 'nvidia',
                    'mdev': {'capacity': 'independent', 'types': types, 'instances': inst}})
    desc = {'host': host, 'kernel': '6.1.0-18-amd64', 'pci': pci,
            'modules': {'nvidia': {'version': '550.54.16'}, 'nvidia_vgpu_vfio': {'version': '550.54.16'}}}
    # VMs: each holds two mlx5_vfio_pci VFs and up to three mdevs, until processes are used up
    model = normalize(desc, host)
    vf_users = [fn for fn in model['pci'] if fn['driver'] == 'mlx5_vfio_pci']
    mdev_users = sorted(model['instances'], key=lambda i: (i['parent']['name'], i['uuid']))
    base = 3  # systemd, sshd and libvirtd are always there
    vms = max(0, processes - base - 20) if processes >= base + 40 else max(0, processes - base) // 2
    assigned = {}
    for v in range(vms):
        name = 'vm-%04d' % v
        for fn in vf_users[2 * v:2 * v + 2]:
            assigned.setdefault(fn['addr'], name)
        for inst in mdev_users[3 * v:3 * v + 3]:
            assigned.setdefault(inst['uuid'], name)
    for entry in desc['pci']:
        if 'sriov' in entry:
            dom, rid = _rid(entry['addr'])
            for j in range(vfs_per_pf):
                addr = _addr_of(dom, rid + 1 + j)
                if addr in assigned:
                    entry['sriov']['vfs'][str(j)]['vm'] = assigned[addr]
        if 'mdev' in entry:
            parent = entry['addr']
            for m, inst in enumerate(entry['mdev']['instances']):
                u = _uuid(host, parent, inst['type'], m)
                if u in assigned:
                    inst['vm'] = assigned[u]
    plain = max(0, processes - base - len(set(assigned.values())))
    desc['processes'] = [{'pid': str(3000 + n), 'comm': 'worker-%d' % n,
                          'cmdline': ['/usr/bin/worker', '--id', str(n)],
                          'fds': {'0': '/dev/null', '1': 'pipe:[%d]' % (90000 + n)}} for n in range(plain)]
    return desc


def _cmd_build(args):
    paths = build_all(args.files, args.out)
    for path in paths:
        print(path)
    return 0


def _cmd_check(args):
    for path in sorted(args.files):
        normalize(load_description(path), path)
    print('%d host description(s) valid' % len(args.files))
    return 0


def _cmd_large(args):
    start = time.time()
    desc = large_description(pfs=args.pfs, vfs_per_pf=args.vfs_per_pf, mdev_parents=args.mdev_parents,
                             types_per_parent=args.types, instances=args.instances, processes=args.processes,
                             host=args.host)
    path = build_host(desc, args.out, source='large')
    print('%s (%.1f s)' % (path, time.time() - start))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='simhost.py', description=__doc__.split('\n\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command')
    b = sub.add_parser('build', help='build hosts from YAML descriptions')
    b.add_argument('files', nargs='+', help='host description files (*.yml)')
    b.add_argument('--out', required=True, help='output directory; each host lands in OUT/<host>')
    c = sub.add_parser('check', help='validate host descriptions without building')
    c.add_argument('files', nargs='+')
    lg = sub.add_parser('large', help='build one benchmark-sized host')
    lg.add_argument('--out', required=True)
    lg.add_argument('--host', default='large')
    lg.add_argument('--pfs', type=int, default=64)
    lg.add_argument('--vfs-per-pf', type=int, default=32)
    lg.add_argument('--mdev-parents', type=int, default=16)
    lg.add_argument('--types', type=int, default=32)
    lg.add_argument('--instances', type=int, default=512)
    lg.add_argument('--processes', type=int, default=200)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return {'build': _cmd_build, 'check': _cmd_check, 'large': _cmd_large}[args.command](args)
    except DescriptionError as exc:
        print('simhost: error: %s' % exc, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
