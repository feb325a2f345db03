# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_waves
short_description: Number the waves of an evacuation plan without the hosts that cannot be emptied
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Runs after P(vfio.migration.migration_plan#filter) in the C(vfio.migration.preflight) role's
    V(reorder) mode. A source host with a VM that cannot move (C(summary.hosts_blocked) of the plan) or without
    facts (O(without_facts)) is blocked; it is in no wave, and the waves are numbered without it (a wave
    left empty is dropped).
  - Returns the waves, the blocked hosts and, per source host, the in-memory groups the role puts it in
    (C(vfio_migration_wave_N) and C(vfio_migration_waves), or C(vfio_migration_blocked)), its wave number
    and the plan's moves off it.
positional: _input, sources
options:
  _input:
    description: The P(vfio.migration.migration_plan#filter) result.
    type: dict
    required: true
  sources:
    description: The source hosts, in order (the blocked ones are listed in this order).
    type: list
    elements: str
    required: true
  without_facts:
    description: Source hosts without facts (not planned; blocked).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Waves of the evacuable hosts
  ansible.builtin.set_fact:
    waves: "{{ plan | vfio.migration.preflight_waves(['kvm-a', 'kvm-b', 'kvm-c']) }}"
  run_once: true
# {"waves": [["kvm-b"], ["kvm-a"]], "blocked": ["kvm-c"],
#  "memberships": [{"host": "kvm-b", "wave": 1, "groups": ["vfio_migration_wave_1", "vfio_migration_waves"],
#                   "moves": [...]}, ..., {"host": "kvm-c", "wave": null, "groups": ["vfio_migration_blocked"],
#                   "moves": []}]}
"""

RETURN = r"""
_value:
  description: The waves.
  type: dict
  contains:
    waves:
      description: The host names of each wave, in order, without blocked hosts.
      type: list
      elements: list
    blocked:
      description: The blocked source hosts, in the order of O(sources).
      type: list
      elements: str
    memberships:
      description:
        - One C({host, wave, groups, moves}) per source host, wave by wave, then the blocked hosts (C(wave)
          null, C(moves) empty).
      type: list
      elements: dict
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_waves import waves

_GATEWAY = Gateway('preflight_waves', DOCUMENTATION)


def preflight_waves(plan, sources=None, without_facts=None):
    return _GATEWAY.run(waves, plan, sources, without_facts=without_facts)


class FilterModule(object):
    def filters(self):
        return {'preflight_waves': preflight_waves}
