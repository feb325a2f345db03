# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_hostvars: the vfio facts of the chosen hosts, read from hostvars; hosts without facts listed."""

from __future__ import annotations

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import host
from ansible_collections.vfio.migration.plugins.plugin_utils._hostvars import facts_by_host, facts_from_hostvars


class Unsafe(str):
    def __str__(self):  # pylint: disable=invalid-str-returned  # like AnsibleUnsafeText on 2.16
        return self


HOSTVARS = {
    'a': {'ansible_facts': {'vfio': host()}},
    'b': {'ansible_facts': {}},
    'c': {'ansible_facts': {'vfio': 'not facts'}},
    'd': {'ansible_facts': {'vfio': {'schema_version': 1, 'devices': [{'id': Unsafe('g0')}]}}},
}


def test_only_the_named_hosts_with_facts_are_read():
    found, missing = facts_from_hostvars(HOSTVARS, ['a', 'b', 'c', 'zz'])
    assert list(found) == ['a'] and found['a'] is HOSTVARS['a']['ansible_facts']['vfio']
    assert missing == ['b', 'c', 'zz']


def test_facts_by_host_is_a_plain_copy():
    out = facts_by_host(HOSTVARS, ['d'])
    ident = out['d']['devices'][0]['id']
    assert ident == 'g0' and type(ident) is str       # pylint: disable=unidiomatic-typecheck
    assert out['d'] is not HOSTVARS['d']['ansible_facts']['vfio']
