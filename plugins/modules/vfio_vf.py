#!/usr/bin/python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vfio_vf
short_description: Ensure an SR-IOV PF has N virtual functions and a VF is bound to a given driver
version_added: 0.1.0
description:
  - Sets the number of VFs of a physical function and binds one VF to a driver (V(vfio-pci) or a VFIO variant
    driver such as V(mlx5_vfio_pci)), through sysfs as the kernel documents it
    (C(Documentation/ABI/testing/sysfs-bus-pci), C(Documentation/PCI/pci-iov-howto.rst)).
  - "The module makes exactly these writes and no other, each listed in RV(writes):
    to change the count, V(0) and then N (only N when no VF is enabled, only V(0) for N=0) to
    C(<sysfs_root>/devices/.../<pf>/sriov_numvfs) (the kernel refuses one non-zero count over another);
    to bind, the driver name to the VF's C(driver_override), the VF address to
    C(<sysfs_root>/bus/pci/drivers/<current driver>/unbind) when it is bound elsewhere, and the VF address to
    C(<sysfs_root>/bus/pci/drivers/<driver>/bind) when that driver is loaded, else to
    C(<sysfs_root>/bus/pci/drivers_probe). Values are written without a newline."
  - A VF that a process (a VM) holds open is never unbound nor given another override, and the count of a PF
    is not changed while any of its VFs is held; the holders are found as M(vfio.migration.vfio_facts) finds
    C(in_use).
author:
  - vfio.migration maintainers (@vfio-migration)
extends_documentation_fragment:
  - vfio.migration._attributes
  - vfio.migration._sysfs_write
attributes:
  check_mode:
    support: full
    details:
      - Reports the writes it would make in RV(writes), and makes none. A VF that only a new O(num_vfs) would
        create is reported as to be bound, without its address.
  diff_mode:
    support: full
    details:
      - The diff shows C(sriov_numvfs) and the VF's driver and C(driver_override), before and after.
options:
  pf:
    description:
      - PCI address of the physical function (V(0000:3b:00.0)).
    type: str
    required: true
  num_vfs:
    description:
      - The number of VFs the PF should have enabled (C(sriov_numvfs)). Not changed when omitted.
    type: int
  vf:
    description:
      - PCI address of the VF to bind; it must be a VF of O(pf).
    type: str
  vf_index:
    description:
      - The VF to bind, by its index below the PF (C(<pf>/virtfn<index>)).
    type: int
  driver:
    description:
      - The driver the VF is to be bound to (V(vfio-pci), V(mlx5_vfio_pci) ...); it also becomes the VF's
        C(driver_override), so that the VF returns to it after a re-probe.
      - Needs O(vf) or O(vf_index).
    type: str
notes:
  - Changing the count removes every VF of the PF and creates new ones, which then probe their default drivers
    (unless C(sriov_drivers_autoprobe) is 0); bind the VFs in later tasks or in the same task with O(driver).
seealso:
  - module: vfio.migration.vfio_facts
  - module: vfio.migration.vfio_mdev
"""

EXAMPLES = r"""
- name: Four VFs on the ConnectX-6 port, the first one on the VFIO variant driver
  become: true
  vfio.migration.vfio_vf:
    pf: "0000:3b:00.0"
    num_vfs: 4
    vf_index: 0
    driver: mlx5_vfio_pci

- name: Bind a given VF to vfio-pci
  become: true
  vfio.migration.vfio_vf:
    pf: "0000:3b:00.0"
    vf: "0000:3b:00.2"
    driver: vfio-pci

- name: Turn SR-IOV off (refused while a VM holds one of the VFs)
  become: true
  vfio.migration.vfio_vf:
    pf: "0000:3b:00.0"
    num_vfs: 0
"""

RETURN = r"""
before:
  description:
    - C(sriov_numvfs) of the PF before the module ran and, when O(driver) is given, the VF's address (C(vf)),
      C(driver) and C(driver_override) (V(null) when unset).
  returned: success
  type: dict
  sample: {"sriov_numvfs": 4, "vf": "0000:3b:00.2", "driver": "mlx5_core", "driver_override": null}
after:
  description: The same after the module ran (in check mode, what it would be).
  returned: success
  type: dict
  sample: {"sriov_numvfs": 4, "vf": "0000:3b:00.2", "driver": "mlx5_vfio_pci", "driver_override": "mlx5_vfio_pci"}
writes:
  description: The sysfs writes made (in check mode, that would be made), in order, with the paths as the host sees them.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.2/driver_override", "value": "vfio-pci"},
           {"path": "/sys/bus/pci/drivers/mlx5_core/unbind", "value": "0000:3b:00.2"},
           {"path": "/sys/bus/pci/drivers/vfio-pci/bind", "value": "0000:3b:00.2"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vfio.migration.plugins.module_utils._vf_ensure import ensure
from ansible_collections.vfio.migration.plugins.module_utils._write_session import ROOT_OPTIONS, run


def main():
    module = AnsibleModule(
        argument_spec=dict(ROOT_OPTIONS, **{
            'pf': {'type': 'str', 'required': True},
            'num_vfs': {'type': 'int'},
            'vf': {'type': 'str'},
            'vf_index': {'type': 'int'},
            'driver': {'type': 'str'},
        }),
        mutually_exclusive=[('vf', 'vf_index')],
        required_one_of=[('num_vfs', 'driver')],
        supports_check_mode=True,
    )
    p = module.params
    if p['driver'] is not None and p['vf'] is None and p['vf_index'] is None:
        module.fail_json(msg='driver needs vf or vf_index', writes=[])
    if min(p['num_vfs'] or 0, p['vf_index'] or 0) < 0:
        module.fail_json(msg='num_vfs and vf_index must not be negative', writes=[])
    ok, result, warnings = run(p, module.check_mode, module._diff, ensure)
    for warning in warnings:
        module.warn(warning)
    if not ok:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
