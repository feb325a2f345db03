# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Malformed facts are refused with the host, the device and the field named."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings, strategies as st

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer, pf
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import FactsError
from ansible_collections.vfio.migration.plugins.plugin_utils import _schema
from ansible_collections.vfio.migration.plugins.plugin_utils._schema import validate_facts
from ansible_collections.vfio.migration.tests.unit.plugins.plugin_utils.test_properties_filters import (
    FLEET, PATHS, SETTINGS, VALUES, _mutate)


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
    (lambda f: f['devices'][0].update(kind='usb'), "device 'gpu0' field 'kind': unknown value 'usb'"),
    (lambda f: f['devices'][0]['in_use'].update(pid='12'), "device 'gpu0' field 'in_use.pid': expected an integer or null"),
    (lambda f: f['devices'][0]['migration'].update(capable='yes'), "device 'gpu0' field 'migration.capable': expected true or false or null"),
    (lambda f: f['devices'][0]['pci'].update(vendor=0x10de), "device 'gpu0' field 'pci.vendor': expected a hex id string"),
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


# Wrong types anywhere give an AnsibleFilterError naming host, device and field (issue 10, item 6).

def _filters():
    from ansible_collections.vfio.migration.plugins.filter.compatible import FilterModule as Compatible
    from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule as Matrix
    from ansible_collections.vfio.migration.plugins.filter.migration_check import FilterModule as Check
    return (Compatible().filters()['compatible'], Check().filters()['migration_check'],
            Matrix().filters()['compat_matrix'])


HOSTILE = [
    (lambda d: d.update(driver=['nvidia']), "field 'driver': expected a string or null, got a list"),
    (lambda d: d.update(driver=7), "field 'driver': expected a string or null, got an integer"),
    (lambda d: d.update(type={'a': 1}), "field 'type': expected a string, got a mapping"),
    (lambda d: d.update(software_version='9' * 5000), "field 'software_version': longer than 128 characters"),
    (lambda d: d.update(pci='garbage'), "field 'pci': expected a mapping or null, got a string"),
    (lambda d: d['pci'].update(device='zz;<b>'), "field 'pci.device': expected a hex id string or null, got a string"),
    (lambda d: d['pci'].update(vendor=['10de']), "field 'pci.vendor': expected a hex id string or null, got a list"),
    (lambda d: d['migration'].update(features='pre_copy'), "field 'migration.features': expected a list or null"),
    (lambda d: d.update(config_space=[]), "field 'config_space': expected a mapping or null, got a list"),
    (lambda d: d.update(config_space={'capabilities': [1]}), "field 'config_space.capabilities[0]': expected a string"),
    (lambda d: d['in_use'].update(machine_type=['q35']), "field 'in_use.machine_type': expected a string or null"),
    (lambda d: d.update(attributes={'matrix': {'x': [1]}}), "field 'attributes.matrix': expected a string, a list"),
]


@pytest.mark.parametrize('change, expected', HOSTILE)
def test_hostile_destination_device_is_rejected_by_every_filter(change, expected):
    compatible, check, matrix = _filters()
    src = host(dev('gpu0', vm='web'))
    free = dev('gpu9')
    free['migration']['features'] = []
    free['in_use'] = {'pid': 1, 'vm': 'x', 'machine_type': 'pc-q35-8.2', 'holder': '/dev/vfio/1'}
    change(free)
    free['in_use'] = None if 'in_use.' not in expected else free['in_use']
    dst = host(free)
    with pytest.raises(AnsibleFilterError) as info:
        check(src, dst, source_host='a', destination_host='b')
    assert "vfio.migration.migration_check: invalid vfio facts for host 'b': device 'gpu9'" in str(info.value)
    assert expected in str(info.value)
    with pytest.raises(AnsibleFilterError) as info:
        matrix({'a': src, 'b': dst})
    assert "invalid vfio facts for host 'b': device 'gpu9'" in str(info.value)
    assert expected in str(info.value)
    with pytest.raises(AnsibleFilterError) as info:
        compatible(src['devices'][0], free)
    assert "device 'gpu9'" in str(info.value) and expected in str(info.value)


def test_schema_covers_every_field_of_the_module_return_documentation():
    """The one schema follows the contract: a field the module documents and the schema does
    not know (or the other way round) fails here."""
    import yaml
    from ansible_collections.vfio.migration.plugins.modules import vfio_facts
    from ansible_collections.vfio.migration.plugins.plugin_utils import _schema

    facts = yaml.safe_load(vfio_facts.RETURN)['ansible_facts']['contains']['vfio']['contains']
    kinds = {'str': ('str', 'text', 'hex', 'version'), 'int': ('int', 'count'), 'bool': ('bool',),
             'dict': ('dict',), 'list': ('list',)}

    def compare(documented, spec, path):
        missing = sorted(set(documented) - set(spec))
        assert not missing, 'fields of %s the schema does not know: %s' % (path, missing)
        for key, doc in documented.items():
            field = spec[key]
            assert field.kind in kinds[doc['type']], '%s%s: %s is not %s' % (path, key, field.kind, doc['type'])
            contains = doc.get('contains')
            if contains and isinstance(field.sub, dict):
                compare(contains, field.sub, path + key + '.')
            elif contains and field.sub is not None and field.sub.kind == 'dict':
                compare(contains, field.sub.sub, path + key + '[].')
    compare(facts, _schema.SCHEMA, '')


# The fast check (one predicate per field, text / hex / integer / boolean fields inline) must
# never accept facts the full walk refuses, and accepts what it finds nothing wrong with: the
# same damaged facts as the filters' property tests, with values at the bounds of each kind.
class _Text(str):
    """A str subclass (what ansible-core's unsafe text is): read like a str."""


_BOUNDS = [_Text('10de'), _Text('x' * 5000), 'ABCD', '10DE', '123456789', '12345678', '0x10', ' 10d', 'abcdefgh',
           2 ** 63, 2 ** 63 - 1, -2 ** 63, -2 ** 63 + 1, 'x' * 4096, 'x' * 4097, '1' * 128, '1' * 129, 7.5, True, 1]


def _agrees(fleet, mutations):
    for path, index in mutations:
        try:
            _mutate(fleet, path, (VALUES + _BOUNDS)[index])
        except (KeyError, IndexError, TypeError):   # the path went with an earlier mutation
            continue
    for name in ('a', 'b'):
        facts = fleet[name]
        # as validate_facts combines them
        fast = _schema._VALID(facts) and facts['schema_version'] == _schema.SCHEMA_VERSION  # pylint: disable=protected-access
        assert fast == (not _schema.facts_problems(facts)), (name, mutations)


def test_fast_check_agrees_with_the_full_walk_on_every_single_damage():
    for path in PATHS:
        for index in range(len(VALUES) + len(_BOUNDS)):
            _agrees(copy.deepcopy(FLEET), [(path, index)])


@settings(max_examples=400, **SETTINGS)
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(range(len(VALUES) + len(_BOUNDS)))),
                min_size=2, max_size=4))
def test_fast_check_agrees_with_the_full_walk(mutations):
    _agrees(copy.deepcopy(FLEET), mutations)


def test_hex_ids_found_valid_are_remembered_up_to_a_bound_and_nothing_else_is():
    # pylint: disable=protected-access
    seen = _schema._HEX_SEEN
    saved = set(seen)
    try:
        seen.clear()
        facts = good()
        facts['devices'][0]['pci']['vendor'] = '10DE'       # upper case: refused, never remembered
        with pytest.raises(FactsError, match="field 'pci.vendor'"):
            validate_facts(facts, 'h')
        assert '10DE' not in seen
        assert _schema._VALID(good()) and '10de' in seen
        facts = good()
        facts['devices'][0]['pci']['device'] = _Text('1eb8')   # a str subclass is checked, not remembered
        validate_facts(facts, 'h')
        assert all(value.__class__ is str for value in seen)
        # a stream of distinct valid ids does not grow it past its bound, and each is still checked
        for number in range(2 * _schema._HEX_SEEN_MAX):
            facts = good()
            facts['devices'][0]['pci']['class'] = '%06x' % number
            validate_facts(facts, 'h')
        assert len(seen) == _schema._HEX_SEEN_MAX
        facts['devices'][0]['pci']['class'] = 'xyz'
        with pytest.raises(FactsError, match="field 'pci.class'"):
            validate_facts(facts, 'h')
    finally:
        seen.clear()
        seen.update(saved)
