# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils import _report_model as rm

from ansible_collections.vfio.migration.tests.unit.helpers.hashseed import outputs_under_seeds
from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import HOSTILE_HOST, VERSION_REASON, fleet, model


def test_summary_counts_every_directed_pair():
    m = model()
    s = m['summary']
    assert s['hosts'] == 4 and s['pairs'] == 12 and s['classes'] == 4
    assert s['compatible_pairs'] == 4 and s['incompatible_pairs'] == 8
    assert s['devices'] == 3 and s['devices_in_use'] == 3
    assert s['hosts_not_evacuable'] == ['kvm-c']
    assert s['hosts_without_facts'] == ['kvm-z']


def test_pairs_carry_the_class_verdict_and_its_reasons():
    m = model()
    pairs = dict(((p['source'], p['destination']), p) for p in m['pairs'])
    assert len(pairs) == 12 and m['pairs_expanded'] is True
    assert pairs[('kvm-a', 'kvm-b')] == {'source': 'kvm-a', 'destination': 'kvm-b', 'compatible': True,
                                         'reasons': [], 'rules': [], 'blocked': []}
    assert pairs[('kvm-c', 'kvm-a')]['compatible'] is False
    assert pairs[('kvm-c', 'kvm-a')]['reasons'] == [VERSION_REASON]
    assert ('kvm-a', 'kvm-a') not in pairs


def test_pairs_are_left_out_above_the_limit_but_counted():
    m = model(pair_details_max_hosts=3)
    assert m['pairs'] is None and m['pairs_expanded'] is False
    assert m['summary']['compatible_pairs'] == 4
    assert [p['reasons'] for p in rm.PairIndex(m) if p['source'] == 'kvm-c'] == [[VERSION_REASON]] * 3


def test_a_pair_verdict_overrides_its_class():
    m = model(pair_verdicts={('kvm-b', 'kvm-a'): {'compatible': False, 'rules': ['capacity'],
                                                  'reasons': ['no free nvidia-230 instance on 0000:3b:00.0']}})
    pair = [p for p in m['pairs'] if (p['source'], p['destination']) == ('kvm-b', 'kvm-a')][0]
    assert pair['compatible'] is False and pair['reasons'] == ['no free nvidia-230 instance on 0000:3b:00.0']
    assert m['summary']['compatible_pairs'] == 3


def test_hosts_are_sorted_and_describe_devices_and_capacity():
    m = model()
    assert [h['name'] for h in m['hosts']] == sorted(fleet())
    a = [h for h in m['hosts'] if h['name'] == 'kvm-a'][0]
    assert a['class'] == 'C1' and a['kernel_release'] == '6.1.0-18-amd64'
    assert a['devices'][0]['in_use'] == {'pid': 4242, 'vm': 'web01'}
    assert a['devices'][0]['vendor_device'] == '10de:1eb8'
    assert a['capacity']['mdev_types'][0]['available_instances'] == 15
    b = [h for h in m['hosts'] if h['name'] == 'kvm-b'][0]
    assert b['capacity']['sriov'][0]['free_vfs'] == 6
    assert a['evacuation'] == {'evacuable': True, 'single_host': True, 'destinations': 1,
                               'destination_classes': ['C2'], 'blocked': []}


def test_class_profiles_describe_the_offer():
    m = model()
    c1 = [c for c in m['classes'] if c['id'] == 'C1'][0]
    assert c1['hosts'] == ['kvm-a']
    assert {'kind': 'mdev', 'type': 'nvidia-230', 'driver': 'nvidia', 'software_version': '550.54.16', 'count': 1} in c1['profile']
    assert {'kind': 'mdev_type', 'type': 'nvidia-230', 'driver': None, 'software_version': '550.54.16', 'count': 15} in c1['profile']


def test_model_is_json_and_deterministic():
    """The same bytes in this process and in two others with different string hash seeds."""
    code = ('import json; from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import model; '
            'print(json.dumps(model()))')
    first, second = outputs_under_seeds(code)
    assert first == second == json.dumps(model()) + '\n'
    assert HOSTILE_HOST in [h['name'] for h in json.loads(json.dumps(model()))['hosts']]


@pytest.mark.parametrize('bad, message', [
    ({'devices': 'x'}, 'host h1: vfio.devices must be a list, got str'),
    ({'devices': [1]}, 'host h1: vfio.devices[0] must be a dictionary'),
    ({'sriov': {}}, 'host h1: vfio.sriov must be a list, got dict'),
])
def test_bad_facts_name_the_host_and_the_field(bad, message):
    with pytest.raises(rm.ReportError, match='^%s$' % message.replace('[', r'\[').replace(']', r'\]')):
        rm.host_entry('h1', bad)


def test_facts_that_are_not_a_dict_are_refused():
    with pytest.raises(rm.ReportError, match='host h1: vfio facts must be a dictionary, got list'):
        rm.host_entry('h1', [])


def test_every_host_needs_a_class():
    classes = {'C1': ['kvm-a']}
    with pytest.raises(rm.ReportError, match='the engine put no class on host'):
        rm.build_model(fleet(), classes, {})


def test_check_model_refuses_other_versions():
    with pytest.raises(rm.ReportError, match='report_version 2 is not supported'):
        rm.check_model({'report_version': 2})
    with pytest.raises(rm.ReportError, match="has no 'hosts'"):
        rm.check_model({'report_version': 1, 'summary': {}})
