# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""config_space: the capability chains read from a function's ``config`` file."""

from __future__ import annotations

import os
import struct

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.plugins.module_utils._pci_config import parse


def config(caps=(), ext=(), header=0x00, size=4096, loop_std=False, loop_ext=False):
    """Config-space bytes with the standard chain ``caps`` [(id, offset)] and ``ext`` [(id, offset)]."""
    cfg = bytearray(size)
    struct.pack_into('<HH', cfg, 0, 0x15b3, 0x101e)
    cfg[0x0e] = header
    if caps:
        cfg[0x06] = 0x10
        cfg[0x34] = caps[0][1]
    for index, (cap_id, offset) in enumerate(caps):
        cfg[offset] = cap_id
        cfg[offset + 1] = caps[index + 1][1] if index + 1 < len(caps) else (caps[0][1] if loop_std else 0)
    for index, (cap_id, offset) in enumerate(ext):
        nxt = ext[index + 1][1] if index + 1 < len(ext) else (ext[0][1] if loop_ext else 0)
        struct.pack_into('<I', cfg, offset, cap_id | (1 << 16) | (nxt << 20))
    return bytes(cfg)


def test_chains_in_order_lower_case_hex():
    data = config(caps=[(0x01, 0x60), (0x10, 0x70), (0x11, 0xb0)], ext=[(0x0001, 0x100), (0x000e, 0x148)],
                  header=0x80)
    assert parse(data) == ({'capabilities': ['01@60', '10@70', '11@b0'],
                            'extended_capabilities': ['0001@100', '000e@148'], 'header_type': '00'}, [])


def test_short_read_is_unknown():
    assert parse(config()[:64]) == (None, [])
    assert parse(config(header=0x02)[:128]) == (None, [])
    assert parse(None) == (None, [])


def test_conventional_function_has_no_extended_chain():
    value, problems = parse(config(caps=[(0x05, 0x50)], size=256))
    assert value == {'capabilities': ['05@50'], 'extended_capabilities': [], 'header_type': '00'}
    assert problems == []


def test_no_capability_list_bit():
    data = bytearray(config(caps=[(0x05, 0x50)]))
    data[0x06] = 0
    assert parse(bytes(data))[0]['capabilities'] == []


def test_looping_chains_stop_with_a_problem():
    value, problems = parse(config(caps=[(0x01, 0x40), (0x05, 0x50)], ext=[(0x0001, 0x100), (0x0019, 0x140)],
                                   loop_std=True, loop_ext=True))
    assert value['capabilities'] == ['01@40', '05@50']
    assert value['extended_capabilities'] == ['0001@100', '0019@140']
    assert problems == ['capability chain loops at offset 0x40, walk stopped',
                        'extended capability chain loops at offset 0x100, walk stopped']


def test_facts_carry_config_space_and_warn_on_a_loop(host):
    host.pci('0000:3b:00.2', '15b3', '101e', driver='mlx5_vfio_pci', group=3,
             files={'config': ''})
    host.pci('0000:3b:00.3', '15b3', '101e', driver='mlx5_vfio_pci', group=4)
    with open(os.path.join(host.pci_dir('0000:3b:00.2'), 'config'), 'wb') as f:
        f.write(config(caps=[(0x01, 0x40), (0x11, 0x9c)], loop_std=True))
    facts = gather(host.sys, host.proc, host.dev, software_versions={}, scan_processes=False)
    got = dict((d['id'], d['config_space']) for d in facts['devices'])
    assert got['0000:3b:00.2'] == {'capabilities': ['01@40', '11@9c'], 'extended_capabilities': [],
                                   'header_type': '00'}
    assert got['0000:3b:00.3'] is None    # the fixture's 64-byte config: what a non-root reader gets
    assert facts['warnings'] == ['/sys/devices/pci0000:00/0000:3b:00.2/config: capability chain loops at '
                                 'offset 0x40, walk stopped']


def test_a_config_that_is_not_a_regular_file_is_not_read(host):
    host.pci('0000:3b:00.2', '15b3', '101e', driver='mlx5_vfio_pci', group=3)
    path = os.path.join(host.pci_dir('0000:3b:00.2'), 'config')
    os.unlink(path)
    os.mkfifo(path)
    facts = gather(host.sys, host.proc, host.dev, software_versions={}, scan_processes=False)
    assert facts['devices'][0]['config_space'] is None
    assert facts['warnings'] == ['/sys/devices/pci0000:00/0000:3b:00.2/config: not a regular file, not read']
