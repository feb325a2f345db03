# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_scope
short_description: Keep, on the source hosts, only the devices in use that a plan should move
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Before P(vfio.migration.migration_plan#filter) in the C(vfio.migration.preflight) role's V(reorder)
    mode, each host of O(sources) keeps, of its devices in use, only those named in O(devices) or held
    by one of O(vms). Devices not in use stay (they are capacity), and other hosts are unchanged.
  - Without O(vms) and O(devices) the facts are returned as they are.
positional: _input
options:
  _input:
    description: The C(vfio) facts by host name.
    type: dict
    required: true
  sources:
    description: The hosts whose devices in use are narrowed. Each must be a key of the input.
    type: list
    elements: str
    required: true
  vms:
    description: Keep the devices in use by these VMs.
    type: list
    elements: str
  devices:
    description: Keep these devices in use (PCI addresses or mdev UUIDs).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Plan only the move of VM web-01 off kvm-a
  ansible.builtin.set_fact:
    plan: >-
      {{ facts_by_host | vfio.migration.preflight_scope(['kvm-a'], vms=['web-01'])
         | vfio.migration.migration_plan(drain=['kvm-a']) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The facts by host name, the sources' C(devices) narrowed.
  type: dict
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS_BY_HOST, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_waves import scope

_GATEWAY = Gateway('preflight_scope', DOCUMENTATION, kinds={'_input': FACTS_BY_HOST})


def preflight_scope(facts_by_host, sources=None, vms=None, devices=None):
    return _GATEWAY.run(scope, facts_by_host, sources=sources, vms=vms, devices=devices)


class FilterModule(object):
    def filters(self):
        return {'preflight_scope': preflight_scope}
