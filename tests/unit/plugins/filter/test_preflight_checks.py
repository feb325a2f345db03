# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight_checks filter: every source against every candidate, the first that fits chosen."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.filter.preflight_checks import preflight_checks

Q = dict(board=T4, type='nvidia-230')


def fleet():
    return {'src': host(dev('g0', vm='web', **Q), dev('g1', vm='db', **Q)),
            'old': host(offer('0000:3b:00.0', T4, 'nvidia-230', 2, version='535.161.07')),
            'one': host(offer('0000:3b:00.0', T4, 'nvidia-230', 1)),
            'two': host(offer('0000:3b:00.0', T4, 'nvidia-230', 2))}


def test_checks_choose_the_first_destination_that_takes_everything():
    results = preflight_checks(fleet(), sources=['src', 'gone'], destinations=['old', 'src', 'one', 'two', 'x'],
                               mode='select')
    src = results['src']
    assert list(src) == ['source', 'mode', 'vms', 'devices', 'checks', 'destination', 'placements', 'table']
    assert list(src['checks']) == ['old', 'one', 'two']       # never itself, never a host without facts
    assert (src['destination'], src['mode'], src['table']) == ('two', 'select', None)
    assert [p['source'] for p in src['placements']] == ['g0', 'g1']
    assert results['gone']['table'] == 'gone: no vfio facts for this host, nothing can be checked (gathering them failed, see above)'
    assert preflight_checks(fleet(), sources=['gone'], facts_from='reuse')['gone']['table'].endswith(
        '(vfio_preflight_facts=reuse contacts no host: fill the fact cache first, or use auto)')


def test_checks_without_a_destination_give_the_table_and_keep_only_names_the_source_has():
    results = preflight_checks(fleet(), sources=['src'], destinations=['old'], vms=['db', 'other'],
                               devices=['nope'])
    src = results['src']
    assert (src['vms'], src['devices']) == (['db'], [])
    assert src['destination'] is None and src['placements'] == []
    assert src['table'].splitlines()[0] == 'src: no candidate destination can take all 1 device(s) at once (tried: old)'


def test_checks_engine_errors_name_the_filter():
    with pytest.raises(AnsibleFilterError, match="^vfio.migration.preflight_checks: rules from the inline rules"):
        preflight_checks(fleet(), sources=['src'], destinations=['one'], rules=[{'name': 'r'}])
    with pytest.raises(AnsibleFilterError, match='^vfio.migration.preflight_checks: sources is required$'):
        preflight_checks(fleet())
