# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_preflight_checks: every source host against every candidate destination, the first that fits chosen."""

from __future__ import annotations

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight_checks import preflight_checks

Q = dict(board=T4, type='nvidia-230')


def fleet():
    return {'src': host(dev('g0', vm='web', **Q), dev('g1', vm='db', **Q)),
            'small': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1)),
            'big': host(offer('0000:3b:00.0', T4, 'nvidia-230', 2))}


def test_first_destination_that_takes_every_device_is_chosen():
    result = preflight_checks(fleet(), ['src'], ['src', 'small', 'big'])['src']
    assert list(result['checks']) == ['small', 'big']                 # never the source itself
    assert result['destination'] == 'big' and result['table'] is None
    assert sorted(p['source'] for p in result['placements']) == ['g0', 'g1']


def test_a_chosen_vm_the_source_has_narrows_the_check():
    result = preflight_checks(fleet(), ['src'], ['small'], vms=['web', 'elsewhere'])['src']
    assert result['vms'] == ['web'] and result['destination'] == 'small'


def test_no_destination_gives_the_table_and_no_facts_says_so():
    results = preflight_checks(fleet(), ['src', 'ghost'], ['small'], facts_from='reuse')
    assert results['src']['destination'] is None and 'src' in results['src']['table']
    assert results['ghost']['table'].startswith('ghost: no vfio facts for this host, nothing can be checked')
    assert 'vfio_preflight_facts=reuse' in results['ghost']['table']
