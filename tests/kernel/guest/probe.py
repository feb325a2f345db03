#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ask the kernel itself whether each VFIO device can migrate (ground truth for the lane).

sysfs does not say; the answer is the VFIO_DEVICE_FEATURE ioctl (feature MIGRATION, GET)
on an open device fd, which needs a container with the type1 IOMMU and the device's group.
Groups held by another process (EBUSY) are skipped. Prints truth records:
    migration<TAB>ID<TAB>capable=1<TAB>flags=stop_copy,p2p,pre_copy
    migration<TAB>ID<TAB>capable=0<TAB>errno=ENOTTY
"""

import errno
import fcntl
import os
import struct

# numbers from include/uapi/linux/vfio.h
VFIO = ord(';') << 8
VFIO_SET_IOMMU = VFIO | (100 + 2)
VFIO_GROUP_SET_CONTAINER = VFIO | (100 + 4)
VFIO_GROUP_GET_DEVICE_FD = VFIO | (100 + 6)
VFIO_DEVICE_FEATURE = VFIO | (100 + 17)
VFIO_TYPE1v2_IOMMU = 3
FEATURE_GET = 1 << 16
FEATURE_MIGRATION = 1
MIGRATION_FLAGS = ((1, 'stop_copy'), (2, 'p2p'), (4, 'pre_copy'))


def vfio_devices():
    """(id, group) of PCI functions on a *vfio* driver and of mdev instances."""
    found = []
    base = '/sys/bus/pci/devices'
    for name in sorted(os.listdir(base)):
        drv = os.path.join(base, name, 'driver')
        if os.path.islink(drv) and 'vfio' in os.path.basename(os.readlink(drv)):
            found.append((name, os.path.basename(os.readlink(os.path.join(base, name, 'iommu_group')))))
    base = '/sys/bus/mdev/devices'
    if os.path.isdir(base):
        for name in sorted(os.listdir(base)):
            found.append((name, os.path.basename(os.readlink(os.path.join(base, name, 'iommu_group')))))
    return found


def probe(ident, group):
    try:
        gfd = os.open('/dev/vfio/' + group, os.O_RDWR)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            return None  # held by a "VM"
        return 'capable=0\terrno=%s' % errno.errorcode.get(exc.errno, exc.errno)
    cfd = os.open('/dev/vfio/vfio', os.O_RDWR)
    dfd = None
    try:
        fcntl.ioctl(gfd, VFIO_GROUP_SET_CONTAINER, struct.pack('i', cfd))
        fcntl.ioctl(cfd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)
        # a mutable buffer makes fcntl.ioctl return the call's result (the new fd)
        dfd = fcntl.ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bytearray(ident.encode() + b'\0'), True)
        buf = bytearray(struct.pack('IIQ', 16, FEATURE_GET | FEATURE_MIGRATION, 0))
        try:
            fcntl.ioctl(dfd, VFIO_DEVICE_FEATURE, buf, True)
        except OSError as exc:
            return 'capable=0\terrno=%s' % errno.errorcode.get(exc.errno, exc.errno)
        flags = struct.unpack('IIQ', bytes(buf))[2]
        names = [n for bit, n in MIGRATION_FLAGS if flags & bit]
        return 'capable=%d\tflags=%s' % (1 if flags & 1 else 0, ','.join(names) or '-')
    except OSError as exc:
        return 'capable=?\tsetup_errno=%s' % errno.errorcode.get(exc.errno, exc.errno)
    finally:
        for fd in (dfd, gfd, cfd):
            if fd is not None:
                os.close(fd)


def main():
    for ident, group in vfio_devices():
        result = probe(ident, group)
        if result is not None:
            print('migration\t%s\t%s' % (ident, result))


if __name__ == '__main__':
    main()
