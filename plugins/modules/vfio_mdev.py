#!/usr/bin/python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vfio_mdev
short_description: Ensure a mediated device (mdev) with a given UUID and type exists on a parent, or does not
version_added: 0.1.0
description:
  - Creates or removes one mediated device through sysfs, the way the kernel documents it
    (C(Documentation/driver-api/vfio-mediated-device.rst)), so that a VM placed on this host finds the mdev its
    placement names (C(create_mdev)).
  - "The module makes exactly these writes and no other: with O(state=present), the UUID (lower case, no newline)
    to C(<sysfs_root>/devices/.../<parent>/mdev_supported_types/<type>/create) (reached through
    C(<sysfs_root>/class/mdev_bus/<parent>)); with O(state=absent), V(1) to
    C(<sysfs_root>/bus/mdev/devices/<uuid>/remove). Each write is listed in RV(writes)."
  - With O(persistent=true) it also runs C(mdevctl define --uuid U --parent P --type T --auto) or
    C(mdevctl undefine --uuid U) when the definition is missing or present; these are listed in RV(commands).
  - A UUID that already exists with another parent or type is refused, as is a type whose
    C(available_instances) is 0 and the removal of an mdev that a process (a VM) holds open.
author:
  - vfio.migration maintainers (@vfio-migration)
extends_documentation_fragment:
  - vfio.migration._attributes
  - vfio.migration._sysfs_write
attributes:
  check_mode:
    support: full
    details:
      - Reports the writes and commands it would make in RV(writes) and RV(commands), and makes none.
  diff_mode:
    support: full
    details:
      - The diff shows whether the device exists, its parent and type, before and after.
options:
  uuid:
    description:
      - The UUID of the mediated device (case-insensitive; written in lower case).
    type: str
    required: true
  parent:
    description:
      - The parent device as listed in C(/sys/class/mdev_bus) (a PCI address such as V(0000:3b:00.0), or
        V(mtty), V(matrix) ...).
      - Required with O(state=present). With O(state=absent), when given, an mdev with another parent is refused.
    type: str
  type:
    description:
      - The mdev type id (V(nvidia-230), V(mtty-2), V(i915-GVTg_V5_4) ...), a directory of the parent's
        C(mdev_supported_types).
      - Required with O(state=present). With O(state=absent), when given, an mdev of another type is refused.
    type: str
  state:
    description:
      - V(present) creates the mdev unless it exists; V(absent) removes it if it exists.
    type: str
    choices: [present, absent]
    default: present
  persistent:
    description:
      - Also keep a persistent mdevctl definition (started automatically at boot) in step with O(state).
      - Needs C(mdevctl) on the host's C(PATH); the module fails before writing anything when it is missing.
        Without this option mdevctl is never needed nor run.
    type: bool
    default: false
notes:
  - The kernel creates and removes the device before the write returns, so with O(verify=true) a failed change is
    reported by the same task.
seealso:
  - module: vfio.migration.vfio_facts
  - module: vfio.migration.vfio_vf
"""

EXAMPLES = r"""
- name: Create the T4-1Q vGPU that the placement names
  become: true
  vfio.migration.vfio_mdev:
    uuid: 3b1d6c2e-7f0a-4a55-9f3e-2d7c1f0e9a11
    parent: "0000:3b:00.0"
    type: nvidia-230

- name: The same, kept across reboots by mdevctl
  become: true
  vfio.migration.vfio_mdev:
    uuid: 3b1d6c2e-7f0a-4a55-9f3e-2d7c1f0e9a11
    parent: "0000:3b:00.0"
    type: nvidia-230
    persistent: true

- name: Remove it again (refused while a VM holds it)
  become: true
  vfio.migration.vfio_mdev:
    uuid: 3b1d6c2e-7f0a-4a55-9f3e-2d7c1f0e9a11
    state: absent
"""

RETURN = r"""
uuid:
  description: The UUID, in lower case.
  returned: always
  type: str
  sample: 3b1d6c2e-7f0a-4a55-9f3e-2d7c1f0e9a11
before:
  description: Whether the mdev existed, with its parent and type, before the module ran.
  returned: success
  type: dict
  sample: {"exists": false, "parent": null, "type": null}
after:
  description: The same after the module ran (in check mode, what it would be).
  returned: success
  type: dict
  sample: {"exists": true, "parent": "0000:3b:00.0", "type": "nvidia-230"}
available_instances:
  description:
    - C(available_instances) of the type, read before and after the write (V(null) when there is no type to read).
    - In check mode, and on simulated trees, C(after) equals C(before).
  returned: success
  type: dict
  sample: {"before": 4, "after": 3}
writes:
  description: The sysfs writes made (in check mode, that would be made), in order, with the paths as the host sees them.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/mdev_supported_types/nvidia-230/create",
            "value": "3b1d6c2e-7f0a-4a55-9f3e-2d7c1f0e9a11"}]
commands:
  description: The mdevctl commands run (in check mode, that would be run), as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/mdevctl", "define", "--uuid", "3b1d6c2e-7f0a-4a55-9f3e-2d7c1f0e9a11", "--parent",
            "0000:3b:00.0", "--type", "nvidia-230", "--auto"]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vfio.migration.plugins.module_utils._mdev_ensure import ensure
from ansible_collections.vfio.migration.plugins.module_utils._mdevctl import ensure_defined
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused
from ansible_collections.vfio.migration.plugins.module_utils._write_session import ROOT_OPTIONS, run


def main():
    module = AnsibleModule(
        argument_spec=dict(ROOT_OPTIONS, **{
            'uuid': {'type': 'str', 'required': True},
            'parent': {'type': 'str'},
            'type': {'type': 'str'},
            'state': {'type': 'str', 'choices': ['present', 'absent'], 'default': 'present'},
            'persistent': {'type': 'bool', 'default': False},
        }),
        required_if=[('state', 'present', ('parent', 'type'))],
        supports_check_mode=True,
    )
    p = module.params
    uuid = p['uuid'].lower()
    mdevctl = module.get_bin_path('mdevctl') if p['persistent'] else None
    if p['persistent'] and mdevctl is None:
        module.fail_json(msg='persistent=true needs mdevctl, which is not installed on this host (not on PATH); '
                             'nothing was changed', uuid=uuid, writes=[], commands=[])
    ok, result, warnings = run(p, module.check_mode, module._diff, ensure)
    for warning in warnings:
        module.warn(warning)
    if not ok:
        module.fail_json(uuid=uuid, commands=[], **result)
    result['commands'] = []
    if mdevctl:
        try:
            defined, result['commands'] = ensure_defined(module.run_command, mdevctl, p, module.check_mode)
        except Refused as exc:
            module.fail_json(msg=str(exc), uuid=uuid, writes=result['writes'], commands=[])
        result['changed'] = result['changed'] or defined
    module.exit_json(uuid=uuid, **result)


if __name__ == '__main__':
    main()
