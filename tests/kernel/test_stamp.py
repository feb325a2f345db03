# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When `VFIO_TEST_KERNEL=auto make test` runs the kernel lane: `stamp.py check` on small git
repositories laid out like this collection (no QEMU; run: python -m pytest tests/kernel)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import stamp  # noqa: E402  pylint: disable=wrong-import-position

GIT = ['git', '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main',
       '-c', 'commit.gpgsign=false']
FILES = {
    'plugins/modules/vfio_facts.py': 'print("facts")\n',
    'plugins/module_utils/_sysfs.py': 'ROOT = "/sys"\n',
    'tests/kernel/lane.py': 'print("lane")\n',
    'tests/kernel/guest/init': '#!/bin/sh\n',
    'tests/captures/truth.py': 'def compare(): pass\n',
    'plugins/filter/compatible.py': 'X = 1\n',
    'plugins/plugin_utils/_check.py': 'Y = 1\n',
    'rules/default.yml': 'rules: []\n',
    'tests/kernel/groundtruth.md': '# matrix\n',  # written by the lane: not covered
    'plugins/inventory/hosts.py': 'Z = 1\n',  # not covered
    'README.md': 'readme\n',  # not covered
}

pytestmark = pytest.mark.skipif(shutil.which('git') is None, reason='needs git')


def git(repo, *args):
    return subprocess.run(GIT + ['-C', str(repo)] + list(args), check=True,
                          stdout=subprocess.PIPE, universal_newlines=True).stdout


def check(repo):
    """Run the public interface the Makefile runs: (exit status, the one line it prints)."""
    res = subprocess.run([sys.executable, os.path.join(HERE, 'stamp.py'), 'check', '--repo', str(repo)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                         check=False)
    assert res.stderr == ''
    assert len(res.stdout.splitlines()) == 1, res.stdout
    return res.returncode, res.stdout.strip()


def write_stamp(repo, kernels='6.1 (6.1.0-1-amd64), 6.12 (6.12.1-amd64)'):
    """What lane.py does after a passing run of every series."""
    digest, lines = stamp.current(str(repo))
    stamp.write(digest, lines, kernels, 'QEMU emulator version 10.0.0, with igb', repo=str(repo))
    return digest


@pytest.fixture
def repo(tmp_path):
    """A committed tree with a stamp that matches it."""
    root = tmp_path / 'checkout'
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, 'init', '-q')
    git(root, 'add', '.')
    write_stamp(root)
    git(root, 'add', stamp.STAMP)
    git(root, 'commit', '-q', '-m', 'verified')
    return root


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))


def test_unchanged_tree_skips(repo):
    status, line = check(repo)
    assert status == 0
    assert line.startswith('kernel lane: verified for this module and lane (stamp sha256:')
    assert line.endswith(', skipped')


def test_fresh_clone_skips(repo, tmp_path):
    """No reliance on mtimes or on a warm index: a new clone of the same commit is verified."""
    clone = tmp_path / 'clone'
    subprocess.run(GIT + ['clone', '-q', str(repo), str(clone)], check=True)
    assert check(clone)[0] == 0
    assert stamp.current(str(clone)) == stamp.current(str(repo))


def test_touched_but_same_content_skips(repo):
    path = repo / 'plugins/module_utils/_sysfs.py'
    os.utime(path, (1, 1))
    path.write_text(path.read_text())
    assert check(repo)[0] == 0


@pytest.mark.parametrize('path', ['plugins/module_utils/_sysfs.py', 'plugins/modules/vfio_facts.py',
                                  'tests/kernel/lane.py', 'tests/kernel/guest/init',
                                  'tests/captures/truth.py', 'plugins/filter/compatible.py',
                                  'plugins/plugin_utils/_check.py', 'rules/default.yml'])
def test_one_changed_byte_runs(repo, path):
    flip_byte(repo / path)
    status, line = check(repo)
    assert status == 1
    assert line == ('kernel lane: module or lane changed since the last verified run (%s), '
                    'running it' % path)
    git(repo, 'commit', '-q', '-am', 'change')  # committed or not, the content decides
    assert check(repo)[0] == 1


def test_rewritten_stamp_still_skips(repo):
    before = stamp.current(str(repo))
    write_stamp(repo, kernels='6.1 (6.1.0-2-amd64), 6.12 (6.12.2-amd64)')
    assert stamp.current(str(repo)) == before
    assert 'tests/kernel/verified.txt' not in ''.join(before[1])
    assert git(repo, 'status', '--porcelain') == ' M tests/kernel/verified.txt\n'
    assert check(repo)[0] == 0


def test_files_outside_module_and_lane_do_not_count(repo):
    flip_byte(repo / 'plugins/inventory/hosts.py')
    flip_byte(repo / 'README.md')
    flip_byte(repo / 'tests/kernel/groundtruth.md')  # the lane's own output, like the stamp
    (repo / 'plugins/module_utils/untracked.py').write_text('x = 1\n')
    assert check(repo)[0] == 0


def test_new_deleted_or_renamed_file_runs(repo):
    (repo / 'plugins/module_utils/_new.py').write_text('x = 1\n')
    git(repo, 'add', 'plugins/module_utils/_new.py')
    assert check(repo) == (1, 'kernel lane: module or lane changed since the last verified run '
                              '(plugins/module_utils/_new.py), running it')
    git(repo, 'rm', '-q', '--cached', 'plugins/module_utils/_new.py')
    assert check(repo)[0] == 0
    (repo / 'tests/kernel/lane.py').unlink()
    assert check(repo)[0] == 1
    git(repo, 'checkout', '-q', '--', 'tests/kernel/lane.py')
    git(repo, 'mv', 'plugins/module_utils/_sysfs.py', 'plugins/module_utils/_sysfs2.py')
    assert check(repo)[0] == 1


def test_no_stamp_or_no_git_runs(repo, tmp_path):
    (repo / stamp.STAMP).unlink()
    assert check(repo) == (1, 'kernel lane: no verified run recorded in tests/kernel/verified.txt, '
                              'running it')
    plain = tmp_path / 'plain'
    shutil.copytree(str(repo), str(plain), ignore=shutil.ignore_patterns('.git'))
    status, line = check(plain)
    assert status == 1
    assert line.startswith('kernel lane: cannot compute the digest of module and lane (')


def test_blob_ids_are_gits(repo):
    """The per-file ids are git's blob ids: on a clean tree they equal `git ls-files -s`."""
    staged = {}
    for line in git(repo, 'ls-files', '-s').splitlines():
        meta, path = line.split('\t', 1)
        staged[path] = meta.split()[1]
    _digest, lines = stamp.current(str(repo))
    assert len(lines) == 8
    for line in lines:
        blob, path = line.split(' ', 1)
        assert staged[path] == blob


def test_committed_stamp_reads_back():
    """The stamp in this checkout (when there is one) parses and names both kernels."""
    found = stamp.read(os.path.dirname(os.path.dirname(HERE)))
    if found is None:
        pytest.skip('no stamp here')
    assert found['digest'].startswith('sha256:') and len(found['digest']) == 71
    for series in stamp.DEFAULT_SERIES:
        assert '%s (' % series in found['kernels']
    assert found['files']
