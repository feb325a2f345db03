# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Malformed facts are refused with the host, the device and the field named."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer, pf
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import FactsError
from ansible_collections.vfio.migration.plugins.plugin_utils._schema import validate_facts


def good():
    return host(dev('gpu0', type='nvidia-230', vm='web'), offer('0000:3b:00.0', T4, 'nvidia-230', 4),
                pf('0000:5e:00.0', T4, 8, 2))


def broken(change):
    facts = copy.deepcopy(good())
    change(facts)
    return facts


def test_good_facts_and_wrappers_pass():
    facts = good()
    assert validate_facts(facts, 'h') is facts
    assert validate_facts({'vfio': facts}, 'h') is facts
    assert validate_facts({'ansible_facts': {'vfio': facts}}, 'h') is facts
    assert validate_facts({'ansible_vfio': facts, 'inventory_hostname': 'h'}, 'h') is facts


@pytest.mark.parametrize('change, expected', [
    (lambda f: f.update(schema_version=2), "host 'gpu1': field 'schema_version': 2 is not supported"),
    (lambda f: f.pop('schema_version'), "host 'gpu1': field 'schema_version': missing"),
    (lambda f: f.pop('devices'), "field 'devices': missing"),
    (lambda f: f.update(devices={}), "field 'devices': expected a list, got a mapping"),
    (lambda f: f['devices'][0].pop('type'), "device 'gpu0' field 'type': missing"),
    (lambda f: f['devices'][0].update(in_use=[1]), "device 'gpu0' field 'in_use': expected a mapping or null, got a list"),
    (lambda f: f['devices'][0].update(kind='usb'), "device 'gpu0' field 'kind': unknown kind 'usb'"),
    (lambda f: f['devices'][0]['in_use'].update(pid='12'), "device 'gpu0' field 'pid': expected an integer or null"),
    (lambda f: f['devices'][0]['migration'].update(capable='yes'), "device 'gpu0' field 'capable': expected true, false"),
    (lambda f: f['devices'][0]['pci'].update(vendor=0x10de), "device 'gpu0' field 'vendor': expected a hex id string"),
    (lambda f: f['devices'].append('x'), "devices[1]: expected a mapping, got a string"),
    (lambda f: f['mdev_types'][0].update(available_instances='4'),
     "mdev type 'nvidia-230' on '0000:3b:00.0' field 'available_instances': expected an integer"),
    (lambda f: f['mdev_types'][0].update(available_instances=-1), "field 'available_instances': must not be negative"),
    (lambda f: f['sriov'][0].update(numvfs=[]), "PF '0000:5e:00.0' field 'numvfs': expected an integer or null"),
])
def test_malformed_facts_name_host_device_field(change, expected):
    with pytest.raises(FactsError) as info:
        validate_facts(broken(change), 'gpu1')
    assert str(info.value).startswith("invalid vfio facts for host 'gpu1': ")
    assert expected in str(info.value)


def test_not_a_mapping():
    with pytest.raises(FactsError, match="host 'h': expected the vfio facts \\(a mapping\\), got a list"):
        validate_facts([], 'h')
