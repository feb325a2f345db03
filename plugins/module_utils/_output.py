# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""What the facts module returns is valid UTF-8 and bounded in size.

* Names of directories and link texts are bytes on Linux; Python gives the bytes that are
  not UTF-8 as lone surrogates (``surrogateescape``), which ansible-core refuses to send.
  :func:`utf8` rewrites every such string with ``\\xNN`` escapes and names it in a warning.
* One attribute file is bounded by the reader (64 KiB); :func:`bound` bounds the number of
  entries of each list and the size of the whole facts, dropping the entries at the end of
  a list with a warning that says how many were kept.
"""

from __future__ import annotations

import json

__all__ = ['utf8', 'bound', 'dumps', 'MAX_FACTS_BYTES', 'MAX_LIST_ENTRIES']

#: Default bound of the facts as compact JSON, in characters.
MAX_FACTS_BYTES = 16 * 1024 * 1024
#: Default bound of the entries of ``devices``, ``mdev_types``, ``sriov`` and ``warnings``.
MAX_LIST_ENTRIES = 100000

# room kept for the summary, the host dict's keys and the warnings bound() adds
_RESERVE = 4096


def _escape(text, found):
    try:
        text.encode('utf-8')
        return text
    except UnicodeEncodeError:
        pass
    try:
        fixed = text.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')
    except UnicodeEncodeError:  # a surrogate that did not come from a byte
        fixed = text.encode('utf-8', 'backslashreplace').decode('utf-8')
    found.add(fixed)
    return fixed


def _clean(value, found):
    if isinstance(value, str):
        return _escape(value, found)
    if isinstance(value, dict):
        return dict((_clean(key, found), _clean(item, found)) for key, item in value.items())
    if isinstance(value, list):
        return [_clean(item, found) for item in value]
    return value


def utf8(value, warnings, text=None):
    """``value`` (dicts, lists, strings, scalars) with every string valid UTF-8.

    Strings holding bytes that are not UTF-8 get ``\\xNN`` escapes; each one is named in a
    line appended to ``warnings``.  Values that need nothing are returned as they are.
    ``text`` is ``value`` as JSON when the caller has it already.
    """
    try:
        (json.dumps(value, ensure_ascii=False) if text is None else text).encode('utf-8')
        return value
    except UnicodeEncodeError:
        pass
    found = set()
    value = _clean(value, found)
    warnings.extend('%s: not valid UTF-8, bytes shown as \\xNN' % text for text in sorted(found))
    return value


def _size(value):
    return len(dumps(value))


# the facts are trees the module built (no container appears twice on a path), so the
# encoder's check for cycles is left out: a quarter of its time on a large host
_ENCODER = json.JSONEncoder(separators=(',', ':'), ensure_ascii=False, check_circular=False)


def dumps(value):
    """``value`` as compact JSON text (what the bounds count), surrogates left as they are."""
    return _ENCODER.encode(value)


def bound(lists, fixed, max_bytes=MAX_FACTS_BYTES, max_entries=MAX_LIST_ENTRIES, size=None):
    """Cut the lists in ``lists`` (``{name: list}``, in order of importance) in place.

    :param fixed: the rest of the facts (counted against ``max_bytes``).
    :param size: the length of ``dumps([lists, fixed])`` when the caller has it already.
    :returns: warning lines, one per list that was cut.
    """
    notes = []
    if all(len(items) <= max_entries for items in lists.values()):
        if (_size([lists, fixed]) if size is None else size) <= max_bytes - _RESERVE:
            return notes
    budget = max_bytes - _size(fixed) - _RESERVE
    for name, items in lists.items():
        keep = min(len(items), max_entries)
        used = _size(items[:keep]) if budget >= 0 else budget + 1
        if used > budget:
            keep, used = 0, 0
            for item in items:
                cost = _size(item) + 1
                if keep >= max_entries or used + cost > budget:
                    break
                used += cost
                keep += 1
        budget -= used
        if keep < len(items):
            notes.append('%s: %d entries, the first %d kept (facts bounded to %d entries per list and %d characters)'
                         % (name, len(items), keep, max_entries, max_bytes))
            del items[keep:]
    return notes
