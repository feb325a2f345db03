# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Snapshots of a simulated host's tree, to prove what a write module changed and that nothing else changed.

    tree.py copy HOST_DIR DEST     copy a built host (sys, proc, dev) to DEST, links kept as links
    tree.py save DIR SNAPSHOT      record every entry below DIR: type, mode, content or link text
    tree.py diff SNAPSHOT DIR      print, as JSON, {relative path: new content, or null when gone}
                                   for every entry that differs from the snapshot (else {})
Shared by the vfio_mdev and vfio_vf targets (their aliases name needs/target/setup_sysfs_write).
"""

import json
import os
import shutil
import stat
import sys


def _entries(root):
    result = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                result[rel] = ['link', os.readlink(path)]
            elif stat.S_ISDIR(st.st_mode):
                result[rel] = ['dir', oct(st.st_mode & 0o7777)]
            else:
                with open(path, 'rb') as handle:
                    data = handle.read()
                result[rel] = ['file', oct(st.st_mode & 0o7777), data.decode('utf-8', 'replace')]
    return result


def main(argv):
    command, first, second = argv
    if command == 'copy':
        if os.path.exists(second):
            shutil.rmtree(second)
        shutil.copytree(first, second, symlinks=True)
    elif command == 'save':
        with open(second, 'w') as handle:
            json.dump(_entries(first), handle, sort_keys=True)
    elif command == 'diff':
        with open(first) as handle:
            old = json.load(handle)
        new = _entries(second)
        changed = {}
        for rel in sorted(set(old) | set(new)):
            if old.get(rel) != new.get(rel):
                entry = new.get(rel)
                changed[rel] = entry[-1] if entry and entry[0] != 'dir' else entry
        print(json.dumps(changed, sort_keys=True))
    else:
        raise SystemExit('unknown command %r' % command)


if __name__ == '__main__':
    main(sys.argv[1:])
