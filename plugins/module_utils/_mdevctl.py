# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Persistent mdev definitions through mdevctl (optional; only when asked for).

mdevctl keeps device definitions in ``/etc/mdevctl.d/<parent>/<uuid>`` and starts the
ones marked ``auto`` at boot.  ``mdevctl list --defined --uuid U`` prints
``<uuid> <parent> <type> <start policy>`` for a definition; ``define`` and ``undefine``
change them.  The commands run through the caller's ``run(argv)`` (``AnsibleModule.run_command``).
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused

__all__ = ['definition', 'ensure_defined']


def definition(run, mdevctl, uuid):
    """``{'parent', 'type', 'start'}`` of the persistent definition of ``uuid``, or ``None``."""
    argv = [mdevctl, 'list', '--defined', '--uuid', uuid]
    rc, out, err = run(argv)
    if rc != 0:
        raise Refused('%s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()))
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].lower() == uuid:
            return {'parent': words[1], 'type': words[2], 'start': words[3] if len(words) > 3 else None}
    return None


def ensure_defined(run, mdevctl, spec, check_mode):
    """Define (``state=present``, start ``auto``) or undefine the mdev of ``spec``.

    :returns: ``(changed, commands)``; ``commands`` are the argv lists run or, in check mode, planned.
    :raises Refused: a definition of the UUID with another parent or type, or a failed command.
    """
    uuid = spec['uuid'].lower()
    current = definition(run, mdevctl, uuid)
    if spec['state'] == 'present':
        if current is not None:
            if (current['parent'], current['type']) != (spec['parent'], spec['type']):
                raise Refused('mdevctl defines %s with parent %s and type %s; undefine it first'
                              % (uuid, current['parent'], current['type']))
            return False, []
        argv = [mdevctl, 'define', '--uuid', uuid, '--parent', spec['parent'], '--type', spec['type'], '--auto']
    else:
        if current is None:
            return False, []
        argv = [mdevctl, 'undefine', '--uuid', uuid]
    if not check_mode:
        rc, out, err = run(argv)
        if rc != 0:
            raise Refused('%s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()))
    return True, [argv]
