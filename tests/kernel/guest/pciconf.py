#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ground truth of the PCI capability chains of every VFIO-bound function (kernel lane).

Written apart from the module's reader, from the PCI specification's layout (Local Bus 3.0
section 6.7, PCI Express Base 6.7.1; the offsets are also in include/uapi/linux/pci_regs.h):
the Status register's "Capabilities List" bit, the capabilities pointer of the header type,
then byte pairs (id, next) from 0x40 up; the extended chain is a list of dwords
(id:16, version:4, next:12) from 0x100. Prints truth records, one a function:
    config<TAB>ID<TAB>header_type=00<TAB>caps=10@40,05@80<TAB>ext=0001@100
("-" for an empty chain; header type without the multi-function bit).
"""

import os

BASE = '/sys/bus/pci/devices'


def chains(cfg):
    kind = cfg[0x0e] & 0x7f
    caps, ext = [], []
    if cfg[0x06] & 0x10:
        at = cfg[0x14 if kind == 2 else 0x34] & 0xfc
        while at >= 0x40 and len(caps) < 48 and cfg[at] != 0xff:
            caps.append('%02x@%x' % (cfg[at], at))
            at = cfg[at + 1] & 0xfc
    at = 0x100
    while len(cfg) >= at + 4 and len(ext) < 480:
        dword = cfg[at] | cfg[at + 1] << 8 | cfg[at + 2] << 16 | cfg[at + 3] << 24
        if dword == 0 or dword == 0xffffffff:
            break
        ext.append('%04x@%x' % (dword & 0xffff, at))
        at = dword >> 20 & 0xffc
        if at < 0x100:
            break
    return kind, caps, ext


def main():
    for name in sorted(os.listdir(BASE)):
        drv = os.path.join(BASE, name, 'driver')
        if not (os.path.islink(drv) and 'vfio' in os.path.basename(os.readlink(drv))):
            continue
        with open(os.path.join(BASE, name, 'config'), 'rb') as f:
            cfg = f.read()
        kind, caps, ext = chains(cfg)
        print('config\t%s\theader_type=%02x\tcaps=%s\text=%s' % (
            name, kind, ','.join(caps) or '-', ','.join(ext) or '-'))


if __name__ == '__main__':
    main()
