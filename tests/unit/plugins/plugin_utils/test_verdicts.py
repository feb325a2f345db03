# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_verdicts: may all of one host's devices in use be placed at once on another host?"""

from __future__ import annotations

from ansible_collections.vfio.migration.tests.unit.helpers.hosts import T4, dev, host, offer
from ansible_collections.vfio.migration.plugins.plugin_utils._check import migration_check
from ansible_collections.vfio.migration.plugins.plugin_utils._engine import Engine
from ansible_collections.vfio.migration.plugins.plugin_utils._verdicts import class_verdict

Q = dict(board=T4, type='nvidia-230')


def _verdict(src, dst):
    engine = Engine()
    return class_verdict(engine, engine.host('src', src), engine.host('dst', dst))


def test_class_verdict_agrees_with_migration_check():
    src = host(dev('g0', vm='web', **Q), dev('g1', vm='db', **Q))
    for available in (1, 2):
        dst = host(offer('0000:3b:00.0', T4, 'nvidia-230', available))
        verdict = _verdict(src, dst)
        assert verdict['compatible'] is (available == 2)
        assert verdict['compatible'] is migration_check(src, dst)['compatible']


def test_a_refused_type_is_unplaced_with_its_rule():
    verdict = _verdict(host(dev('g0', vm='web', **Q)), host(offer('0000:3b:00.0', T4, 'nvidia-231', 4)))
    assert verdict['compatible'] is False
    assert verdict['unplaced'] and all(r.get('rule') for u in verdict['unplaced'] for r in u['reasons'])
