# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""What a host asks of others (its VMs' devices) and what it offers (capacity).

From one host's validated ``vfio`` facts the engine builds a :class:`HostModel`:

* **demand**: the devices in use, grouped by VM. A VM is ``in_use.vm``; where the facts
  have no VM name the holding process (``pid:<pid>``) stands for it, so devices held by one
  QEMU process still move together.
* **offer**: *pools* of destination slots, each with a capacity and one profile record:

  ``device``  a free assignable device (a vfio-bound function or an mdev / vGPU instance
              with no holder), capacity 1; placing on it means using it.
  ``mdev``    an ``mdev_types`` entry, capacity ``available_instances``; placing means
              creating an instance of that type on that parent. The types of one parent
              share the parent's capacity (see *shared parent capacity* below).
  ``vf``      an SR-IOV PF that can create ``totalvfs - numvfs`` more VFs; the new VF's
              profile is that of a vfio-bound sibling VF of the same PF when there is one,
              else the PF's ids with ``sriov_vf_device`` (or the known PF -> VF id table
              below), the host's kernel release as version (in-tree variant drivers) and an
              unknown migration capability.

Shared parent capacity: when a parent offers two or more types, its pools get a
:class:`Share` (budget ``total``, per-pool ``weight``, ``one_type`` for NVIDIA time-sliced
vGPU); the model is described once, in docs/architecture.md, "Capacity model".

Slots with no room left (``spent``): an ``mdev_types`` entry with no available instance, a
PF whose VFs are all enabled, a device in use. They offer nothing, so they are no pools; but
when a device finds no slot, "the destination has your type, it is full" is the answer an
operator needs, so :meth:`HostModel.spent` lists them, built on first use only.

Every record carries a *key* = (fingerprint, values of the non-profile fields the rules
read): records with equal keys get equal verdicts, which is what lets the comparison
cache and the fleet matrix work per profile instead of per device.
"""

from __future__ import annotations

import math
import operator
from collections import namedtuple

from ansible_collections.vfio.migration.plugins.plugin_utils._schema import validate_facts

try:
    from ansible_collections.vfio.migration.plugins.module_utils._profile import fingerprint as _fingerprint
    from ansible_collections.vfio.migration.plugins.module_utils._profile import PCI_ID_KEYS, PROFILE_ATTRIBUTES
except ImportError:  # pragma: no cover - the module side ships it
    _fingerprint = None
    PCI_ID_KEYS, PROFILE_ATTRIBUTES = (), {}

__all__ = ['Demand', 'Pool', 'Share', 'Spent', 'HostModel', 'RecordKeyer', 'build_host', 'demand_of', 'vm_label',
           'fingerprint_of', 'offer_signature', 'profile_key', 'share_state', 'shared_left', 'signature_of', 'usable']

# Sub-records the profile (and so the fingerprint) covers.
_COVERED = frozenset((
    ('kind',), ('device_api',), ('type',), ('driver',), ('software_version',),
    ('pci',), ('pci', 'vendor'), ('pci', 'device'), ('pci', 'subsystem_vendor'), ('pci', 'subsystem_device'),
    ('migration', 'capable'),
))

# PF device id -> VF device id, for PFs whose facts lack sriov_vf_device (ids from the
# PCI ID database, pci.ids, and the vendors' SR-IOV guides).
KNOWN_VF_IDS = {
    ('15b3', '101b'): '101c',   # ConnectX-6
    ('15b3', '101d'): '101e',   # ConnectX-6 Dx
    ('15b3', '1021'): '101e',   # ConnectX-7
    ('8086', '1592'): '1889',   # E810
    ('8086', '1593'): '1889',
    ('8086', '1572'): '154c',   # X710
    ('8086', '4940'): '4941',   # QAT 4xxx
    ('8086', '4942'): '4943',
    ('8086', '4944'): '4945',
    ('19e5', 'a250'): 'a251',   # HiSilicon ZIP
    ('19e5', 'a255'): 'a256',   # HiSilicon SEC
    ('19e5', 'a258'): 'a259',   # HiSilicon HPRE
}


def fingerprint_of(record):
    value = record.get('fingerprint')
    if value:
        return value
    if _fingerprint is None:  # pragma: no cover
        import json
        return json.dumps(record, sort_keys=True, default=str)
    return _fingerprint(record)


# the PCI ids of the profile in one C call (a tuple: PCI_ID_KEYS has several)
_PCI_IDS = operator.itemgetter(*PCI_ID_KEYS) if len(PCI_ID_KEYS) > 1 else (lambda pci: tuple(map(pci.get, PCI_ID_KEYS)))


def profile_key(record):
    """A hashable stand-in for ``_profile.profile(record)``, built from the record's own fields:
    equal for two records exactly when their profiles (so their fingerprints) are. The engine
    keys records with it, never with the ``fingerprint`` the facts carry: facts edited or copied
    between hosts cannot make two different records (or hosts) one."""
    get = record.get
    kind, pci, migration, attributes = get('kind'), get('pci'), get('migration'), get('attributes')
    ids = None
    if isinstance(pci, dict):
        try:
            ids = _PCI_IDS(pci)
        except KeyError:        # an id the dict lacks is None in the profile
            ids = tuple(map(pci.get, PCI_ID_KEYS))
    selected = ()
    if attributes and isinstance(attributes, dict) and kind in PROFILE_ATTRIBUTES:
        selected = tuple((name, _freeze(attributes[name])) for name in PROFILE_ATTRIBUTES[kind]
                         if name in attributes)
    return (kind, get('device_api'), get('type'), get('driver'), ids, get('software_version'),
            migration.get('capable') if isinstance(migration, dict) else None, selected)


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


class RecordKeyer(object):
    """Keys records for verdict caching: fingerprint + the extra fields the rules read
    (each rule says which: :meth:`_rules.Rule.fields_read`).

    If some rule reads a record in a way that cannot be reduced to field paths (``@``),
    every record gets a key of its own (correct, only slower).
    """

    def __init__(self, rule_set):
        self.opaque = False
        paths = set()
        for rule in rule_set:
            read, whole = rule.fields_read()
            paths.update(read)
            self.opaque = self.opaque or whole
        self.extra = sorted(p for p in paths if p not in _COVERED)
        # the extra paths by their first field, (field, ((index in extra, rest of the path), ...)):
        # one lookup per field, and none below a field the record lacks (config_space, in_use: mostly)
        groups = {}
        for index, path in enumerate(self.extra):
            groups.setdefault(path[0], []).append((index, path[1:]))
        self._groups = tuple((first, tuple(items)) for first, items in sorted(groups.items()))
        self._serial = 0
        self._fingerprints = {}     # profile_key -> fingerprint

    def key(self, record):
        if self.opaque:
            self._serial += 1
            return ('opaque', self._serial)
        profile = profile_key(record)
        fp = self._fingerprints.get(profile)
        if fp is None:          # once per distinct profile: the fingerprint recomputed, not the one carried
            fp = self._fingerprints[profile] = _fingerprint(record) if _fingerprint is not None else profile
        if not self.extra:
            return fp
        values = None
        get = record.get
        for first, items in self._groups:
            sub = get(first)
            if sub is None:
                continue
            for index, rest in items:
                value = sub
                for part in rest:
                    if not isinstance(value, dict):
                        value = None
                        break
                    value = value.get(part)
                if value is None:
                    continue
                if not isinstance(value, (str, int, float, bool)):
                    value = _freeze(value)
                if values is None:
                    values = [None] * len(self.extra)
                values[index] = value
        if values is None:
            return fp
        return (fp,) + tuple(values)


class Demand(object):
    """One source device that must find a slot."""

    __slots__ = ('record', 'key', 'vm', 'vm_key', 'id')

    def __init__(self, record, key, vm, vm_key):
        self.record = record
        self.key = key
        self.vm = vm
        self.vm_key = vm_key
        self.id = record['id']


class Share(object):
    """The capacity the mdev types of one parent share (see the module docstring).

    ``total`` is the whole budget; each pool of the share takes its ``weight`` per new
    instance. ``one_type``: the new instances on the parent must all be of one type.
    """

    __slots__ = ('parent', 'total', 'one_type')

    def __init__(self, parent, total, one_type):
        self.parent = parent
        self.total = total
        self.one_type = one_type

    def __repr__(self):
        return 'Share(%r, %d%s)' % (self.parent, self.total, ', one_type' if self.one_type else '')


class Pool(object):
    """Destination slots of one profile: a free device, an mdev type, or a PF's spare VFs.

    ``share`` is the :class:`Share` of the pool's parent (or None: the pool's capacity is
    its own) and ``weight`` what one slot of it takes from that share.
    """

    __slots__ = ('id', 'kind', 'record', 'key', 'capacity', 'destination', 'type', 'action', 'share', 'weight')

    def __init__(self, ident, kind, record, key, capacity, destination, action, share=None, weight=0):
        self.id = ident
        self.kind = kind
        self.record = record
        self.key = key
        self.capacity = capacity
        self.destination = destination
        self.type = record.get('type')
        self.action = action
        self.share = share
        self.weight = weight


class Spent(namedtuple('Spent', 'id kind record key where detail')):
    """A destination slot of some profile with no room left (see the module docstring).

    ``kind``: ``mdev`` (an ``mdev_types`` entry with ``available_instances`` 0), ``vf`` (a PF
    whose VFs are all enabled, or one with a VF in use) or ``device`` (a device in use); ``id`` as a pool's would be;
    ``where`` the parent, PF or device; ``detail``: the type's name, ``(numvfs, totalvfs, held)``
    (``held``: ``(VF id, holder)`` of a VF in use that keeps a PF from adding VFs, else ``None``),
    or the VM or process holding the device.
    """

    __slots__ = ()


def share_state(pools, caps=None):
    """``{share: (budget left, pool id it is locked to or None)}`` for the shares of ``pools``.

    ``caps`` (pool id -> slots left, as a plan carries them) says what was taken: each slot
    taken from a shared pool took its weight from the share, and on a ``one_type`` share it
    locks the parent to that pool's type. With ``caps`` None nothing is taken.
    """
    state = {}
    for pool in pools:
        share = pool.share
        if share is None:
            continue
        room, lock = state.get(share, (share.total, None))
        taken = 0 if caps is None else pool.capacity - caps.get(pool.id, pool.capacity)
        if taken > 0:
            room -= taken * pool.weight
            if share.one_type:
                lock = pool.id
        state[share] = (room, lock)
    return state


def shared_left(pool, left, state):
    """Slots of a shared ``pool`` usable on their own, given ``left`` and the share's state."""
    room, lock = state[pool.share]
    if lock is not None and lock != pool.id:
        return 0
    return min(left, room // pool.weight)


def usable(pools, caps=None):
    """``([(pool, slots usable)], share state)``: each pool with what is left of it (``caps``,
    pool id -> slots left, None for full pools) and, for a shared pool, no more than its
    share allows on its own (see :func:`shared_left`); the state as :func:`share_state`."""
    out, state = [], None
    for pool in pools:
        left = pool.capacity if caps is None else caps.get(pool.id, pool.capacity)
        if pool.share is not None:
            if state is None:
                state = share_state(pools, caps)
            left = shared_left(pool, left, state)
        out.append((pool, left))
    return out, state


def offer_signature(pools, caps=None):
    """Hashable: pool keys with their capacities (``caps``: what is left), ids dropped.

    Pools without a share are summed per key, as before; the shared pools of each parent
    are kept apart (key, slots, weight) with the share's budget left and kind, since two
    types on one parent are not the same offer as those types on two parents.
    """
    agg, shared = {}, []
    items, state = usable(pools, caps)
    for pool, left in items:
        if left <= 0:
            continue
        if pool.share is None:
            agg[pool.key] = agg.get(pool.key, 0) + left
        else:
            shared.append((pool, left))
    return signature_of(agg, shared, state)


def signature_of(agg, shared, state):
    """The signature of :func:`offer_signature` from its parts: ``agg`` (key -> slots of the
    pools without a share), ``shared`` ([(shared pool, slots usable)]) and the share state."""
    sig = tuple(sorted(agg.items(), key=repr))
    if not shared:
        return sig
    parents = {}
    for pool, left in shared:
        parents.setdefault(pool.share, []).append((pool.key, left, pool.weight))
    parents = tuple(sorted(((state[share][0], share.one_type, tuple(sorted(items, key=repr)))
                            for share, items in parents.items()), key=repr))
    return (sig, ('shared', parents))


def vm_label(device):
    in_use = device.get('in_use') or {}
    return in_use.get('vm')


def _vm_key(device):
    in_use = device.get('in_use') or {}
    if in_use.get('vm'):
        return 'vm:' + in_use['vm']
    if in_use.get('pid') is not None:
        return 'pid:%s' % in_use['pid']
    return 'device:' + device['id']


def demand_of(device, keyer):
    """The :class:`Demand` of ``device`` (a device record), keyed by ``keyer``."""
    return Demand(device, keyer.key(device), vm_label(device), _vm_key(device))


class HostModel(object):
    """A host as the engine sees it (see the module docstring)."""

    __slots__ = ('name', 'facts', 'vms', 'pools', 'devices', 'keyer', '_demand_sig', '_offer_sig', '_spent')

    def __init__(self, name, facts, keyer=None):
        self.name = name
        self.facts = facts
        self.vms = {}        # vm_key -> [Demand]
        self.pools = []
        self.devices = {}
        self.keyer = keyer
        self._demand_sig = None
        self._offer_sig = None
        self._spent = None

    def spent(self):
        """The :class:`Spent` slots by ``type``: ``{type: [slot]}``, mdev types with no instance
        available, PFs with every VF enabled, devices in use (in that order). Built on the
        first call, which only comes when some device has no compatible slot here."""
        if self._spent is None:
            self._spent = _spent_slots(self)
        return self._spent

    def demands(self, device_ids=None, vms=None):
        """The demands to move: all in use, or the named devices / VMs (in id order)."""
        if device_ids is None and vms is None:
            out = [d for group in self.vms.values() for d in group]
        else:
            wanted_ids = set(device_ids or ())
            wanted_vms = set(vms or ())
            out = []
            for group in self.vms.values():
                for d in group:
                    if d.id in wanted_ids or (d.vm is not None and d.vm in wanted_vms):
                        out.append(d)
        return sorted(out, key=lambda d: d.id)

    def demand_signature(self):
        """Hashable: the VMs' device keys (VM grouping kept, names dropped)."""
        if self._demand_sig is None:
            self._demand_sig = tuple(sorted((tuple(sorted((d.key for d in group), key=repr))
                                             for group in self.vms.values()), key=repr))
        return self._demand_sig

    def offer_signature(self):
        """Hashable: pool keys with their capacities (ids dropped), shares kept apart."""
        if self._offer_sig is None:
            self._offer_sig = offer_signature(self.pools)
        return self._offer_sig

    def device_count(self):
        return sum(len(group) for group in self.vms.values())


def _new_vf_record(entry, siblings, kernel_release):
    pci = entry.get('pci') or {}
    vendor = pci.get('vendor')
    if siblings:
        base = siblings[0]
        # a new VF is a copy of its enabled sibling: same function, same config space layout
        keep = ('kind', 'device_api', 'type', 'driver', 'pci', 'software_version', 'software_version_source',
                'migration', 'attributes', 'config_space')
        record = dict((k, base.get(k)) for k in keep)
        record['fingerprint'] = base.get('fingerprint')
    else:
        vf_device = entry.get('vf_device') or KNOWN_VF_IDS.get((vendor, pci.get('device')))
        if not vendor or not vf_device:
            return None
        vf_pci = {'vendor': vendor, 'device': vf_device,
                  'subsystem_vendor': pci.get('subsystem_vendor'), 'subsystem_device': pci.get('subsystem_device')}
        record = {
            'kind': 'pci', 'device_api': 'vfio-pci',
            'type': 'pci-%s:%s:%s:%s' % (vendor, vf_device, vf_pci['subsystem_vendor'], vf_pci['subsystem_device']),
            'driver': None, 'pci': vf_pci, 'software_version': kernel_release,
            'software_version_source': 'kernel' if kernel_release else None,
            'migration': {'capable': None, 'reason': 'a VF still to be created; its driver is not known yet'},
            'attributes': {},
        }
        record['fingerprint'] = None
        record['_key'] = ('new-vf', vendor, vf_device, vf_pci['subsystem_vendor'], vf_pci['subsystem_device'],
                          kernel_release)
    record['id'] = '%s/new-vf' % entry['pf']
    record['parent'] = entry['pf']
    record['in_use'] = None
    return record


def _vf_slot(entry, by_parent, kernel_release, keyer):
    """``(record, key)`` of a VF still to create on PF ``entry`` (None when its profile is unknown)."""
    siblings = [d for d in by_parent.get(entry['pf'], ()) if d.get('kind') == 'pci']
    record = _new_vf_record(entry, siblings, kernel_release)
    if record is None:
        return None
    rkey = record.pop('_key', None)
    if rkey is None or keyer.opaque:
        rkey = keyer.key(record)
    return record, rkey


def _held_vf(entry, by_parent):
    """A VF of PF ``entry`` that a process holds, when the PF has VFs enabled: the kernel changes a
    non-zero VF count only through 0, which removes every VF (``drivers/pci/iov.c``,
    ``sriov_numvfs_store``), so such a PF can add no VF. ``None`` otherwise."""
    if not entry.get('numvfs'):
        return None
    return next((d for d in by_parent.get(entry['pf'], ()) if d.get('kind') == 'pci' and d.get('in_use')), None)


def _by_parent(devices):
    out = {}
    for device in devices:
        if device.get('parent'):
            out.setdefault(device['parent'], []).append(device)
    return out


def _holder(demand):
    if demand.vm:
        return 'VM %s' % demand.vm
    pid = (demand.record.get('in_use') or {}).get('pid')
    return 'process %s' % pid if pid is not None else 'a process'


def _spent_slots(model):
    """The :class:`Spent` slots of ``model`` (see :meth:`HostModel.spent`)."""
    facts, keyer, out = model.facts, model.keyer, []
    for entry in facts.get('mdev_types') or ():
        if (entry.get('available_instances') or 0) <= 0:
            out.append(Spent('%s/%s' % (entry['parent'], entry['type']), 'mdev', entry, keyer.key(entry),
                             entry['parent'], entry.get('name')))
    by_parent = None
    kernel_release = (facts.get('host') or {}).get('kernel_release')
    for entry in facts.get('sriov') or ():
        total, num = entry.get('totalvfs'), entry.get('numvfs') or 0
        if not total:
            continue
        if by_parent is None:
            by_parent = _by_parent(model.devices.values())
        held = _held_vf(entry, by_parent)
        if num < total and held is None:
            continue
        slot = _vf_slot(entry, by_parent, kernel_release, keyer)
        if slot is not None:
            holder = None if held is None else (held['id'], _holder(demand_of(held, keyer)))
            out.append(Spent(slot[0]['id'], 'vf', slot[0], slot[1], entry['pf'], (num, total, holder)))
    busy = sorted((d for group in model.vms.values() for d in group), key=lambda d: d.id)
    for demand in busy:
        out.append(Spent(demand.id, 'device', demand.record, demand.key, demand.id, _holder(demand)))
    by_type = {}
    for slot in out:
        by_type.setdefault(slot.record.get('type'), []).append(slot)
    return by_type


def _share(parent, pools):
    """Give the mdev type pools of one parent their :class:`Share` and weights."""
    total = 1
    for pool in pools:
        total = total // math.gcd(total, pool.capacity) * pool.capacity
    one_type = all(p.record.get('kind', 'mdev') == 'mdev' and p.record.get('driver') == 'nvidia' for p in pools)
    share = Share(parent, total, one_type)
    for pool in pools:
        pool.share = share
        pool.weight = total // pool.capacity


def build_host(name, facts, keyer, validate=True):
    """The :class:`HostModel` of host ``name`` (facts validated unless ``validate`` is false)."""
    if validate:
        facts = validate_facts(facts, name)
    model = HostModel(name, facts, keyer)
    key = keyer.key
    for device in facts.get('devices') or ():
        model.devices[device['id']] = device
        if device.get('in_use'):
            demand = demand_of(device, keyer)
            model.vms.setdefault(demand.vm_key, []).append(demand)
        else:
            model.pools.append(Pool(device['id'], 'device', device, key(device), 1, device['id'], 'use'))
    by_type_parent = {}
    for entry in facts.get('mdev_types') or ():
        avail = entry.get('available_instances') or 0
        if avail > 0:
            pool = Pool('%s/%s' % (entry['parent'], entry['type']), 'mdev', entry, key(entry), avail,
                        entry['parent'], 'create_mdev')
            model.pools.append(pool)
            if entry.get('kind', 'mdev') != 'nvidia_vgpu':
                by_type_parent.setdefault(entry['parent'], []).append(pool)
    for parent, pools in by_type_parent.items():
        if len(pools) > 1:
            _share(parent, pools)
    kernel_release = (facts.get('host') or {}).get('kernel_release')
    by_parent = None
    for entry in facts.get('sriov') or ():
        total, num = entry.get('totalvfs'), entry.get('numvfs')
        if not total or (num or 0) >= total:
            continue
        if by_parent is None:
            by_parent = _by_parent(model.devices.values())
        if _held_vf(entry, by_parent) is not None:
            continue
        slot = _vf_slot(entry, by_parent, kernel_release, keyer)
        if slot is None:
            continue
        record, rkey = slot
        model.pools.append(Pool(record['id'], 'vf', record, rkey, total - (num or 0), entry['pf'], 'create_vf'))
    return model
