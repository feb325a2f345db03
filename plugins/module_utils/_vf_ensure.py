# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Give an SR-IOV PF a number of VFs, and bind one VF to a driver.

The kernel's interface (``Documentation/ABI/testing/sysfs-bus-pci``, ``drivers/pci/iov.c``,
``drivers/pci/pci-sysfs.c``, ``drivers/base/bus.c``):

* ``<pf>/sriov_numvfs``: writing N enables N VFs; a different non-zero count is refused
  (``EBUSY``) while VFs are enabled, so the count goes through ``0`` first;
* ``<vf>/driver_override``: the only driver the device may bind to;
* ``/sys/bus/pci/drivers/<old>/unbind`` (reached as ``<vf>/driver/unbind``) detaches it;
* ``/sys/bus/pci/drivers/<new>/bind`` attaches it when that driver is loaded, otherwise
  ``/sys/bus/pci/drivers_probe`` asks the kernel to probe it (the override decides).

Each write gets the device address or the number, without a newline.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._in_use import describe
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused

__all__ = ['ensure']


def _pf(reader, pf):
    real = reader.resolve(reader.path('bus', 'pci', 'devices', pf), quiet_missing=True)
    if real is None:
        raise Refused('PCI device %s not found in %s' % (pf, reader.show(reader.path('bus', 'pci', 'devices'))))
    total = reader.read_int(real + '/sriov_totalvfs')
    numvfs = reader.read_int(real + '/sriov_numvfs')
    if total is None or numvfs is None:
        raise Refused('%s is not an SR-IOV physical function (no sriov_totalvfs / sriov_numvfs)' % pf)
    return real, total, numvfs


def _vfs(reader, pf_dir, count):
    """Resolved directories of the PF's ``virtfn0..count-1`` that exist."""
    found = []
    for index in range(count):
        real = reader.follow('%s/virtfn%d' % (pf_dir, index))
        if real is not None:
            found.append(real)
    return found


def _numvfs(reader, writer, holders, pf_dir, total, current, wanted, verify):
    if wanted is None or wanted == current:
        return False
    if wanted > total:
        raise Refused('%s has sriov_totalvfs %d; cannot enable %d VFs' % (reader.show(pf_dir), total, wanted))
    for vf_dir in _vfs(reader, pf_dir, current):
        held = holders.of(vf_dir)
        if held:
            raise Refused('VF %s is in use by %s; sriov_numvfs not changed'
                          % (vf_dir.rsplit('/', 1)[-1], describe(held)))
    if current:
        writer.write(pf_dir, 'sriov_numvfs', '0')
    if wanted:
        writer.write(pf_dir, 'sriov_numvfs', '%d' % wanted)
    if verify and not writer.check_mode:
        now = reader.read_int(pf_dir + '/sriov_numvfs')
        if now != wanted:
            raise Refused('wrote %d to %s but it reads %s' % (wanted, writer.writes[-1]['path'], now))
    return True


def _vf(reader, pf_dir, pf, vf, vf_index):
    """The resolved directory of the VF (by address or index), or ``None`` when it does not exist."""
    if vf_index is not None:
        return reader.follow('%s/virtfn%d' % (pf_dir, vf_index))
    real = reader.resolve(reader.path('bus', 'pci', 'devices', vf), quiet_missing=True)
    if real is not None and reader.link(real + '/physfn') != pf_dir:
        raise Refused('%s is not a VF of %s' % (vf, pf))
    return real


def _driver_state(reader, vf_dir):
    override = reader.read(vf_dir + '/driver_override')
    return {'driver': reader.link_name(vf_dir + '/driver'),
            'driver_override': None if override in (None, '', '(null)') else override}


def _bind(reader, writer, holders, vf_dir, driver, verify):
    """Make ``driver`` the VF's driver and its ``driver_override``; returns the state before."""
    name = vf_dir.rsplit('/', 1)[-1]
    before = _driver_state(reader, vf_dir)
    if before == {'driver': driver, 'driver_override': driver}:
        return before
    held = holders.of(vf_dir)
    if held:
        raise Refused('VF %s is in use by %s; its driver is not changed' % (name, describe(held)))
    if before['driver_override'] != driver:
        writer.write(vf_dir, 'driver_override', driver)
    if before['driver'] != driver:
        if before['driver'] is not None:
            old = reader.follow(vf_dir + '/driver')
            if old is None:
                raise Refused('%s: cannot resolve the driver link of %s' % (reader.show(vf_dir), name))
            writer.write(old, 'unbind', name)
        new = reader.resolve(reader.path('bus', 'pci', 'drivers', driver), quiet_missing=True)
        if new is not None:
            writer.write(new, 'bind', name)
        else:
            writer.write(reader.resolve(reader.path('bus', 'pci')), 'drivers_probe', name)
    if verify and not writer.check_mode and reader.link_name(vf_dir + '/driver') != driver:
        raise Refused('%s is not bound to %s after the writes; is the %s module loaded?' % (name, driver, driver))
    return before


def ensure(reader, writer, holders, spec, verify=True):
    """Make ``spec`` so: ``pf``, ``num_vfs`` (or ``None``), ``vf`` / ``vf_index`` and ``driver`` (or ``None``).

    :returns: ``{'changed', 'before', 'after'}``; the states hold ``sriov_numvfs`` and, for a VF,
        its address, ``driver`` and ``driver_override``.
    :raises Refused: with the reason, when the change cannot or must not be made (a device a
        process holds is never unbound, and no VF is removed while one is held).
    """
    pf_dir, total, current = _pf(reader, spec['pf'])
    before = {'sriov_numvfs': current}
    after = {'sriov_numvfs': current if spec['num_vfs'] is None else spec['num_vfs']}
    changed = _numvfs(reader, writer, holders, pf_dir, total, current, spec['num_vfs'], verify)
    if spec['driver'] is not None:
        vf_dir = _vf(reader, pf_dir, spec['pf'], spec['vf'], spec['vf_index'])
        if vf_dir is None and not (changed and writer.check_mode):
            raise Refused('VF %s of %s does not exist' % (spec['vf'] if spec['vf_index'] is None
                                                          else 'virtfn%d' % spec['vf_index'], spec['pf']))
        if vf_dir is not None:
            count = len(writer.writes)
            state = _bind(reader, writer, holders, vf_dir, spec['driver'], verify)
            vf_name = vf_dir.rsplit('/', 1)[-1]
            before.update(state, vf=vf_name)
            after.update(driver=spec['driver'], driver_override=spec['driver'], vf=vf_name)
            changed = changed or len(writer.writes) > count
        else:  # check mode: the VF appears only once the VFs are enabled
            before.update(driver=None, driver_override=None, vf=None)
            after.update(driver=spec['driver'], driver_override=spec['driver'], vf=None)
    return {'changed': changed, 'before': before, 'after': after}
