# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: migration_check
short_description: Place a source host's devices in use on one destination host, all at once, or say why not
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Takes the C(vfio) facts of a source and of a destination host and places every source device in
    use by a VM (or only O(devices), or the devices of O(vms)) on the destination, respecting its
    capacity, free assignable functions (vfio-bound, not in use), C(available_instances) of each mdev
    type per parent, and the VFs each SR-IOV PF can still create.
  - Each device is compared with each destination slot by the same directed rules as
    P(vfio.migration.compatible#filter). The assignment is a maximum matching (augmenting paths), so
    a placement is found whenever one exists, also where first-fit would strand a device.
  - The mdev types of one parent share that parent's capacity, although the kernel reports
    C(available_instances) per type; the placement never promises more than the parents can hold
    (described in C(docs/architecture.md), section "Capacity model").
  - The devices of one VM move together or not at all. When not all VMs fit, the most whole VMs
    (then the most devices) are placed.
  - Every device left over lists, per candidate slot profile on the destination, why it was refused
    (the rule and both values, C(capacity) or C(vm_atomicity)). A C(capacity) refusal that comes from
    a parent's shared capacity says so (what is already placed on that parent, or the vGPU type the
    placement already puts on an NVIDIA time-sliced GPU).
  - A device that no slot on the destination takes, while the destination does have slots of its type
    that the rules accept but with no room left, gets a C(capacity) reason first, before the refusals of
    the slots that exist, naming them, with C(field) C(available_instances) (an mdev type with no
    instance available), C(sriov.numvfs) (a PF whose VFs are all enabled, or one with a VF in use, whose count
    can change only through 0) or C(in_use) (devices of that profile all in use).
positional: _input, destination
extends_documentation_fragment:
  - vfio.migration._rules
options:
  _input:
    description: The source host's C(vfio) facts (C(hostvars[src].ansible_facts.vfio)); the host's whole
      C(ansible_facts) or hostvars entry is accepted too.
    type: dict
    required: true
  destination:
    description: The destination host's C(vfio) facts.
    type: dict
    required: true
  devices:
    description: Source device ids to place (in use or not). Default is every device in use.
    type: list
    elements: str
  vms:
    description: Place the devices in use by these VMs (names from C(in_use.vm)).
    type: list
    elements: str
  source_host:
    description: Name of the source host, used in error messages.
    type: str
    default: source
  destination_host:
    description: Name of the destination host, used in error messages.
    type: str
    default: destination
"""

EXAMPLES = r"""
- name: Can every VM with assigned devices on src1 move to dst1?
  ansible.builtin.set_fact:
    check: >-
      {{ hostvars.src1.ansible_facts.vfio
         | vfio.migration.migration_check(hostvars.dst1.ansible_facts.vfio,
                                          source_host='src1', destination_host='dst1') }}

- name: Stop when it cannot
  ansible.builtin.assert:
    that: check.compatible
    fail_msg: "{{ check.unplaced | map(attribute='reasons') | flatten | map(attribute='message') | list }}"

- name: Only the devices of VM web01
  ansible.builtin.debug:
    msg: "{{ src | vfio.migration.migration_check(dst, vms=['web01']) }}"
"""

RETURN = r"""
_value:
  description: The placement.
  type: dict
  contains:
    compatible:
      description: True when every device asked about has a place.
      type: bool
    placements:
      description: Where each placed device goes.
      type: list
      elements: dict
      contains:
        source:
          description: Source device id.
          type: str
        destination:
          description: The free device to use, or the mdev parent / SR-IOV PF on which to create one.
          type: str
        type:
          description: The type of the destination slot.
          type: str
        vm:
          description: The VM the device belongs to (null when unknown).
          type: str
        action:
          description: C(use) (a free device), C(create_mdev) (an instance of the type on the parent) or
            C(create_vf) (a new VF of the PF).
          type: str
        slot:
          description: Identifier of the slot pool (device id, C(parent/type) or C(pf/new-vf)).
          type: str
    unplaced:
      description: Devices without a place, each with the reasons per candidate.
      type: list
      elements: dict
      contains:
        source:
          description: Source device id.
          type: str
        vm:
          description: Its VM.
          type: str
        type:
          description: Its type.
          type: str
        reasons:
          description: C({candidate, candidates, rule, field, source, destination, message}) per refusing
            candidate profile; C(candidates) counts destination slots with that same profile.
          type: list
          elements: dict
    optimal:
      description: False only when the search for the best set of whole VMs stopped at its budget.
      type: bool
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._check import migration_check as _check
from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS, Gateway

_GATEWAY = Gateway('migration_check', DOCUMENTATION, kinds={'_input': FACTS, 'destination': FACTS})


def migration_check(source, destination, devices=None, vms=None, rules=None, source_host='source',
                    destination_host='destination'):
    return _GATEWAY.run(_check, source, destination, devices=devices, vms=vms, rules=rules,
                        source_host=source_host, destination_host=destination_host)


class FilterModule(object):
    def filters(self):
        return {'migration_check': migration_check}
