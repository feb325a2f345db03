# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Layout of a PCI function's configuration space: header type and capability chains.

QEMU loads a VFIO PCI device's config space on the destination through
``get_pci_config_device`` (``hw/pci/pci.c``), which refuses ("Bad config data") every byte
under the device's check mask that differs from the source: vendor and device id, revision,
class and programming interface, header type, the capability pointer and the capabilities
QEMU copies from the physical function (``vfio_add_capabilities`` in ``hw/vfio/pci.c``).
The guest-visible chain is built from the host's, so two functions with the same host chain
give the same guest chain; this file reads the host's.

The kernel serves the ``config`` file (``pci_read_config`` in ``drivers/pci/pci-sysfs.c``)
cut at 64 bytes (128 for CardBus) for readers without ``CAP_SYS_ADMIN``: the capabilities then are unknown
(``None``).  Offsets and ids follow ``include/uapi/linux/pci_regs.h``.
"""

from __future__ import annotations

__all__ = ['config_space', 'parse']

_HEADER = 64                  # the standard header; capabilities start after it
_FULL = 256                   # every function's config space has at least this much
_STATUS = 0x06
_STATUS_CAP_LIST = 0x10
_HEADER_TYPE = 0x0e
_CAP_POINTER = {0: 0x34, 1: 0x34, 2: 0x14}   # normal, bridge, CardBus
_STD_TTL = 48                 # the kernel's PCI_FIND_CAP_TTL (drivers/pci/pci.c)
_EXT_START = 0x100
_EXT_TTL = (4096 - 256) // 8  # drivers/pci/pci.c pci_find_next_ext_capability


def _standard(data, header_type, problems):
    """``['10@40', ...]``: the standard capability list in chain order."""
    if not data[_STATUS] & _STATUS_CAP_LIST:
        return []
    where = _CAP_POINTER.get(header_type)
    if where is None:
        return []
    found = []
    pos = data[where] & 0xfc
    seen = set()
    while pos >= _HEADER and pos + 1 < len(data):
        if pos in seen or len(found) >= _STD_TTL:
            problems.append('capability chain loops at offset 0x%x, walk stopped' % pos)
            break
        seen.add(pos)
        cap_id = data[pos]
        if cap_id == 0xff:
            break
        found.append('%02x@%x' % (cap_id, pos))
        pos = data[pos + 1] & 0xfc
    return found


def _extended(data, problems):
    """``['0001@100', ...]``: the PCI Express extended capability list in chain order."""
    found = []
    pos = _EXT_START
    seen = set()
    while pos >= _EXT_START and pos + 4 <= len(data):
        header = int.from_bytes(data[pos:pos + 4], 'little')
        if header in (0, 0xffffffff):
            break
        if pos in seen or len(found) >= _EXT_TTL:
            problems.append('extended capability chain loops at offset 0x%x, walk stopped' % pos)
            break
        seen.add(pos)
        found.append('%04x@%x' % (header & 0xffff, pos))
        pos = (header >> 20) & 0xffc
    return found


def parse(data):
    """``(config_space, problems)`` for the bytes of a ``config`` file.

    ``config_space`` is ``None`` when ``data`` is shorter than the 256 bytes every function
    has (an unprivileged read: 64 bytes, 128 for a CardBus bridge); else ``{header_type, capabilities, extended_capabilities}``.  ``header_type`` is the
    layout (``00`` normal, ``01`` bridge, ``02`` CardBus) without the multi-function bit,
    which QEMU emulates for the guest's topology (``hw/vfio/pci.c``).
    """
    problems = []
    if data is None or len(data) < _FULL:
        return None, problems
    header_type = data[_HEADER_TYPE] & 0x7f
    return {
        'capabilities': _standard(data, header_type, problems),
        'extended_capabilities': _extended(data, problems),
        'header_type': '%02x' % header_type,
    }, problems


def config_space(reader, directory):
    """The ``config_space`` fact of the PCI function at the resolved ``directory``.

    Reads ``config`` once through the bounded :class:`Reader` (regular files only); a
    looping chain is a warning and the walk stops there.
    """
    path = directory + '/config'
    value, problems = parse(reader.read_bytes(path))
    for problem in problems:
        reader.warn(path, problem)
    return value
