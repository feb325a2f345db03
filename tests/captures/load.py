#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Turn a captured kernel tree (tests/captures/*.json.xz) back into directories.

    python3 tests/captures/load.py tests/captures/debian-6.1.json.xz /tmp/host61

writes /tmp/host61/{sys,proc,dev,boot} and prints the roots, usable as the module's
``sysfs_root``, ``proc_root`` and ``dev_root``. From Python: ``load(archive, dest)``
returns ``{'sysfs_root', 'proc_root', 'dev_root', 'boot_root', 'kernel', 'ground_truth'}``.

Captures are written by the kernel lane (tests/kernel/, guest/capture.py): regular files
keep their content, symlinks their target exactly as the kernel reported it (sysfs links are
relative, so they resolve inside the loaded tree), character devices become empty files.
"""

import base64
import json
import lzma
import os
import sys

ROOTS = {'/sys': 'sys', '/proc': 'proc', '/dev': 'dev', '/boot': 'boot'}


def read(archive):
    opener = lzma.open if archive.endswith('.xz') else open
    with opener(archive, 'rt', encoding='utf-8') as f:
        doc = json.load(f)
    if doc.get('format') != 1:
        raise ValueError('%s: unknown capture format %r' % (archive, doc.get('format')))
    return doc


def _local(dest, path):
    top = '/' + path.lstrip('/').split('/', 1)[0]
    if top not in ROOTS or '..' in path.split('/'):
        raise ValueError('capture path outside sys/proc/dev/boot: %r' % path)
    return os.path.join(dest, ROOTS[top], path[len(top):].lstrip('/'))


def load(archive, dest):
    doc = read(archive)
    for top in ROOTS.values():
        os.makedirs(os.path.join(dest, top), exist_ok=True)
    for path in sorted(doc['entries']):
        value = doc['entries'][path]
        local = _local(dest, path)
        parent = os.path.dirname(local)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        if isinstance(value, str):
            with open(local, 'w', encoding='utf-8', newline='') as f:
                f.write(value)
        elif 'l' in value:
            os.symlink(value['l'], local)
        elif 'b' in value:
            with open(local, 'wb') as f:
                f.write(base64.b64decode(value['b']))
        elif 'c' in value:
            open(local, 'w').close()
        elif not os.path.isdir(local):
            os.makedirs(local)
    return {
        'sysfs_root': os.path.join(dest, 'sys'),
        'proc_root': os.path.join(dest, 'proc'),
        'dev_root': os.path.join(dest, 'dev'),
        'boot_root': os.path.join(dest, 'boot'),
        'kernel': doc['kernel'],
        'ground_truth': doc.get('ground_truth', ''),
    }


def captures(directory=None):
    """Paths of every committed capture."""
    directory = directory or os.path.dirname(os.path.abspath(__file__))
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if f.endswith('.json.xz'))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write('usage: %s CAPTURE.json.xz DEST\n' % argv[0])
        return 2
    roots = load(argv[1], argv[2])
    for key in ('sysfs_root', 'proc_root', 'dev_root', 'boot_root', 'kernel'):
        print('%s=%s' % (key, roots[key]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
