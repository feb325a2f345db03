# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Write an inventory for simulated hosts: inventory.py BUILD_DIR GROUPS_YML PYTHON HOST...

Each host reads its own tree under BUILD_DIR/<host>/{sys,proc,dev} through a local connection;
the groups of GROUPS_YML (group -> list of hosts) keep the hosts that were built, in order.
"""

import json
import os
import sys

import yaml


def main(argv):
    build, groups_file, python, hosts = argv[1], argv[2], argv[3], argv[4:]
    build = os.path.abspath(build)
    with open(groups_file) as f:
        groups = yaml.safe_load(f) or {}
    inventory = {'all': {
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': python},
        'hosts': dict((h, {'vfio_sysfs_root': os.path.join(build, h, 'sys'),
                           'vfio_proc_root': os.path.join(build, h, 'proc'),
                           'vfio_dev_root': os.path.join(build, h, 'dev')}) for h in hosts),
        'children': dict((g, {'hosts': dict((h, None) for h in members if h in hosts)})
                         for g, members in groups.items()),
    }}
    json.dump(inventory, sys.stdout, indent=2, sort_keys=False)  # JSON is YAML
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv)
