# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The execution environment: ansible-builder makes a build context for an EE with this collection,
and the context's own introspection step, run on this checkout as it runs on the collections
installed into the image, finds the collection's Python and system requirements."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _lines(path):
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith('#')]


@pytest.fixture(scope='module')
def context(tmp_path_factory):
    out = tmp_path_factory.mktemp('ee') / 'context'
    builder = os.path.join(os.path.dirname(sys.executable), 'ansible-builder')
    subprocess.run([builder, 'create', '--file', os.path.join(HERE, 'execution-environment.yml'),
                    '--context', str(out)], check=True, cwd=HERE)
    return out


@pytest.fixture(scope='module')
def collections(tmp_path_factory):
    """A collections path holding this checkout as ansible_collections/vfio/migration."""
    base = tmp_path_factory.mktemp('collections')
    os.makedirs(str(base / 'ansible_collections' / 'vfio'))
    os.symlink(REPO, str(base / 'ansible_collections' / 'vfio' / 'migration'))
    return base


def test_the_collection_declares_its_requirements():
    with open(os.path.join(REPO, 'meta', 'execution-environment.yml')) as handle:
        meta = yaml.safe_load(handle)
    assert meta == {'version': 1, 'dependencies': {'python': 'requirements.txt', 'system': 'bindep.txt'}}
    assert _lines(os.path.join(REPO, 'requirements.txt')) == ['packaging', 'jmespath']


def test_the_context_installs_the_collection(context):
    with open(str(context / '_build' / 'requirements.yml')) as handle:
        assert yaml.safe_load(handle) == {'collections': [{'name': 'vfio.migration'}]}
    names = os.listdir(str(context))
    containerfile = os.path.join(str(context), 'Containerfile' if 'Containerfile' in names else 'Dockerfile')
    with open(containerfile) as handle:
        text = handle.read()
    assert 'ansible-galaxy collection install' in text
    assert 'introspect.py introspect' in text


def test_the_introspection_finds_the_collection_requirements(context, collections, tmp_path):
    pip, bindep = tmp_path / 'requirements.txt', tmp_path / 'bindep.txt'
    script = str(context / '_build' / 'scripts' / 'introspect.py')
    result = subprocess.run([sys.executable, script, 'introspect', '--sanitize', str(collections),
                             '--write-pip', str(pip), '--write-bindep', str(bindep)],
                            check=True, capture_output=True, text=True)
    # sanitized: one line per requirement, naming the collection it came from
    report = yaml.safe_load(result.stdout)
    assert sorted(report['python']) == ['jmespath  # from collection vfio.migration',
                                        'packaging  # from collection vfio.migration']
    assert report['system'] == []
    with open(str(pip)) as handle:
        assert sorted(handle.read().splitlines()) == sorted(report['python'])
    assert not bindep.exists()  # no system packages: nothing for bindep to install
