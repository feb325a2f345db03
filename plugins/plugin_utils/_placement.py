# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Capacity-aware placement of source devices on one destination's slots.

The devices to move are the left side, the destination's pools (free devices, mdev types
with ``available_instances``, PFs with VFs still to create) the right side, each pool
``capacity`` copies of one slot; an edge means the directed comparison says yes. A maximum
*b-matching* (augmenting paths, Kuhn's algorithm with capacities: equivalent to max-flow
source -> devices -> pools -> sink) places as many devices as any assignment can, where
first-fit can strand a device whose only slot an earlier, more flexible device took.

Devices of one VM move together or not at all. Which VMs to move when not all fit is a
packing problem; the engine searches VM subsets depth-first, most constrained VM first
(the first leaf is the greedy answer), with a bound, and stops after ``budget`` search
nodes: ``optimal`` in the result says whether the search finished (it does for every
realistic single host).

Shared parent capacity (``Pool.share``, see ``_host_model``): the mdev types of one parent
draw on one budget, and NVIDIA time-sliced GPUs take new instances of one type only. An
augmenting path changes one pool's count only, +1 at the pool it ends on (the swaps along
it keep every other pool's count), so the matcher checks the share there and nowhere
else. Augmenting paths alone can miss an assignment (freeing a parent's budget can take
moving a device off that parent, which a path ending elsewhere does not do), so when the
path ends on a pool its share blocks, the matcher first tries to move devices off the
share's other pools along paths of their own; and when no path is found at all, a bounded
exact search re-assigns every placed device (exact for the small instances a host pair
is; beyond its budget the answer can only be a "no" too many). Every answer keeps within
the shares: the engine never promises a destination more than its parents can hold. The
VM subset search above still picks whole VMs.

Every device left over gets, per candidate slot profile, why it was refused: the rules
that said no, ``capacity`` (compatible but taken by other placed devices, or by what they
use of a parent's shared capacity), or ``vm_atomicity`` (another device of its VM has no
place). A device with no compatible slot at all on a destination that has slots of its type
the rules accept, with no room left (``_host_model.Spent``: an mdev type with no instance
available, a PF with every VF enabled, a device in use), gets ``capacity`` reasons saying so
first (``_reasons.spent_reasons``, which ``compat_matrix`` uses too); ``_reasons.why_unplaced``
puts each left-over device's reasons together.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._host_model import Pool, Share, usable
from ansible_collections.vfio.migration.plugins.plugin_utils._reasons import (
    share_reason, spent_reasons, tag, taken_reason, vm_blocked_reason, vm_split_reason, why_unplaced)

__all__ = ['Matcher', 'Shares', 'place', 'Placement', 'with_capacity']


class Shares(object):
    """Which pools (by index) share a parent's capacity: ``of`` pool -> share index or -1,
    ``weights`` per pool, and per share its ``members``, budget ``rooms`` and ``one_type``."""

    __slots__ = ('of', 'weights', 'members', 'rooms', 'one_type', 'shares')

    def __init__(self, entries):
        """``entries``: per pool index, ``(Share or None, weight)``; the budget is the share's total."""
        self.of, self.weights, self.members, self.rooms, self.one_type, self.shares = [], [], [], [], [], []
        index = {}
        for j, (share, weight) in enumerate(entries):
            if share is None:
                self.of.append(-1)
                self.weights.append(0)
                continue
            s = index.get(share)
            if s is None:
                s = index[share] = len(self.shares)
                self.shares.append(share)
                self.members.append([])
                self.rooms.append(share.total)
                self.one_type.append(share.one_type)
            self.of.append(s)
            self.weights.append(weight)
            self.members[s].append(j)

    @classmethod
    def of_pools(cls, pools):
        """The layout of ``pools``, or None when none of them shares a parent's capacity."""
        if all(p.share is None for p in pools):
            return None
        return cls([(p.share, p.weight) for p in pools])


class Matcher(object):
    """Incremental b-matching of demands to pools (Kuhn's augmenting paths with capacities),
    within the parents' shared capacity when ``shares`` (a :class:`Shares`) is given."""

    __slots__ = ('adj', 'caps', 'assign', 'holders', 'shares', 'exact_left', 'cursor')

    def __init__(self, adj, caps, shares=None):
        self.adj = adj                          # demand index -> [pool index]
        self.caps = caps                        # pool index -> capacity
        self.assign = [-1] * len(adj)           # demand -> pool
        self.holders = [[] for _slot in caps]       # pool -> [demand]
        self.shares = shares
        self.exact_left = 50000                 # steps of exact search (shares only) this matcher may still take
        self.cursor = {}                        # id(option list) -> index before which every pool is full

    def share_used(self, s):
        """``(budget used, {pool index: count})`` of share ``s`` in the current matching."""
        shares = self.shares
        used, counts = 0, {}
        for m in shares.members[s]:
            count = len(self.holders[m])
            if count:
                used += count * shares.weights[m]
                counts[m] = count
        return used, counts

    def share_load(self, j):
        """``({pool index: slots placed}, room)`` of pool ``j``'s share: what its pools hold, and
        how many more slots of ``j`` the budget left has room for."""
        s = self.shares.of[j]
        used, counts = self.share_used(s)
        return counts, max(0, (self.shares.rooms[s] - used) // self.shares.weights[j])

    def blocked(self, j):
        """Why pool ``j`` cannot take one more slot within its share: None, ``budget`` or ``one_type``."""
        shares = self.shares
        s = shares.of[j] if shares is not None else -1
        if s < 0:
            return None
        used, counts = self.share_used(s)
        if shares.one_type[s] and any(m != j for m in counts):
            return 'one_type'
        if used + shares.weights[j] > shares.rooms[s]:
            return 'budget'
        return None

    def _augment(self, root, seen):
        """Kuhn's augmenting path from demand ``root``, depth first without recursion (a host can
        have tens of thousands of devices in use): frames ``[demand, next option, pool, its holders
        to try, next holder]``. An option list is shared by the demands of one key, and the pools
        a search has seen stay seen, so a frame starts where the frames of its list got to
        (``start``); a list searched to the end is not searched again."""
        adj, caps, all_holders = self.adj, self.caps, self.holders
        dead, start = set(), {}
        stack = [[root, 0, -1, None, 0]]
        while stack:
            frame = stack[-1]
            if frame[3] is not None:
                if frame[4] < len(frame[3]):
                    k = frame[3][frame[4]]
                    frame[4] += 1
                    if id(adj[k]) not in dead:
                        stack.append([k, start.get(id(adj[k]), 0), -1, None, 0])
                    continue
                frame[3] = None
            i = frame[0]
            options = adj[i]
            frame[1] = max(frame[1], start.get(id(options), 0))
            while frame[1] < len(options):
                j = options[frame[1]]
                frame[1] += 1
                if j in seen:
                    continue
                seen.add(j)
                start[id(options)] = frame[1]
                holders = all_holders[j]
                if len(holders) < caps[j] and (self.shares is None or self.blocked(j) is None
                                               or self._free_share(j, seen)):
                    self._shift(stack, i, j)
                    return True
                frame[2], frame[3], frame[4] = j, list(holders), 0
                break
            if frame[3] is None:
                dead.add(id(options))
                stack.pop()
        return False

    def _shift(self, stack, i, j):
        """Apply the augmenting path the frames of ``stack`` hold, ending with demand ``i`` on pool ``j``."""
        self.holders[j].append(i)
        self.assign[i] = j
        stack.pop()
        child = i
        while stack:
            frame = stack.pop()
            holders = self.holders[frame[2]]
            holders.remove(child)
            holders.append(frame[0])
            self.assign[frame[0]] = frame[2]
            child = frame[0]

    def _free_share(self, j, seen):
        """Move devices off the other pools of ``j``'s share (each along an augmenting path of
        its own) until ``j`` can take one more; the state is unchanged when that fails."""
        shares = self.shares
        snap = None
        for m in shares.members[shares.of[j]]:
            if m == j or m in seen or not self.holders[m]:
                continue
            seen.add(m)
            for k in list(self.holders[m]):
                if snap is None:
                    snap = self.snapshot()
                if self._augment(k, seen):
                    self.holders[m].remove(k)
                    if self.blocked(j) is None:
                        return True
        if snap is not None:
            self.restore(snap)
        return False

    def add(self, i):
        """Place demand ``i`` (re-routing others as needed); False when no augmenting path exists
        (and, with shares, when a bounded exact search finds no assignment either)."""
        if self.shares is None and self._take_free(i):
            return True
        if self._augment(i, set()):
            return True
        return self.shares is not None and self.exact_left > 0 and self._reassign(i)

    def _take_free(self, i):
        """Put demand ``i`` on its first pool with room, if any (no shares): the augmenting path of
        length one, found without a search. ``cursor`` remembers, per option list, where the
        pools with room start (pools only fill up between restores)."""
        options, caps, holders = self.adj[i], self.caps, self.holders
        key = id(options)
        c = self.cursor.get(key, 0)
        while c < len(options) and len(holders[options[c]]) >= caps[options[c]]:
            c += 1
        self.cursor[key] = c
        if c == len(options):
            return False
        holders[options[c]].append(i)
        self.assign[i] = options[c]
        return True

    def _reassign(self, i, budget=2000):
        """Exact search (depth first, fewest options first, at most ``budget`` steps, and no
        more than the matcher's ``exact_left``) for an assignment of every placed demand and
        ``i`` within capacities and shares: the augmenting paths cannot trade one parent's
        budget for another's, this can."""
        todo = [k for k, j in enumerate(self.assign) if j >= 0] + [i]
        if not self.adj[i]:
            return False
        budget = min(budget, self.exact_left)
        todo.sort(key=lambda k: (len(self.adj[k]), k))
        snap = self.snapshot()
        for k in todo:
            if self.assign[k] >= 0:
                self.holders[self.assign[k]].remove(k)
                self.assign[k] = -1
        found, steps = self._exact(todo, budget)
        self.exact_left -= min(steps, budget)
        if not found:
            self.restore(snap)
        return found

    def _exact(self, todo, budget):
        """Depth-first assignment of the demands ``todo`` (none placed), without recursion:
        ``(found, steps)``; gives up after ``budget`` steps."""
        adj, caps, holders, assign = self.adj, self.caps, self.holders, self.assign
        nxt = [0] * len(todo)            # per position: the next option to try
        pos, steps = 0, 0
        while 0 <= pos < len(todo):
            k = todo[pos]
            options, placed = adj[k], False
            while nxt[pos] < len(options):
                j = options[nxt[pos]]
                nxt[pos] += 1
                steps += 1
                if steps > budget:
                    return False, steps
                if len(holders[j]) >= caps[j] or self.blocked(j) is not None:
                    continue
                holders[j].append(k)
                assign[k] = j
                placed = True
                break
            if placed:
                pos += 1
                continue
            nxt[pos] = 0
            pos -= 1
            if pos >= 0:
                back = todo[pos]
                holders[assign[back]].pop()
                assign[back] = -1
        return pos == len(todo), steps

    def snapshot(self):
        return (list(self.assign), [list(h) for h in self.holders])

    def restore(self, snap):
        # in place: callers up the augmenting path hold references to these lists
        self.cursor.clear()
        self.assign[:] = snap[0]
        for holders, saved in zip(self.holders, snap[1]):
            holders[:] = saved

    def add_group(self, members):
        """Place every demand of ``members`` or none. A failed :meth:`add` changes nothing, so on
        failure the members placed so far are taken off again (the others stay placed, perhaps
        on other slots than before: still a valid assignment, and no copy of the state)."""
        for n, i in enumerate(members):
            if not self.add(i):
                self.remove(members[:n])
                return False
        return True

    def remove(self, members):
        """Take the placed demands of ``members`` off their pools."""
        for i in members:
            j = self.assign[i]
            if j >= 0:
                self.holders[j].remove(i)
                self.assign[i] = -1
        self.cursor.clear()


class Placement(object):
    """Result of :func:`place`: ``placed`` [(Demand, Pool)], ``unplaced`` [(Demand, reasons)]."""

    __slots__ = ('placed', 'unplaced', 'optimal', 'used')

    def __init__(self, placed, unplaced, optimal, used):
        self.placed = placed
        self.unplaced = unplaced
        self.optimal = optimal
        self.used = used          # pool id -> slots taken

    @property
    def complete(self):
        return not self.unplaced


def _candidates(comparator, demand, pools):
    """(compatible pool indices, {pool key: (first pool, count, reasons)} of refusing pools)."""
    ok_idx, refused = [], {}
    for j, pool in enumerate(pools):
        compatible, reasons = comparator.compare_keyed(demand.key, demand.record, pool.key, pool.record)
        if compatible:
            ok_idx.append(j)
        else:
            entry = refused.get(pool.key)
            if entry is None:
                refused[pool.key] = [pool, 1, reasons]
            else:
                entry[1] += 1
    return ok_idx, refused


def with_capacity(pools, caps):
    """Copies of ``pools`` with the capacities of ``caps`` (pool id -> slots left); empty ones dropped.

    A shared pool's copy belongs to a copy of its share whose budget is what the slots taken
    from the share's pools left of it; on a ``one_type`` share that some slot was taken
    from, only that pool's type is left.
    """
    out, copies = [], {}
    items, state = usable(pools, caps)
    for pool, left in items:
        if left > 0:
            clone = Pool.__new__(Pool)
            for attr in Pool.__slots__:
                setattr(clone, attr, getattr(pool, attr))
            clone.capacity = left
            if pool.share is not None:
                share = copies.get(pool.share)
                if share is None:
                    share = copies[pool.share] = Share(pool.share.parent, state[pool.share][0], pool.share.one_type)
                clone.share = share
            out.append(clone)
    return out


class _Problem(object):
    """One placement problem: ``demands`` and ``pools``, per demand its compatible pool indices
    (``adj``, scarce pools first) and refusing pools (``refused``), the pools' ``caps``, the
    demands by VM (``groups``), the VMs with a device no pool takes (``hopeless``), and what
    :func:`_reasons.spent_reasons` needs (``comparator``, ``spent``, ``named``, see :func:`place`)."""

    __slots__ = ('demands', 'pools', 'adj', 'refused', 'caps', 'groups', 'hopeless', 'comparator', 'spent', 'named')

    def __init__(self, demands, pools, comparator, spent=None, named=True):
        self.comparator, self.spent, self.named = comparator, spent, named
        self.demands, self.pools, self.adj, self.refused = demands, pools, [], []
        by_key = {}
        for demand in demands:
            # demands of one key share their lists: one comparison per pool, and the matcher
            # knows them for one (see Matcher._augment)
            entry = by_key.get(demand.key)
            if entry is None:
                ok_idx, ref = _candidates(comparator, demand, pools)
                # scarce pools first: leaves the flexible slots for flexible devices on the first pass
                ok_idx.sort(key=lambda j: (pools[j].capacity, j))
                entry = by_key[demand.key] = (ok_idx, ref)
            self.adj.append(entry[0])
            self.refused.append(entry[1])
        self.caps = [p.capacity for p in pools]
        self.groups = {}
        for i, demand in enumerate(demands):
            self.groups.setdefault(demand.vm_key, []).append(i)
        self.hopeless = set(k for k, members in self.groups.items() if any(not self.adj[i] for i in members))

    def live_vms(self):
        """The VMs that could move, most constrained first (least room for their devices)."""
        caps, adj, groups = self.caps, self.adj, self.groups
        rooms = {}              # id(option list) -> slots it offers (demands of one key share one list)

        def room_of(options):
            room = rooms.get(id(options))
            if room is None:
                room = rooms[id(options)] = sum(caps[j] for j in options)
            return room

        def constraint(k):
            members = groups[k]
            room = min(room_of(adj[i]) for i in members)
            return (room - len(members), -len(members), k)
        return sorted((k for k in groups if k not in self.hopeless), key=constraint)


def place(demands, pools, comparator, budget=20000, spent=None, named=True):
    """Place ``demands`` (a list of :class:`Demand`) on ``pools`` (list of :class:`Pool`).

    Capacities are the pools' ``capacity``; pools are not changed. ``spent``, ``named``: the
    destination's ``HostModel.spent`` (or None) and whether its reasons name addresses (see
    :func:`_reasons.spent_reasons`). Returns a :class:`Placement`.
    """
    problem = _Problem(demands, pools, comparator, spent, named)
    matcher, chosen, optimal = _choose_vms(problem, budget)
    placed_set = set(i for k in chosen for i in problem.groups[k])
    placed, used = [], {}
    for i, demand in enumerate(demands):
        if i in placed_set:
            pool = pools[matcher.assign[i]]
            placed.append((demand, pool))
            used[pool.id] = used.get(pool.id, 0) + 1
    unplaced = _left_over(problem, matcher, chosen, placed_set)
    return Placement(placed, unplaced, optimal, used)


def _choose_vms(problem, budget):
    """``(matcher, VMs placed, optimal)``: every VM that could move if they all fit, else the
    best subset the search finds within ``budget``."""
    live = problem.live_vms()
    shares = Shares.of_pools(problem.pools)
    matcher = Matcher(problem.adj, problem.caps, shares)
    if live and matcher.add_group([i for k in live for i in problem.groups[k]]):
        return matcher, list(live), True
    if not live:
        return matcher, [], True
    matcher = Matcher(problem.adj, problem.caps, shares)
    chosen, optimal = _search(matcher, live, problem.groups, budget)
    return matcher, chosen, optimal


def _left_over(problem, matcher, chosen, placed_set):
    """``[(Demand, reasons)]`` for the demands not placed."""
    trials = _trials(matcher, problem.groups, chosen, problem.hopeless) if matcher.shares is not None else {}
    final = matcher.snapshot() if trials else None
    out = []
    for i, demand in enumerate(problem.demands):
        if i in placed_set:
            continue
        tried = demand.vm_key in trials
        if tried:
            matcher.restore(trials[demand.vm_key])
        out.append((demand, _why_unplaced(problem, matcher, i, tried)))
    if final is not None:
        matcher.restore(final)
    return out


def _why_unplaced(problem, matcher, i, tried):
    """The reasons of demand ``i`` (see :func:`_reasons.why_unplaced`); ``tried``: the matcher
    holds the state in which its VM's devices were added one by one (shares only)."""
    demand = problem.demands[i]
    group = problem.groups[demand.vm_key]
    spent, capacity, atomicity = [], [], None
    if not problem.adj[i]:
        spent = spent_reasons(problem.comparator, demand.key, demand.record, problem.spent, named=problem.named)
    elif demand.vm_key in problem.hopeless:
        blockers = [problem.demands[m].id for m in group if not problem.adj[m]]
        atomicity = vm_blocked_reason(demand.vm, blockers)
    else:
        capacity = _capacity_reasons(problem, matcher, i, tried)
        if len(group) > 1:
            atomicity = vm_split_reason(demand.vm)
    refusals = [r for pool, count, why in problem.refused[i].values() for r in tag(why, pool, count)]
    return why_unplaced(spent, capacity, refusals, atomicity, empty=not problem.pools)


def _capacity_reasons(problem, matcher, i, tried):
    """Per compatible pool profile of demand ``i``: taken by the others, or kept by its share."""
    pools, out, seen_keys = problem.pools, [], set()
    for j in problem.adj[i]:
        pool = pools[j]
        if pool.key in seen_keys:
            continue
        why = None
        if tried and matcher.assign[i] < 0 and len(matcher.holders[j]) < problem.caps[j]:
            why = matcher.blocked(j)
        if why is not None:
            out.append(share_reason(matcher, pools, j, why))
            continue
        seen_keys.add(pool.key)
        same = [p for p in pools if p.key == pool.key]
        out.append(taken_reason(pool.id, len(same), 1, sum(p.capacity for p in same)))
    return out


def _trials(matcher, groups, chosen, hopeless):
    """Per VM left over: the matching as it stood when adding its devices, one by one on top
    of the VMs placed, first failed (what a device's parent budget was taken by)."""
    out = {}
    placed = set(chosen)
    for k, members in groups.items():
        if k in placed or k in hopeless:
            continue
        snap = matcher.snapshot()
        for i in members:
            if not matcher.add(i):
                break
        out[k] = matcher.snapshot()
        matcher.restore(snap)
    return out


def _search(matcher, order, groups, budget):
    """Depth-first choice of the VM subset to place (include first, then exclude), without
    recursion: a host can run thousands of VMs."""
    best = {'value': (-1, -1), 'chosen': [], 'snap': None}
    sizes = [len(groups[k]) for k in order]
    rest_vms = [0] * (len(order) + 1)
    rest_devs = [0] * (len(order) + 1)
    for pos in range(len(order) - 1, -1, -1):
        rest_vms[pos] = rest_vms[pos + 1] + 1
        rest_devs[pos] = rest_devs[pos + 1] + sizes[pos]
    nodes, complete, chosen, pending = 0, True, [], False
    todo = [(0, 0, 0)]      # (position, VMs, devices) to visit; (-1, position, 0): take order[position] off
    while todo:
        pos, vms, devs = todo.pop()
        if pos < 0:
            if pending:         # the matcher leaves the best state found: keep it
                best['snap'], pending = matcher.snapshot(), False
            chosen.pop()
            matcher.remove(groups[order[vms]])
            continue
        nodes += 1
        if (vms, devs) > best['value']:
            # its snapshot is taken only when the state changes other than by adding a VM
            best['value'], best['chosen'], pending = (vms, devs), list(chosen), True
        if pos == len(order) or (vms + rest_vms[pos], devs + rest_devs[pos]) <= best['value']:
            continue
        if nodes > budget:
            complete = False
            continue
        todo.append((pos + 1, vms, devs))                   # then without order[pos]
        if matcher.add_group(groups[order[pos]]):
            chosen.append(order[pos])
            todo.append((-1, pos, 0))
            todo.append((pos + 1, vms + 1, devs + sizes[pos]))  # first with it
    if not pending and best['snap'] is not None:
        matcher.restore(best['snap'])
    return best['chosen'], complete
