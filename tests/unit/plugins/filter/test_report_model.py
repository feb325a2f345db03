# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The report over the real engine: a small fleet described in a few lines, the verdicts and
the reasons a user reads."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.filter.report_model import report_model
from ansible_collections.vfio.migration.plugins.plugin_utils import _report_model as rm

from ansible_collections.vfio.migration.tests.unit.helpers.report_fleet import HOSTILE, device, facts, mdev_type

DRIVER_RULE = 'NVIDIA vGPU migrates only between identical host driver versions'


def fleet():
    return {
        # web01 on a T4 vGPU, driver 550.54.16, room for 15 more
        'kvm-a': facts([device('aaaa', vm='web01')], [mdev_type(available=15)]),
        # the same GPU and driver, nothing running
        'kvm-b': facts([], [mdev_type(available=16)]),
        # db01 on the older 535 driver, and no room left
        'kvm-c': facts([device('cccc', version='535.104.05', vm='db01')],
                       [mdev_type(available=0, version='535.104.05')]),
        # nothing assigned at all
        'plain': facts(),
    }


def verdict(model, source, destination):
    return [p for p in model['pairs'] if (p['source'], p['destination']) == (source, destination)][0]


def test_verdicts_and_reasons_from_the_engine():
    m = report_model(fleet(), facts_source='cache')
    assert m['summary']['hosts'] == 4 and m['summary']['pairs'] == 12
    assert verdict(m, 'kvm-a', 'kvm-b')['compatible'] is True
    bad = verdict(m, 'kvm-c', 'kvm-b')
    assert bad['compatible'] is False
    assert any(r.startswith('1 x nvidia-230 (nvidia): ') and DRIVER_RULE in r for r in bad['reasons'])
    assert 'nvidia_host_driver_equal' in bad['rules']
    assert bad['blocked'][0]['type'] == 'nvidia-230' and bad['blocked'][0]['count'] == 1
    # a host with nothing in use can go anywhere; nothing can go to a host that offers nothing
    assert all(verdict(m, 'plain', d)['compatible'] for d in ('kvm-a', 'kvm-b', 'kvm-c'))
    assert verdict(m, 'kvm-a', 'plain')['compatible'] is False


def test_evacuation_names_the_devices_that_cannot_leave():
    m = report_model(fleet())
    hosts = dict((h['name'], h) for h in m['hosts'])
    assert m['summary']['hosts_not_evacuable'] == ['kvm-c']
    a = hosts['kvm-a']['evacuation']
    assert a['evacuable'] and a['single_host'] and a['destinations'] == 1
    c = hosts['kvm-c']['evacuation']
    assert not c['evacuable'] and c['destinations'] == 0
    assert [(b['device'], b['vm'], b['type']) for b in c['blocked']] == [('cccc', 'db01', 'nvidia-230')]
    # the drain plan says which destination hosts refuse and why
    assert any(r.startswith('kvm-a, kvm-b: ') and DRIVER_RULE in r for r in c['blocked'][0]['reasons'])


def test_vms_spread_over_several_hosts_still_evacuate():
    # two VMs, and two destinations with room for one vGPU each
    facts_by_host = {
        'src': facts([device('s1', vm='web01'), device('s2', vm='web02')]),
        'dst1': facts([], [mdev_type(available=1)]),
        'dst2': facts([], [mdev_type(available=1)]),
    }
    m = report_model(facts_by_host)
    src = [h for h in m['hosts'] if h['name'] == 'src'][0]['evacuation']
    assert src['evacuable'] is True and src['single_host'] is False and src['blocked'] == []
    assert m['summary']['hosts_not_evacuable'] == []


def test_classes_group_identical_hosts():
    facts_by_host = fleet()
    facts_by_host['kvm-b2'] = facts([], [mdev_type(available=16)])
    m = report_model(facts_by_host)
    classes = dict((c['id'], c['hosts']) for c in m['classes'])
    assert ['kvm-b', 'kvm-b2'] in classes.values()
    assert m['summary']['classes'] == 4


def test_a_given_matrix_is_used_and_must_match_the_facts():
    from ansible_collections.vfio.migration.plugins.plugin_utils._matrix import compat_matrix
    facts_by_host = fleet()
    matrix = compat_matrix(facts_by_host)
    assert report_model(facts_by_host, matrix=matrix) == report_model(facts_by_host)
    del facts_by_host['plain']
    with pytest.raises(AnsibleFilterError, match='not about the same hosts'):
        report_model(facts_by_host, matrix=matrix)


def test_bad_facts_are_refused_with_the_host_named():
    facts_by_host = fleet()
    facts_by_host['kvm-b']['devices'] = 'none'
    with pytest.raises(AnsibleFilterError, match="kvm-b"):
        report_model(facts_by_host)
    with pytest.raises(AnsibleFilterError, match='dictionary of host name'):
        report_model(['kvm-a'])


def test_hostile_strings_survive_unchanged_in_the_model():
    facts_by_host = fleet()
    facts_by_host['kvm-a']['devices'][0]['in_use']['vm'] = HOSTILE
    m = report_model(facts_by_host)
    a = [h for h in m['hosts'] if h['name'] == 'kvm-a'][0]
    assert a['devices'][0]['in_use']['vm'] == HOSTILE


def test_rules_label():
    assert rm.rules_label(None) == ['shipped rules']
    assert rm.rules_label('/etc/site.yml') == ['shipped rules', '/etc/site.yml']
    assert rm.rules_label({'defaults': False, 'files': ['x.yml'], 'rules': [{}, {}], 'disable': 'type'}) == \
        ['x.yml', '2 inline rule(s)', 'disabled: type']
