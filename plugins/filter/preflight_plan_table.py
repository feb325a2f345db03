# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_plan_table
short_description: Lay out an evacuation plan as text, with a table of every VM that cannot move
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Renders a P(vfio.migration.migration_plan#filter) result as plain text, as the
    C(vfio.migration.preflight) role prints it in V(reorder) mode.
  - One line per source host in wave order (its wave, the VMs and where each goes), then, for each
    host that cannot be evacuated, a table under the columns C(VM), C(DEVICE), C(TYPE),
    C(VERSION), C(DESTINATION) and C(WHY NOT). Destination hosts that refuse a device for the same
    first reason share a line.
  - It decides nothing. Control characters in host-supplied strings are written as C(\xNN).
positional: _input, facts_by_host
options:
  _input:
    description: The P(vfio.migration.migration_plan#filter) result.
    type: dict
    required: true
  facts_by_host:
    description: The C(vfio) facts per host, to show each blocked device's type and version.
    type: dict
  waves:
    description:
      - The source hosts of each wave, when the caller regroups them (a list of lists of host names).
      - Default is the plan's own C(waves[].hosts).
    type: list
    elements: list
  blocked_hosts:
    description:
      - The hosts to list as blocked. Default is every host named in the plan's C(blocked).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ (plan | vfio.migration.preflight_plan_table(facts)).splitlines() }}"
# wave 1: kvm-b, 1 VM(s): nic-01 -> kvm-nic
# wave 2: kvm-a, 2 VM(s): web-01 -> kvm-c, web-02 -> kvm-c
# blocked: kvm-d, 1 VM(s) cannot move
# VM     DEVICE        TYPE                     VERSION         DESTINATION   WHY NOT
# db-01  0000:5e:00.2  pci-15b3:101e:15b3:0083  6.1.0-18-amd64  kvm-c, kvm-e  the PCI vendor differs ...
"""

RETURN = r"""
_value:
  description: The text, lines separated by newlines (no trailing newline).
  type: str
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS_BY_HOST, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight import plan_text

_GATEWAY = Gateway("preflight_plan_table", DOCUMENTATION, kinds={"facts_by_host": FACTS_BY_HOST})


def preflight_plan_table(plan, facts_by_host=None, waves=None, blocked_hosts=None):
    return _GATEWAY.run(plan_text, plan, facts_by_host, waves=waves, blocked_hosts=blocked_hosts)


class FilterModule(object):
    def filters(self):
        return {"preflight_plan_table": preflight_plan_table}
