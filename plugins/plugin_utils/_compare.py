# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""One directed comparison: may the state of this source device be loaded by that destination?

The rules run in the order of the rule set, which the shipped ``rules/default.yml`` lays out
in the order the VFIO migration-compatibility discussion of 2020 on kvm@vger.kernel.org
settled on (the mdev ``migration_version`` sysfs proposal, never merged; docs/architecture.md,
"Rules"): ``device_api``; the device-api
identity (PCI vendor, device, subsystem ids; ccw subchannel type; ap adapters and domains);
the strict ``type``; the migration capability of the source and of the destination driver;
``software_version`` compatibility; then the vendor rule sets. A rule with ``stop: true``
(``device_api``) ends the comparison when it fails, since nothing after it can be compared.

A destination is a device record (a free function or mdev instance) or an *offer* record
built from an mdev type or an SR-IOV PF (see ``_host_model.py``); both have the device
fields the rules select.

A reason that repeats an earlier one (same operator, field and values, e.g. the NVIDIA
vGPU type rule after the generic ``type`` rule) is not listed twice.

Compatibility is directed: ``compare(a, b)`` and ``compare(b, a)`` are separate questions.
"""

from __future__ import annotations

__all__ = ['Comparator', 'verdict']


class Comparator(object):
    """Evaluates a :class:`RuleSet`, caching verdicts by (source key, destination key).

    Keys are the records' fingerprints (or any hashable the caller supplies): two records
    with the same fingerprint get the same verdict, which is what makes the fleet matrix
    scale with profiles rather than devices.
    """

    def __init__(self, rule_set):
        self.rule_set = rule_set
        self.rules = list(rule_set)
        self._cache = {}
        # a rule that reads one side only passes or not for that record alone: a pass is
        # remembered per (rule, side, record key), so it is evaluated once per source (or
        # destination) record key, not once per pair; a failure is evaluated per pair (its
        # reason names both records)
        self._sides = [rule.one_side() for rule in self.rules]
        self._passed = set()
        self.evaluations = 0

    def compare(self, src, dst, src_key=None, dst_key=None):
        """``(compatible, reasons)`` for moving ``src`` onto ``dst``; the verdict is not cached,
        the passes of one-sided rules are, under the keys given (see :meth:`compare_keyed`)."""
        self.evaluations += 1
        reasons = []
        seen = set()
        passed = self._passed
        for index, rule in enumerate(self.rules):
            side = self._sides[index]
            memo = None
            if side == 'source' and src_key is not None:
                memo = (index, True, src_key)
            elif side == 'destination' and dst_key is not None:
                memo = (index, False, dst_key)
            if memo is not None and memo in passed:
                continue
            reason = rule.evaluate(src, dst)
            if reason is None:
                if memo is not None:
                    passed.add(memo)
                continue
            key = (rule.operator, reason['field'], repr(reason['source']), repr(reason['destination']))
            if key not in seen:
                seen.add(key)
                reasons.append(reason)
            if rule.stop:
                break
        return (not reasons), reasons

    def compare_keyed(self, src_key, src, dst_key, dst):
        """As :meth:`compare`, cached under ``(src_key, dst_key)`` when both are not None."""
        if src_key is None or dst_key is None:
            return self.compare(src, dst)
        key = (src_key, dst_key)
        hit = self._cache.get(key)
        if hit is None:
            hit = self.compare(src, dst, src_key, dst_key)
            self._cache[key] = hit
        return hit


def verdict(ok, reasons):
    """The public shape of one comparison: ``{compatible, reasons}`` (reasons copied)."""
    return {'compatible': bool(ok), 'reasons': [dict(r) for r in reasons]}
