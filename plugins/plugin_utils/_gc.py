# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Pause Python's cyclic garbage collector around one engine call.

The fleet engines allocate many small, acyclic objects while large fact trees are alive;
the cyclic collector would walk those trees again and again (measured: 2.5x the run time
of a 10,000-host matrix). Reference counting still frees everything; the collector is
restored to its previous state afterwards, even on error.
"""

from __future__ import annotations

import contextlib
import gc

__all__ = ['gc_paused']


@contextlib.contextmanager
def gc_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
