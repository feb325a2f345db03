# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The source and destination hosts of the preflight role, from inventory patterns.

Each pattern is resolved as the ``ansible.builtin.inventory_hostnames`` lookup resolves it: by
ansible-core's own ``InventoryManager`` over the play's ``groups`` variable, so a host, a group
and patterns such as ``kvm:!maintenance`` or ``web*`` mean what they mean everywhere in Ansible.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

__all__ = ['resolve_patterns', 'preflight_hosts']


def _inventory(groups):
    manager = InventoryManager(DataLoader(), parse=False)
    for group, hosts in groups.items():
        manager.add_group(group)
        for host in hosts:
            manager.add_host(host, group=group)
    return manager


def _unique(names):
    seen = set()
    return [n for n in names if not (n in seen or seen.add(n))]


def resolve_patterns(manager, patterns):
    """``[(pattern, [host names])]``, in the order of ``patterns``; a pattern that matches no host
    (or is not a valid pattern) gets an empty list."""
    out = []
    for pattern in patterns:
        try:
            hosts = [h.name for h in manager.get_hosts(pattern=[pattern])]
        except AnsibleError:
            hosts = []
        out.append((pattern, hosts))
    return out


def preflight_hosts(groups, sources=None, destinations=None, play_hosts=None):
    """``{sources, destinations, unknown}``: the hosts the patterns name, each list in pattern order
    without repeats, and the patterns that match no host. No ``sources`` means ``play_hosts``."""
    manager = _inventory(groups)
    source_hosts = resolve_patterns(manager, sources or play_hosts or [])
    destination_hosts = resolve_patterns(manager, destinations or [])
    return {
        'sources': _unique(h for pattern, hosts in source_hosts for h in hosts),
        'destinations': _unique(h for pattern, hosts in destination_hosts for h in hosts),
        'unknown': _unique(name for name, hosts in source_hosts + destination_hosts if not hosts),
    }
