# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run a snippet in fresh Python processes under different ``PYTHONHASHSEED`` values.

A determinism test that compares two results of one process cannot see an order that comes
from string hashing (set iteration, for one): the seed is fixed for the life of a process.
:func:`outputs_under_seeds` runs ``code`` once per seed, each in its own process with this
process's ``sys.path``, and returns what each printed.
"""

from __future__ import annotations

import os
import subprocess
import sys

SEEDS = ('1', '2')


def outputs_under_seeds(code, seeds=SEEDS, args=()):
    """``[stdout]`` of ``python -c code args...``, one per seed; a failing run fails the test with its stderr."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    outputs = []
    for seed in seeds:
        env['PYTHONHASHSEED'] = seed
        run = subprocess.run([sys.executable, '-c', code] + [str(a) for a in args], env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        assert run.stdout, 'the snippet printed nothing under PYTHONHASHSEED=%s' % seed
        outputs.append(run.stdout)
    return outputs
