# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build a private copy of the simulated fleet and an inventory that points at it.

    sim_inventory.py COLLECTION_ROOT OUT_DIR [--unreachable]

Builds every host of ``tests/sim/hosts/*.yml`` into ``OUT_DIR/build/<host>/{sys,proc,dev}``
with the collection's ``tests/sim/simhost.py`` and writes ``OUT_DIR/inventory.yml``: the
groups and host variables of ``tests/sim/inventory.yml`` (as ``ansible-inventory`` resolves
them) with the ``vfio_*_root`` variables pointing into the private copy, so a test can
delete its trees without touching anybody else's.

With ``--unreachable`` every host gets an SSH connection to a closed loopback port instead:
any task that contacts a host fails as unreachable, which proves that a run did not.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys


def main(argv):
    root, out = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    unreachable = '--unreachable' in argv[2:]
    build = os.path.join(out, 'build')
    os.makedirs(out, exist_ok=True)
    hosts_files = sorted(glob.glob(os.path.join(root, 'tests', 'sim', 'hosts', '*.yml')))
    if not unreachable:
        subprocess.run([sys.executable, os.path.join(root, 'tests', 'sim', 'simhost.py'), 'build']
                       + hosts_files + ['--out', build], check=True, stdout=subprocess.DEVNULL)
    listing = json.loads(subprocess.run(
        ['ansible-inventory', '-i', os.path.join(root, 'tests', 'sim', 'inventory.yml'), '--list'],
        check=True, stdout=subprocess.PIPE).stdout)
    hostvars = listing.get('_meta', {}).get('hostvars', {})
    children = {}
    for group, data in listing.items():
        if group in ('_meta', 'all', 'ungrouped') or not isinstance(data, dict):
            continue
        children[group] = {'hosts': dict((h, None) for h in data.get('hosts', []))}
    hosts = {}
    for name, variables in sorted(hostvars.items()):
        variables = dict(variables)
        for key, sub in (('vfio_sysfs_root', 'sys'), ('vfio_proc_root', 'proc'), ('vfio_dev_root', 'dev')):
            variables[key] = os.path.join(build, name, sub)
        if unreachable:
            variables.update(ansible_connection='ssh', ansible_host='127.0.0.1', ansible_port=9,
                             ansible_user='nobody', ansible_ssh_common_args='-o ConnectTimeout=2 -o BatchMode=yes')
        else:
            variables.update(ansible_connection='local', ansible_python_interpreter=sys.executable)
        hosts[name] = variables
    inventory = {'all': {'hosts': hosts, 'children': children}}
    path = os.path.join(out, 'inventory-unreachable.yml' if unreachable else 'inventory.yml')
    with open(path, 'w') as handle:
        json.dump(inventory, handle, indent=1, sort_keys=True)
    print(path)


if __name__ == '__main__':
    main(sys.argv[1:])
