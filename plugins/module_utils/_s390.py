# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""s390 mediated devices: vfio-ccw subchannels and the vfio-ap matrix.

Both are mdevs, found by the mdev walk (``/sys/class/mdev_bus``): vfio-ccw parents are
css subchannels (``/sys/devices/css0/0.0.fffe``, type ``vfio_ccw-io``, device_api
``vfio-ccw``; ``drivers/s390/cio/vfio_ccw_drv.c``), the vfio-ap parent is
``/sys/devices/vfio_ap/matrix`` (type ``vfio_ap-passthrough``, device_api ``vfio-ap``;
``drivers/s390/crypto/vfio_ap_ops.c``).  This file names their kind and reads the
attributes that identify them.
"""

from __future__ import annotations

__all__ = ['kind_for', 'attributes']

_KIND_BY_API = {'vfio-ccw': 'ccw', 'vfio-ap': 'ap'}

# vfio_ap_ops.c: matrix (assigned adapter.domain pairs), guest_matrix (what the guest
# sees, 5.18+), control_domains.  All read-only views.
_AP_FILES = ('matrix', 'guest_matrix', 'control_domains')


def kind_for(device_api):
    """``ccw`` / ``ap`` for the s390 device APIs, ``mdev`` for everything else."""
    return _KIND_BY_API.get(device_api, 'mdev')


def attributes(reader, kind, mdev_dir, parent_dir):
    """Identity attributes of an s390 mdev, as read (``{}`` for other kinds).

    * ``ccw``: ``subchannel_type`` from the parent subchannel's ``type`` file
      (``drivers/s390/cio/css.c``: ``type_show``).
    * ``ap``: ``matrix``, ``guest_matrix`` and ``control_domains`` of the mdev, one
      ``adapter.domain`` (or domain) per line.
    """
    attrs = {}
    if kind == 'ccw':
        value = reader.read(parent_dir + '/type')
        if value is not None:
            attrs['subchannel_type'] = value
    elif kind == 'ap':
        for name in _AP_FILES:
            value = reader.read(mdev_dir + '/' + name)
            if value is not None:
                attrs[name] = value
    return attrs
