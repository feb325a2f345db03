# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_output: the facts stay within their byte and per-list bounds, with a warning for what is cut."""

from __future__ import annotations

import json

from ansible_collections.vfio.migration.plugins.module_utils import _facts


def gather(host, **kwargs):
    return _facts.gather(host.sys, host.proc, host.dev, {}, True, **kwargs)


def test_facts_are_bounded_in_total_and_per_list(host):
    gpu = host.pci('0000:3b:00.0', '10de', '1eb8', driver='nvidia', module='nvidia', group=1)
    host.mdev_parent(gpu)
    for index in range(40):
        host.mdev_type(gpu, 'nvidia-%d' % index, 'GRID T4-1Q', description='d' * 60000)
    full = gather(host)
    assert len(json.dumps(full)) > 2000000
    small = gather(host, max_facts_bytes=300000)
    assert len(json.dumps(small, separators=(',', ':'), ensure_ascii=False)) <= 300000
    assert 0 < len(small['mdev_types']) < 40 and small['summary']['mdev_types'] == len(small['mdev_types'])
    assert [t['type'] for t in small['mdev_types']] == [t['type'] for t in full['mdev_types']][:len(small['mdev_types'])]
    assert any(w.startswith('mdev_types: 40 entries, the first %d kept' % len(small['mdev_types']))
               for w in small['warnings'])
    few = gather(host, max_list_entries=3)
    assert len(few['mdev_types']) == 3 and 'mdev_types: 40 entries, the first 3 kept' in few['warnings'][-1]
