# -*- coding: utf-8 -*-
# Copyright (c) vfio.migration maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text the preflight role shows: failure tables and plans, laid out from engine results."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.filter.preflight_plan_table import preflight_plan_table
from ansible_collections.vfio.migration.plugins.filter.preflight_table import preflight_table
from ansible_collections.vfio.migration.plugins.plugin_utils._preflight import (
    PreflightInputError,
    failure_table,
    plan_text,
    summarize_reasons,
)

VGPU = '6f1c3a52-0d9e-4c1a-9b57-7a3c2f8e1d01'
SRC = {'devices': [
    {'id': VGPU, 'type': 'nvidia-230', 'software_version': '550.54.16', 'in_use': {'pid': 1, 'vm': 'web-01'}},
    {'id': '0000:5e:00.2', 'type': 'pci-15b3:101e:15b3:0083', 'software_version': '6.1.0', 'in_use': {'pid': 2, 'vm': 'db-01'}},
    {'id': '0000:5e:00.3', 'type': 'pci-15b3:101e:15b3:0083', 'software_version': '6.1.0', 'in_use': None},
]}


def reason(message, candidate=None):
    return {'candidate': candidate, 'message': message, 'rule': 'r'}


def test_table_lists_each_refusal_under_its_device_and_destination():
    checks = {
        'old': {'compatible': False, 'placements': [], 'unplaced': [
            {'source': VGPU, 'vm': 'web-01', 'type': 'nvidia-230',
             'reasons': [reason('driver 550.54.16 vs 535.161.07', 'gpu/nvidia-230'), reason('second rule', 'gpu/nvidia-230')]},
            {'source': '0000:5e:00.2', 'vm': 'db-01', 'type': 'pci-15b3:101e:15b3:0083',
             'reasons': [reason('vendor differs', 'gpu/nvidia-230'), reason('vendor differs', 'gpu/nvidia-234')]}]},
        'full': {'compatible': False, 'placements': [{'source': VGPU, 'destination': 'gpu'}], 'unplaced': [
            {'source': '0000:5e:00.2', 'reasons': [reason('no capacity')]}]},
    }
    lines = failure_table(checks, SRC, source='kvm-a').splitlines()
    assert lines[0] == 'kvm-a: no candidate destination can take all 2 device(s) at once (tried: old, full)'
    assert lines[1].split() == ['VM', 'DEVICE', 'TYPE', 'VERSION', 'DESTINATION', 'WHY', 'NOT']
    # sorted by VM: db-01 first; its cells are written once; candidates failing alike share a line
    assert lines[2].split(None, 5) == ['db-01', '0000:5e:00.2', 'pci-15b3:101e:15b3:0083', '6.1.0', 'old',
                                       'gpu/nvidia-230, gpu/nvidia-234: vendor differs']
    assert lines[3].split(None, 1) == ['full', 'no capacity']
    assert lines[4].split(None, 5) == ['web-01', VGPU, 'nvidia-230', '550.54.16', 'old',
                                       'gpu/nvidia-230: driver 550.54.16 vs 535.161.07 (and 1 more)']
    assert len(lines) == 5
    # columns line up
    assert lines[2].index('old') == lines[4].index('old') == lines[1].index('DESTINATION')


def test_no_candidate_destination_lists_the_devices_in_use():
    lines = failure_table({}, SRC, source='kvm-a').splitlines()
    assert lines[0] == 'kvm-a: 2 device(s) in use and no candidate destination'
    assert [line.split()[0] for line in lines[2:]] == ['db-01', 'web-01']
    assert all(line.endswith('no candidate destination') for line in lines[2:])


def test_host_strings_cannot_break_the_table():
    src = {'devices': [{'id': 'x', 'type': 'evil\n\x1b[31m', 'software_version': None, 'in_use': {'vm': 'a\rb'}}]}
    checks = {'d\nst': {'placements': [], 'unplaced': [{'source': 'x', 'reasons': ['line\nbreak']}]}}
    text = failure_table(checks, src, source='s')
    assert len(text.splitlines()) == 3
    assert 'evil\\x0a\\x1b[31m' in text and 'a\\x0db' in text and 'd\\x0ast' in text and 'line\\x0abreak' in text


def test_reasons_without_candidate_stay_apart_and_repeat_counts_vary():
    out = summarize_reasons([reason('capacity'), reason('same', 'a'), reason('more', 'a'), reason('same', 'b'),
                             reason('vm atomicity')])
    assert out == ['capacity', 'a, b: same (and up to 1 more)', 'vm atomicity']
    assert summarize_reasons([]) == ['no reason given']


@pytest.mark.parametrize('checks, src, message', [
    ([], SRC, 'expected a dict destination -> migration_check result'),
    ({'d': 'yes'}, SRC, 'check s -> d: expected a migration_check result'),
    ({'d': {'unplaced': [{'reasons': []}]}}, SRC, "every 'unplaced' entry needs a 'source'"),
    ({'d': {'unplaced': {'x': 1}}}, SRC, "fields 'placements' and 'unplaced' must be lists"),
    ({}, {'devices': 'none'}, "facts of source host s: field 'devices' must be a list"),
])
def test_bad_input_names_what_is_wrong(checks, src, message):
    with pytest.raises(PreflightInputError, match=message):
        failure_table(checks, src, source='s')
    with pytest.raises(AnsibleFilterError, match='preflight_table: '):
        preflight_table(checks, src, source='s')


PLAN = {
    'waves': [
        {'wave': 1, 'hosts': ['b'], 'moves': [{'vm': 'nic-01', 'source': 'b', 'destination': 'nic'}]},
        {'wave': 2, 'hosts': ['a', 'c'], 'moves': [{'vm': 'web-01', 'source': 'a', 'destination': 'gpu'},
                                                   {'vm': 'db-02', 'source': 'c', 'destination': 'gpu'}]},
    ],
    'blocked': [{'host': 'c', 'vm': 'db-01', 'devices': ['0000:5e:00.2'], 'reasons': [
        {'device': '0000:5e:00.2', 'message': 'no capacity', 'hosts': ['full'], 'host_count': 1},
        {'device': '0000:5e:00.2', 'message': 'vendor differs', 'hosts': ['g1', 'g2'], 'host_count': 7},
        {'device': '0000:5e:00.2', 'message': 'type differs', 'hosts': ['g1'], 'host_count': 1},
    ]}],
}


def test_plan_lists_waves_then_why_each_blocked_host_stays():
    lines = plan_text(PLAN, {'c': SRC}).splitlines()
    assert lines[0] == 'wave 1: b, 1 VM(s): nic-01 -> nic'
    assert lines[1] == 'wave 2: a, 1 VM(s): web-01 -> gpu'
    assert lines[2] == 'wave 2: c, 1 VM(s): db-02 -> gpu'
    assert lines[3] == 'blocked: c, 1 VM(s) cannot move'
    assert lines[5].split(None, 5) == ['db-01', '0000:5e:00.2', 'pci-15b3:101e:15b3:0083', '6.1.0', 'full',
                                       'no capacity']
    assert lines[6].strip().split('  ')[0].strip() == 'g1, g2, +5 more'
    assert lines[6].endswith('  vendor differs (and 1 more)')


def test_plan_regrouped_by_the_caller():
    lines = plan_text(PLAN, {}, waves=[['b'], ['a']], blocked_hosts=['c', 'x']).splitlines()
    assert lines[:2] == ['wave 1: b, 1 VM(s): nic-01 -> nic', 'wave 2: a, 1 VM(s): web-01 -> gpu']
    assert lines[2] == 'blocked: c, 1 VM(s) cannot move'
    assert lines[-1] == 'blocked: x, no vfio facts: nothing can be planned'
    assert plan_text({'waves': [], 'blocked': []}) == 'no wave: no source host can be evacuated'


def test_plan_bad_input():
    with pytest.raises(AnsibleFilterError, match="preflight_plan_table: expected a migration_plan result"):
        preflight_plan_table({'moves': []})
    with pytest.raises(AnsibleFilterError, match='facts_by_host must be a mapping of host name -> vfio facts'):
        preflight_plan_table(PLAN, ['c'])
