# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_numbers: numbers in sysfs and procfs text are ASCII digits only (issue 10, item 1)."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from ansible_collections.vfio.migration.plugins.module_utils._capability import kernel_at_least
from ansible_collections.vfio.migration.plugins.module_utils._numbers import (
    is_digits, leading_int, parse_hex, parse_int, split_digits)
from ansible_collections.vfio.migration.plugins.module_utils._nvidia import parse_creatable
from ansible_collections.vfio.migration.plugins.module_utils._processes import parse_holder

# str.isdigit() accepts all of these, int() rejects the first two and accepts the last
ODD_DIGITS = ('\u00b2', '1\u00b9', '\u0663')


def test_numbers_are_ascii_only():
    for odd in ODD_DIGITS:
        assert not is_digits(odd)
        assert parse_int(odd) is None
        assert parse_hex(odd) is None
        assert parse_holder('/dev/vfio/' + odd) is None
        assert parse_holder('/dev/vfio/devices/vfio' + odd) is None
        assert parse_creatable('ID : Name\n%s : NVIDIA A100-4C\n' % odd) == []
        assert split_digits('a' + odd + 'b') == ['a' + odd + 'b'] or odd[0] == '1'
    assert parse_int('-1') == -1 and parse_int('1_0') is None and parse_int('+1') is None
    assert parse_hex('0x10DE') == '10de' and parse_hex('1_0') is None and parse_hex('') is None
    assert kernel_at_least('\u00b2.8.0', 6, 7) is None and kernel_at_least('6.\u0663', 6, 7) is None
    assert leading_int('12-rc1') == 12 and kernel_at_least('6.12.0', 6, 7) is True


# the parsers test characters with str.strip: the same answers as the regular expressions they
# replaced, on any text (ASCII, other scripts' digits, signs, separators, white space)
_CHARS = st.sampled_from(list('0123456789abcdefABCDEFxX-+_ \n\t') + list(ODD_DIGITS) + ['\u0660', '\uff11'])


@settings(max_examples=1500, derandomize=True, database=None, deadline=None)
@given(st.lists(_CHARS, max_size=8).map(''.join))
def test_parsers_agree_with_the_regular_expressions(text):
    int_ok = re.match(r'-?[0-9]+\Z', text) is not None
    assert parse_int(text) == (int(text, 10) if int_ok else None)
    assert is_digits(text) == (re.match(r'[0-9]+\Z', text) is not None)
    value = text[2:] if text[:2] in ('0x', '0X') else text
    assert parse_hex(text) == (value.lower() if re.match(r'[0-9a-fA-F]+\Z', value) else None)
