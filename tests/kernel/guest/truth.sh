#!/bin/sh
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Ground truth for the kernel lane, read with nothing but ls, readlink and cat from the live
# sysfs and proc of the guest: deliberately independent of the module under test.
# One record a line, tab-separated: KIND [ID] key=value ... (parsed by tests/captures/truth.py).
S=/sys
tab=$(printf '\t')
hex() { v=$(cat "$1" 2>/dev/null); echo "${v#0x}"; }
link() { [ -L "$1" ] && basename "$(readlink "$1")"; }

echo "kernel${tab}release=$(cat /proc/sys/kernel/osrelease)"
echo "iommu${tab}groups=$(find "$S/kernel/iommu_groups" -mindepth 1 -maxdepth 1 | wc -l)"
# the build options host.kernel_config keeps, from the config Debian installs beside the kernel
cfg=/boot/config-$(cat /proc/sys/kernel/osrelease)
if [ -r "$cfg" ]; then
	printf 'kconfig'
	for o in CONFIG_IOMMUFD CONFIG_IOMMUFD_DRIVER CONFIG_VFIO_CONTAINER CONFIG_VFIO_DEVICE_CDEV; do
		v=$(sed -n "s/^$o=//p" "$cfg")
		printf '\t%s=%s' "$o" "${v:-n}"
	done
	echo
fi

for d in "$S"/bus/pci/devices/*; do
	a=${d##*/}
	drv=$(link "$d/driver")
	if [ -e "$d/sriov_totalvfs" ]; then
		echo "pf${tab}$a${tab}driver=$drv${tab}totalvfs=$(cat "$d/sriov_totalvfs")${tab}numvfs=$(cat "$d/sriov_numvfs")${tab}vendor=$(hex "$d/vendor")${tab}device=$(hex "$d/device")${tab}vf_device=$(printf '%04x' "0x$(cat "$d/sriov_vf_device")")"
	fi
	case "$drv" in
	vfio-pci|*_vfio_pci) ;;
	*) continue ;;
	esac
	parent=$(link "$d/physfn")
	cdev=$(find "$d/vfio-dev" -mindepth 1 -maxdepth 1 2>/dev/null | head -n 1)
	cdev=${cdev##*/}
	printf 'pci\t%s\tdriver=%s\tgroup=%s\tvendor=%s\tdevice=%s\tsubsystem_vendor=%s\tsubsystem_device=%s\tclass=%s\trevision=%s\tnuma_node=%s\tparent=%s\tcdev=%s\n' \
		"$a" "$drv" "$(link "$d/iommu_group")" "$(hex "$d/vendor")" "$(hex "$d/device")" \
		"$(hex "$d/subsystem_vendor")" "$(hex "$d/subsystem_device")" "$(hex "$d/class")" \
		"$(hex "$d/revision")" "$(cat "$d/numa_node")" "${parent:--}" "${cdev:--}"
done

for p in "$S"/class/mdev_bus/*; do
	[ -e "$p" ] || continue
	for t in "$p"/mdev_supported_types/*; do
		printf 'mdev_type\tparent=%s\ttype=%s\tdevice_api=%s\tavailable=%s\tdescription=%s\tname=%s\n' \
			"${p##*/}" "${t##*/}" "$(cat "$t/device_api")" "$(cat "$t/available_instances")" \
			"$( (tr '\n' ' ' < "$t/description") 2>/dev/null | sed 's/ *$//')" \
			"$(cat "$t/name" 2>/dev/null)"
	done
done

for m in "$S"/bus/mdev/devices/*; do
	[ -e "$m" ] || continue
	real=$(readlink -f "$m")
	parent=$(basename "$(dirname "$real")")
	printf 'mdev\t%s\ttype=%s\tparent=%s\tgroup=%s\tdriver=%s\n' \
		"${m##*/}" "$(link "$m/mdev_type")" "$parent" "$(link "$m/iommu_group")" "$(link "$m/driver")"
done

# one ls for every fd of every process (a readlink per fd costs seconds under emulation)
# shellcheck disable=SC2012
ls -l /proc/[0-9]*/fd/ 2>/dev/null | while read -r line; do
	case "$line" in
	/proc/*:) pid=${line#/proc/}; pid=${pid%%/*} ;;
	*" -> /dev/vfio/vfio") ;;
	*" -> /dev/vfio/"*)
		t=${line##* -> }
		vm=$(tr '\0' '\n' < "/proc/$pid/cmdline" | sed -n 's/^guest=\([^,]*\).*/\1/p' | head -n 1)
		printf 'holder\tpid=%s\tnode=%s\tgroup=%s\tvm=%s\tcomm=%s\n' \
			"$pid" "$t" "${t##*/}" "$vm" "$(cat "/proc/$pid/comm")"
		;;
	esac
done | sort -u
