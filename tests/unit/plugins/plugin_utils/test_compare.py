# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One directed comparison with the shipped rules: each case is a source device, a
destination device or offer, the verdict, and the rules (with text) that say no."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import A100, CX6DX_VF, H100_NVL, H100_PCIE, H800_PCIE, NV, T4, dev, offer
from ansible_collections.vfio.migration.plugins.plugin_utils._compare import Comparator
from ansible_collections.vfio.migration.plugins.plugin_utils._rules import load_rule_set

VGPU = dict(board=T4, type='nvidia-230')

CASES = [
    # name, source, destination, compatible, [(rule, text in message)]
    ('same vGPU everything', dev('a', vm='x', **VGPU), dev('b', **VGPU), True, []),
    ('vGPU onto a free offer', dev('a', vm='x', **VGPU), offer('p', T4, 'nvidia-230', 4), True, []),
    ('other vGPU type', dev('a', vm='x', **VGPU), dev('b', board=T4, type='nvidia-234'), False,
     [('type', 'the source is nvidia-230, the destination offers nvidia-234')]),
    ('other board', dev('a', vm='x', **VGPU), dev('b', board=A100, type='nvidia-230'), False,
     [('pci_device', 'the PCI device id differs: 1eb8 on the source, 20f1 on the destination'),
      ('pci_subsystem_device', '12a2 on the source, 145f on the destination')]),
    ('other device api stops early', dev('a', vm='x', **VGPU), dev('b', api='vfio-ccw', **VGPU), False,
     [('device_api', 'the source device uses vfio-pci, the destination vfio-ccw')]),
    ('NVIDIA host driver must be equal (newer)', dev('a', vm='x', version='550.54.16', **VGPU),
     dev('b', version='550.90.07', **VGPU), False,
     [('nvidia_host_driver_equal', 'the source runs 550.54.16, the destination 550.90.07')]),
    ('NVIDIA host driver older also fails both rules', dev('a', vm='x', version='550.90.07', **VGPU),
     dev('b', version='550.54.16', **VGPU), False,
     [('software_version', 'the source runs 550.90.07, the destination 550.54.16'),
      ('nvidia_host_driver_equal', 'identical host driver versions'),
      ('nvidia_host_driver_branch', 'never to an older release')]),
    ('type mismatch is said once for NVIDIA', dev('a', vm='x', **VGPU), offer('p', T4, 'nvidia-222', 16), False,
     [('type', 'the source is nvidia-230, the destination offers nvidia-222')]),
    ('H100 PCIe vs H100 NVL', dev('a', vm='x', board=H100_PCIE, type='nvidia-900'),
     dev('b', board=H100_NVL, type='nvidia-900'), False,
     [('pci_device', '2331 on the source, 2321 on the destination'),
      ('nvidia_board_variants', 'from a H100 PCIe 80GB board to a H100 NVL 94GB board')]),
    ('H100 vs H800', dev('a', vm='x', board=H100_PCIE, type='pci-x'), dev('b', board=H800_PCIE, type='pci-x'), False,
     [('pci_device', '2331 on the source, 2322 on the destination'),
      ('nvidia_board_variants', 'H100 PCIe 80GB board to a H800 PCIe 80GB board')]),
    ('source driver cannot migrate', dev('a', board=CX6DX_VF, vm='x', capable=False, reason='vfio-pci has no migration support'),
     dev('b', board=CX6DX_VF), False,
     [('source_migration_capable', 'the source device cannot be live-migrated (migration.capable is false): '
                                   'vfio-pci has no migration support')]),
    ('unknown capability is a no too', dev('a', board=CX6DX_VF, vm='x', capable=None, reason='not in the table'),
     dev('b', board=CX6DX_VF), False,
     [('source_migration_capable', 'migration.capable is nothing): not in the table')]),
    ('destination driver cannot receive', dev('a', board=CX6DX_VF, vm='x'), dev('b', board=CX6DX_VF, capable=False),
     False, [('destination_migration_capable', 'cannot receive a live migration')]),
    ('mlx5 kernel version newer dst ok', dev('a', board=CX6DX_VF, vm='x', version='6.1.0-18-amd64'),
     dev('b', board=CX6DX_VF, version='6.8.0-45-generic'), True, []),
    ('mlx5 kernel version older dst no', dev('a', board=CX6DX_VF, vm='x', version='6.8.0-45-generic'),
     dev('b', board=CX6DX_VF, version='6.1.0-18-amd64'), False,
     [('software_version', 'the source runs 6.8.0-45-generic, the destination 6.1.0-18-amd64')]),
    ('unknown destination version', dev('a', board=CX6DX_VF, vm='x', version='1.2'),
     dev('b', board=CX6DX_VF, version=None), False,
     [('software_version', 'the source runs 1.2, the destination nothing')]),
    ('unreadable version', dev('a', board=CX6DX_VF, vm='x', version='n/a'),
     dev('b', board=CX6DX_VF, version='1.0'), False,
     [('software_version', "'n/a' is not a version")]),
    ('ccw subchannel type', dev('a', board=None, type='vfio_ccw-io', kind='ccw', api='vfio-ccw', vm='x',
                                attributes={'subchannel_type': '0'}, version='6.8.0'),
     dev('b', board=None, type='vfio_ccw-io', kind='ccw', api='vfio-ccw', attributes={'subchannel_type': '1'},
         version='6.8.0'), False,
     [('ccw_subchannel_type', 'the subchannel type differs: 0 on the source, 1 on the destination')]),
    ('ap matrix superset ok', dev('a', board=None, type='vfio_ap-passthrough', kind='ap', api='vfio-ap', vm='x',
                                  attributes={'matrix': '05.0004\n05.0005'}, version='6.8.0'),
     dev('b', board=None, type='vfio_ap-passthrough', kind='ap', api='vfio-ap',
         attributes={'matrix': '05.0004\n05.0005\n06.0004'}, version='6.8.0'), True, []),
    ('ap matrix missing APQN', dev('a', board=None, type='vfio_ap-passthrough', kind='ap', api='vfio-ap', vm='x',
                                   attributes={'matrix': '05.0004\n05.0005'}, version='6.8.0'),
     dev('b', board=None, type='vfio_ap-passthrough', kind='ap', api='vfio-ap',
         attributes={'matrix': '05.0004'}, version='6.8.0'), False,
     [('ap_matrix', "lacks the adapter.domain pair(s) 05.0005")]),
    ('virtual parents (mtty) compare without PCI ids', dev('a', board=None, type='mtty-2', vm='x', version='6.8.0'),
     offer('mtty', None, 'mtty-2', 12, version='6.8.0'), True, []),
]


@pytest.fixture(scope='module')
def comparator():
    return Comparator(load_rule_set())


@pytest.mark.parametrize('name, src, dst, ok, expected', CASES, ids=[c[0] for c in CASES])
def test_directed_compare(comparator, name, src, dst, ok, expected):
    compatible, reasons = comparator.compare(src, dst)
    assert compatible is ok, reasons
    got = [(r['rule'], r['message']) for r in reasons]
    assert len(got) == len(expected), got
    for (rule, text), (grule, gmessage) in zip(expected, got):
        assert rule == grule
        assert text in gmessage, gmessage
    for reason in reasons:
        assert set(reason) == {'rule', 'field', 'source', 'destination', 'message'}


def test_directedness(comparator):
    old = dev('a', board=CX6DX_VF, vm='x', version='6.1.0-18-amd64')
    new = dev('b', board=CX6DX_VF, vm='y', version='6.8.0-45-generic')
    assert comparator.compare(old, new)[0] is True
    ok, reasons = comparator.compare(new, old)
    assert ok is False
    assert reasons[0]['field'] == 'software_version'
    assert (reasons[0]['source'], reasons[0]['destination']) == ('6.8.0-45-generic', '6.1.0-18-amd64')


def test_keyed_cache_reuses_verdicts(comparator):
    comp = Comparator(load_rule_set())
    a, b = dev('a', vm='x', **VGPU), dev('b', **VGPU)
    comp.compare_keyed(a['fingerprint'], a, b['fingerprint'], b)
    comp.compare_keyed(a['fingerprint'], a, b['fingerprint'], dev('c', **VGPU))
    assert comp.evaluations == 1


def test_nvidia_version_rule_can_be_turned_off():
    comp = Comparator(load_rule_set({'disable': ['nvidia_host_driver_equal']}))
    ok, reasons = comp.compare(dev('a', vm='x', version='550.54.16', **VGPU), dev('b', version='550.90.07', **VGPU))
    assert ok is True and reasons == []
    assert NV == '550.54.16'


def test_one_sided_rules_are_known_by_what_they_read():
    sides = dict((rule.name, rule.one_side()) for rule in load_rule_set())
    assert sides['source_migration_capable'] == 'source' and sides['dirty_tracking_blocker'] == 'source'
    assert sides['destination_migration_capable'] == 'destination'
    assert sides['software_version'] is None and sides['type'] is None
    # a when that reads the other side, or the whole context, makes a sided operator two-sided
    rule = dict(name='r', description='d', source='s', select='driver', operator='one_of', values=['x'],
                side='source', message='m')
    for when, expected in (("source.kind == 'pci'", 'source'), ("destination.kind == 'pci'", None),
                           ("length(@) == `2`", None), ("other == `1`", 'source')):
        assert load_rule_set({'rules': [dict(rule, when=when)], 'defaults': False}).rules[0].one_side() == expected, when


class _Counted(object):
    """A rule that counts its evaluations."""

    def __init__(self, rule):
        self.rule, self.calls = rule, 0

    def __getattr__(self, name):
        return getattr(self.rule, name)

    def evaluate(self, src, dst):
        self.calls += 1
        return self.rule.evaluate(src, dst)


def test_a_one_sided_pass_is_evaluated_once_per_record_key_and_verdicts_do_not_change():
    keyed, plain = Comparator(load_rule_set()), Comparator(load_rule_set())
    keyed.rules = [_Counted(rule) for rule in keyed.rules]
    by_name = dict((counted.rule.name, counted) for counted in keyed.rules)
    sources = [dev('s%d' % n, vm='x', version=v, capable=c, **VGPU)
               for n, (v, c) in enumerate([('550.54.16', True), ('550.90.07', True), ('550.54.16', False)])]
    destinations = [dev('d%d' % n, version=v, capable=c, **VGPU)
                    for n, (v, c) in enumerate([('550.54.16', True), ('550.90.07', True), ('550.54.16', False),
                                                ('550.54.16', True)])]
    for src in sources:
        for dst in destinations:
            got = keyed.compare_keyed(src['fingerprint'], src, dst['id'], dst)
            assert got == plain.compare(src, dst), (src['id'], dst['id'])
    # two source keys pass source_migration_capable: once each; the one that fails, per pair
    assert by_name['source_migration_capable'].calls == 2 + len(destinations)
    # the destinations are keyed by id (four keys): three pass, one fails each time it is asked
    assert by_name['destination_migration_capable'].calls == 3 + 1 * len(sources)
    # a rule that reads both sides is asked for every pair
    assert by_name['software_version'].calls == len(sources) * len(destinations)
