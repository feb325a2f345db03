# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_prepare
short_description: The mdevs and VFs the destinations of chosen moves need before the VMs move
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Runs in the C(vfio.migration.preflight) role with C(vfio_preflight_prepare=true), after the V(select) or
    V(reorder) decision; the role hands each entry to M(vfio.migration.vfio_mdev) or M(vfio.migration.vfio_vf),
    delegated to its C(host).
  - A placement with C(action=create_mdev) needs an mdev of its C(type) on its C(destination) parent, with the
    UUID of the source mdev (libvirt names an mdev by UUID in the domain XML, which a live migration keeps;
    the same UUID also makes a second run find the device there and change nothing).
  - Placements with C(action=create_vf) on one PF raise its C(sriov_numvfs) by their number; each new VF (the
    indices after the enabled ones) is bound to the driver of its source device. The kernel changes a non-zero
    count only through 0, which removes and re-creates every VF of the PF, so the VFs the destination had on a
    VFIO driver are listed to be bound again.
  - C(action=use) needs nothing.
  - Whatever cannot be prepared is a sentence in C(problems), and nothing should then be written - a
    placement on an NVIDIA vGPU type of an SR-IOV VF or a vfio-ap type (not mdevs the module can make whole),
    a source mdev without a UUID, a source device without a driver, a count beyond C(sriov_totalvfs), or a PF
    with VFs enabled one of which a process holds.
positional: _input, moves
options:
  _input:
    description: The C(vfio) facts by host name (sources and destinations).
    type: dict
    required: true
  moves:
    description:
      - The moves, each with C(source) (host), C(destination) (host) and the device placements under
        C(placements) (an entry of P(vfio.migration.preflight_checks#filter), select mode) or C(devices) (a
        move of P(vfio.migration.migration_plan#filter)); each placement as
        P(vfio.migration.migration_check#filter) returns it (C(source), C(destination), C(type), C(vm),
        C(action)).
      - An entry whose C(destination) is null (a source that cannot move) is skipped.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: What the selected destinations need
  ansible.builtin.set_fact:
    to_prepare: "{{ facts_by_host | vfio.migration.preflight_prepare(results.values() | list) }}"
  run_once: true
# {"mdevs": [{"host": "kvm-b", "parent": "0000:3b:00.0", "type": "nvidia-230",
#             "uuid": "3b1d6c2e-7f0a-4a55-9f3e-2d7c1f0e9a11", "vm": "web-01", "source_host": "kvm-a"}],
#  "vfs": [{"host": "kvm-b", "pf": "0000:5e:00.0", "num_vfs": 1, "vf_index": 0, "vf": null,
#           "driver": "mlx5_vfio_pci", "vm": "db-01", "source_host": "kvm-a", "source": "0000:5e:00.2"}],
#  "problems": []}

- name: Create the mdevs
  vfio.migration.vfio_mdev:
    uuid: "{{ item.uuid }}"
    parent: "{{ item.parent }}"
    type: "{{ item.type }}"
  delegate_to: "{{ item.host }}"
  loop: "{{ to_prepare.mdevs }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: What to make, and what cannot be made.
  type: dict
  contains:
    mdevs:
      description:
        - One C({host, parent, type, uuid, vm, source_host}) per mdev to create (C(uuid) in lower case), sorted
          by host and UUID.
      type: list
      elements: dict
    vfs:
      description:
        - One C({host, pf, num_vfs, vf_index, vf, driver, vm, source_host, source}) per VF to bind, by host and
          PF. C(num_vfs) is the PF's count to set; a new VF has its C(vf_index) (C(vf) null), a VF bound again
          after the count change its address C(vf) (C(vf_index), C(vm), C(source_host) and C(source) null).
      type: list
      elements: dict
    problems:
      description: One sentence per placement or PF that cannot be prepared; empty when everything can.
      type: list
      elements: str
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS_BY_HOST, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_prepare import prepare

_GATEWAY = Gateway('preflight_prepare', DOCUMENTATION, kinds={'_input': FACTS_BY_HOST})


def preflight_prepare(facts_by_host, moves=None):
    return _GATEWAY.run(prepare, facts_by_host, moves)


class FilterModule(object):
    def filters(self):
        return {'preflight_prepare': preflight_prepare}
