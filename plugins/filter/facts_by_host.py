# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: facts_by_host
short_description: The vfio facts of some hosts, read from hostvars, as the engine filters take them
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Reads C(ansible_facts.vfio) of each host of O(hosts) from C(hostvars) and returns them as a dict host name
    to facts, the input of P(vfio.migration.compat_matrix#filter) and P(vfio.migration.migration_plan#filter).
  - A host without C(vfio) facts (or not in the inventory) is left out. Only the hosts asked for are read.
positional: _input, hosts
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The host names to read.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: The facts of the kvm group
  ansible.builtin.set_fact:
    facts: "{{ hostvars | vfio.migration.facts_by_host(groups['kvm']) }}"
  run_once: true

- name: The hosts of the kvm group without facts
  ansible.builtin.debug:
    msg: "{{ groups['kvm'] | reject('in', facts) | list }}"
"""

RETURN = r"""
_value:
  description: Host name to its C(vfio) facts, for the hosts that have them.
  type: dict
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import LAZY, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._hostvars import facts_by_host as _facts

# hostvars is read for the hosts asked for only
_GATEWAY = Gateway('facts_by_host', DOCUMENTATION, kinds={'_input': LAZY})


def facts_by_host(hostvars, hosts=None):
    return _GATEWAY.run(_facts, hostvars, hosts)


class FilterModule(object):
    def filters(self):
        return {'facts_by_host': facts_by_host}
