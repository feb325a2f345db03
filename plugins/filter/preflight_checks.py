# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_checks
short_description: Check every source host against every candidate destination and choose the first that fits
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - The decision of the C(vfio.migration.preflight) role in V(fail) and V(select) modes. For each source host,
    one P(vfio.migration.migration_check#filter) per candidate destination (in the order given; never the
    source itself; destinations without facts left out); the first destination whose verdict is compatible
    is the one chosen.
  - A source that no destination takes gets the failure table of P(vfio.migration.preflight_table#filter);
    a source without facts gets a table line saying so.
  - With O(vms) or O(devices), each source is checked for the chosen VMs and devices it has (a name the
    source does not have is left out for that source, not an error).
extends_documentation_fragment:
  - vfio.migration._rules
positional: _input
options:
  _input:
    description: The C(vfio) facts by host name of the sources and destinations.
    type: dict
    required: true
  sources:
    description: The source hosts, in order.
    type: list
    elements: str
    required: true
  destinations:
    description: The candidate destination hosts, in order of preference.
    type: list
    elements: str
  mode:
    description: The role's mode, recorded in each result.
    type: str
    choices: [fail, select, reorder]
    default: fail
  vms:
    description: Check only the devices of these VMs.
    type: list
    elements: str
  devices:
    description: Check only these devices (with O(vms), a device named here or held by one of those VMs).
    type: list
    elements: str
  facts_from:
    description: Where the role took the facts from (C(vfio_preflight_facts)), for the message of a source without facts.
    type: str
    choices: [gather, reuse, auto]
    default: gather
"""

EXAMPLES = r"""
- name: Check each source against the candidates
  ansible.builtin.set_fact:
    results: >-
      {{ facts_by_host | vfio.migration.preflight_checks(sources=['kvm-a'], destinations=['kvm-b', 'kvm-c']) }}
  run_once: true

- name: Where does kvm-a go?
  ansible.builtin.debug:
    msg: "{{ results['kvm-a'].destination or results['kvm-a'].table }}"
"""

RETURN = r"""
_value:
  description: Source host name to its result.
  type: dict
  contains:
    source:
      description: The source host.
      type: str
    mode:
      description: O(mode).
      type: str
    vms:
      description: The VMs checked on this source (null when every device in use was).
      type: list
      elements: str
    devices:
      description: The devices checked on this source (null when every device in use was).
      type: list
      elements: str
    checks:
      description: Destination host to its P(vfio.migration.migration_check#filter) result, in the order tried.
      type: dict
    destination:
      description: The chosen destination, null when none takes every device checked.
      type: str
    placements:
      description: The placements on the chosen destination (empty when none).
      type: list
      elements: dict
    table:
      description: Why no destination takes the source, as text (null when one does).
      type: str
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS_BY_HOST, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_checks import preflight_checks as _checks

_GATEWAY = Gateway('preflight_checks', DOCUMENTATION, kinds={'_input': FACTS_BY_HOST})


def preflight_checks(facts_by_host, sources=None, destinations=None, mode='fail', vms=None, devices=None,
                     rules=None, facts_from='gather'):
    return _GATEWAY.run(_checks, facts_by_host, sources=sources, destinations=destinations, mode=mode, vms=vms,
                        devices=devices, rules=rules, facts_from=facts_from)


class FilterModule(object):
    def filters(self):
        return {'preflight_checks': preflight_checks}
