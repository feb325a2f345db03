# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit test set-up: make the collection importable, and build small sysfs-shaped trees.

Under ``ansible-test units`` the collection already sits at
``ansible_collections/vfio/migration``.  Under plain pytest from a checkout it does not,
so a temporary ``ansible_collections/vfio/migration`` symlink to the checkout is put on
``sys.path``.

The ``host`` and ``make_host`` fixtures hand out :class:`FakeHost` trees; the builders of
test hosts (sysfs trees, engine facts, the report fleet) live in ``tests/unit/helpers/``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collection_path():
    """A directory holding ``ansible_collections/vfio/migration`` -> this checkout."""
    parts = REPO.rstrip('/').split('/')
    if parts[-3:-1] == ['ansible_collections', 'vfio'] and parts[-1] == 'migration':
        return '/'.join(parts[:-3]) or '/'
    base = tempfile.mkdtemp(prefix='vfio-migration-collection-')
    os.makedirs(os.path.join(base, 'ansible_collections', 'vfio'))
    os.symlink(REPO, os.path.join(base, 'ansible_collections', 'vfio', 'migration'))
    atexit.register(shutil.rmtree, base, True)
    return base


def _make_importable():
    try:
        import ansible_collections.vfio.migration.plugins.module_utils._profile  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        sys.path.insert(0, _collection_path())


_make_importable()

from ansible_collections.vfio.migration.tests.unit.helpers.sysfs_tree import FakeHost  # noqa: E402 pylint: disable=wrong-import-position


def _once(directory, build):
    """Run ``build(directory)`` unless an earlier test already did.

    ``ansible-test units`` forks every test (its ``ansible_forked`` plugin), so session or
    module fixtures are set up again in each child; a marker file on disk survives that.
    """
    marker = os.path.join(directory, '.complete')
    if not os.path.exists(marker):
        if os.path.lexists(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        build(directory)
        with open(marker, 'w'):
            pass
    return directory


# Made when pytest imports this file, before any test is forked, so every forked test sees it.
SESSION_DIR = tempfile.mkdtemp(prefix='vfio-migration-tests-')
_OWNER = os.getpid()


@atexit.register
def _remove_session_dir():
    if os.getpid() == _OWNER:
        shutil.rmtree(SESSION_DIR, True)


@pytest.fixture(scope='session')
def once():
    """``once(name, build)``: a directory of this test session built by ``build`` once."""
    def get(name, build):
        return _once(os.path.join(SESSION_DIR, name), build)
    return get


@pytest.fixture(scope='session')
def collections_path(once):
    """A directory to use as ``ANSIBLE_COLLECTIONS_PATH`` for real ``ansible`` runs."""
    def build(directory):
        os.makedirs(os.path.join(directory, 'ansible_collections', 'vfio'))
        os.symlink(REPO, os.path.join(directory, 'ansible_collections', 'vfio', 'migration'))
    return once('collections', build)


@pytest.fixture
def host(tmp_path):
    """An empty :class:`FakeHost` under ``tmp_path/host``."""
    return FakeHost(tmp_path / 'host')


@pytest.fixture
def make_host(tmp_path):
    """Factory for several hosts: ``make_host('a')``."""
    def factory(name, **kwargs):
        return FakeHost(tmp_path / name, **kwargs)
    return factory
