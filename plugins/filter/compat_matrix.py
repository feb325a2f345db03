# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: compat_matrix
short_description: Directed live-migration verdicts for every host pair of an inventory, by compatibility class
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Takes the C(vfio) facts of many hosts (a dict host name to facts, as built from hostvars or a fact
    cache) and answers, for every ordered pair of hosts, whether every device in use on the first host
    could be placed at once on the second, with the same rules and capacity accounting as
    P(vfio.migration.migration_check#filter).
  - Hosts whose devices in use (grouped by VM) and whose offers (free devices, mdev type capacity, VFs
    still to create) have identical profiles form one B(compatibility class); verdicts are computed per
    class pair, so the cost grows with the number of distinct host profiles, not with hosts squared.
    The mdev types of a parent that offers several share its capacity (C(docs/architecture.md),
    "Capacity model"), so those are part of the profile parent by parent.
  - Hosts with nothing in use are trivially evacuable (compatible with every destination).
  - With O(expand=true) every directed host pair is listed too; that list grows with hosts squared.
positional: _input
extends_documentation_fragment:
  - vfio.migration._rules
options:
  _input:
    description:
      - Dict of host name to that host's C(vfio) facts. A host's whole C(ansible_facts) dict or its hostvars
        entry is accepted as the value too.
    type: dict
    required: true
  expand:
    description: Also return C(pairs), the verdict of every directed host pair (source != destination).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Fleet matrix from the facts of every host in the play
  ansible.builtin.set_fact:
    matrix: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all
              | map('extract', hostvars, ['ansible_facts', 'vfio'])))
         | vfio.migration.compat_matrix }}
  run_once: true

- name: Could everything running on gpu01 move to gpu02?
  ansible.builtin.debug:
    msg: "{{ matrix.verdicts[matrix.host_class['gpu01']][matrix.host_class['gpu02']].compatible }}"

- name: Host pairs, for a small inventory
  ansible.builtin.debug:
    msg: "{{ facts_by_host | vfio.migration.compat_matrix(expand=true) | json_query('pairs[?!compatible]') }}"
"""

RETURN = r"""
_value:
  description: The matrix.
  type: dict
  contains:
    hosts:
      description: Host names, sorted.
      type: list
      elements: str
    classes:
      description:
        - One entry per compatibility class, ordered by the first host name; C(id) is C(c1), C(c2), ...
        - C(fingerprint) is C(sha256:...) over the class key; C(devices_in_use) and C(vms) describe
          one host of the class.
      type: list
      elements: dict
    host_class:
      description: Host name to class id.
      type: dict
    verdicts:
      description:
        - C(verdicts[source_class][destination_class]) is C({compatible, placements, unplaced}). A class
          with a single host has no entry for itself.
        - C(placements) is the number of devices the maximum matching places; C(unplaced) lists per device
          profile left over a representative C(source) device, its C(vm) and C(type), C(count) and the
          C(reasons) per candidate (C({candidate, candidates, rule, field, source, destination, message})).
        - A device no slot takes, on a destination with slots of its type the rules accept but no room left
          in them, has a C(capacity) reason first (as in P(vfio.migration.migration_check#filter)), naming the
          type and how many such slots, not their addresses (a verdict stands for every host of the class).
      type: dict
    pairs:
      description:
        - Only with O(expand=true). C({source, destination, compatible, reasons}) for every directed host
          pair; each reason also names the C(device) and C(vm) it is about.
      type: list
      elements: dict
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS_BY_HOST, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix as _matrix

_GATEWAY = Gateway('compat_matrix', DOCUMENTATION, kinds={'_input': FACTS_BY_HOST})


def compat_matrix(facts_by_host, rules=None, expand=False):
    return _GATEWAY.run(_matrix, facts_by_host, rules=rules, expand=expand)


class FilterModule(object):
    def filters(self):
        return {'compat_matrix': compat_matrix}
