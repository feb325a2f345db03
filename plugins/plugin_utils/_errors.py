# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The errors of the collection's controller code (private to the collection).

Every error raised on purpose under ``plugins/plugin_utils`` is a :class:`VfioError`: the engine's
(:class:`EngineError` and its kinds), the report's and the preflight role's. The filter gateway
(``_gateway.py``) turns every one of them into an ``AnsibleFilterError`` whose message is
``vfio.migration.<filter>: <the error's text>``, so a user never sees a traceback.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._reasons import and_more


class VfioError(ValueError):
    """The one base: the message is a complete sentence naming what is wrong and where."""


class EngineError(VfioError):
    """An error of the compatibility engine (facts, rules, arguments)."""


class FactsError(EngineError):
    """Facts that are not ``vfio`` facts of schema_version 1 (names host, device and field)."""

    def __init__(self, host, problems):
        self.host = host
        self.problems = list(problems)
        text = and_more(self.problems, limit=10, sep='; ')
        super(FactsError, self).__init__('invalid vfio facts for host %r: %s' % (host, text))


class RuleError(EngineError):
    """A rule set that cannot be used (names the file, the rule and what is wrong)."""

    def __init__(self, origin, rule, problem):
        self.origin = origin
        self.rule = rule
        self.problem = problem
        where = 'rules from %s' % origin
        if rule is not None:
            where += ', rule %r' % (rule,)
        super(RuleError, self).__init__('%s: %s' % (where, problem))


class ArgumentError(EngineError):
    """A filter argument of the wrong shape (names the argument)."""


class ReportError(VfioError):
    """Input the report cannot be built from or rendered; the message names host and field."""


class PreflightInputError(VfioError):
    """Input the preflight role's tables cannot be built from; the message names the field."""
