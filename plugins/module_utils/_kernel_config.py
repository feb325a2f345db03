# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The running kernel's build options that decide whether VFIO migration works: ``host.kernel_config``.

The kernel's configuration is read from ``<proc_root>/config.gz`` (``CONFIG_IKCONFIG_PROC``)
or else ``<boot_root>/config-<kernel release>`` (what distributions install beside the
kernel image).  Only :data:`OPTIONS` are kept, each as ``y``, ``m`` or ``n`` (not set).

Why they matter: a driver that tracks the pages its device writes (``log_ops``: the
``dirty_tracking`` feature) hands the dirty bitmap to user space through the iova_bitmap
helpers.  Up to 6.6 they are part of vfio itself (``drivers/vfio/iova_bitmap.c``); from 6.7
they live in iommufd and exist only with ``CONFIG_IOMMUFD_DRIVER``, without which they are
stubs that return ``-EOPNOTSUPP`` (``include/linux/iova_bitmap.h``).  The DMA logging probe and start
still succeed (``drivers/vfio/vfio_main.c``), so QEMU chooses the device's dirty tracking and
the migration fails at its first report (``ram_save_setup failed: Operation not
supported``).  :func:`annotate` turns that into ``migration.dma_logging`` per record.
"""

from __future__ import annotations

import os
import zlib

from ansible_collections.vfio.migration.plugins.module_utils._migration_features import kernel_version

__all__ = ['OPTIONS', 'default_boot_root', 'read', 'dma_logging', 'annotate']

OPTIONS = ('CONFIG_IOMMUFD', 'CONFIG_IOMMUFD_DRIVER', 'CONFIG_VFIO_CONTAINER', 'CONFIG_VFIO_DEVICE_CDEV')
#: The first release whose iova_bitmap helpers need CONFIG_IOMMUFD_DRIVER (moved out of vfio into iommufd).
IOVA_BITMAP_IN_IOMMUFD = (6, 7)
#: A distribution's config is about 300 KB; more than this is not a kernel config.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
_PREFIX = ('CONFIG_IOMMUFD', 'CONFIG_VFIO_', '# CONFIG_IOMMUFD', '# CONFIG_VFIO_')


def default_boot_root(proc_root):
    """``/boot`` for the running host (``proc_root`` ``/proc``), else ``boot`` beside ``proc_root``."""
    proc_root = os.path.normpath(proc_root)
    return '/boot' if proc_root == '/proc' else os.path.join(os.path.dirname(proc_root), 'boot')


def _parse(data):
    """``{option: 'y' | 'm' | 'n'}`` of :data:`OPTIONS` from the bytes of a kernel config."""
    found = {}
    for raw in data.split(b'\n'):
        line = raw.decode('ascii', 'replace').strip()
        if not line.startswith(_PREFIX):
            continue
        if line.startswith('#'):
            # "# CONFIG_FOO is not set"
            name = line[2:].split(' ', 1)[0]
            if name in OPTIONS and line.endswith(' is not set'):
                found[name] = 'n'
            continue
        name, sep, value = line.partition('=')
        if sep and name in OPTIONS:
            found[name] = value if value in ('y', 'm') else 'n'
    return dict((name, found.get(name, 'n')) for name in OPTIONS)


def _gunzip(reader, path, data):
    """The decompressed bytes of ``data`` (at most :data:`MAX_CONFIG_BYTES`), or ``None`` with a warning."""
    try:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflate.decompress(data, MAX_CONFIG_BYTES + 1)
    except zlib.error as exc:
        reader.warn(path, 'not a gzip-compressed kernel config (%s)' % exc)
        return None
    if len(out) > MAX_CONFIG_BYTES:
        reader.warn(path, 'larger than %d bytes when decompressed, not read' % MAX_CONFIG_BYTES)
        return None
    return out


def read(proc_reader, boot_reader, kernel_release):
    """``{'source': path, 'options': {...}}`` of the running kernel, or ``None`` when neither
    file is there (no warning: many hosts have neither) or readable (a warning).

    :param proc_reader: the :class:`_sysfs.Reader` on ``proc_root``.
    :param boot_reader: a reader on ``boot_root``.
    :param kernel_release: names the file in ``boot_root``; ``None`` skips it.
    """
    if proc_reader.ok:
        path = proc_reader.path('config.gz')
        data = proc_reader.read_bytes(path, limit=MAX_CONFIG_BYTES)
        if data is not None:
            data = _gunzip(proc_reader, path, data)
            if data is not None:
                return {'options': _parse(data), 'source': proc_reader.show(path)}
    if boot_reader.ok and kernel_release:
        if '/' in kernel_release or kernel_release in ('.', '..'):
            boot_reader.warn(boot_reader.root, 'kernel release %r names no file here, not read' % kernel_release)
            return None
        path = boot_reader.path('config-' + kernel_release)
        data = boot_reader.read_bytes(path, limit=MAX_CONFIG_BYTES)
        if data is not None:
            return {'options': _parse(data), 'source': boot_reader.show(path)}
    return None


def dma_logging(features, config, kernel_release):
    """Whether the device's own dirty-page tracking (DMA logging) can work on this kernel.

    ``none``: the driver has none (``dirty_tracking`` not in ``features``); ``usable``: it has,
    and the kernel reports bitmaps (before 6.7, or ``CONFIG_IOMMUFD_DRIVER``); ``broken``: it
    has, and every report fails with ``EOPNOTSUPP``; ``None``: the features, the release or the
    kernel config are unknown.
    """
    if features is None:
        return None
    if 'dirty_tracking' not in features:
        return 'none'
    release = kernel_version(kernel_release)
    if release is None:
        return None
    if release < IOVA_BITMAP_IN_IOMMUFD:
        return 'usable'
    if config is None:
        return None
    return 'usable' if config['options'].get('CONFIG_IOMMUFD_DRIVER') in ('y', 'm') else 'broken'


def annotate(records, config, kernel_release):
    """Set ``migration.dma_logging`` of every device or type record from its ``migration.features``.

    The value is set in place where ``capability()`` left its place (``None``, keys in sorted
    order as every dict of the facts); a ``migration`` dict without it gets a sorted copy, one per
    dict, so records that shared it share the copy.
    """
    copies = {}
    by_features = {}     # the features as a tuple -> dma_logging: one answer per feature set
    for record in records:
        migration = record['migration']
        features = migration.get('features')
        key = None if features is None else tuple(features)
        if key not in by_features:
            by_features[key] = dma_logging(features, config, kernel_release)
        if 'dma_logging' in migration:
            migration['dma_logging'] = by_features[key]
            continue
        found = copies.get(id(migration))
        if found is None:
            new = dict(migration, dma_logging=by_features[key])
            found = copies[id(migration)] = (migration, dict(sorted(new.items())))
        record['migration'] = found[1]
