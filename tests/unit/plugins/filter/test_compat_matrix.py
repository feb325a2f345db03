# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The compat_matrix filter: the facts of an inventory in, host classes and directed pairs out."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule

matrix = FilterModule().filters()['compat_matrix']

Q1 = dict(board=T4, type='nvidia-230')


def test_compat_matrix_filter():
    result = matrix({'a': host(dev('g0', vm='web', **Q1)), 'b': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1))},
                    expand=True)
    assert result['host_class'] == {'a': 'c1', 'b': 'c2'}
    assert [(p['source'], p['destination'], p['compatible']) for p in result['pairs']] == [
        ('a', 'b', True), ('b', 'a', True)]
    with pytest.raises(AnsibleFilterError, match='vfio.migration.compat_matrix: expand must be true or false'):
        matrix({}, expand='yes')
