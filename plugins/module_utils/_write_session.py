# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""What a write module (``vfio_mdev``, ``vfio_vf``) sets up from its options, and how it reports.

The options ``sysfs_root``, ``proc_root`` and ``dev_root`` mean what they mean for
``vfio_facts``; :func:`run` calls the module's ``ensure`` and returns what the module
passes to ``exit_json`` or ``fail_json``.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._in_use import DeviceHolders
from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused, Writer

__all__ = ['ROOT_OPTIONS', 'run']

#: The argument spec of the options every write module has (documented in doc_fragments/_sysfs_write.py).
ROOT_OPTIONS = {
    'verify': {'type': 'bool', 'default': True},
    'sysfs_root': {'type': 'path', 'default': '/sys'},
    'proc_root': {'type': 'path', 'default': '/proc'},
    'dev_root': {'type': 'path', 'default': '/dev'},
}


def run(params, check_mode, diff, ensure):
    """``(ok, result, warnings)``: ``ensure(reader, writer, holders, params, verify=...)`` run on the roots.

    ``result`` holds ``writes`` always, ``msg`` when not ``ok``, and ``diff`` when asked for.
    """
    reader = Reader(params['sysfs_root'], '/sys')
    if not reader.ok:
        return False, {'msg': reader.warnings[0], 'writes': []}, []
    writer = Writer(reader, check_mode)
    holders = DeviceHolders(reader, Reader(params['proc_root'], '/proc'), params['dev_root'])
    try:
        result = ensure(reader, writer, holders, params, verify=params['verify'])
    except Refused as exc:
        return False, {'msg': str(exc), 'writes': writer.writes}, reader.warnings
    result['writes'] = writer.writes
    if diff:
        result['diff'] = {'before': result['before'], 'after': result['after']}
    return True, result, reader.warnings
