# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: migration_plan
short_description: Plan the evacuation of hosts going into maintenance, VM by VM, with capacity, in waves
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Takes the C(vfio) facts of an inventory and the hosts to empty (O(drain)) and assigns every VM that has
    devices in use on those hosts to one destination host that is not being drained, with all its devices
    on compatible slots (same rules and capacity accounting as P(vfio.migration.migration_check#filter)).
  - Capacity is taken as VMs land, so two VMs never count on the same free slot, nor on the same part of
    a parent's shared capacity (an mdev instance created by one move uses up its share of the parent for
    the moves after it, and once a move puts a vGPU type on an empty NVIDIA time-sliced GPU, later moves
    can only add that type there).
  - VMs are planned most constrained first (fewest possible destinations); when some VMs are left over on a
    small instance, an exhaustive search looks for a plan that moves more of them (C(optimal) tells whether
    the plan is proven best).
  - Moves are grouped in waves of O(wave_size) source hosts, in planning order; every move off one host is in
    that host's wave. Nothing ever lands on a drained host, so the waves stay valid whatever order they run in.
  - Every VM that cannot move is listed in C(blocked) with the reasons, per group of destination hosts.
  - For the rolling-upgrade question (in which order to upgrade drivers so every VM always has a place to
    go) see P(vfio.migration.upgrade_order#filter).
positional: _input
extends_documentation_fragment:
  - vfio.migration._rules
options:
  _input:
    description: Dict of host name to that host's C(vfio) facts (or its C(ansible_facts) / hostvars entry).
    type: dict
    required: true
  drain:
    description: Hosts to empty. Each must be a key of the input.
    type: list
    elements: str
    required: true
  destinations:
    description: Only these hosts may receive VMs (default every host not drained).
    type: list
    elements: str
  wave_size:
    description: Source hosts per wave.
    type: int
    default: 1
"""

EXAMPLES = r"""
- name: Plan the maintenance of gpu01 and gpu02
  ansible.builtin.set_fact:
    plan: >-
      {{ dict(groups.kvm | zip(groups.kvm | map('extract', hostvars, ['ansible_facts', 'vfio'])))
         | vfio.migration.migration_plan(drain=['gpu01', 'gpu02'], wave_size=2) }}
  run_once: true

- name: Refuse to start when something cannot move
  ansible.builtin.assert:
    that: plan.feasible
    fail_msg: >-
      {{ plan.blocked | map(attribute='vm') | list }} cannot move:
      {{ plan.blocked | map(attribute='reasons') | flatten | map(attribute='message') | unique | list }}

- name: One live migration per planned VM, wave by wave
  ansible.builtin.debug:
    msg: "wave {{ item.0.wave }}: virsh migrate --live {{ item.1.vm }} qemu+ssh://{{ item.1.destination }}/system"
  loop: "{{ plan.waves | subelements('moves') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    feasible:
      description: True when every VM on the drained hosts has a destination.
      type: bool
    optimal:
      description: True when no plan can move more VMs (everything moved, or the exhaustive search finished).
      type: bool
    waves:
      description:
        - C({wave, hosts, moves}) in order; C(hosts) are the source hosts of the wave.
        - Each move is C({vm, source, destination, devices}); each device C({source, destination, type, action,
          slot}) as in P(vfio.migration.migration_check#filter) placements.
      type: list
      elements: dict
    blocked:
      description:
        - C({host, vm, devices, reasons}) for every VM that cannot move.
        - Each reason is C({device, rule, field, source, destination, message, hosts, host_count}); C(hosts) names
          up to five destination hosts it applies to, C(host_count) how many.
      type: list
      elements: dict
    summary:
      description: C({drain, vms, vms_placed, vms_blocked, devices_placed, hosts_evacuated, hosts_blocked}).
      type: dict
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS_BY_HOST, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan as _plan

_GATEWAY = Gateway('migration_plan', DOCUMENTATION, kinds={'_input': FACTS_BY_HOST})


def migration_plan(facts_by_host, drain=None, rules=None, destinations=None, wave_size=1):
    return _GATEWAY.run(_plan, facts_by_host, drain=drain, rules=rules, destinations=destinations,
                        wave_size=wave_size)


class FilterModule(object):
    def filters(self):
        return {'migration_plan': migration_plan}
