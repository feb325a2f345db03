# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_errors: one exception base for the controller code, and what each error says."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils import _errors as errors


@pytest.mark.parametrize('cls', [errors.EngineError, errors.FactsError, errors.RuleError, errors.ArgumentError,
                                 errors.ReportError, errors.PreflightInputError])
def test_every_error_is_a_vfio_error_and_a_value_error(cls):
    assert issubclass(cls, errors.VfioError) and issubclass(cls, ValueError)


def test_engine_errors_are_apart_from_report_and_preflight_errors():
    assert issubclass(errors.FactsError, errors.EngineError)
    assert not issubclass(errors.ReportError, errors.EngineError)
    assert not issubclass(errors.PreflightInputError, errors.EngineError)


def test_facts_error_names_the_host_and_at_most_ten_problems():
    error = errors.FactsError('h1', ['problem %d' % i for i in range(12)])
    assert error.host == 'h1' and len(error.problems) == 12
    assert str(error).startswith("invalid vfio facts for host 'h1': problem 0; problem 1; ")
    assert 'problem 9' in str(error) and 'problem 10' not in str(error)
    assert str(error).endswith('problem 9 and 2 more')


def test_rule_error_names_where_the_rule_came_from():
    assert str(errors.RuleError('rules/x.yml', 'r1', 'unknown operator')) == \
        "rules from rules/x.yml, rule 'r1': unknown operator"
    assert str(errors.RuleError('rules/x.yml', None, 'not a list')) == 'rules from rules/x.yml: not a list'
