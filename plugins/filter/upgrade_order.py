# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: upgrade_order
short_description: An order in which to upgrade host drivers so every VM always has a compatible place to go
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Given target driver versions for some hosts, finds an order in which to upgrade them one at a time, each
    host first evacuated (as by P(vfio.migration.migration_plan#filter)) to any other host, upgraded hosts
    included.
  - A moved device takes its destination's version, so a VM that moved onto an upgraded host runs on the newer
    driver; as a newer driver accepts an older stream and never the reverse, it cannot return to an old host.
    Where a vendor rule requires identical versions (NVIDIA vGPU), old VMs can only go to old hosts.
  - Hosts with fewer devices in use are tried first. For up to 8 target hosts the possible orders are searched
    with backtracking (within a budget of 300 evacuation plans), so an order is found whenever one exists; for
    more hosts, or when none is found, the evacuable host with the fewest devices in use goes next until no
    remaining host can be evacuated, and C(not_upgraded) and C(blocked) say which hosts and why.
positional: _input, targets
extends_documentation_fragment:
  - vfio.migration._rules
options:
  _input:
    description: Dict of host name to that host's C(vfio) facts.
    type: dict
    required: true
  targets:
    description:
      - Either a dict of host name to a dict of driver name to target version, or a dict with C(hosts) (a list
        of host names) and C(versions) (a dict of driver name to target version) applying to all of them.
      - A driver key matches the C(driver) of devices and mdev types (C(nvidia), C(mlx5_vfio_pci)). The key
        C(kernel) sets the kernel release and every version that came from it (in-tree drivers).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Order for a kernel update of the NIC hosts
  ansible.builtin.set_fact:
    order: >-
      {{ facts_by_host | vfio.migration.upgrade_order({'hosts': groups.nic_hosts,
                                                       'versions': {'kernel': '6.8.0-45-generic'}}) }}

- name: Upgrade in that order
  ansible.builtin.include_tasks: upgrade_one.yml
  loop: "{{ order.order }}"
"""

RETURN = r"""
_value:
  description: The order.
  type: dict
  contains:
    feasible:
      description: True when every target host can be upgraded this way.
      type: bool
    order:
      description: Host names in upgrade order.
      type: list
      elements: str
    steps:
      description: C({step, host, versions, moves, upgraded}); C(moves) evacuate the host before its upgrade (shape of
        P(vfio.migration.migration_plan#filter) moves), C(upgraded) lists the device ids and C(parent/type) offers
        whose version changed.
      type: list
      elements: dict
    not_upgraded:
      description: Target hosts left when no remaining host could be evacuated.
      type: list
      elements: str
    blocked:
      description: The blocked VMs of each remaining host's evacuation attempt (shape of C(migration_plan) C(blocked)).
      type: list
      elements: dict
    searched:
      description: True when the orders were searched with backtracking to the end (no order exists if C(feasible)
        is false).
      type: bool
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS_BY_HOST, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._upgrade_order import upgrade_order as _order

_GATEWAY = Gateway('upgrade_order', DOCUMENTATION, kinds={'_input': FACTS_BY_HOST})


def upgrade_order(facts_by_host, targets=None, rules=None):
    return _GATEWAY.run(_order, facts_by_host, targets, rules=rules)


class FilterModule(object):
    def filters(self):
        return {'upgrade_order': upgrade_order}
