#!/bin/sh
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The kernel-lane scenario, run inside the guest by /init. Everything it produces goes to
# /tmp/out, which send.py ships to the host over the second serial port.
#   modules -> SR-IOV VFs -> vfio-pci binding -> mdev instances -> group holders
#   -> ground truth + facts ("before") -> one more mdev -> ground truth + facts ("after")
#   -> capture of the tree -> real migrations with QEMU (migrate.py) and the facts they need
OUT=/tmp/out
SYS=/sys
T0=$(cut -d' ' -f1 /proc/uptime)
LAST=$T0
set -u
# shellcheck disable=SC1091
. /lane/env

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
stage() {
	now=$(cut -d' ' -f1 /proc/uptime)
	echo "TIME $1 $(elapsed "$LAST" "$now")s"
	LAST=$now
}
fail() { echo "FAIL $*"; }

echo "TIME boot-to-init ${T0}s"
uname -r

# 1. modules (dependency order computed on the host from modinfo)
while read -r m; do
	insmod "/lane/modules/$m.ko" || fail "insmod $m"
done < /lane/modules/order
stage modules

# 2. SR-IOV: VFs on the emulated NVMe PF, without letting nvme probe them.
pf=
for d in "$SYS"/bus/pci/devices/*; do
	[ -e "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor")" = 0x1b36 ] && pf=${d##*/} && break
done
[ -n "$pf" ] || fail "no SR-IOV capable NVMe PF"
echo 0 > "$SYS/bus/pci/devices/$pf/sriov_drivers_autoprobe"
echo 2 > "$SYS/bus/pci/devices/$pf/sriov_numvfs" || fail "sriov_numvfs"
vfs=$(for v in "$SYS/bus/pci/devices/$pf"/virtfn*; do basename "$(readlink "$v")"; done)
echo "NOTE PF $pf VFs $(echo "$vfs" | tr '\n' ' ')"

# 2b. The igb NIC when QEMU has it (8.0+): four of its seven VFs; two go to vfio-pci below,
#     two stay without a driver (VFs that are not VFIO devices).
igb=
for d in "$SYS"/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10c9 ] && igb=${d##*/} && break
done
igb_vfs=
if [ -n "$igb" ]; then
	echo 0 > "$SYS/bus/pci/devices/$igb/sriov_drivers_autoprobe"
	echo 4 > "$SYS/bus/pci/devices/$igb/sriov_numvfs" || fail "igb sriov_numvfs"
	igb_vfs=$(for v in "$SYS/bus/pci/devices/$igb"/virtfn*; do basename "$(readlink "$v")"; done | sort | head -n 2)
	echo "NOTE igb PF $igb VFs $(echo "$igb_vfs" | tr '\n' ' ')"
fi
stage sriov

# 3. vfio-pci through driver_override: both NVMe VFs, the first e1000e function, two igb VFs.
nic=
for d in "$SYS"/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10d3 ] && nic=${d##*/} && break
done
[ -n "$nic" ] || fail "no e1000e function"
for dev in $vfs $nic $igb_vfs; do  # word splitting wanted: lists of addresses
	d=$SYS/bus/pci/devices/$dev
	echo vfio-pci > "$d/driver_override"
	[ -L "$d/driver" ] && echo "$dev" > "$d/driver/unbind"
	echo "$dev" > "$SYS/bus/pci/drivers_probe"
	[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ] || fail "bind $dev to vfio-pci"
done
stage vfio-bind

# 4. mdev instances of several types on the three sample parents.
mk_mdev() { # parent type uuid
	echo "$3" > "$SYS/class/mdev_bus/$1/mdev_supported_types/$2/create" || fail "create $2 on $1"
}
U_MTTY=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
U_MDPY=83b8f4f2-509f-382f-3c1e-e6bfe0fa1002
U_MBOCHS=83b8f4f2-509f-382f-3c1e-e6bfe0fa1003
U_MTTY1=83b8f4f2-509f-382f-3c1e-e6bfe0fa1004
mk_mdev mtty mtty-2 "$U_MTTY"
mk_mdev mdpy mdpy-xga "$U_MDPY"
mk_mdev mbochs mbochs-medium "$U_MBOCHS"
stage mdev-create

# 5. Processes named like QEMU VMs holding VFIO groups open: a VF and the mtty instance.
#    (Their output goes to files: an inherited pipe would keep init's tee waiting.)
vf1=$(echo "$vfs" | head -n 1)
g_vf=$(basename "$(readlink "$SYS/bus/pci/devices/$vf1/iommu_group")")
g_mtty=$(basename "$(readlink "$SYS/bus/mdev/devices/$U_MTTY/iommu_group")")
VFIO_HOLD=/dev/vfio/$g_vf qemu-system-x86_64 -name guest=kvm-test-vm,debug-threads=on \
	-machine q35,accel=kvm -device "vfio-pci,host=$vf1" </dev/null >"$OUT/holder-vf.log" 2>&1 &
HOLDERS=$!
VFIO_HOLD=/dev/vfio/$g_mtty qemu-system-x86_64 -name guest=mdev-vm,debug-threads=on \
	-machine q35,accel=kvm -device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$U_MTTY" \
	</dev/null >"$OUT/holder-mdev.log" 2>&1 &
HOLDERS="$HOLDERS $!"
sleep 1
ls -l /dev/vfio
stage holders

run_module() { # phase
	PYTHONPATH=/opt/collections:/opt/ansible python3 \
		-m ansible_collections.vfio.migration.plugins.modules.vfio_facts \
		/lane/module-args.json > "$OUT/facts-$1.json" 2> "$OUT/facts-$1.err" ||
		fail "module exited $? in phase $1: $(tail -n 3 "$OUT/facts-$1.err")"
}

# 6. ground truth (sysfs/proc by shell; migration support by ioctl on the devices no
#    process holds; capability chains from each vfio-bound function's config) and facts, before
sh /lane/truth.sh > "$OUT/truth-before.txt" || fail "truth.sh before"
python3 /lane/probe.py >> "$OUT/truth-before.txt" || fail "probe.py before"
python3 /lane/pciconf.py >> "$OUT/truth-before.txt" || fail "pciconf.py before"
stage truth-before
run_module before
stage module-before

# 7. one more instance: available_instances of the mtty types must drop
mk_mdev mtty mtty-1 "$U_MTTY1"
sh /lane/truth.sh > "$OUT/truth-after.txt" || fail "truth.sh after"
python3 /lane/probe.py >> "$OUT/truth-after.txt" || fail "probe.py after"
python3 /lane/pciconf.py >> "$OUT/truth-after.txt" || fail "pciconf.py after"
stage truth-after
run_module after
stage module-after

# 8. capture of the tree as it is now
python3 /lane/capture.py > "$OUT/capture.json" 2> "$OUT/capture.err" || fail "capture.py"
stage capture
python3 /lane/prepare_modules.py || fail "prepare_modules.py"  # vfio_mdev, vfio_vf on the real kernel
stage prepare-modules

# 9. Real migrations: the holders go, fresh instances of the mdev types come, the
#    module runs once more (facts-migrate.json), then migrate.py migrates a paused QEMU VM
#    per case, running the module again while the case's two QEMUs hold their devices
#    (facts-case-<case>.json). The host predicts each outcome from those facts and
#    compares (tests/kernel/groundtruth.py).
# HOLDERS is a list of pids: split on purpose
# shellcheck disable=SC2086
kill $HOLDERS 2>/dev/null
# shellcheck disable=SC2086
wait $HOLDERS 2>/dev/null
# Every case gets instances no QEMU has used: mtty keeps an instance's migration state when
# its user closes it (a device left in RESUMING refuses the next stream with EBADF).
U=83b8f4f2-509f-382f-3c1e-e6bfe0fa
M1A=$U_MTTY1 M1B=${U}1011 M1C=${U}1012 M1D=${U}1013 M1E=${U}1014 M1F=${U}1015 M1G=${U}1016 M1H=${U}1017
M2A=$U_MTTY M2B=${U}1021 M2C=${U}1022 M2D=${U}1023
U_MDPYB=${U}1031 U_MBOCHSB=${U}1032
for u in $M1B $M1C $M1D $M1E $M1F $M1G $M1H; do mk_mdev mtty mtty-1 "$u"; done
for u in $M2B $M2C $M2D; do mk_mdev mtty mtty-2 "$u"; done
mk_mdev mdpy mdpy-xga "$U_MDPYB"
mk_mdev mbochs mbochs-medium "$U_MBOCHSB"
# Two igb VFs on vfio-pci: prepare_modules.py re-created the VFs and bound only one.
igb_vfio_vfs() {
	n=0
	for v in "$SYS/bus/pci/devices/$igb"/virtfn*; do
		d=$(readlink -f "$v")
		if [ ! -L "$d/driver" ] && [ "$n" -lt 2 ]; then
			echo vfio-pci > "$d/driver_override"
			echo "${d##*/}" > "$SYS/bus/pci/drivers_probe"
		fi
		if [ "$(basename "$(readlink "$d/driver")")" = vfio-pci ]; then
			n=$((n + 1))
			echo "${d##*/}"
		fi
	done | head -n 2
}
# QEMU options of the mtty cases on 6.12: Debian's kernels lack CONFIG_IOMMUFD_DRIVER, so
# mtty's device DMA logging starts but every report fails (EOPNOTSUPP); QEMU then must use
# the type1 container's dirty tracking, which its default (enable-migration=auto) refuses.
# The cases _qemu-defaults and _no-device-tracking show both failures (the facts see the
# kernel's config and each VM's options: rules device_dirty_tracking_report, dirty_tracking_blocker).
MTTY_OPTS=enable-migration=on,x-device-dirty-page-tracking=off
case_() { printf '{"case": "%s", "source": "%s", "destination": "%s", "options": "%s"}' "$1" "$2" "$3" "${4:-}"; }
{
	echo '['
	if [ "${LANE_SERIES}" = 6.1 ]; then
		case_ mtty-1_to_mtty-1 "$M1A" "$M1B"; echo ,
		case_ mtty-2_to_mtty-2 "$M2A" "$M2B"
	else
		case_ mtty-1_to_mtty-1 "$M1A" "$M1B" "$MTTY_OPTS"; echo ,
		case_ mtty-2_to_mtty-2 "$M2A" "$M2B" "$MTTY_OPTS"
		echo ,; case_ mtty-1_to_mtty-2 "$M1C" "$M2C" "$MTTY_OPTS"
		echo ,; case_ mtty-2_to_mtty-1 "$M2D" "$M1D" "$MTTY_OPTS"
		echo ,; case_ mtty-1_to_mtty-1_qemu-defaults "$M1E" "$M1F"
		echo ,; case_ mtty-1_to_mtty-1_no-device-tracking "$M1G" "$M1H" x-device-dirty-page-tracking=off
		echo ,; case_ mdpy-xga_to_mdpy-xga "$U_MDPY" "$U_MDPYB"
		echo ,; case_ mbochs-medium_to_mbochs-medium "$U_MBOCHS" "$U_MBOCHSB"
		# the VF addresses, one word each: split on purpose
		# shellcheck disable=SC2086
		set -- $vfs
		echo ,; case_ nvme-vf_to_nvme-vf "$1" "$2"
		if [ -n "$igb" ]; then
			# shellcheck disable=SC2046
			set -- $(igb_vfio_vfs)
			echo ,; case_ igb-vf_to_igb-vf "$1" "$2"
		fi
	fi
	echo ']'
} > "$OUT/migrate-cases.json"
run_module migrate
stage module-migrate
# mtty says why it rejects a stream only in debug messages: let them through to dmesg
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo 'module mtty +p' > /sys/kernel/debug/dynamic_debug/control 2>/dev/null ||
	echo "NOTE no dynamic debug for mtty: the kernel's reason for a rejected stream is not shown"
python3 /lane/migrate.py "$OUT/migrate-cases.json" > "$OUT/migrate.json" || fail "migrate.py"
stage migrations
echo "TIME guest-total $(elapsed 0 "$LAST")s"
