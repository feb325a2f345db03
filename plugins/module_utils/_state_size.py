# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The device-state size a live migration is expected to move (``migration.state_size``).

The kernel tells the size only through ``VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`` on an open
device (``include/uapi/linux/vfio.h``), which a read-only fact gatherer does not open, so
this file computes it from a driver's documented state layout where that layout is fixed,
and says ``None`` everywhere else.  It is an estimate of what QEMU reports as the VFIO bytes
transferred (``query-migrate``, ``vfio.transferred``), without QEMU's own framing.

Known layouts:

- ``mtty`` (``samples/vfio-mdev/mtty.c``, migration since kernel 6.7): ``struct mtty_data``
  is a 24-byte header (``magic`` u64, ``major_ver``, ``minor_ver``, ``nr_ports``, ``flags``
  u32) and one ``struct serial_port`` per port; ``mtty_data_size()`` sends the header plus
  the instance's ports.  A ``serial_port`` is 8 register bytes, a ``struct rxtx`` of a
  16-byte FIFO and three u8 indexes, the ``dlab`` and ``overrun`` bools, a u16 ``divisor``
  (2-byte aligned) and three u8 fields: 36 bytes with the x86-64 ABI's padding.  The type
  ``mtty-N`` has N ports.
"""

from __future__ import annotations

import re

__all__ = ['state_size', 'annotate', 'MTTY_HEADER', 'MTTY_PORT']

MTTY_HEADER = 8 + 4 * 4
MTTY_PORT = 8 + (16 + 3) + 2 + 1 + 2 + 3 + 1   # the last 1: padding to the u16's alignment
_MTTY_TYPE = re.compile(r'^mtty-([0-9]+)$')


def state_size(record):
    """Expected bytes of device state of a device or ``mdev_types`` record, or ``None``.

    ``None`` unless the record's driver can migrate (``migration.capable`` true) and its
    state layout is known.
    """
    migration = record.get('migration')
    if not isinstance(migration, dict) or migration.get('capable') is not True:
        return None
    if record.get('driver') == 'mtty':
        match = _MTTY_TYPE.match(record.get('type') or '')
        if match:
            return MTTY_HEADER + MTTY_PORT * int(match.group(1))
    return None


def annotate(records):
    """Set ``migration.state_size`` on every record that has a ``migration`` dict."""
    for record in records:
        migration = record.get('migration')
        if isinstance(migration, dict):
            migration['state_size'] = state_size(record)
