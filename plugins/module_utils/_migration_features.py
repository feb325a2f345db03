# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Which optional parts of the VFIO migration protocol v2 a driver implements, by kernel release.

A driver announces them in ``vdev->migration_flags`` (``VFIO_MIGRATION_STOP_COPY``,
``_P2P``, ``_PRE_COPY``; ``include/uapi/linux/vfio.h``) and dirty tracking by setting
``vdev->log_ops`` (``VFIO_DEVICE_FEATURE_DMA_LOGGING_*``).  Userspace learns them only from
an ioctl on an open device, so this table encodes the drivers' sources instead.

Why it matters: QEMU (``hw/vfio/migration.c``, pre-copy since QEMU 8.1) sends a
``VFIO_MIG_FLAG_DEV_INIT_DATA_SENT`` tag for a device with PRE_COPY, and a destination
whose device has no PRE_COPY fails the load ("Received INIT_DATA_SENT but switchover ack
is not used") at switchover, after the whole pre-copy phase.

Feature names: ``stop_copy``, ``p2p``, ``pre_copy``, ``dirty_tracking``.  ``None`` means
not known (an unlisted or out-of-tree driver, or an unparsable kernel release).
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._numbers import leading_int

__all__ = ['features', 'apply_overrides', 'check_overrides', 'kernel_version', 'FEATURES', 'FEATURE_NAMES']

FEATURE_NAMES = ('dirty_tracking', 'p2p', 'pre_copy', 'stop_copy')

#: driver -> [(first kernel (major, minor), features from that release on)], oldest first.
#: ``(0, 0)``: since the driver's first release (a driver only binds on kernels that have it).
FEATURES = {
    # drivers/vfio/pci/mlx5/main.c: STOP_COPY | P2P with the v2 protocol; log_ops (device
    # dirty tracking, drivers/vfio/pci/mlx5/cmd.c) with the DMA logging uAPI (6.1); PRE_COPY
    # with "vfio: Extend the device migration protocol with PRE_COPY" (commit 4db52602a607)
    # and its mlx5 implementation (6.2), where the firmware offers it.
    'mlx5_vfio_pci': [((0, 0), ('p2p', 'stop_copy')),
                      ((6, 1), ('dirty_tracking', 'p2p', 'stop_copy')),
                      ((6, 2), ('dirty_tracking', 'p2p', 'pre_copy', 'stop_copy'))],
    # drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c: STOP_COPY; PRE_COPY from
    # "hisi_acc_vfio_pci: Add support for precopy IOCTL" (6.3); no P2P, no log_ops.
    'hisi_acc_vfio_pci': [((0, 0), ('stop_copy',)),
                          ((6, 3), ('pre_copy', 'stop_copy'))],
    # drivers/vfio/pci/qat/main.c: STOP_COPY | P2P | PRE_COPY from its first release.
    'qat_vfio_pci': [((0, 0), ('p2p', 'pre_copy', 'stop_copy'))],
    # drivers/vfio/pci/pds/vfio_dev.c: STOP_COPY | P2P and log_ops (device dirty tracking).
    'pds_vfio_pci': [((0, 0), ('dirty_tracking', 'p2p', 'stop_copy'))],
    # drivers/vfio/pci/xe/main.c: STOP_COPY | P2P.
    'xe_vfio_pci': [((0, 0), ('p2p', 'stop_copy'))],
    # samples/vfio-mdev/mtty.c ("vfio/mtty: Add migration support", 6.7): STOP_COPY | P2P |
    # PRE_COPY and log_ops.
    'mtty': [((6, 7), ('dirty_tracking', 'p2p', 'pre_copy', 'stop_copy'))],
}


def kernel_version(kernel_release):
    """``(major, minor)`` of a kernel release (``6.8.0-45-generic`` -> ``(6, 8)``), or ``None``."""
    parts = [leading_int(chunk) for chunk in (kernel_release or '').split('.', 2)[:2]]
    if None in parts:
        return None
    return tuple(parts) if len(parts) == 2 else None


def features(driver, kernel_release):
    """Sorted feature names of ``driver`` on ``kernel_release``, ``[]`` before its first
    migration release, ``None`` when unknown."""
    table = FEATURES.get((driver or '').replace('-', '_'))
    if table is None:
        return None
    release = kernel_version(kernel_release)
    if release is None:
        return None
    found = []
    for since, names in table:
        if release >= since:
            found = list(names)
    return found


def apply_overrides(records, overrides):
    """Set ``migration.features`` of every record whose ``driver`` is a key of ``overrides``
    (``{driver: [feature, ...]}``, the module's ``migration_features`` option)."""
    if not overrides:
        return
    table = dict((str(key).replace('-', '_'), sorted(set(value))) for key, value in overrides.items())
    for record in records:
        key = (record.get('driver') or '').replace('-', '_')
        if key in table and isinstance(record.get('migration'), dict):
            record['migration']['features'] = list(table[key])


def check_overrides(value):
    """``(overrides, problem)``: the ``migration_features`` option as ``{driver: sorted names}``,
    or ``(None, '<why not>')`` when a value is not a list of known feature names."""
    result = {}
    for key, names in sorted((value or {}).items()):
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None, 'migration_features[%r] must be a list of feature names, not %r' % (key, names)
        unknown = sorted(set(names) - set(FEATURE_NAMES))
        if unknown:
            return None, 'migration_features[%r]: unknown feature(s) %s (known: %s)' % (
                key, ', '.join(unknown), ', '.join(FEATURE_NAMES))
        result[str(key)] = sorted(set(names))
    return result, None
