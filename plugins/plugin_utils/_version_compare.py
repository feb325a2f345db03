# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Driver and stream versions as the engine compares them (private to the collection).

A version string is read with ``packaging`` where it parses (``17.3``, ``550.54.16``,
``1.0.post2``) and by its numeric components where it does not (``6.1.0-18-amd64``,
``535.129.03-grid``): the leading dotted numbers are the *release* (``6.1.0``), the
numeric parts of what follows are a tie-breaker (``18``), the rest is kept as text.

The rules of the VFIO migration-compatibility discussion of 2020 on kvm@vger.kernel.org (the
mdev ``migration_version`` sysfs proposal, never merged; docs/architecture.md, "Rules"):

* **compatible** (source stream readable by the destination): same major, destination
  minor >= source minor; the bugfix component carries no meaning.
* **equal**: the same version (``17.3`` equals ``17.3.0``; ``6.1.0-18-amd64`` equals only
  itself, up to case).
* **at least**: the destination is the same version or newer.
"""

from __future__ import annotations

import re

try:
    from packaging.version import InvalidVersion, Version
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    HAS_PACKAGING = True
except ImportError:  # pragma: no cover - packaging is a documented requirement
    HAS_PACKAGING = False

__all__ = ['ParsedVersion', 'VersionError', 'parse', 'compatible', 'equal', 'at_least',
           'satisfies', 'compare']

_LEADING = re.compile(r'^\s*[vV]?(\d+(?:\.\d+)*)(.*)$', re.S)
_SPLIT = re.compile(r'[-._+~:]')


class VersionError(ValueError):
    """A version string that has no numeric release at all (``'unknown'``)."""


class ParsedVersion(object):
    """One parsed version: ``release`` (tuple of ints), ``extra`` (tie-breaker ints), ``text``."""

    __slots__ = ('text', 'release', 'extra', 'rest', 'pep440')

    def __init__(self, text, release, extra, rest, pep440):
        self.text = text
        self.release = release
        self.extra = extra
        self.rest = rest
        self.pep440 = pep440

    @property
    def major(self):
        return self.release[0]

    @property
    def minor(self):
        return self.release[1] if len(self.release) > 1 else 0

    def _trimmed(self):
        rel = list(self.release)
        while len(rel) > 1 and rel[-1] == 0:
            rel.pop()
        return tuple(rel)

    def order_key(self):
        """A key that sorts older before newer; for PEP 440 versions the Version itself."""
        return (self._trimmed(), self.extra)

    def __repr__(self):
        return 'ParsedVersion(%r)' % (self.text,)


_CACHE = {}


def parse(value):
    """Parse ``value`` (str, int or float) into a :class:`ParsedVersion`, cached.

    :raises VersionError: when the value has no leading number.
    """
    text = str(value).strip()
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    pep440 = None
    if HAS_PACKAGING:
        try:
            pep440 = Version(text)
        except InvalidVersion:
            pep440 = None
    if pep440 is not None:
        extra = ()
        if pep440.post is not None:
            extra = (pep440.post,)
        result = ParsedVersion(text, tuple(pep440.release), extra, '', pep440)
    else:
        match = _LEADING.match(text)
        if not match:
            raise VersionError('%r is not a version (it has no leading number)' % (text,))
        release = tuple(int(part) for part in match.group(1).split('.'))
        rest = match.group(2)
        extra = tuple(int(part) for part in _SPLIT.split(rest) if part.isdigit())
        result = ParsedVersion(text, release, extra, rest.lower(), None)
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[text] = result
    return result


def compatible(source, destination):
    """True when a destination at ``destination`` reads the stream of a source at ``source``."""
    src, dst = parse(source), parse(destination)
    return src.major == dst.major and dst.minor >= src.minor


def equal(source, destination):
    """True when both name the same version."""
    src, dst = parse(source), parse(destination)
    if src.pep440 is not None and dst.pep440 is not None:
        return src.pep440 == dst.pep440
    return src.order_key() == dst.order_key() and src.rest == dst.rest


def compare(left, right):
    """-1, 0 or 1 as ``left`` is older than, the same as or newer than ``right``."""
    a, b = parse(left), parse(right)
    if a.pep440 is not None and b.pep440 is not None:
        ka, kb = a.pep440, b.pep440
    else:
        ka, kb = a.order_key(), b.order_key()
    if ka < kb:
        return -1
    if ka > kb:
        return 1
    return 0


def at_least(source, destination):
    """True when ``destination`` is the same version as ``source`` or newer."""
    return compare(destination, source) >= 0


def check_specifier(spec):
    """Return a parsed ``SpecifierSet`` for ``spec`` or raise ``ValueError`` with the reason."""
    if not HAS_PACKAGING:  # pragma: no cover
        raise ValueError('the Python library "packaging" is needed for specifier rules')
    try:
        return SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise ValueError('%r is not a version specifier (%s)' % (spec, exc))


def satisfies(value, spec):
    """True when version ``value`` satisfies the PEP 440 specifier ``spec`` (``'>=535,<600'``).

    A version that ``packaging`` cannot read is tested by its numeric release.
    """
    specifier = check_specifier(spec) if isinstance(spec, str) else spec
    parsed = parse(value)
    version = parsed.pep440
    if version is None:
        version = Version('.'.join(str(part) for part in parsed.release))
    return specifier.contains(version, prereleases=True)
