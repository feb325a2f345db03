# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: compatible
short_description: Whether one device's state can live-migrate onto another device or mdev type, and why not
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - One B(directed) comparison of a source device (an entry of C(ansible_facts.vfio.devices)) with
    a destination device or an entry of C(ansible_facts.vfio.mdev_types) on another host.
  - The rules run in the order the kernel discussion settled on, C(device_api), the device-API
    identity (PCI vendor, device and subsystem ids; ccw subchannel type; ap matrix), the strict
    C(type), the migration capability of the source and destination drivers, C(software_version)
    compatibility (same major, destination minor greater or equal), then the vendor rule sets
    shipped in the collection's C(rules/) directory (for example NVIDIA vGPU, same host driver
    version and no mixing of H100/H800/H200 boards).
  - A to B and B to A are separate questions; a newer driver reads an older stream, never the reverse.
  - Facts of another C(schema_version), missing keys, wrong types and bad rule files raise an error
    that names the device, the field, the rule file and the rule.
positional: _input, destination
extends_documentation_fragment:
  - vfio.migration._rules
options:
  _input:
    description: The source device record (from the source host's C(vfio.devices)).
    type: dict
    required: true
  destination:
    description: The destination device record, or an entry of the destination host's C(vfio.mdev_types).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Can this vGPU move onto that free type?
  ansible.builtin.debug:
    msg: >-
      {{ hostvars.src1.ansible_facts.vfio.devices[0]
         | vfio.migration.compatible(hostvars.dst1.ansible_facts.vfio.mdev_types[0]) }}
# {"compatible": false, "reasons": [{"rule": "nvidia_host_driver_equal", "field": "software_version",
#   "source": "550.54.16", "destination": "550.90.07",
#   "message": "NVIDIA vGPU migrates only between identical host driver versions: ..."}]}

- name: The same with a site rule file and one shipped rule off
  ansible.builtin.set_fact:
    verdict: >-
      {{ src_dev | vfio.migration.compatible(dst_dev,
           rules={'files': ['/etc/vfio-migration/site.yml'], 'disable': ['nvidia_board_variants']}) }}
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    compatible:
      description: True when every rule in force lets the source's state move to the destination.
      type: bool
    reasons:
      description: One entry per rule that said no, in rule order (empty when compatible).
      type: list
      elements: dict
      contains:
        rule:
          description: The rule's name.
          type: str
        field:
          description: The field the rule compared (for example C(software_version), C(pci.device)).
          type: str
        source:
          description: The value on the source.
          type: raw
        destination:
          description: The value on the destination.
          type: raw
        message:
          description: A sentence a person understands.
          type: str
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._check import compatible as _compatible
from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import DEVICE, Gateway

_GATEWAY = Gateway('compatible', DOCUMENTATION, kinds={'_input': DEVICE, 'destination': DEVICE})


def compatible(source, destination, rules=None):
    return _GATEWAY.run(_compatible, source, destination, rules=rules)


class FilterModule(object):
    def filters(self):
        return {'compatible': compatible}
