# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property test (issue 10): 1,000 damaged sys/proc/dev trees, generated reproducibly by hypothesis.

For every tree the module never raises, never opens or lists a path outside its roots and
never opens a FIFO or device node (an audit hook on ``open``, ``os.listdir`` and
``os.scandir``), never writes, and returns facts that are valid UTF-8 JSON within its
size bound.  ``derandomize`` makes the run the same every time; a failing example is
printed by hypothesis with the damages that made it.
"""

from __future__ import annotations

import json
import shutil
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.tests.unit.helpers.audit import Audit
from ansible_collections.vfio.migration.tests.unit.helpers.damaged_tree import DAMAGES, build, damage

EXAMPLES = 1000
MAX_BYTES = 200000

DAMAGE = st.tuples(st.integers(min_value=0, max_value=10 ** 6), st.sampled_from(sorted(DAMAGES)),
                   st.integers(min_value=0, max_value=10 ** 4))


def check(damages):
    base = tempfile.mkdtemp(prefix='vfio-damaged-')
    try:
        host, outside, entries = build(base)
        ctx = {'outside': outside, 'entries': entries}
        for index, kind, arg in damages:
            damage(entries[index % len(entries)], kind, arg, ctx)
        with Audit(host.sys, host.proc, host.dev, host.boot) as audit:
            facts = gather(host.sys, host.proc, host.dev, {'nvidia-230': 'x'}, True, max_facts_bytes=MAX_BYTES)
        assert audit.events > 0
        assert audit.outside == [], audit.outside
        assert audit.special == [], audit.special
        assert audit.writes == [], audit.writes
        text = json.dumps(facts, separators=(',', ':'), ensure_ascii=False)
        assert json.loads(text.encode('utf-8')) == facts
        assert len(text) <= MAX_BYTES
        assert facts['summary']['devices'] == len(facts['devices'])
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_damaged_trees_never_crash_leak_or_write():
    runs = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(DAMAGE, min_size=1, max_size=6))
    def run(damages):
        runs.append(1)
        check(damages)

    run()
    assert len(runs) >= EXAMPLES


def test_the_healthy_tree_has_every_kind_of_fact_the_damage_can_hit(tmp_path):
    """The damaged trees start from this one: each fact below is there before any damage."""
    host, _outside, entries = build(str(tmp_path / 'healthy'))
    with Audit(host.sys, host.proc, host.dev, host.boot) as audit:
        facts = gather(host.sys, host.proc, host.dev)
    assert audit.outside == [] and facts['warnings'] == []
    assert facts['host']['kernel_config']['source'] == '/proc/config.gz'
    assert any(e.startswith(host.boot + '/') for e in entries)
    held = dict((d['id'], d) for d in facts['devices'])['0000:5e:00.1']
    assert held['in_use']['qemu_options'] == {'enable-migration': 'on', 'x-device-dirty-page-tracking': 'off'}
