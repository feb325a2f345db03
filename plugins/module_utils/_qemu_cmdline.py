# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The name and machine type of a VM, from its QEMU command line (``/proc/<pid>/cmdline``).

QEMU takes the machine type from ``-machine``/``-M`` (``qemu-options.hx``): as the first,
unnamed option (``-machine pc-q35-8.2,usb=off``, the form libvirt writes), as ``type=``
(``-machine accel=kvm,type=q35``), or in JSON (``-machine {"type": "pc-q35-9.1"}``).
Several ``-machine`` options merge, so the last type given wins.  In option values a
doubled comma stands for a comma (``util/qemu-option.c``).

The machine type matters for migration because QEMU's compatibility properties follow it:
from ``pc-q35-9.1`` on (``hw/core/machine.c`` ``hw_compat_9_0`` turns it off for older
types), vfio-pci's ``skip-vsc-check`` lets a vendor-specific capability's content differ
between source and destination (``hw/vfio/pci.c``).

:func:`assigned_devices` finds the ``-device`` of every assigned device (``vfio-pci,host=...``,
``sysfsdev=...``, or libvirt's JSON form) and keeps the options that decide how QEMU
migrates it (:data:`MIGRATION_OPTIONS`, ``hw/vfio/pci.c``), ``-global vfio-pci.<option>=``
defaults included.
"""

from __future__ import annotations

import json

__all__ = ['machine_type', 'vm_name', 'option_values', 'assigned_devices', 'MIGRATION_OPTIONS']

_MACHINE_FLAGS = ('-machine', '--machine', '-M')
#: vfio-pci properties that change whether and how a device migrates (``hw/vfio/pci.c``).
MIGRATION_OPTIONS = ('enable-migration', 'iommufd', 'x-device-dirty-page-tracking', 'x-pre-copy-dirty-page-tracking')
#: The QEMU device models that assign a host device through VFIO.
VFIO_DRIVERS = ('vfio-pci', 'vfio-pci-nohotplug', 'vfio-ccw', 'vfio-ap')
_MAX_VALUE = 64


def option_values(value):
    """``[(key or None, value)]`` of a QEMU option string; ``,,`` is a literal comma."""
    items = []
    for part in value.replace(',,', '\0').split(','):
        part = part.replace('\0', ',')
        key, sep, val = part.partition('=')
        items.append((key, val) if sep else (None, part))
    return items


def _json_object(value):
    """The mapping of an option given as JSON (``{"driver": ...}``), ``{}`` when it is not one."""
    try:
        doc = json.loads(value)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _type_of(value):
    """The machine type a ``-machine`` value sets, or ``None``."""
    if value.startswith('{'):
        found = _json_object(value).get('type')
        return found if isinstance(found, str) and found else None
    found = None
    for index, (key, val) in enumerate(option_values(value)):
        if key == 'type' or (key is None and index == 0):
            found = val
    return found if found and found not in ('help', '?') else None


def machine_type(cmdline):
    """Machine type named on a NUL-separated QEMU command line (``bytes`` or ``str``), or ``None``.

    ``None`` also when QEMU picks its default machine (no ``-machine``/``-M``).
    """
    if not cmdline:
        return None
    found = None
    for value in _flag_values(_args(cmdline), _MACHINE_FLAGS):
        if value:
            found = _type_of(value) or found
    return found


def vm_name(cmdline):
    """VM name from a NUL-separated QEMU command line (``bytes`` or ``str``), or ``None``.

    Understands ``-name guest=NAME,debug-threads=on``, ``-name NAME``, ``-name=NAME`` and the
    ``--name`` spellings; the first ``-name`` counts.
    """
    if not cmdline:
        return None
    for value in _flag_values(_args(cmdline), ('-name', '--name')):
        for index, (key, val) in enumerate(option_values(value)):
            if key == 'guest' or (key is None and index == 0):
                return val or None
        return None
    return None


def _args(cmdline):
    if isinstance(cmdline, bytes):
        cmdline = cmdline.decode('utf-8', 'replace')
    return cmdline.split('\0')


def _flag_values(args, spellings):
    """The values of ``FLAG VALUE`` and ``FLAG=VALUE`` for the ``spellings`` of a flag, in order."""
    prefixes = tuple(flag + '=' for flag in spellings if flag.startswith('--') or len(flag) > 2)
    for index, arg in enumerate(args):
        if arg in spellings:
            if index + 1 < len(args):
                yield args[index + 1]
        elif prefixes and arg.startswith(prefixes):
            yield arg.split('=', 1)[1]


def _as_text(value):
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def _device_props(value):
    """``(driver, {property: text})`` of a ``-device`` value (QEMU's option syntax or JSON)."""
    if value.startswith('{'):
        props = {}
        for key, item in _json_object(value).items():
            text = _as_text(item)
            if text is not None:
                props[key] = text
        return props.pop('driver', None), props
    items = option_values(value)
    driver = items[0][1] if items and items[0][0] is None else None
    props = dict((k, v) for k, v in items[1:] if k is not None)
    props.pop('driver', None)
    if driver is None:
        driver = dict((k, v) for k, v in items if k is not None).get('driver')
    return driver, props


def _ids(props):
    """The device ids a ``-device``'s properties name: ``host=`` as a full PCI address, ``sysfsdev=``'s last part."""
    ids = []
    host = props.get('host')
    if host:
        host = host.lower()
        ids.append('0000:' + host if host.count(':') == 1 else host)
    sysfsdev = props.get('sysfsdev')
    if sysfsdev:
        ids.append(sysfsdev.rstrip('/').rpartition('/')[2].lower())
    return ids


def _global_defaults(args):
    """``{property: text}`` set for vfio-pci by ``-global vfio-pci.PROP=VALUE`` or
    ``-global driver=vfio-pci,property=PROP,value=VALUE``."""
    found = {}
    for value in _flag_values(args, ('-global', '--global')):
        items = option_values(value)
        named = dict((k, v) for k, v in items if k is not None)
        if 'driver' in named:
            driver, prop, val = named.get('driver'), named.get('property'), named.get('value')
        else:
            key, _sep, val = value.partition('=')
            driver, _dot, prop = key.partition('.')
        if driver in VFIO_DRIVERS[:2] and prop in MIGRATION_OPTIONS and val is not None:
            found[prop] = val
    return found


def assigned_devices(cmdline):
    """``{device id: {option: value}}`` of every device the command line assigns through VFIO.

    :param cmdline: a NUL-separated command line (``bytes`` or ``str``).
    :returns: for each PCI address (``0000:3b:00.2``) or mdev uuid a ``-device`` names (``host=``,
        ``sysfsdev=``), the :data:`MIGRATION_OPTIONS` it is given (``{}``: QEMU's defaults),
        ``-global vfio-pci.<option>=`` defaults included; the first ``-device`` of an id counts.
    """
    found = {}
    if not cmdline:
        return found
    args = _args(cmdline)
    defaults = None
    for value in _flag_values(args, ('-device', '--device')):
        driver, props = _device_props(value)
        if driver not in VFIO_DRIVERS:
            continue
        ids = [i for i in _ids(props) if i not in found]
        if not ids:
            continue
        if defaults is None:
            defaults = _global_defaults(args)
        options = dict(defaults) if driver in VFIO_DRIVERS[:2] else {}
        options.update((k, v) for k, v in props.items() if k in MIGRATION_OPTIONS)
        options = dict((k, v[:_MAX_VALUE]) for k, v in sorted(options.items()))
        for ident in ids:
            found[ident] = options
    return found
