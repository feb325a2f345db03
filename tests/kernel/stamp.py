#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The kernel lane's stamp: what its last passing run verified (tests/kernel/verified.txt).

The digest covers the git blob id of every tracked file the lane's verdict depends on (the
module, its module_utils, the filters with their plugin_utils engine and the rules/ they
apply to the lane's migrations, the lane itself and the ground-truth comparison it imports),
computed from the working tree's content: a fresh clone, a dirty tree and a tree whose
mtimes changed all give the digest of what is on disk, and the stamp itself is left out,
so rewriting it never changes the digest (nor does groundtruth.md, which the same run writes).

    stamp.py check    exit 0: the committed stamp matches the tree (the lane may be skipped);
                      exit 1: module or lane changed since the last verified run
    stamp.py digest   print the current digest and the per-file lines behind it

lane.py calls write() after a run in which every default kernel series passed.
Standard library only.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STAMP = 'tests/kernel/verified.txt'
# tracked files under these paths make up the digest: the module, the filters and their
# engine and rules (the lane predicts real migrations with them), the lane, its comparison
COVERED = ('plugins/modules', 'plugins/module_utils', 'plugins/filter', 'plugins/plugin_utils', 'rules',
           'tests/kernel', 'tests/captures/truth.py')
# written by a passing run, like the stamp: never part of what it verifies
OUTPUTS = (STAMP, 'tests/kernel/groundtruth.md')
# the series a run must have passed for the stamp to be written
DEFAULT_SERIES = ('6.1', '6.12')


class StampError(Exception):
    pass


def blob_id(data):
    """git's object id of a blob with this content (what `git hash-object` prints)."""
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()


def tracked_files(repo):
    """Tracked paths under COVERED (from git's index, which names files, not their state)."""
    try:
        res = subprocess.run(['git', '-C', repo, 'ls-files', '-z', '--'] + list(COVERED),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        raise StampError('cannot run git: %s' % exc)
    if res.returncode != 0:
        raise StampError('git ls-files failed in %s: %s'
                         % (repo, res.stderr.decode(errors='replace').strip()))
    paths = sorted(set(p.decode() for p in res.stdout.split(b'\0') if p))
    paths = [p for p in paths if p not in OUTPUTS]
    if not paths:
        raise StampError('no tracked files under %s in %s' % (', '.join(COVERED), repo))
    return paths


def file_lines(repo):
    """['<blob id> <path>', ...] of the working tree's content of every covered file."""
    lines = []
    for path in tracked_files(repo):
        full = os.path.join(repo, path)
        if os.path.islink(full):
            data = os.readlink(full).encode()
        elif os.path.isfile(full):
            with open(full, 'rb') as f:
                data = f.read()
        else:
            lines.append('deleted %s' % path)
            continue
        lines.append('%s %s' % (blob_id(data), path))
    return lines


def digest_of(lines):
    return 'sha256:' + hashlib.sha256(''.join(l + '\n' for l in lines).encode()).hexdigest()


def current(repo=REPO):
    """(digest, file lines) of the working tree."""
    lines = file_lines(repo)
    return digest_of(lines), lines


def read(repo=REPO):
    """The committed stamp as {'digest', 'date', 'kernels', 'qemu', 'files': {path: blob}};
    None when there is none."""
    path = os.path.join(repo, STAMP)
    if not os.path.isfile(path):
        return None
    stamp = {'files': {}}
    in_files = False
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            if in_files:
                blob, _sep, name = line.strip().partition(' ')
                stamp['files'][name.strip()] = blob
            elif line == 'files:':
                in_files = True
            else:
                key, _sep, value = line.partition(':')
                stamp[key.strip()] = value.strip()
    return stamp if stamp.get('digest') else None


def write(digest, lines, kernels, qemu, repo=REPO, date=None):
    """Write the stamp: digest, per-file blob ids, and for humans the date, kernels and QEMU."""
    date = date or time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())
    text = ('# Kernel lane stamp, written by a passing `make test-kernel` (tests/kernel/stamp.py).\n'
            '# `VFIO_TEST_KERNEL=auto make test` skips the lane while the digest of the files\n'
            '# below (git blob ids of the working tree, this file left out) stays the same.\n'
            'digest: %s\n'
            'date: %s\n'
            'kernels: %s\n'
            'qemu: %s\n'
            'files:\n%s'
            % (digest, date, kernels, qemu, ''.join('  %s\n' % l for l in lines)))
    path = os.path.join(repo, STAMP)
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def decide(repo=REPO):
    """(run the lane?, one line saying why)."""
    try:
        digest, lines = current(repo)
    except StampError as exc:
        return True, 'kernel lane: cannot compute the digest of module and lane (%s), running it' % exc
    stamp = read(repo)
    if stamp is None:
        return True, 'kernel lane: no verified run recorded in %s, running it' % STAMP
    if stamp['digest'] == digest:
        return False, ('kernel lane: verified for this module and lane (stamp %s, %s, kernels %s), '
                       'skipped' % (digest[:19], stamp.get('date', '?'), stamp.get('kernels', '?')))
    now = dict(reversed(l.split(' ', 1)) for l in lines)  # path: blob id (or "deleted")
    changed = sorted(p for p in set(now) | set(stamp['files'])
                     if now.get(p) != stamp['files'].get(p))
    shown = ', '.join(changed[:4]) + (' and %d more' % (len(changed) - 4) if len(changed) > 4 else '')
    return True, ('kernel lane: module or lane changed since the last verified run (%s), running it'
                  % (shown or 'stamp %s' % stamp['digest'][:19]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    ap.add_argument('command', choices=('check', 'digest'))
    ap.add_argument('--repo', default=REPO, help='checkout to look at (default: this one)')
    args = ap.parse_args(argv)
    if args.command == 'digest':
        digest, lines = current(args.repo)
        print(digest)
        print('\n'.join(lines))
        return 0
    run, why = decide(args.repo)
    print(why, flush=True)
    return 1 if run else 0


if __name__ == '__main__':
    sys.exit(main())
