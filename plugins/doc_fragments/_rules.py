# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment(object):

    # The rules option of every filter that runs the compatibility engine, and the reasons it gives.
    DOCUMENTATION = r"""
options:
  rules:
    description:
      - Which rules are in force. Default is the shipped rule sets (C(rules/default.yml) first, then
        the vendor files).
      - A path (string) adds a rule file; a list may mix rule-file paths and inline rules.
      - A dict may hold C(defaults) (bool, include the shipped rules, default true), C(files) (list of
        paths), C(rules) (inline rules) and C(disable) (names of rules to turn off).
      - A rule with the name of a rule already in force replaces it in place; a rule entry with only
        C(name) and C(enabled=false) turns that rule off.
    type: raw
notes:
  - "B(Reasons.) Every refusal the engine gives is a dict with C(rule) (the name of the rule that said
    no, or C(capacity) when the slots exist but have no room left or the destination offers nothing
    (C(field=offer)), or C(vm_atomicity) when a device stays because another device of its VM has
    no place, or C(no_destination) in plans), C(field) (the field compared, for example
    C(software_version), C(pci.device), C(available_instances), C(sriov.numvfs), C(in_use)),
    C(source) and C(destination) (the two values compared) and C(message) (a sentence a person
    understands). Where a reason is about one candidate slot profile of the destination it also has
    C(candidate) (that slot) and C(candidates) (how many destination slots share its profile); the
    filters that cover many hosts add the C(device), C(vm) or destination C(hosts) it is about."
"""
