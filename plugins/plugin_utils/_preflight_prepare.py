# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the preflight role's ``vfio_preflight_prepare`` makes on the destinations of the chosen moves.

A move is one source host's way to one destination host with the placement of each device
(``select``: an entry of ``preflight_checks``, its placements under ``placements``; ``reorder``: a
move of ``migration_plan``, under ``devices``). Placements say what the destination needs:

* ``create_mdev`` (``destination`` the parent, ``type`` the mdev type): an mdev whose UUID is the
  source device's own. libvirt names an mdev hostdev by its UUID in the domain XML, which a live
  migration carries unchanged, so the destination needs an mdev of that UUID; it is also what
  makes a second run find the device already there;
* ``create_vf`` (``destination`` the PF): one more VF, bound to the source device's driver. The
  PF's count becomes what it is plus the VFs its placements need, the new VFs taking the indices
  after the enabled ones. The kernel changes a non-zero count only through 0, which removes and
  re-creates every VF of the PF (``drivers/pci/iov.c``, ``sriov_numvfs_store``): the VFs the
  destination had on a VFIO driver are bound to it again, and a PF one of whose VFs a process
  holds is a problem, as is a placement the modules cannot make (an NVIDIA vGPU on an SR-IOV VF,
  a vfio-ap matrix) or a source device without a driver;
* ``use``: nothing to make.

:func:`prepare` returns ``{mdevs, vfs, problems}``; the role writes nothing when ``problems`` is
not empty.
"""

from __future__ import annotations

import re

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import PreflightInputError

__all__ = ['prepare']

_UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')

# mdev_types kinds the vfio_mdev module cannot make a working device of, and why
_NOT_MDEV = {
    'nvidia_vgpu': 'an NVIDIA vGPU on an SR-IOV VF is made through the VF\'s nvidia/current_vgpu_type, '
                   'not an mdev type',
    'ap': 'a vfio-ap mdev needs its adapters and domains assigned, which the role does not do',
}


def _facts(facts_by_host, host, where):
    facts = facts_by_host.get(host) if isinstance(host, str) else None
    if not isinstance(facts, dict):
        raise PreflightInputError('%s: no vfio facts for host %r' % (where, host))
    return facts


def _placements(moves):
    """``[(source host, destination host, placement)]`` of every move, in the order given."""
    if not isinstance(moves, list):
        raise PreflightInputError('moves: expected a list, got %s' % type(moves).__name__)
    out = []
    for index, move in enumerate(moves):
        where = 'moves[%d]' % index
        if not isinstance(move, dict) or not move.get('destination'):
            continue  # a source without a destination (select mode) moves nowhere
        placements = move.get('placements', move.get('devices'))
        if not isinstance(placements, list) or not all(isinstance(p, dict) for p in placements):
            raise PreflightInputError("%s: expected 'placements' or 'devices', a list of placements" % where)
        # a plan's move names its VM once, for all its devices
        out.extend((move.get('source'), move['destination'], dict(p, vm=p.get('vm', move.get('vm'))))
                   for p in placements)
    return out


def _device(facts, ident):
    for device in facts.get('devices') or ():
        if device.get('id') == ident:
            return device
    return None


def _mdev(src_facts, dst_facts, source_host, dst, placement, problems):
    """The mdev to create for a ``create_mdev`` placement, or None (with a problem)."""
    parent, mtype, uuid = placement.get('destination'), placement.get('type'), placement.get('source')
    entry = next((t for t in dst_facts.get('mdev_types') or () if t.get('parent') == parent
                  and t.get('type') == mtype), {})
    what = '%s %s (VM %s) -> %s %s/%s' % (source_host, uuid, placement.get('vm'), dst, parent, mtype)
    if entry.get('kind') in _NOT_MDEV:
        problems.append('%s: %s' % (what, _NOT_MDEV[entry['kind']]))
    elif not isinstance(uuid, str) or not _UUID.match(uuid.lower()):
        problems.append('%s: the source device is not an mdev (its id is no UUID)' % what)
    else:
        return {'host': dst, 'parent': parent, 'type': mtype, 'uuid': uuid.lower(),
                'vm': placement.get('vm'), 'source_host': source_host}
    return None


def _vf_requests(facts_by_host, placements, problems):
    """``{(destination host, pf): [new VF]}`` of the ``create_vf`` placements, each VF with the
    driver of its source device, ordered by source host and device."""
    wanted = {}
    for source_host, dst, placement in placements:
        device = _device(_facts(facts_by_host, source_host, 'moves'), placement.get('source')) or {}
        what = '%s %s (VM %s) -> %s %s' % (
            source_host, placement.get('source'), placement.get('vm'), dst, placement.get('destination'))
        if not device.get('driver'):
            problems.append('%s: the source device has no driver to bind the new VF to' % what)
            continue
        wanted.setdefault((dst, placement.get('destination')), []).append({
            'driver': device['driver'], 'vm': placement.get('vm'), 'source_host': source_host,
            'source': placement.get('source')})
    for requests in wanted.values():
        requests.sort(key=lambda r: (r['source_host'] or '', r['source'] or ''))
    return wanted


def _vfs_of_pf(dst_facts, dst, pf, requests, problems):
    """The bindings that give PF ``pf`` of ``dst`` the new VFs of ``requests`` (see the module docstring)."""
    entry = next((s for s in dst_facts.get('sriov') or () if s.get('pf') == pf), None)
    if entry is None:
        problems.append('%s %s: not an SR-IOV PF in the facts of %s' % (dst, pf, dst))
        return []
    current = entry.get('numvfs') or 0
    total = current + len(requests)
    if total > (entry.get('totalvfs') or 0):
        problems.append('%s %s: %d VF(s) enabled of %s, %d more needed'
                        % (dst, pf, current, entry.get('totalvfs'), len(requests)))
        return []
    siblings = [d for d in dst_facts.get('devices') or () if d.get('parent') == pf and d.get('kind') == 'pci']
    held = [d for d in siblings if d.get('in_use')]
    if current and held:
        problems.append('%s %s: the VF count goes through 0, which removes every VF, and %s is in use by %s'
                        % (dst, pf, held[0]['id'], held[0]['in_use'].get('vm') or 'a process'))
        return []
    base = {'host': dst, 'pf': pf, 'num_vfs': total}
    out = [dict(base, vf=None, vf_index=current + i, **r) for i, r in enumerate(requests)]
    if current:  # bound again after the count went through 0
        out += [dict(base, vf=d['id'], vf_index=None, driver=d.get('driver'), vm=None, source_host=None,
                     source=None) for d in sorted(siblings, key=lambda d: d['id']) if d.get('driver')]
    return out


def prepare(facts_by_host, moves):
    """``{mdevs, vfs, problems}``: what the destinations of ``moves`` need made before the VMs move.

    ``mdevs``: ``{host, parent, type, uuid, vm, source_host}``, one per mdev (by host and UUID);
    ``vfs``: ``{host, pf, num_vfs, vf_index, vf, driver, vm, source_host, source}``, one per VF to
    bind (a new VF by ``vf_index``, a VF bound again by its address ``vf``), each with the PF's
    count; ``problems``: sentences, one per placement or PF that cannot be prepared.
    """
    if not isinstance(facts_by_host, dict):
        raise PreflightInputError('facts by host: expected a dict, got %s' % type(facts_by_host).__name__)
    placements = _placements(moves)
    problems, mdevs = [], {}
    for source_host, dst, placement in placements:
        if placement.get('action') == 'create_mdev':
            mdev = _mdev(_facts(facts_by_host, source_host, 'moves'), _facts(facts_by_host, dst, 'moves'),
                         source_host, dst, placement, problems)
            if mdev is not None:
                mdevs[(dst, mdev['uuid'])] = mdev
    requests = _vf_requests(facts_by_host, [p for p in placements if p[2].get('action') == 'create_vf'], problems)
    vfs = []
    for (dst, pf), wanted in sorted(requests.items()):
        vfs += _vfs_of_pf(_facts(facts_by_host, dst, 'moves'), dst, pf, wanted, problems)
    return {'mdevs': [mdevs[k] for k in sorted(mdevs)], 'vfs': vfs, 'problems': problems}
