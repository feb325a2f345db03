# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The engine: a rule set in force with its comparator and record keyer, and the host models
it builds from ``vfio`` facts (one engine per filter call; the fleet filters share it)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vfio.migration.plugins.plugin_utils._compare import Comparator
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ArgumentError
from ansible_collections.vfio.migration.plugins.plugin_utils._host_model import RecordKeyer, build_host
from ansible_collections.vfio.migration.plugins.plugin_utils._rules import load_rule_set

__all__ = ['Engine', 'build_models']


class Engine(object):
    """A rule set with its comparator and record keyer (one per filter call)."""

    def __init__(self, rules=None):
        self.rule_set = load_rule_set(rules)
        self.comparator = Comparator(self.rule_set)
        self.keyer = RecordKeyer(self.rule_set)

    def host(self, name, facts, validate=True):
        """The :class:`HostModel` of host ``name`` (facts validated unless ``validate`` is false)."""
        return build_host(name, facts, self.keyer, validate=validate)


def build_models(engine, facts_by_host):
    """``{host: HostModel}`` in host name order, for a mapping of host name -> ``vfio`` facts."""
    if not isinstance(facts_by_host, Mapping):
        raise ArgumentError('facts_by_host must be a mapping of host name -> vfio facts, got %s'
                            % type(facts_by_host).__name__)
    models = {}
    for name in sorted(facts_by_host, key=str):
        if not isinstance(name, str):
            raise ArgumentError('facts_by_host keys must be host names (strings), found %r' % (name,))
        models[name] = engine.host(name, facts_by_host[name])
    return models
