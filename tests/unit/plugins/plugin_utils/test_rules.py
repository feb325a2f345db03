# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rule sets: shipped files, user files, inline rules, switching off, and malformed input."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import CX6DX_VF, T4, dev
from ansible_collections.vfio.migration.plugins.plugin_utils._compare import Comparator
from ansible_collections.vfio.migration.plugins.plugin_utils._errors import RuleError
from ansible_collections.vfio.migration.plugins.plugin_utils._rules import load_rule_set, shipped_files

GOOD = {
    'name': 'numa_same', 'description': 'Same NUMA node (test rule).', 'source': 'test',
    'select': 'numa_node', 'operator': 'equal', 'message': 'NUMA {source} vs {destination}',
}


def test_shipped_rules_in_kernel_order():
    names = load_rule_set().names()
    assert names[:3] == ['device_api', 'pci_vendor', 'pci_device']
    order = [names.index(n) for n in ('device_api', 'pci_device', 'ccw_subchannel_type', 'ap_matrix', 'type',
                                      'source_migration_capable', 'destination_migration_capable',
                                      'software_version', 'nvidia_host_driver_equal')]
    assert order == sorted(order)
    assert shipped_files()[0].endswith('default.yml')


def test_every_shipped_rule_cites_a_source():
    for rule in load_rule_set():
        assert rule.source.strip() and rule.description.strip(), rule.name


def test_inline_rule_is_added_last_and_applies():
    rules = load_rule_set([GOOD])
    assert rules.names()[-1] == 'numa_same'
    a = dev('a', board=CX6DX_VF, vm='x')
    b = dict(dev('b', board=CX6DX_VF), numa_node=1)
    ok, reasons = Comparator(rules).compare(a, b)
    assert not ok and reasons[0]['message'] == 'NUMA 0 vs 1'


def test_user_file_replaces_rule_in_place(tmp_path):
    path = tmp_path / 'mine.yml'
    path.write_text('rules:\n  - name: software_version\n    description: exact kernel\n    source: site policy\n'
                    '    select: software_version\n    operator: version_equal\n'
                    '    message: "site policy: same version ({source} vs {destination})"\n')
    rules = load_rule_set({'files': [str(path)]})
    names = load_rule_set().names()
    assert rules.names() == names
    assert rules.by_name['software_version'].operator == 'version_equal'
    ok, reasons = Comparator(rules).compare(dev('a', board=CX6DX_VF, vm='x', version='6.1'),
                                            dev('b', board=CX6DX_VF, version='6.2'))
    assert [r['message'] for r in reasons] == ['site policy: same version (6.1 vs 6.2)']


def test_turn_off_by_name_three_ways(tmp_path):
    path = tmp_path / 'off.yml'
    path.write_text('rules:\n  - {name: nvidia_board_variants, enabled: false}\n')
    for spec in ({'disable': ['nvidia_board_variants']}, [{'name': 'nvidia_board_variants', 'enabled': False}],
                 str(path)):
        assert 'nvidia_board_variants' not in load_rule_set(spec).names()


def test_defaults_false_uses_only_user_rules():
    assert load_rule_set({'defaults': False, 'rules': [GOOD]}).names() == ['numa_same']


def _bad(tmp_path, text):
    path = tmp_path / 'bad.yml'
    path.write_text(text)
    with pytest.raises(RuleError) as info:
        load_rule_set(str(path))
    return str(info.value), str(path)


@pytest.mark.parametrize('body, problem', [
    ('rules:\n  - name: r1\n    description: d\n    source: s\n    select: type\n    operator: eqal\n    message: m\n',
     "rule 'r1': unknown operator 'eqal' (known: at_least, at_most, equal, ignore"),
    ('rules:\n  - name: r2\n    description: d\n    source: s\n    select: "type[["\n    operator: equal\n    message: m\n',
     "rule 'r2': select 'type[[' is not valid JMESPath"),
    ('rules:\n  - name: r3\n    description: d\n    select: type\n    operator: equal\n    message: m\n',
     "rule 'r3': missing 'source'"),
    ('rules:\n  - name: r4\n    description: d\n    source: s\n    select: type\n    operator: one_of\n    message: m\n',
     "rule 'r4': operator 'one_of' needs 'values'"),
    ('rules:\n  - name: r5\n    description: d\n    source: s\n    select: type\n    operator: equal\n    message: "{bogus}"\n',
     "rule 'r5': the message uses {bogus}"),
    ('rules:\n  - name: r6\n    description: d\n    source: s\n    select: type\n    operator: equal\n    message: m\n    colour: red\n',
     "rule 'r6': unknown key(s) colour"),
    ('rules:\n  - name: r7\n    description: d\n    source: s\n    select: software_version\n    operator: specifier\n'
     '    spec: "=>1"\n    message: m\n', "rule 'r7': 'spec': '=>1' is not a version specifier"),
    ('rules: [1]\n', 'rules[0] is not a mapping'),
    ('rules:\n  - description: no name\n', 'rules[0] has no name'),
    ('rules: {a: b}\n', "'rules' must be a list of rules"),
    ('rules:\n  - name: r8\n  bad indent: [\n', 'not valid YAML'),
    ('rules:\n  - {name: nope, enabled: false}\n', "rule 'nope': turns off a rule that no rule set before it defines"),
])
def test_malformed_rule_file_names_file_rule_and_problem(tmp_path, body, problem):
    message, path = _bad(tmp_path, body)
    assert message.startswith('rules from %s' % path)
    assert problem in message


def test_missing_file_and_unknown_disable(tmp_path):
    with pytest.raises(RuleError, match=re.escape('rules from %s: cannot read the file' % (tmp_path / 'none.yml'))):
        load_rule_set(str(tmp_path / 'none.yml'))
    with pytest.raises(RuleError, match="rule 'typo_rule': cannot be disabled"):
        load_rule_set({'disable': ['typo_rule']})
    with pytest.raises(RuleError, match='unknown key'):
        load_rule_set({'disabled': ['type']})


def test_operators_one_by_one():
    def run(rule, s, d):
        raw = dict({'name': 'r', 'description': 'd', 'source': 's', 'select': 'v', 'message': '{source}>{destination}'},
                   **rule)
        return Comparator(load_rule_set({'defaults': False, 'rules': [raw]})).compare({'v': s}, {'v': d})[0]
    assert run({'operator': 'at_least'}, 4096, 8192) and not run({'operator': 'at_least'}, '8192', '4096')
    assert run({'operator': 'at_most'}, 2, 1)
    assert run({'operator': 'superset'}, 'a,b', ['a', 'b', 'c']) and not run({'operator': 'superset'}, 'a d', 'a')
    assert run({'operator': 'subset'}, ['a', 'b'], ['a']) and not run({'operator': 'subset'}, ['a'], ['a', 'z'])
    assert run({'operator': 'one_of', 'values': ['x'], 'side': 'destination'}, 'y', 'x')
    assert not run({'operator': 'one_of', 'values': ['x']}, 'y', 'x')
    assert run({'operator': 'specifier', 'spec': '>=535'}, '535.1', '550.54.16')
    assert not run({'operator': 'specifier', 'spec': '>=535', 'side': 'source'}, '470.1', '550.54.16')
    assert run({'operator': 'version_equal'}, '17.3', '17.3.0')
    assert run({'operator': 'ignore'}, 1, 2)
    groups = {'groups': {'g1': ['a', 'b'], 'g2': ['c']}}
    assert run(dict(operator='not_mixed', **groups), 'a', 'b')
    assert not run(dict(operator='not_mixed', **groups), 'a', 'c')
    assert not run(dict(operator='not_mixed', **groups), 'a', 'zzz')
    assert run(dict(operator='not_mixed', **groups), 'x', 'y')
    assert run({'operator': 'equal', 'when': 'source.v == `1`'}, 2, 3)   # does not apply
    assert run({'operator': 'equal', 'match': {'source.v': [7]}}, 2, 3)
    assert not run({'operator': 'equal', 'missing': 'fail'}, 'x', None)
    assert run({'operator': 'equal'}, 'x', None)
    assert T4


def test_fields_read_lists_the_record_paths_of_select_when_and_match():
    rule = dict(GOOD, name='paths', select={'source': 'pci.device', 'destination': 'attributes.matrix'},
                when="source.attributes.subchannel_type == 'io'", match={'destination.kind': 'mdev'})
    paths, whole = load_rule_set({'defaults': False, 'rules': [rule]}).by_name['paths'].fields_read()
    assert sorted(paths) == [('attributes', 'matrix'), ('attributes', 'subchannel_type'), ('kind',), ('pci', 'device')]
    assert whole is False


@pytest.mark.parametrize('extra', [{'select': '@'}, {'when': 'source'}, {'match': {'length(destination)': 7}}])
def test_fields_read_says_when_a_rule_reads_a_record_whole(extra):
    rule = dict(GOOD, name='whole', **extra)
    assert load_rule_set({'defaults': False, 'rules': [rule]}).by_name['whole'].fields_read()[1] is True


def test_a_rules_path_that_is_not_a_regular_file_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / 'rules.fifo'
    os.mkfifo(str(fifo))        # opening it for reading would block this test forever
    for path in (str(fifo), '/dev/null', str(tmp_path)):
        with pytest.raises(RuleError, match='not a regular file'):
            load_rule_set({'defaults': False, 'files': [path]})
