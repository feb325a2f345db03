# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_gc: the cyclic garbage collector is paused inside the block and restored as it was."""

from __future__ import annotations

import gc

import pytest

from ansible_collections.vfio.migration.plugins.plugin_utils._gc import gc_paused


@pytest.mark.parametrize('enabled', [True, False])
def test_gc_is_paused_and_restored(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(KeyError):
            with gc_paused():
                raise KeyError('x')
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
