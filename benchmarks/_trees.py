# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which tree of the collection a benchmark imports, and the timings it reports for comparisons.

Every benchmark takes ``--tree DIR``: it then imports ``ansible_collections.vfio.migration``
from ``DIR`` (a checkout or an extracted commit) instead of this checkout. Everything else it
uses (``benchmarks/_fleet.py``, ``tests/sim/simhost.py``) comes from this checkout, so two
trees get the same inputs. With ``--measure`` a benchmark times only its main measurement and
prints one JSON line (:func:`emit`); ``benchmarks/compare.py`` runs that for two trees in
turn and prints the table.

:func:`select_tree` must run before the first import of the collection: the scripts call it
at the top, it reads ``--tree`` from the command line itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUTPUT = os.path.join(HERE, 'output')
PACKAGE = 'ansible_collections.vfio.migration'


def add_options(parser):
    """``--tree`` and ``--measure``, the options every benchmark shares."""
    parser.add_argument('--tree', default=None,
                        help='import the collection from this directory (default: this checkout)')
    parser.add_argument('--measure', action='store_true',
                        help='time only the main measurement and print it as one JSON line (for benchmarks/compare.py)')


def collections_dir(tree):
    """A directory D with D/ansible_collections/vfio/migration being ``tree``."""
    parts = tree.rstrip('/').split('/')
    if parts[-3:-1] == ['ansible_collections', 'vfio'] and parts[-1] == 'migration':
        return '/'.join(parts[:-3]) or '/'
    digest = hashlib.sha256(tree.encode('utf-8', 'surrogateescape')).hexdigest()[:12]
    base = os.path.join(OUTPUT, 'trees', digest)
    link = os.path.join(base, 'ansible_collections', 'vfio', 'migration')
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(tree, link)
    return base


def select_tree(argv=None):
    """Put the tree named by ``--tree`` in ``argv`` (default: this checkout) first on sys.path.

    Another copy of the collection already importable (a ``build/`` copy, an installed one)
    would mix into the namespace package: the import is checked to come from the tree.
    Returns the tree's real path.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--tree', default=None)
    known = parser.parse_known_args(sys.argv[1:] if argv is None else argv)[0]
    tree = os.path.realpath(known.tree or REPO)
    if not os.path.isdir(os.path.join(tree, 'plugins')):
        raise SystemExit('--tree %s: not a tree of the collection (no plugins/)' % tree)
    sys.path.insert(0, collections_dir(tree))
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.vfio.migration.plugins.module_utils import _profile
    found = os.path.realpath(_profile.__file__)
    if not found.startswith(tree + '/'):
        raise SystemExit('the collection is imported from %s, not from the tree %s: another copy comes first'
                         % (found, tree))
    return tree


def best_times(func, repeat):
    """``(result, {'wall': best seconds, 'cpu': best process CPU seconds})`` of ``repeat`` calls."""
    walls, cpus, result = [], [], None
    for _run in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return result, {'wall': min(walls), 'cpu': min(cpus)}


def digest(value):
    """A short hash of a JSON-shaped value: two trees measured on the same inputs show the same."""
    text = json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    return hashlib.sha256(text.encode('utf-8', 'surrogateescape')).hexdigest()[:16]


def emit(measurements, inputs):
    """Print the one JSON line of ``--measure``: ``{name: {'wall', 'cpu'}}`` and the inputs' digest."""
    sys.stdout.write(json.dumps({'measurements': measurements, 'inputs': inputs}) + '\n')
    sys.stdout.flush()
