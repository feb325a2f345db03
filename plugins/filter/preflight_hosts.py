# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_hosts
short_description: Resolve the preflight role's source and destination inventory patterns into host lists
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Resolves each entry of O(sources) and O(destinations), an inventory pattern (a host, a group, or for
    example V(kvm:!maintenance)), exactly as the C(ansible.builtin.inventory_hostnames) lookup does, over
    the play's C(groups) variable.
  - The hosts keep the order of the patterns, without repeats. A pattern that matches no host is listed
    in C(unknown); the C(vfio.migration.preflight) role refuses to run with one.
positional: _input
options:
  _input:
    description: The play's C(groups) variable (group name to host names).
    type: dict
    required: true
  sources:
    description: The source patterns. Empty means O(play_hosts).
    type: list
    elements: str
  destinations:
    description: The candidate destination patterns, in order of preference.
    type: list
    elements: str
  play_hosts:
    description: The hosts of the play (C(ansible_play_hosts)), the sources when O(sources) is empty.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Which hosts are sources and destinations?
  ansible.builtin.set_fact:
    resolved: >-
      {{ groups | vfio.migration.preflight_hosts(sources=['kvm:!maintenance'], destinations=['all'],
                                                 play_hosts=ansible_play_hosts) }}
  run_once: true
# {"sources": ["kvm-a", "kvm-b"], "destinations": ["kvm-a", "kvm-b", "kvm-c"], "unknown": []}
"""

RETURN = r"""
_value:
  description: The hosts.
  type: dict
  contains:
    sources:
      description: The source hosts, in pattern order.
      type: list
      elements: str
    destinations:
      description: The candidate destination hosts, in pattern order.
      type: list
      elements: str
    unknown:
      description: The patterns (of both lists) that match no host.
      type: list
      elements: str
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_hosts import preflight_hosts as _hosts

_GATEWAY = Gateway('preflight_hosts', DOCUMENTATION)


def preflight_hosts(groups, sources=None, destinations=None, play_hosts=None):
    return _GATEWAY.run(_hosts, groups, sources=sources, destinations=destinations, play_hosts=play_hosts)


class FilterModule(object):
    def filters(self):
        return {'preflight_hosts': preflight_hosts}
