# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment(object):

    # The options shared by the modules that write sysfs (vfio_mdev, vfio_vf)
    DOCUMENTATION = r"""
options:
  verify:
    description:
      - After a write, read sysfs again and fail unless the kernel made the change.
      - Set V(false) only for captured or simulated trees, whose files do not act on writes.
    type: bool
    default: true
  sysfs_root:
    description:
      - Where the sysfs tree is mounted, as for M(vfio.migration.vfio_facts).
      - Every path is resolved inside it; a symbolic link leaving it is never followed, and nothing is created or
        written outside it.
    type: path
    default: /sys
  proc_root:
    description:
      - Where procfs is mounted; C(<proc_root>/<pid>/fd) tells whether a process (a VM) holds a device, as for the
        C(in_use) of M(vfio.migration.vfio_facts).
    type: path
    default: /proc
  dev_root:
    description:
      - Where the device nodes are, so that fd links into a captured tree are understood.
    type: path
    default: /dev
notes:
  - Run it with C(become) on real hosts; the module only uses the Python standard library (3.8 or later).
"""
