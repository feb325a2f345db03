# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_s390: the kind of an s390 mdev and the identity attributes read for it."""

from __future__ import annotations

import os

from ansible_collections.vfio.migration.plugins.module_utils._s390 import attributes, kind_for
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader


def test_kind_for_device_api():
    assert (kind_for('vfio-ccw'), kind_for('vfio-ap'), kind_for('vfio-pci')) == ('ccw', 'ap', 'mdev')


def _files(directory, **files):
    os.makedirs(directory, exist_ok=True)
    for name, value in files.items():
        with open(os.path.join(directory, name), 'w') as handle:
            handle.write(value + '\n')
    return directory


def test_ccw_reads_the_subchannel_type_and_ap_the_matrix(host):
    parent = _files(host.s('devices', 'css0', '0.0.0313'), type='0')
    mdev = _files(os.path.join(parent, 'mdev'))
    ap = _files(host.s('devices', 'vfio_ap', 'matrix', 'm'), matrix='05.0004\n05.00ab', control_domains='0004')
    reader = Reader(host.sys, '/sys')
    assert attributes(reader, 'ccw', mdev, parent) == {'subchannel_type': '0'}
    assert attributes(reader, 'ap', ap, os.path.dirname(ap)) == {'matrix': '05.0004\n05.00ab',
                                                                 'control_domains': '0004'}
    assert attributes(reader, 'mdev', mdev, parent) == {}
