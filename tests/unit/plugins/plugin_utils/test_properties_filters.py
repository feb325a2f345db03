# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property tests: damaged facts and damaged rules never make a filter fail other than with its
own error (issue 10, item 11).

Facts: every key of the top level and of every device / mdev type / PF record, at every depth
(``pci``, ``migration``, ``in_use``, ``config_space``, ``attributes``, ...), removed or given a
value of another type (null, numbers, huge numbers, booleans, empty, huge and non-hex strings,
a huge digit string, lists, mappings). Rules: every key of a rule removed or swapped the same
way, and message templates with attribute, index, conversion and format-spec fields. Every
filter's outcome is a result or an ``AnsibleFilterError`` that is not an "unexpected"
exception. ``derandomize`` makes each run the same; hypothesis prints a failing example (and
its blob to replay it). 700 + 400 examples per run.
"""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import CX6DX_PF, CX6DX_VF, T4, dev, host, offer, pf
from ansible_collections.vfio.migration.plugins.filter.compat_matrix import FilterModule as MatrixFilters
from ansible_collections.vfio.migration.plugins.filter.compatible import FilterModule as CompatibleFilters
from ansible_collections.vfio.migration.plugins.filter.migration_check import FilterModule as CheckFilters
from ansible_collections.vfio.migration.plugins.filter.migration_plan import FilterModule as PlanFilters
from ansible_collections.vfio.migration.plugins.filter.upgrade_order import FilterModule as OrderFilters

COMPATIBLE = CompatibleFilters().filters()['compatible']
CHECK = CheckFilters().filters()['migration_check']
MATRIX = MatrixFilters().filters()['compat_matrix']
PLAN = PlanFilters().filters()['migration_plan']
ORDER = OrderFilters().filters()['upgrade_order']

SETTINGS = dict(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _full(record):
    record['config_space'] = {'header_type': '00', 'capabilities': ['01', '10'], 'extended_capabilities': ['0001']}
    record['migration']['features'] = ['stop_copy', 'pre_copy']
    if record.get('in_use'):
        record['in_use']['machine_type'] = 'pc-q35-8.2'
    return record


def _fleet():
    """Three hosts: a source with a vGPU and a VF in use, destinations with room and free devices."""
    src = host(_full(dev('0000:3b:00.4', T4, type='nvidia-230', vm='web', parent='0000:3b:00.0',
                         attributes={'vgpu_params': 'frl=1'})),
               _full(dev('0000:5e:00.2', CX6DX_VF, vm='web', driver='mlx5_vfio_pci')),
               offer('0000:3b:00.0', T4, 'nvidia-230', 2), pf('0000:5e:00.0', CX6DX_PF, 8, 1))
    dst = host(_full(dev('0000:5e:00.3', CX6DX_VF, driver='mlx5_vfio_pci')), offer('0000:3b:00.0', T4, 'nvidia-230', 4),
               offer('0000:3b:00.0', T4, 'nvidia-222', 1), pf('0000:5e:00.0', CX6DX_PF, 8, 1))
    other = host(_full(dev('0000:af:00.0', T4, vm='db', pid=77)))
    return {'a': src, 'b': dst, 'c': other}


def _paths(value, prefix=()):
    """Every path (tuple of keys / indices) into ``value``'s mappings and lists."""
    out = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return out
    for key, child in items:
        out.append(prefix + (key,))
        out.extend(_paths(child, prefix + (key,)))
    return out


FLEET = _fleet()
PATHS = sorted(set(('a',) + p for p in _paths(FLEET['a'])) | set(('b',) + p for p in _paths(FLEET['b'])), key=repr)
REMOVE = object()
VALUES = [REMOVE, None, 0, -1, 10 ** 30, 1.5, float('nan'), True, False, '', 'zz', '<b>x</b>', 'x' * 5000, '9' * 5000,
          '1e9999', '\u00b9\u00b2', [], [1, 'a'], [None], {}, {'a': 1}, {'capable': 'yes'}]


def _mutate(fleet, path, value):
    parent = fleet
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if value is REMOVE:
        if isinstance(parent, dict):
            parent.pop(key, None)
        else:
            parent.pop(key)
    else:
        parent[key] = copy.deepcopy(value)


def _outcome(call):
    """Run one filter call: its result, or its AnsibleFilterError (never an unexpected one)."""
    try:
        return call()
    except AnsibleFilterError as exc:
        text = str(exc)
        assert text.startswith('vfio.migration.'), text
        assert 'unexpected' not in text, text
        assert 'Traceback' not in text, text
        return exc


MUTATION = st.tuples(st.sampled_from(PATHS), st.sampled_from(range(len(VALUES))))


@settings(max_examples=700, **SETTINGS)
@given(st.lists(MUTATION, min_size=1, max_size=3))
def test_damaged_facts_give_a_result_or_a_filter_error(mutations):
    fleet = copy.deepcopy(FLEET)
    for path, value in mutations:
        try:
            _mutate(fleet, path, VALUES[value])
        except (KeyError, IndexError, TypeError):
            pass                    # an earlier mutation removed or replaced the parent
    src, dst = fleet['a'], fleet['b']
    _outcome(lambda: CHECK(src, dst, source_host='a', destination_host='b'))
    _outcome(lambda: MATRIX(fleet))
    _outcome(lambda: PLAN(fleet, ['a']))
    _outcome(lambda: ORDER(fleet, {'hosts': ['a', 'b'], 'versions': {'nvidia': '550.90.07'}}))
    devices = src.get('devices') if isinstance(src, dict) else None
    if isinstance(devices, list) and devices and isinstance(dst, dict) and isinstance(dst.get('mdev_types'), list):
        targets = dst['mdev_types'] or [None]
        _outcome(lambda: COMPATIBLE(devices[0], targets[0]))


def test_damaged_facts_cover_every_depth():
    depths = set(len(p) for p in PATHS)
    assert set((2, 3, 4, 5, 6)) <= depths          # top level .. devices[i].config_space.capabilities[j]
    assert ('a', 'devices', 0, 'in_use', 'machine_type') in PATHS
    assert ('b', 'sriov', 0, 'pci', 'vendor') in PATHS
    assert ('b', 'mdev_types', 1, 'available_instances') in PATHS


RULE = {'name': 'r', 'description': 'd', 'source': 's', 'select': 'software_version', 'operator': 'equal',
        'message': '{source} is not {destination}', 'field': 'f', 'missing': 'skip', 'when': 'source.kind',
        'match': {'source.kind': ['mdev', 'pci']}, 'explain': 'driver', 'stop': False, 'enabled': True}
RULE_KEYS = sorted(RULE) + ['values', 'side', 'spec', 'groups', 'operator']
RULE_VALUES = VALUES + ['version_compatible', 'one_of', 'specifier', 'not_mixed', 'ignore', 'at_least', 'superset',
                        '{source.__class__}', '{source[0]}', '{source!r}', '{source:>99999}', '{0}', '{}', '{',
                        'abs(driver)', 'nope(@)', 'length(@, @)', '@', '[', 'source', '>=1.0', ['a', 'b'],
                        {'g': ['a'], 'h': ['a']}, {'source': 'driver', 'destination': 'type'}]


@settings(max_examples=400, **SETTINGS)
@given(st.lists(st.tuples(st.sampled_from(RULE_KEYS), st.sampled_from(range(len(RULE_VALUES)))), min_size=1,
                max_size=4), st.booleans())
def test_damaged_rules_give_a_result_or_a_filter_error(changes, as_list):
    rule = copy.deepcopy(RULE)
    for key, value in changes:
        _mutate({'r': rule}, ('r', key), RULE_VALUES[value])
    rules = [rule] if as_list else {'defaults': True, 'rules': [rule]}
    _outcome(lambda: CHECK(FLEET['a'], FLEET['b'], rules=rules))
    _outcome(lambda: MATRIX(FLEET, rules=rules))


@pytest.mark.parametrize('text', [
    'rules: [', 'rules: 1', '- 1', 'rules:\n  - name: x\n    message: "{source.__init__}"', '\x00', 'a: !!python/object:os.system x',
    'rules:\n  - &a {name: r}\n  - *a', '[' * 5000,
])
def test_damaged_rule_files_give_a_filter_error(tmp_path, text):
    path = tmp_path / 'rules.yml'
    path.write_text(text)
    result = _outcome(lambda: CHECK(FLEET['a'], FLEET['b'], rules=str(path)))
    assert isinstance(result, AnsibleFilterError)
