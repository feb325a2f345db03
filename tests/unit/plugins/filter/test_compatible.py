# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The compatible filter: two device records in, a verdict out, every failure an AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, offer
from ansible_collections.vfio.migration.plugins.filter.compatible import FilterModule as CompatibleFilters

compatible = CompatibleFilters().filters()['compatible']

Q1 = dict(board=T4, type='nvidia-230')


def test_compatible_filter_verdict_shape():
    verdict = compatible(dev('a', vm='x', **Q1), offer('p', T4, 'nvidia-230', 1, version='550.90.07'))
    assert verdict['compatible'] is False
    assert verdict['reasons'][0]['rule'] == 'nvidia_host_driver_equal'
    assert set(verdict['reasons'][0]) == {'rule', 'field', 'source', 'destination', 'message'}


@pytest.mark.parametrize('call, text', [
    (lambda: compatible('x', {}), 'vfio.migration.compatible: the source device must be a device record'),
    (lambda: compatible(dict(dev('a'), in_use=[]), dev('b')),
     "invalid vfio facts for host 'the source device': device 'a' field 'in_use': expected a mapping or null"),
    (lambda: compatible(dev('a'), dev('b'), rules={'disable': ['nope']}), "rule 'nope': cannot be disabled"),
    (lambda: compatible(dev('a'), dev('b'), rules=[{'name': 'r', 'description': 'd', 'source': 's',
                                                    'select': 'type', 'operator': 'same', 'message': 'm'}]),
     "rules from the inline rules, rule 'r': unknown operator 'same'"),
])
def test_errors_are_filter_errors(call, text):
    with pytest.raises(AnsibleFilterError) as info:
        call()
    assert text in str(info.value)


class Unsafe(str):
    def __str__(self):  # pylint: disable=invalid-str-returned  # like AnsibleUnsafeText on 2.16
        return self


def test_string_subclasses_are_read_as_plain_strings():
    verdict = compatible(dev('a', vm='x', type=Unsafe('nvidia-230')), dev('b', **Q1))
    assert verdict['compatible']
