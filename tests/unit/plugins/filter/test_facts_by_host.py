# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The facts_by_host filter: facts read from hostvars for the hosts asked for only."""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.filter.facts_by_host import facts_by_host


class LazyHostvars(object):
    """Reads count: a host's variables are read only when asked for."""

    def __init__(self, data):
        self.data, self.read = data, []

    def __getitem__(self, name):
        self.read.append(name)
        return self.data[name]


def test_facts_by_host_reads_only_the_hosts_asked_for():
    hostvars = LazyHostvars({'a': {'ansible_facts': {'vfio': {'devices': []}}}, 'b': {'ansible_facts': {}},
                             'c': {'ansible_facts': {'vfio': {'devices': ['x']}}}})
    assert facts_by_host(hostvars, ['b', 'a', 'zz']) == {'a': {'devices': []}}
    assert hostvars.read == ['b', 'a', 'zz']
