# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

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
      - The rule set(s) in force, as given to the engine filters; used to compute the matrix when
        O(matrix) is omitted, and described in the report's header.
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

from collections.abc import Mapping

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_model as model
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import EngineError
from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix
from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._plan import migration_plan
from ansible_collections.vfio.migration.plugins.plugin_utils._schema import unwrap


def _from_hostvars(hostvars, hosts):
    """``{host: vfio facts}`` and the hosts without any, read from ``hostvars`` for ``hosts``."""
    found, missing = {}, []
    for host in hosts:
        try:
            facts = hostvars[host]['ansible_facts']['vfio']
        except (KeyError, TypeError, AnsibleError):  # not in the inventory, or no facts
            facts = None
        if not isinstance(facts, Mapping):  # also Jinja's Undefined for a host not in the inventory
            missing.append(str(host))
        else:
            found[str(host)] = facts
    return found, missing


def report_model(facts_by_host, matrix=None, rules=None, hosts_without_facts=None, facts_source='gathered',
                 generated_at=None, evacuation=True, pair_details_max_hosts=200, hosts=None):
    if hosts is not None:
        if not isinstance(hosts, (list, tuple)) or not all(isinstance(h, str) for h in hosts):
            raise AnsibleFilterError('vfio.migration.report_model: hosts must be a list of host names')
        facts_by_host, missing = _from_hostvars(facts_by_host, hosts)
        hosts_without_facts = list(hosts_without_facts or []) + missing
    if not isinstance(facts_by_host, dict):
        raise AnsibleFilterError('vfio.migration.report_model: the input must be a dictionary of host name -> '
                                 'vfio facts, got %s' % type(facts_by_host).__name__)
    if facts_source not in ('gathered', 'cache', 'mixed'):
        raise AnsibleFilterError('vfio.migration.report_model: facts_source must be gathered, cache or mixed')
    if not isinstance(pair_details_max_hosts, int) or isinstance(pair_details_max_hosts, bool):
        raise AnsibleFilterError('vfio.migration.report_model: pair_details_max_hosts must be an integer')
    try:
        facts = dict((str(name), unwrap(value)) for name, value in model.plain(facts_by_host).items())
        rules = model.plain(rules)
        if matrix is None:
            matrix = compat_matrix(facts, rules=rules)
        matrix = model.plain(matrix)
        missing = sorted(set(facts) ^ set(matrix.get('hosts') or []))
        if missing:
            raise model.ReportError('the matrix and the facts are not about the same hosts (%s); compute the '
                                    'matrix from the same facts' % ', '.join(missing[:10]))
        classes, verdicts = model.from_matrix(matrix, facts)
        evac = None
        if evacuation:
            engine = Engine(rules)

            def drain(host):
                return migration_plan(facts, [host], engine=engine)
            evac = model.evacuation_view(facts, classes, verdicts, plan=drain)
        return model.build_model(
            facts, classes, verdicts, evacuation=evac,
            hosts_without_facts=[str(h) for h in model.plain(hosts_without_facts) or []],
            facts_source=facts_source, generated_at=None if generated_at is None else str(generated_at),
            rules=model.rules_label(rules), pair_details_max_hosts=pair_details_max_hosts)
    except AnsibleFilterError:
        raise
    except EngineError as exc:
        raise AnsibleFilterError('vfio.migration.report_model: %s' % exc)
    except (ValueError, TypeError, KeyError) as exc:
        raise AnsibleFilterError('vfio.migration.report_model: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'report_model': report_model}
