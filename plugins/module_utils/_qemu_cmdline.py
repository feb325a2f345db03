# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The machine type of a VM, from its QEMU command line (``/proc/<pid>/cmdline``).

QEMU takes the machine type from ``-machine``/``-M`` (``qemu-options.hx``): as the first,
unnamed option (``-machine pc-q35-8.2,usb=off``, the form libvirt writes), as ``type=``
(``-machine accel=kvm,type=q35``), or in JSON (``-machine {"type": "pc-q35-9.1"}``).
Several ``-machine`` options merge, so the last type given wins.  In option values a
doubled comma stands for a comma (``util/qemu-option.c``).

The machine type matters for migration because QEMU's compatibility properties follow it:
from ``pc-q35-9.1`` on (``hw/core/machine.c`` ``hw_compat_9_0`` turns it off for older
types), vfio-pci's ``skip-vsc-check`` lets a vendor-specific capability's content differ
between source and destination (``hw/vfio/pci.c``).
"""

from __future__ import annotations

import json

__all__ = ['machine_type', 'option_values']

_MACHINE_FLAGS = ('-machine', '--machine', '-M')


def option_values(value):
    """``[(key or None, value)]`` of a QEMU option string; ``,,`` is a literal comma."""
    items = []
    for part in value.replace(',,', '\0').split(','):
        part = part.replace('\0', ',')
        key, sep, val = part.partition('=')
        items.append((key, val) if sep else (None, part))
    return items


def _type_of(value):
    """The machine type a ``-machine`` value sets, or ``None``."""
    if value.startswith('{'):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        found = doc.get('type') if isinstance(doc, dict) else None
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
    if isinstance(cmdline, bytes):
        cmdline = cmdline.decode('utf-8', 'replace')
    args = cmdline.split('\0')
    found = None
    for index, arg in enumerate(args):
        value = None
        if arg in _MACHINE_FLAGS:
            value = args[index + 1] if index + 1 < len(args) else None
        elif arg.startswith('-machine=') or arg.startswith('--machine='):
            value = arg.split('=', 1)[1]
        if value:
            found = _type_of(value) or found
    return found
