# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors of the compatibility engine (private to the collection).

Every error the engine raises is an :class:`EngineError`; the filter plugins turn it into an
``AnsibleFilterError`` whose message is the error's text, so a user never sees a traceback.
"""

from __future__ import annotations


class EngineError(ValueError):
    """Base class: the message is a complete sentence naming what is wrong and where."""


class FactsError(EngineError):
    """Facts that are not ``vfio`` facts of schema_version 1 (names host, device and field)."""

    def __init__(self, host, problems):
        self.host = host
        self.problems = list(problems)
        shown = self.problems[:10]
        more = len(self.problems) - len(shown)
        text = '; '.join(shown)
        if more > 0:
            text += '; and %d more problem(s)' % more
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
