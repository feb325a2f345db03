# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils import _version_compare as v


@pytest.mark.parametrize('source, destination, expected', [
    ('17.3', '17.3', True),
    ('17.3', '17.4', True),        # newer minor reads the older stream
    ('17.4', '17.3', False),       # never the reverse
    ('17.3', '18.0', False),       # another major
    ('550.54.16', '550.54.99', True),   # bugfix ignored
    ('550.54.16', '550.54.01', True),
    ('550.90.07', '550.54.16', False),
    ('6.1.0-18-amd64', '6.1.0-20-amd64', True),   # not PEP 440: numeric components
    ('6.1.0-18-amd64', '6.8.0-45-generic', True),
    ('6.8.0-45-generic', '6.1.0-18-amd64', False),
    ('6.8.0-45-generic', '5.15.0-1-generic', False),
    ('1', '1.2', True),
    ('1.2', '1', False),
])
def test_compatible(source, destination, expected):
    assert v.compatible(source, destination) is expected


@pytest.mark.parametrize('a, b, expected', [
    ('17.3', '17.3.0', True),
    ('550.54.16', '550.54.16', True),
    ('550.54.16', '550.54.15', False),
    ('6.1.0-18-amd64', '6.1.0-18-AMD64', True),
    ('6.1.0-18-amd64', '6.1.0-18-cloud-amd64', False),
    ('6.1.0-18-amd64', '6.1.0-20-amd64', False),
])
def test_equal(a, b, expected):
    assert v.equal(a, b) is expected


@pytest.mark.parametrize('src, dst, expected', [
    ('535.129.03', '550.54.16', True),
    ('550.54.16', '535.129.03', False),
    ('6.1.0-18-amd64', '6.1.0-20-amd64', True),
    ('6.1.0-20-amd64', '6.1.0-18-amd64', False),
    ('17.3', '17.3.0', True),
])
def test_at_least(src, dst, expected):
    assert v.at_least(src, dst) is expected


def test_specifier_on_both_kinds():
    assert v.satisfies('550.54.16', '>=535,<600')
    assert not v.satisfies('470.1', '>=535')
    assert v.satisfies('6.1.0-18-amd64', '>=6.1')


def test_unreadable_version():
    with pytest.raises(v.VersionError, match='no leading number'):
        v.compatible('unknown', '1.0')
