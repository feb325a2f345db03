# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_nvidia: vGPU profiles on SR-IOV GPUs, their frame buffer and the room left on a GPU."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._nvidia import (
    max_instance, parse_creatable, profile_framebuffer, room)

A100 = '20f1'


def test_creatable_table_skips_its_header():
    text = 'ID    : vGPU Name\n557   : NVIDIA A100-4C\n558   : NVIDIA A100-5C\n'
    assert parse_creatable(text) == [('557', 'NVIDIA A100-4C'), ('558', 'NVIDIA A100-5C')]
    assert parse_creatable(None) == [] and parse_creatable('no table here') == []


@pytest.mark.parametrize('name, size', [
    ('NVIDIA A100-4C', 4), ('GRID T4-16Q', 16), ('NVIDIA A100-1-5C', None), ('something else', None)])
def test_profile_framebuffer(name, size):
    assert profile_framebuffer(name) == size


def test_max_instance_and_room_on_an_a100():
    assert max_instance(A100, 'NVIDIA A100-4C') == 10 and max_instance(A100, 'NVIDIA A100-40C') == 1
    assert max_instance('ffff', 'NVIDIA A100-4C') is None
    assert room(A100, 'NVIDIA A100-4C', 2, ['NVIDIA A100-4C'] * 2) == 8
    # 20 GiB taken by another profile leaves room for five 4 GiB vGPUs
    assert room(A100, 'NVIDIA A100-4C', 0, ['NVIDIA A100-20C']) == 5
    # a running type of unknown size: only this type's own limit counts
    assert room(A100, 'NVIDIA A100-4C', 3, ['NVIDIA A100-4C'] * 3 + [None]) == 7
