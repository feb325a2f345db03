#!/usr/bin/python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vfio_facts
short_description: Gather facts about VFIO-assignable devices, mdev types and their migration compatibility
version_added: 0.1.0
description:
  - Reads, and never writes, the host's sysfs, procfs and devfs to describe every device a VM has or could
    have assigned through VFIO, what the host could still create, and what decides whether the device state
    can live-migrate to another host.
  - "Devices are PCI functions bound to C(vfio-pci) or a VFIO variant driver (C(*_vfio_pci)), mediated devices
    (C(/sys/bus/mdev/devices)), NVIDIA vGPUs on SR-IOV VFs (C(nvidia/current_vgpu_type)), and s390 vfio-ccw and
    vfio-ap mdevs."
  - Capacity is reported as C(mdev_types) (supported mdev types with their C(available_instances), and NVIDIA
    SR-IOV vGPU types counted over the free VFs and what the GPU's frame buffer still holds) and C(sriov)
    (SR-IOV PFs with their total and enabled VFs).
  - Each device and type carries a C(software_version) with the place it came from, a migration verdict from a
    table of the kernel's VFIO drivers with a reason, and a C(fingerprint) over the compatibility-relevant fields,
    so that identical devices on different hosts share it.
  - Anything unreadable, missing, dangling or vanishing mid-scan becomes one line in C(warnings); the facts are
    still returned. Two runs on an unchanged host return identical facts (sorted lists and keys).
  - Can be used as a task, ad hoc, and as a facts module of C(ansible.builtin.gather_facts) (list it in
    C(FACTS_MODULES) / C(facts_modules); set its options with C(module_defaults)). A play that sets C(fact_path)
    passes that option to every facts module, which this one rejects.
author:
  - vfio.migration maintainers (@vfio-migration)
extends_documentation_fragment:
  - vfio.migration._attributes
  - vfio.migration._attributes.FACTS
  - vfio.migration._attributes.FACTS_MODULE
  - vfio.migration._attributes.ACTIONGROUP_VFIO
options:
  sysfs_root:
    description:
      - Where the sysfs tree to read is mounted.
      - Point it at a captured or simulated tree to read that instead of the running kernel.
      - Symbolic links that leave this directory are reported in C(warnings) and not followed.
    type: path
    default: /sys
  proc_root:
    description:
      - Where the procfs tree is mounted.
      - C(<proc_root>/sys/kernel/osrelease) gives the kernel release; C(<proc_root>/<pid>/fd) and
        C(<proc_root>/<pid>/cmdline) tell which process (and which QEMU VM) holds a VFIO group or cdev.
    type: path
    default: /proc
  dev_root:
    description:
      - Where the device nodes are.
      - C(<dev_root>/vfio/devices/vfioN) tells which devices have an iommufd character device.
    type: path
    default: /dev
  boot_root:
    description:
      - Where the kernel's build configuration C(config-<kernel release>) is, for C(host.kernel_config), when
        C(<proc_root>/config.gz) (C(CONFIG_IKCONFIG_PROC)) is not there.
      - Default C(/boot) when O(proc_root) is C(/proc), else the directory C(boot) beside O(proc_root) (a captured
        or simulated host keeps C(sys), C(proc), C(dev) and C(boot) in one directory). A missing directory is no warning.
    type: path
  software_versions:
    description:
      - Operator overrides of the migration-relevant software version.
      - Keys are mdev or vGPU type ids (V(nvidia-230), V(nvidia-1414)), PCI type signatures
        (V(pci-15b3:101e:15b3:0061)) or driver names (V(mlx5_vfio_pci), V(nvidia)); a type id wins over a
        driver name. Driver names match with V(-) and V(_) taken as the same.
      - Values are version strings. Overridden devices report C(software_version_source=override).
    type: dict
    default: {}
  migration_features:
    description:
      - Operator overrides of C(migration.features), keyed by driver name (V(mlx5_vfio_pci), V(nvidia), V(mtty);
        V(-) and V(_) taken as the same), for drivers the built-in table does not know (out-of-tree drivers such as
        the NVIDIA vGPU host driver) or whose features depend on the device firmware.
      - Values are lists of V(stop_copy), V(p2p), V(pre_copy) and V(dirty_tracking).
    type: dict
    default: {}
  scan_processes:
    description:
      - Scan C(<proc_root>/<pid>/fd) for open VFIO groups and cdevs to fill C(in_use).
      - When V(false), every C(in_use) is V(null) and C(summary.processes_scanned) is V(false).
    type: bool
    default: true
  max_facts_bytes:
    description:
      - Upper bound of the size of the facts, counted in characters of their compact JSON text.
      - When the facts would be larger, the entries at the end of C(warnings), C(devices), C(sriov) and
        C(mdev_types) (in that order of precedence, each list sorted as documented) are left out, C(summary)
        counts what is left, and a line in C(warnings) says how many entries of which list were kept.
      - One attribute file is read only when it has at most 64 KiB, whatever this option says.
    type: int
    default: 16777216
  max_list_entries:
    description:
      - Upper bound of the entries of each of C(devices), C(mdev_types), C(sriov) and C(warnings); entries beyond
        it are left out with a line in C(warnings), as for O(max_facts_bytes).
    type: int
    default: 100000
notes:
  - Nothing in sysfs says whether a device can migrate; the kernel answers only through an ioctl on an open
    device, which this module never does. C(migration) comes from a table of the mainline VFIO variant drivers,
    the mdev samples and the NVIDIA vGPU host driver, and is V(null) with a reason for unknown drivers.
  - Needs read access to sysfs and, for C(in_use), to every process' C(fd) directory, so run it with C(become)
    on real hosts.
  - C(config_space) comes from the C(config) file of each VFIO-bound function (read only); like C(lspci -v), that
    read makes the kernel resume a runtime-suspended device for a moment (C(drivers/pci/pci-sysfs.c)).
  - The module only uses the Python standard library (3.8 or later) on the target.
seealso:
  - name: VFIO - Virtual Function I/O
    description: The kernel documentation of VFIO, groups and the iommufd cdev.
    link: https://docs.kernel.org/driver-api/vfio.html
  - name: VFIO Mediated devices
    description: The sysfs interface of mediated devices and their types.
    link: https://docs.kernel.org/driver-api/vfio-mediated-device.html
"""

EXAMPLES = r"""
- name: Read the VFIO facts of the host
  vfio.migration.vfio_facts:
  become: true

- name: Show the devices that VMs hold
  ansible.builtin.debug:
    msg: "{{ ansible_facts.vfio.devices | selectattr('in_use') | map(attribute='id') | list }}"

- name: Read a captured tree, pinning the NVIDIA host driver version and one vGPU type
  vfio.migration.vfio_facts:
    sysfs_root: /srv/capture/host1/sys
    proc_root: /srv/capture/host1/proc
    dev_root: /srv/capture/host1/dev
    software_versions:
      nvidia: 550.54.16
      nvidia-230: 550.54.15
    scan_processes: false

# As a facts module of gather_facts, next to (or instead of) setup:
#   ansible.cfg:  [defaults] facts_modules = ansible.builtin.setup, vfio.migration.vfio_facts
#   or:           ANSIBLE_FACTS_MODULES=ansible.builtin.setup,vfio.migration.vfio_facts
- name: Gather VFIO facts with the play's fact gathering
  hosts: kvm_hosts
  gather_facts: true
  module_defaults:
    vfio.migration.vfio_facts:
      scan_processes: true
  tasks:
    - name: Fail early when a host has no IOMMU
      ansible.builtin.assert:
        that: ansible_facts.vfio.host.iommu.enabled

# Ad hoc:
#   ansible kvm_hosts -b -m vfio.migration.vfio_facts
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: always
  type: dict
  contains:
    vfio:
      description:
        - The VFIO facts, schema version 1.
        - All PCI ids are lower-case hex without V(0x) (V(10de), class V(030200), revision V(a1)).
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this structure; changes only when a key changes meaning.
          returned: always
          type: int
          sample: 1
        host:
          description: Host-wide facts.
          returned: always
          type: dict
          contains:
            kernel_release:
              description: Kernel release from C(<proc_root>/sys/kernel/osrelease), or V(null) if unreadable.
              returned: always
              type: str
              sample: 6.8.0-45-generic
            kernel_config:
              description:
                - The running kernel's build options that decide whether VFIO migration works, from
                  C(<proc_root>/config.gz) or C(<boot_root>/config-<kernel_release>); V(null) when neither is readable.
                - Device dirty tracking (C(migration.dma_logging)) needs C(CONFIG_IOMMUFD_DRIVER) from kernel 6.7 on;
                  without it the kernel's iova_bitmap helpers are stubs returning C(EOPNOTSUPP)
                  (C(include/linux/iova_bitmap.h)).
              returned: always
              type: dict
              contains:
                source:
                  description: The file read, as the host names it.
                  returned: always
                  type: str
                  sample: /boot/config-6.12.57+deb13-amd64
                options:
                  description:
                    - V(y), V(m) or V(n) (not set) for each of C(CONFIG_IOMMUFD), C(CONFIG_IOMMUFD_DRIVER),
                      C(CONFIG_VFIO_CONTAINER) and C(CONFIG_VFIO_DEVICE_CDEV).
                  returned: always
                  type: dict
                  sample: {CONFIG_IOMMUFD: m, CONFIG_IOMMUFD_DRIVER: n, CONFIG_VFIO_CONTAINER: y, CONFIG_VFIO_DEVICE_CDEV: y}
            iommu:
              description: IOMMU state.
              returned: always
              type: dict
              contains:
                enabled:
                  description: V(true) when C(/sys/class/iommu) lists an IOMMU unit or any IOMMU group exists.
                  returned: always
                  type: bool
                  sample: true
                groups:
                  description: Number of IOMMU groups in C(/sys/kernel/iommu_groups), emulated mdev groups included.
                  returned: always
                  type: int
                  sample: 42
            modules:
              description:
                - The kernel modules of the drivers that the devices and types use, by module name.
                - Each has C(version) and C(srcversion) from C(/sys/module/<name>/), V(null) where the module has none.
              returned: always
              type: dict
              sample:
                nvidia: {version: 550.54.16, srcversion: 2D3C1D8E5F6A7B8C9D0E1F2}
                vfio_pci: {version: null, srcversion: null}
        devices:
          description:
            - What VMs have or could have assigned, sorted by C(id).
            - PCI functions bound to a VFIO driver, mdev instances, NVIDIA SR-IOV vGPUs with a current type,
              and s390 vfio-ccw / vfio-ap mdevs. SR-IOV PFs are not devices (see C(sriov)).
          returned: always
          type: list
          elements: dict
          contains:
            id:
              description: PCI address of the function (V(0000:3b:00.2)) or the mdev UUID.
              returned: always
              type: str
              sample: "0000:3b:00.2"
            kind:
              description:
                - V(pci) a whole function on vfio-pci or a variant driver; V(mdev) a mediated device;
                  V(nvidia_vgpu) an SR-IOV VF with an NVIDIA vGPU type; V(ccw) a vfio-ccw subchannel mdev;
                  V(ap) a vfio-ap matrix mdev.
              returned: always
              type: str
              choices: [pci, mdev, nvidia_vgpu, ccw, ap]
            device_api:
              description: The VFIO device API (V(vfio-pci), V(vfio-ccw), V(vfio-ap), ...).
              returned: always
              type: str
              sample: vfio-pci
            type:
              description:
                - The mdev type id (V(nvidia-230)), C(nvidia-<ID>) for an SR-IOV vGPU, or for a whole PCI function
                  the signature C(pci-<vendor>:<device>:<subsystem_vendor>:<subsystem_device>).
              returned: always
              type: str
              sample: pci-15b3:101e:15b3:0061
            driver:
              description:
                - The bound driver of a PCI function (V(vfio-pci), V(mlx5_vfio_pci)), or the driver of the mdev
                  parent (V(nvidia), V(i915), V(mtty), V(vfio_ccw), V(vfio_ap)).
              returned: always
              type: str
              sample: mlx5_vfio_pci
            parent:
              description: The mdev parent device, the PF of a VF, or V(null).
              returned: always
              type: str
              sample: "0000:3b:00.0"
            iommu_group:
              description: The IOMMU group number as a string, or V(null).
              returned: always
              type: str
              sample: "57"
            numa_node:
              description: NUMA node of the function (of the parent for mdevs), or V(null) when sysfs says V(-1) or nothing.
              returned: always
              type: int
              sample: 0
            pci:
              description:
                - PCI ids of the function; for mdevs and SR-IOV vGPUs those of the parent (the physical device).
                - V(null) for virtual parents (mtty, mdpy, mbochs) and s390 devices.
              returned: always
              type: dict
              contains:
                vendor:
                  description: Vendor id.
                  returned: always
                  type: str
                  sample: 15b3
                device:
                  description: Device id.
                  returned: always
                  type: str
                  sample: 101e
                subsystem_vendor:
                  description: Subsystem vendor id.
                  returned: always
                  type: str
                  sample: 15b3
                subsystem_device:
                  description: Subsystem device id.
                  returned: always
                  type: str
                  sample: "0061"
                class:
                  description: Class code (class, subclass, programming interface).
                  returned: always
                  type: str
                  sample: "020000"
                revision:
                  description: Revision id.
                  returned: always
                  type: str
                  sample: "00"
            software_version:
              description: The version that decides whether migration streams are compatible, or V(null) when unknown.
              returned: always
              type: str
              sample: 6.8.0-45-generic
            software_version_source:
              description:
                - Where C(software_version) came from. V(sysfs) a vendor C(migration_version) file or
                  C(migration/software_version) on the device or its type; V(module) C(/sys/module/<module>/version);
                  V(kernel) the kernel release, for an in-tree driver; V(override) the O(software_versions) option;
                  V(null) nothing known (an out-of-tree module without a version).
              returned: always
              type: str
              choices: [sysfs, module, kernel, override]
            migration:
              description: Whether the driver can live-migrate this device, and why.
              returned: always
              type: dict
              contains:
                capable:
                  description: V(true), V(false), or V(null) when the driver is unknown.
                  returned: always
                  type: bool
                reason:
                  description: A sentence naming the driver and what its support depends on.
                  returned: always
                  type: str
                  sample: vfio-pci assigns the function but implements no migration state; a VM using it cannot live-migrate (assignment only).
                features:
                  description:
                    - The optional parts of the VFIO migration protocol v2 the driver implements on this kernel
                      (V(stop_copy), V(p2p), V(pre_copy), V(dirty_tracking)), from a table of the mainline drivers' sources
                      (C(vdev->migration_flags) and C(log_ops)); V([]) for a driver that cannot migrate, V(null) when not
                      known (out-of-tree or unlisted drivers). O(migration_features) overrides it per driver.
                    - A destination without V(pre_copy) fails a migration from a source with it at switchover
                      (QEMU C(hw/vfio/migration.c)); the default rule C(pre_copy_asymmetry) refuses that pair.
                  returned: always
                  type: list
                  elements: str
                  sample: [dirty_tracking, p2p, pre_copy, stop_copy]
                dma_logging:
                  description:
                    - Whether the device's own dirty-page tracking (DMA logging), which QEMU prefers when every device of
                      a VM has it, works on this kernel. V(none) the driver has none (QEMU needs IOMMU dirty tracking or
                      C(enable-migration=on)); V(usable) it has and the kernel can report (any kernel before 6.7, whose vfio
                      carries the bitmap helpers, or one built with C(CONFIG_IOMMUFD_DRIVER)); V(broken) it has, but the
                      kernel (6.7 or later) is built without C(CONFIG_IOMMUFD_DRIVER), so logging starts and every report
                      fails with C(EOPNOTSUPP) (C(include/linux/iova_bitmap.h), C(drivers/vfio/vfio_main.c)) and QEMU
                      aborts the migration at setup; V(null) when C(features), the kernel release or, from 6.7,
                      C(host.kernel_config) is unknown.
                    - The default rules C(device_dirty_tracking_report) and C(dirty_tracking_blocker) read it.
                  returned: always
                  type: str
                  choices: [none, usable, broken]
                state_size:
                  description:
                    - Estimated bytes of device state a live migration moves (what QEMU's C(query-migrate) reports
                      as C(vfio.transferred)), computed from the driver's state layout where it is fixed, or V(null).
                    - The kernel tells the size only to a process that opened the device (C(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE));
                      this is an estimate from the driver's source, known for the mtty sample (a 24-byte header plus
                      36 bytes per port, C(struct mtty_data) in C(samples/vfio-mdev/mtty.c)), V(null) for every other driver.
                  returned: always
                  type: int
                  sample: 96
            attributes:
              description:
                - Vendor- or device-API-specific attributes, read as they are.
                - V(vgpu_params) (NVIDIA mdev), V(vgpu_type_name) (NVIDIA SR-IOV vGPU), V(subchannel_type) (vfio-ccw),
                  V(matrix), V(guest_matrix), V(control_domains) (vfio-ap), and V(migration) (the files of a vendor
                  C(migration/) directory).
              returned: always
              type: dict
              sample: {subchannel_type: "0"}
            cdev:
              description: The iommufd character device (C(/dev/vfio/devices/vfioN)) when it exists in O(dev_root), else V(null).
              returned: always
              type: str
              sample: /dev/vfio/devices/vfio0
            config_space:
              description:
                - Layout of a whole PCI function's configuration space (kind V(pci)), read from its C(config) file;
                  QEMU refuses to load a device whose header type or capability chain differs from the source's.
                - V(null) when the file is not readable past the 64-byte header (the kernel gives readers without
                  C(CAP_SYS_ADMIN) 64 bytes, so run with C(become)), and for mdevs, SR-IOV vGPUs, ccw and ap devices
                  (their parent's identity and the type decide).
                - Not part of the profile or the fingerprint (the same device would fingerprint differently with and
                  without root); the rules that read it key their comparisons on it.
              returned: always
              type: dict
              contains:
                header_type:
                  description: The header layout (C(00) normal, C(01) bridge), without the multi-function bit.
                  returned: always
                  type: str
                  sample: "00"
                capabilities:
                  description: Standard capabilities in chain order as C(<id>@<offset>), lower-case hex, 2-digit ids.
                  returned: always
                  type: list
                  elements: str
                  sample: ["01@60", "05@68", "10@78", "11@b4"]
                extended_capabilities:
                  description:
                    - PCI Express extended capabilities in chain order as C(<id>@<offset>), 4-digit ids; empty for a
                      256-byte config space.
                    - A chain that loops is cut where it repeats, with a warning.
                  returned: always
                  type: list
                  elements: str
                  sample: ["0001@100", "000e@148"]
            in_use:
              description:
                - The process holding the device's VFIO group or cdev open, or V(null) (also when
                  O(scan_processes=false)). When several do, one with a VM name and then the lowest pid is shown.
              returned: always
              type: dict
              contains:
                pid:
                  description: Process id.
                  returned: always
                  type: int
                  sample: 4242
                vm:
                  description: The VM name from a QEMU command line (C(-name guest=NAME,...) or C(-name NAME)), or V(null).
                  returned: always
                  type: str
                  sample: web-01
                machine_type:
                  description:
                    - The QEMU machine type from the process' command line (C(-machine pc-q35-8.2,...) as libvirt writes
                      it, C(-machine type=...), C(-M ...); the last one given wins), or V(null) when there is none (QEMU's
                      default machine) or the process is no QEMU.
                    - QEMU's compatibility properties follow it; the NVIDIA rules read it (see the guide to rules).
                  returned: always
                  type: str
                  sample: pc-q35-8.2
                qemu_options:
                  description:
                    - The options that decide how QEMU migrates this device, as the process' command line gives them to
                      its C(-device vfio-pci,...) (QEMU's option syntax or libvirt's JSON; C(host=) or C(sysfsdev=) names
                      the device) over C(-global vfio-pci.<option>=) defaults, of C(enable-migration),
                      C(x-device-dirty-page-tracking), C(x-pre-copy-dirty-page-tracking), C(iommufd) (C(hw/vfio/pci.c)).
                    - V({}) when the device's C(-device) sets none of them (QEMU's defaults), V(null) when no C(-device) of
                      the command line names the device (not a QEMU, or a device added at run time).
                  returned: always
                  type: dict
                  sample: {enable-migration: "on", x-device-dirty-page-tracking: "off"}
                holder:
                  description: The device node the process holds, as the host names it.
                  returned: always
                  type: str
                  sample: /dev/vfio/57
            fingerprint:
              description:
                - C(sha256:) and the SHA-256 of the canonical JSON of the compatibility profile (C(kind), C(device_api),
                  C(type), C(driver), PCI vendor/device/subsystem ids, C(software_version), C(migration.capable) and the
                  identity attributes of s390 devices). Identical devices on different hosts share it.
              returned: always
              type: str
              sample: sha256:6f1ed002ab5595859014ebf0951522d9...
        mdev_types:
          description:
            - What this host can still create, sorted by C(parent) and C(type).
            - Supported mdev types of every mdev parent, and NVIDIA SR-IOV vGPU types of every NVIDIA PF.
          returned: always
          type: list
          elements: dict
          contains:
            parent:
              description: The mdev parent device, or the PF for SR-IOV vGPU types.
              returned: always
              type: str
              sample: "0000:3b:00.0"
            type:
              description: The type id (V(nvidia-230), V(i915-GVTg_V5_4), V(mtty-2), V(vfio_ccw-io)).
              returned: always
              type: str
              sample: nvidia-230
            kind:
              description: The C(kind) a device of this type has (V(mdev), V(nvidia_vgpu), V(ccw), V(ap)).
              returned: always
              type: str
              sample: mdev
            name:
              description: The type's C(name) file, or the name in C(creatable_vgpu_types).
              returned: always
              type: str
              sample: GRID T4-1Q
            description:
              description: The type's C(description) file, or V(null) (mtty types and SR-IOV vGPU types have none).
              returned: always
              type: str
              sample: num_heads=4, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=16
            device_api:
              description: The type's C(device_api).
              returned: always
              type: str
              sample: vfio-pci
            available_instances:
              description:
                - How many more instances can be created now (live; creating one type may drop others to 0).
                - For SR-IOV vGPU types, the number of VFs without a current type that list this type as creatable
                  (a VF lists what the GPU can still create, so this is an upper bound), capped, for boards whose frame
                  buffer the module knows (A100 40GB), by the profile's C(max_instance) minus the vGPUs already using
                  the GPU's frame buffer.
              returned: always
              type: int
              sample: 16
            driver:
              description: The parent's driver.
              returned: always
              type: str
              sample: nvidia
            pci:
              description: PCI ids of the parent (same keys as in C(devices)), or V(null) for virtual and s390 parents.
              returned: always
              type: dict
            software_version:
              description: As for devices.
              returned: always
              type: str
              sample: 550.54.16
            software_version_source:
              description: As for devices.
              returned: always
              type: str
              sample: module
            migration:
              description: As for devices (C(capable), C(features), C(reason), C(state_size)).
              returned: always
              type: dict
            fingerprint:
              description:
                - As for devices. A device and a type that would receive it have the same fingerprint
                  (except s390 vfio-ap devices, whose matrix belongs to the instance).
              returned: always
              type: str
        sriov:
          description: SR-IOV physical functions and the VFs they could still create, sorted by C(pf).
          returned: always
          type: list
          elements: dict
          contains:
            pf:
              description: PCI address of the PF.
              returned: always
              type: str
              sample: "0000:3b:00.0"
            pci:
              description: PCI ids of the PF (same keys as in C(devices)).
              returned: always
              type: dict
            driver:
              description: The PF's driver, or V(null) when unbound.
              returned: always
              type: str
              sample: mlx5_core
            numa_node:
              description: NUMA node of the PF, or V(null).
              returned: always
              type: int
            totalvfs:
              description: C(sriov_totalvfs), the most VFs the PF supports.
              returned: always
              type: int
              sample: 8
            numvfs:
              description: C(sriov_numvfs), the VFs enabled now.
              returned: always
              type: int
              sample: 4
            vf_device:
              description: C(sriov_vf_device), the device id of the PF's VFs, or V(null).
              returned: always
              type: str
              sample: 101e
        summary:
          description: Counts over the facts above.
          returned: always
          type: dict
          contains:
            devices:
              description: Number of devices.
              returned: always
              type: int
            devices_by_kind:
              description: Number of devices per kind (every kind listed, V(0) included).
              returned: always
              type: dict
              sample: {pci: 4, mdev: 2, nvidia_vgpu: 0, ccw: 0, ap: 0}
            devices_in_use:
              description: Devices held by a process.
              returned: always
              type: int
            devices_free:
              description: Devices not held by a process.
              returned: always
              type: int
            migration_capable:
              description: Devices whose C(migration.capable) is V(true).
              returned: always
              type: int
            migration_not_capable:
              description: Devices whose C(migration.capable) is V(false).
              returned: always
              type: int
            migration_unknown:
              description: Devices whose C(migration.capable) is V(null).
              returned: always
              type: int
            vms:
              description: Distinct VMs (or holder processes without a VM name) holding devices.
              returned: always
              type: int
            mdev_types:
              description: Number of entries in C(mdev_types).
              returned: always
              type: int
            mdev_available_instances:
              description: Sum of C(available_instances) over C(mdev_types).
              returned: always
              type: int
            sriov_pfs:
              description: Number of SR-IOV PFs.
              returned: always
              type: int
            sriov_totalvfs:
              description: Sum of C(totalvfs).
              returned: always
              type: int
            sriov_numvfs:
              description: Sum of C(numvfs).
              returned: always
              type: int
            sriov_free_vfs:
              description: VFs that could still be enabled, C(totalvfs - numvfs) summed over the PFs.
              returned: always
              type: int
            processes_scanned:
              description: Whether processes were scanned for C(in_use).
              returned: always
              type: bool
            warnings:
              description: Number of lines in C(warnings).
              returned: always
              type: int
        warnings:
          description:
            - Everything that was skipped or unreadable, one sorted line each, naming the path as the host sees it
              (C(/sys/...), C(/proc/...), C(/dev/...)).
          returned: always
          type: list
          elements: str
          sample: ["/sys/bus/pci/devices/0000:3b:00.7: dangling link to ../../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.7"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.vfio.migration.plugins.module_utils._facts import gather
from ansible_collections.vfio.migration.plugins.module_utils._migration_features import check_overrides


def main():
    module = AnsibleModule(
        argument_spec={
            'sysfs_root': {'type': 'path', 'default': '/sys'},
            'proc_root': {'type': 'path', 'default': '/proc'},
            'dev_root': {'type': 'path', 'default': '/dev'},
            'boot_root': {'type': 'path'},
            'software_versions': {'type': 'dict', 'default': {}},
            'scan_processes': {'type': 'bool', 'default': True},
            'migration_features': {'type': 'dict', 'default': {}},
            'max_facts_bytes': {'type': 'int', 'default': 16777216},
            'max_list_entries': {'type': 'int', 'default': 100000},
        },
        supports_check_mode=True,
    )
    overrides = {}
    for key, value in sorted((module.params['software_versions'] or {}).items()):
        if value is None or isinstance(value, (bool, dict, list)):
            module.fail_json(msg='software_versions[%r] must be a version string, not %r' % (key, value))
        overrides[to_text(key)] = to_text(value)
    features, problem = check_overrides(module.params['migration_features'])
    if problem:
        module.fail_json(msg=problem)
    for name in ('max_facts_bytes', 'max_list_entries'):
        if module.params[name] < 1:
            module.fail_json(msg='%s must be a positive number, not %d' % (name, module.params[name]))
    facts = gather(
        sysfs_root=module.params['sysfs_root'],
        proc_root=module.params['proc_root'],
        dev_root=module.params['dev_root'],
        boot_root=module.params['boot_root'],
        software_versions=overrides,
        scan_processes=module.params['scan_processes'],
        max_facts_bytes=module.params['max_facts_bytes'],
        max_list_entries=module.params['max_list_entries'],
        migration_features=features,
    )
    module.exit_json(changed=False, ansible_facts={'vfio': facts})


if __name__ == '__main__':
    main()
