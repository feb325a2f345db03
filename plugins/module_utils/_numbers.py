# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Numbers in text read from the kernel: ASCII digits and ASCII hex only.

The kernel prints numbers with ``%d``, ``%u`` and ``%x`` (``lib/vsprintf.c``), so only
``0-9`` and ``a-f`` are ever meant.  ``str.isdigit()`` also accepts superscripts and
other scripts' digits (``'²'``, ``'٣'``) and ``int()`` also accepts those digits,
``_`` separators and surrounding white space, so neither is used on what a tree holds:
every number the facts module parses goes through this file.
"""

from __future__ import annotations

import re

__all__ = ['is_digits', 'parse_int', 'leading_int', 'parse_hex', 'split_digits']

# ``text.strip(chars)`` is empty exactly when every character of ``text`` is one of ``chars``: the
# same test as a regular expression ``[chars]*\Z``, without the regular-expression machinery
_DIGIT_CHARS = '0123456789'
_HEX_CHARS = '0123456789abcdefABCDEF'
_LEADING = re.compile(r'[0-9]+')
_RUNS = re.compile(r'([0-9]+)')


def is_digits(text):
    """True when ``text`` is one or more ASCII digits and nothing else."""
    return bool(text) and not text.strip(_DIGIT_CHARS)


def parse_int(text):
    """``text`` (``-1``, ``12``) as an int, or ``None`` unless it is an optional ``-`` and ASCII digits."""
    digits = text[1:] if text[:1] == '-' else text
    if not digits or digits.strip(_DIGIT_CHARS):
        return None
    return int(text, 10)


def leading_int(text):
    """The int the ASCII digits at the start of ``text`` spell (``'12-rc1'`` -> 12), or ``None``."""
    match = _LEADING.match(text)
    return int(match.group(), 10) if match else None


def parse_hex(text):
    """Lower-case hex without ``0x`` (``0x10DE`` -> ``10de``), or ``None`` unless ASCII hex digits."""
    value = text[2:] if text[:2] in ('0x', '0X') else text
    if not value or value.strip(_HEX_CHARS):
        return None
    return value.lower()


def split_digits(text):
    """``text`` split into text and ASCII digit runs, the runs as ints: a natural sort key."""
    return [int(part, 10) if index % 2 else part for index, part in enumerate(_RUNS.split(text))]
