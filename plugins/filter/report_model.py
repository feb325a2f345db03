# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: report_model
short_description: Build the data of an inventory-wide VFIO live-migration compatibility report
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Takes the C(vfio) facts of many hosts and the directed host x host verdicts of
    P(vfio.migration.compat_matrix#filter) and returns the report model (C(report_version=1))
    that P(vfio.migration.report_render#filter) writes as JSON, CSV, Markdown or HTML. The
    C(vfio.migration.report) role uses both.
  - The engine runs one time for the whole inventory; its verdicts are per compatibility class
    (hosts whose devices in use and offers are identical), and the model keeps them that way,
    so it grows with the number of classes, not hosts squared. Host pairs are listed one by one
    only up to O(pair_details_max_hosts) hosts.
  - The reasons of a refused class pair are, for each device type left without a place, the
    reasons of the candidate slots that came nearest (refused by the fewest rules), prefixed
    with how many devices of that type are left over. They name no device id or VM, since they
    hold for every host of the class.
  - For each host with devices in use, C(evacuation) says whether they could all leave, to one
    other host (a compatible verdict), or else spread over the other hosts as
    P(vfio.migration.migration_plan#filter) plans a drain of that host (whole VMs,
    capacity-aware; one plan per compatibility class). The devices of the VMs that cannot move
    are listed with the reasons and the destination hosts they come from.
extends_documentation_fragment:
  - vfio.migration._rules
options:
  _input:
    description:
      - The C(vfio) facts by host name (C(ansible_facts.vfio) of each host), as given to
        P(vfio.migration.compat_matrix#filter).
      - With O(hosts), C(hostvars) instead; the facts are read from it for those hosts in one
        pass, and the hosts without any are added to O(hosts_without_facts).
    type: dict
    required: true
  hosts:
    description:
      - The host names to read from C(hostvars) given as input (see O(_input)).
    type: list
    elements: str
  matrix:
    description:
      - The result of P(vfio.migration.compat_matrix#filter) for the same facts and rules.
      - When omitted, the filter computes it with O(rules).
    type: dict
  rules:
    description:
      - The rule set(s) in force, as given to the engine filters (see
        P(vfio.migration.compatible#filter)); used to compute the matrix when O(matrix) is omitted,
        and described in the report's header.
    type: raw
  hosts_without_facts:
    description: Hosts that were asked for but have no facts; listed in the report, left out of the matrix.
    type: list
    elements: str
    default: []
  facts_source:
    description: Where the facts came from, shown in the report.
    type: str
    choices: [gathered, cache, mixed]
    default: gathered
  generated_at:
    description: A timestamp to show; null for none (byte-identical reports for identical facts).
    type: str
  evacuation:
    description:
      - Compute, per host, whether its devices in use could all leave it (one drain plan per
        compatibility class that no single host can take).
    type: bool
    default: true
  pair_details_max_hosts:
    description:
      - Up to this many hosts, the model lists every directed host pair under C(pairs) (and the
        CSV carries their reasons); above it C(pairs) is null and the class verdicts stand for them.
    type: int
    default: 200
"""

EXAMPLES = r"""
- name: Build the report model once, on the controller
  ansible.builtin.set_fact:
    fleet_report: >-
      {{ facts | vfio.migration.report_model(matrix=facts | vfio.migration.compat_matrix) }}
  vars:
    facts: "{{ dict(groups['kvm'] | zip(groups['kvm'] | map('extract', hostvars, ['ansible_facts', 'vfio']))) }}"
  run_once: true

- name: The same from hostvars, for every host of a group (hosts without facts are listed)
  ansible.builtin.set_fact:
    fleet_report: "{{ hostvars | vfio.migration.report_model(hosts=groups['kvm']) }}"
  run_once: true

- name: Which hosts cannot be drained?
  ansible.builtin.debug:
    msg: "{{ fleet_report.summary.hosts_not_evacuable }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - The report model; every list is sorted, so identical facts give an identical model.
  type: dict
  contains:
    report_version:
      description: Version of this structure (1).
      type: int
    generated_at:
      description: O(generated_at).
      type: str
    facts_source:
      description: O(facts_source).
      type: str
    rules:
      description: A short description of the rules in force.
      type: list
      elements: str
    summary:
      description:
        - "C(hosts), C(hosts_without_facts), C(classes), C(pairs) (n x (n-1)), C(compatible_pairs),
          C(incompatible_pairs), C(devices), C(devices_in_use), C(hosts_not_evacuable)."
      type: dict
    hosts:
      description:
        - "One entry per host with facts, sorted by name: C(name), C(class), C(kernel_release),
          C(devices) (C(id), C(kind), C(device_api), C(type), C(driver), C(parent), C(iommu_group),
          C(numa_node), C(vendor_device), C(software_version), C(software_version_source),
          C(migration_capable), C(migration_reason), C(in_use) with C(vm) and C(pid)), C(capacity)
          (C(mdev_types), C(sriov)), C(evacuation) (C(evacuable), C(single_host),
          C(destinations) (a count), C(destination_classes), C(blocked) devices with C(reasons)) and
          C(warnings)."
      type: list
      elements: dict
    classes:
      description: "Compatibility classes: C(id), C(hosts), C(profile) (what the class offers and uses)."
      type: list
      elements: dict
    class_matrix:
      description:
        - "Directed class verdicts: C(source), C(destination) (class ids), C(compatible), C(reasons),
          C(rules) (names of the rules that refused), C(blocked) (device types, drivers and counts left over)."
      type: list
      elements: dict
    pairs:
      description:
        - Directed host pairs with the same keys as C(class_matrix) but host names; null above
          O(pair_details_max_hosts) hosts.
      type: list
      elements: dict
    pairs_expanded:
      description: Whether C(pairs) is listed.
      type: bool
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import LAZY, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._report_build import build_report

# the input is hostvars when ``hosts`` is given: read there for those hosts only, never copied whole
_GATEWAY = Gateway('report_model', DOCUMENTATION, kinds={'_input': LAZY})


def report_model(facts_by_host, matrix=None, rules=None, hosts_without_facts=None, facts_source='gathered',
                 generated_at=None, evacuation=True, pair_details_max_hosts=200, hosts=None):
    return _GATEWAY.run(build_report, facts_by_host, matrix=matrix, rules=rules,
                        hosts_without_facts=hosts_without_facts, facts_source=facts_source,
                        generated_at=generated_at, evacuation=evacuation,
                        pair_details_max_hosts=pair_details_max_hosts, hosts=hosts)


class FilterModule(object):
    def filters(self):
        return {'report_model': report_model}
