# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Every reason the engine gives, built in one place.

A reason is ``{rule, field, source, destination, message}`` (see docs/architecture.md,
"Reasons"); placement adds ``candidate`` and ``candidates``. The rules of the rule set
write their own (``_rules.Rule.evaluate``); the engine's own are built here, each with a
machine-readable ``rule`` and ``field``, so a caller classifies a reason by those and never
by its message:

========================  ===================================  ======================================
rule                      field                                when
========================  ===================================  ======================================
``capacity``              ``capacity``                         compatible, but the slots are taken
                                                               (:func:`taken_reason`), the parent's
                                                               shared capacity is (:func:`share_reason`),
                                                               or the VMs planned before used the
                                                               room (:func:`room_used_reason`)
``capacity``              ``available_instances``,             slots of the device's type exist but
                          ``sriov.numvfs``, ``in_use``         have no room (:func:`spent_reasons`)
``capacity``              ``offer``                            the destination offers nothing
                                                               (:func:`empty_destination_reason`)
``vm_atomicity``          ``in_use.vm``                        another device of the VM has no place
``no_destination``        ``destinations``                     plans: no host left to move to
========================  ===================================  ======================================

Why one device has no place on one destination is put together by :func:`why_unplaced`,
for ``migration_check``, ``compat_matrix`` and ``migration_plan`` alike.
"""

from __future__ import annotations

__all__ = ['more', 'and_more', 'tag', 'merge_reasons', 'spent_reasons', 'taken_reason', 'share_reason',
           'vm_blocked_reason', 'vm_split_reason', 'empty_destination_reason', 'offers_nothing',
           'room_used_reason', 'no_destination_reason', 'why_unplaced']

CAPACITY = 'capacity'
VM_ATOMICITY = 'vm_atomicity'
NO_DESTINATION = 'no_destination'
EMPTY_FIELD = 'offer'
NO_DESTINATION_FIELD = 'destinations'     # the destination hosts left: none


def more(count, up_to=False):
    """``and N more`` (``and up to N more``): the one way the collection says what it left out."""
    return 'and %s%d more' % ('up to ' if up_to else '', count)


def and_more(items, limit=3, total=None, sep=', '):
    """``a, b, c and N more``: the first ``limit`` of ``items`` (strings; all of them when ``limit``
    is None) and how many of ``total`` (default: as many as ``items``) are left."""
    items = list(items)
    shown = items if limit is None else items[:limit]
    left = (len(items) if total is None else max(total, len(items))) - len(shown)
    text = sep.join(shown)
    if left > 0:
        text = '%s %s' % (text, more(left)) if text else more(left)
    return text


def tag(reasons, pool, count):
    """Copies of ``reasons`` (a comparison's) with the refusing ``pool``'s id as ``candidate``
    and ``count`` (how many pools of its profile) as ``candidates``."""
    out = []
    for reason in reasons:
        item = {'candidate': pool.id if pool is not None else None, 'candidates': count}
        item.update(reason)
        out.append(item)
    return out


def merge_reasons(reasons):
    """Say each (rule, message) once: a source-side refusal (``source_migration_capable``) is
    the same for every candidate, so it is listed once with the candidates counted together."""
    out, seen = [], {}
    for reason in reasons:
        key = (reason.get('rule'), reason.get('message'))
        first = seen.get(key)
        if first is None:
            item = dict(reason)
            seen[key] = item
            out.append(item)
        elif 'candidates' in first:
            first['candidates'] = (first.get('candidates') or 0) + (reason.get('candidates') or 0)
    return out


def _capacity(candidate, candidates, field, count, destination, message):
    return {'candidate': candidate, 'candidates': candidates, 'rule': CAPACITY, 'field': field,
            'source': count, 'destination': destination, 'message': message}


def _spent_mdev(slots, named):
    labels = []
    for slot in slots:
        label = slot.record.get('type')
        if slot.detail and slot.detail != label:
            label = '%s (%s)' % (label, slot.detail)
        if label not in labels:
            labels.append(label)
    where = and_more(s.where for s in slots) if named else '%d parent(s)' % len(slots)
    return ('available_instances', 'the destination has mdev type %s, but no instance of it is available '
            '(available_instances 0 on %s)' % (' / '.join(labels), where))


def _spent_pf(slot):
    num, total, held = slot.detail
    text = '%s: numvfs %d of totalvfs %d' % (slot.where, num, total)
    if held is not None:
        text += ', %s in use by %s' % held
    return text


def _spent_vf(slots, named):
    where = and_more(_spent_pf(s) for s in slots) if named else '%d PF(s)' % len(slots)
    if all(s.detail[2] is None for s in slots):
        return ('sriov.numvfs', 'the destination has VFs of this profile, but every VF is already enabled, none '
                'left to create (%s)' % where)
    return ('sriov.numvfs', 'the destination has VFs of this profile, but no VF can be added (%s): a PF with VFs '
            'enabled changes its count only through 0, which removes every VF, the ones in use too '
            '(drivers/pci/iov.c sriov_numvfs_store)' % where)


def _spent_device(slots, named):
    message = 'the destination has %d device(s) of this profile, but none is free' % len(slots)
    if named:
        message += ' (%s)' % and_more('%s in use by %s' % (s.where, s.detail) for s in slots)
    return ('in_use', message)


_SPENT = (('mdev', _spent_mdev), ('vf', _spent_vf), ('device', _spent_device))


def spent_reasons(comparator, key, record, spent, count=1, named=True):
    """``capacity`` reasons for a device (``key``, ``record``; ``count`` of its kind) that has no
    compatible slot on a destination whose ``spent`` slots (:class:`_host_model.Spent`) include
    some of its kind: of the device's ``type`` and accepted by the rules. One reason per kind
    of slot (mdev types, PFs, devices in use), naming the type and, when ``named``, the
    parents, PFs and devices with their holders (a class verdict stands for hosts whose
    addresses and VMs differ, so it names none). ``spent`` is a callable returning the slots
    by type (``HostModel.spent``), called only here; None: no reasons."""
    slots = spent().get(record.get('type')) if spent is not None else None
    if not slots:
        return []
    found = {}
    for slot in slots:
        if comparator.compare_keyed(key, record, slot.key, slot.record)[0]:
            found.setdefault(slot.kind, []).append(slot)
    out = []
    for kind, describe in _SPENT:
        slots = found.get(kind)
        if slots:
            field, message = describe(slots, named)
            out.append(_capacity(slots[0].id, len(slots), field, count, 0, message))
    return out


def taken_reason(candidate, candidates, count, total):
    """The ``capacity`` reason of ``count`` device(s) whose compatible slots (``total`` of this
    kind, first one ``candidate``) are taken by the other devices placed on the destination."""
    return _capacity(candidate, candidates, 'capacity', count, total,
                     'compatible, but the %d slot(s) of this kind on the destination '
                     'are needed by the other devices placed there' % total)


def share_reason(matcher, pools, j, why):
    """The ``capacity`` reason of a compatible pool ``pools[j]`` that its parent's shared capacity
    keeps from taking one more slot in ``matcher`` (a ``_placement.Matcher``); ``why`` is what
    ``Matcher.blocked`` said: ``one_type`` (an NVIDIA time-sliced GPU) or ``budget``."""
    pool = pools[j]
    counts, room = matcher.share_load(j)
    placed = ', '.join('%d x %s' % (counts[m], pools[m].type) for m in sorted(counts, key=lambda m: pools[m].type))
    if why == 'one_type':
        message = ('compatible, but %s is an NVIDIA time-sliced GPU, which runs one vGPU type at a time, and '
                   'this placement already puts %s on it' % (pool.destination, placed))
        room = 0
    else:
        message = ('compatible, but the mdev types of %s share its capacity and what is already placed there '
                   '(%s) uses it: room for %d more %s' % (pool.destination, placed or 'earlier moves', room,
                                                          pool.type))
    return _capacity(pool.id, 1, 'capacity', 1, room, message)


def vm_blocked_reason(vm, blockers):
    """``vm_atomicity``: the device's VM has other devices (ids ``blockers``) with no compatible place."""
    return {'candidate': None, 'candidates': 0, 'rule': VM_ATOMICITY, 'field': 'in_use.vm',
            'source': vm, 'destination': None,
            'message': 'the devices of one VM move together, and %s of the same VM has no '
                       'compatible place on this destination' % ', '.join(blockers)}


def vm_split_reason(vm):
    """``vm_atomicity``: the devices of the device's VM do not all fit on the destination at once."""
    return {'candidate': None, 'candidates': 0, 'rule': VM_ATOMICITY, 'field': 'in_use.vm',
            'source': vm, 'destination': None,
            'message': 'the devices of one VM move together, and not all devices of '
                       'this VM fit on the destination at once'}


def empty_destination_reason(count):
    """``capacity`` (field ``offer``): the destination offers no slot at all to ``count`` device(s)."""
    return _capacity(None, 0, EMPTY_FIELD, count, 0, 'the destination offers no free device, no mdev type with '
                     'available instances and no VF still to create')


def offers_nothing(reason):
    """True for the reason of :func:`empty_destination_reason` (by its ``rule`` and ``field``)."""
    return reason.get('rule') == CAPACITY and reason.get('field') == EMPTY_FIELD


def room_used_reason(count):
    """Plans: ``capacity`` for a VM of ``count`` devices that hosts could take, had the VMs
    planned before it not used their room."""
    return {'device': None, 'rule': CAPACITY, 'field': 'capacity', 'source': count, 'destination': None,
            'message': 'these hosts could take the VM, but the VMs planned before it used their room'}


def no_destination_reason():
    """Plans: ``no_destination`` (field ``destinations``, destination 0 hosts): every host is
    being drained or excluded."""
    return {'device': None, 'rule': NO_DESTINATION, 'field': NO_DESTINATION_FIELD, 'source': None, 'destination': 0,
            'message': 'no destination host: every host is being drained or excluded', 'hosts': [],
            'host_count': 0}


def why_unplaced(spent=(), capacity=(), refusals=(), atomicity=None, count=1, empty=False):
    """Why one device (``count`` of its kind) has no place on one destination, each thing said once:
    ``spent`` (:func:`spent_reasons`: its type exists there, full; given when no slot takes it),
    ``capacity`` (its compatible slots: :func:`taken_reason` / :func:`share_reason`),
    ``atomicity`` (a ``vm_atomicity`` reason or None), the rules' ``refusals`` of the other slots
    (:func:`tag`), and, when the destination offers no slot at all (``empty``), that."""
    reasons = list(spent)
    reasons.extend(capacity)
    if atomicity is not None:
        reasons.append(atomicity)
    reasons.extend(refusals)
    if empty:
        reasons.append(empty_destination_reason(count))
    return merge_reasons(reasons)
