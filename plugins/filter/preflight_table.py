# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_table
short_description: Lay out why no destination takes a source host's devices, as a readable table
version_added: 0.1.0
author: vfio.migration maintainers
description:
  - Renders the verdicts that P(vfio.migration.migration_check#filter) returned for one source
    host against each candidate destination as plain text (a header line, then one line per
    device, destination and reason, under the columns C(VM), C(DEVICE), C(TYPE), C(VERSION),
    C(DESTINATION) and C(WHY NOT)).
  - It decides nothing; it is the text the C(vfio.migration.preflight) role puts into a failure.
  - Control characters in host-supplied strings are written as C(\xNN) so a table cell never
    breaks a line.
positional: _input, source_vfio
options:
  _input:
    description:
      - A dict mapping each candidate destination host name to the
        P(vfio.migration.migration_check#filter) result for this source, in the order tried.
      - An empty dict means there was no candidate destination.
    type: dict
    required: true
  source_vfio:
    description: The C(vfio) facts of the source host (to show each device's VM, type and version).
    type: dict
    required: true
  source:
    description: The source host name, shown in the header line.
    type: str
    default: source
"""

EXAMPLES = r"""
- name: Show why src1 cannot move
  ansible.builtin.debug:
    msg: >-
      {{ {'dst1': hostvars.src1.ansible_facts.vfio
                  | vfio.migration.migration_check(hostvars.dst1.ansible_facts.vfio)}
         | vfio.migration.preflight_table(hostvars.src1.ansible_facts.vfio, source='src1') }}
# src1: no candidate destination can take all 1 device(s) at once (tried: dst1)
# VM     DEVICE                                TYPE        VERSION    DESTINATION  WHY NOT
# web01  6f1c3a52-0d9e-4c1a-9b57-7a3c2f8e1d01  nvidia-230  550.54.16  dst1         ...
"""

RETURN = r"""
_value:
  description: The table as text, lines separated by newlines (no trailing newline).
  type: str
"""

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import FACTS, Gateway
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight import failure_table

_GATEWAY = Gateway("preflight_table", DOCUMENTATION, kinds={"source_vfio": FACTS})


def preflight_table(checks, source_vfio, source="source"):
    return _GATEWAY.run(failure_table, checks, source_vfio, source=source)


class FilterModule(object):
    def filters(self):
        return {"preflight_table": preflight_table}
