#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# vfio_preflight_prepare: the role creates on the chosen destinations the mdevs (the source's UUID
# and type, written to the type's create file) and the VFs (sriov_numvfs, then the new VF bound to
# the source VF's driver) that the placements need. Every file written is checked by path and
# content in a snapshot of all the trees; check mode writes nothing.
source "$(dirname "$0")/../setup_sim/env.sh"
source ../role_preflight_lib/lib.sh
source ../setup_sysfs_write/env.sh
build_hosts pf-src-ok pf-src-narrow pf-dst-new pf-dst-sriov
INV=$WORK/inventory.yml
B=$WORK/build
GPU=sys/devices/pci0000:00/0000:00:01.0/0000:3b:00.0
NIC=sys/devices/pci0000:00/0000:00:01.0/0000:5e:00.0
VF=sys/devices/pci0000:00/0000:00:01.0/0000:5e:00.2
# pf-dst-sriov was built with the VF that `sriov_numvfs = 1` makes; SR-IOV off as the facts read it
printf 0 > "$B/pf-dst-sriov/$NIC/sriov_numvfs"
mapfile -t UUIDS < <(find "$B/pf-src-ok/sys/bus/mdev/devices" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort)
[ "${#UUIDS[@]}" -eq 2 ]

# the trees differ from the snapshot in exactly the files given as PATH=CONTENT
changed_exactly() {
  "$PYTHON" - "$($TREE diff "$WORK/before.json" "$B")" "$@" <<'PY'
import json, sys
got = json.loads(sys.argv[1])
want = dict(arg.split('=', 1) for arg in sys.argv[2:])
assert got == want, json.dumps(got, indent=1, sort_keys=True)
PY
}

unchanged() {
  local diff
  diff=$($TREE diff "$WORK/before.json" "$B")
  [ "$diff" = '{}' ] || { echo "$1 changed the trees: $diff" >&2; exit 1; }
}

for mode in select reorder; do
  echo "== $mode, check mode: every write announced, none made"
  $TREE save "$B" "$WORK/before.json"
  out=$WORK/check-$mode.out
  run_play "$out" -i "$INV" prepare.yml -e mode=$mode --check
  expect_rc "$out" 0
  for u in "${UUIDS[@]}"; do
    expect_line "$out" "^changed: .*pf-dst-new: mdev $u of type nvidia-230 on 0000:3b:00\.0 \(VM web-0[12] from pf-src-ok\)"
  done
  expect_line "$out" "^changed: .*pf-dst-sriov: 1 VF\(s\) on 0000:5e:00\.0, virtfn0 on mlx5_vfio_pci \(VM nic-01 from pf-src-narrow\)"
  unchanged "--check ($mode)"
done

echo "== select: the files written are exactly the mdevs' and the VF's"
run_play "$WORK/select.out" -i "$INV" prepare.yml -e mode=select
expect_rc "$WORK/select.out" 0
for u in "${UUIDS[@]}"; do
  expect_line "$WORK/select.out" "^changed: .*pf-dst-new: mdev $u of type nvidia-230"
done
# the two UUIDs went to one create file, in UUID order: the second is what it holds
changed_exactly \
  "pf-dst-new/$GPU/mdev_supported_types/nvidia-230/create=${UUIDS[1]}" \
  "pf-dst-sriov/$NIC/sriov_numvfs=1" \
  "pf-dst-sriov/$VF/driver_override=mlx5_vfio_pci" \
  "pf-dst-sriov/sys/bus/pci/drivers/mlx5_core/unbind=0000:5e:00.2" \
  "pf-dst-sriov/sys/bus/pci/drivers_probe=0000:5e:00.2"

echo "== fail mode refuses vfio_preflight_prepare before reading any host"
$TREE save "$B" "$WORK/before.json"
run_play "$WORK/fail.out" -i "$INV" prepare.yml -e mode=select -e vfio_preflight_mode=fail
expect_rc "$WORK/fail.out" 2
expect "$WORK/fail.out" "vfio_preflight_prepare=true needs vfio_preflight_mode select or reorder, not fail"
unchanged "fail mode"

echo "== a new VF next to a free one: the count goes 1 -> 0 -> 2, the free VF is bound to its driver again"
build_hosts pf-src-pair pf-dst-onevf
printf 1 > "$B/pf-dst-onevf/$NIC/sriov_numvfs"
$TREE save "$B" "$WORK/before.json"
run_play "$WORK/onevf.out" -i "$INV" prepare.yml -e mode=select -e '{"vfio_preflight_destinations": ["pf-dst-onevf"]}'
expect_rc "$WORK/onevf.out" 0
expect_line "$WORK/onevf.out" "^changed: .*pf-dst-onevf: 2 VF\(s\) on 0000:5e:00\.0, virtfn1 on mlx5_vfio_pci \(VM pair-01 from pf-src-pair\)"
expect_line "$WORK/onevf.out" "^changed: .*pf-dst-onevf: 2 VF\(s\) on 0000:5e:00\.0, 0000:5e:00\.2 on mlx5_vfio_pci \(again, after the count change\)"
changed_exactly \
  "pf-dst-onevf/$NIC/sriov_numvfs=2" \
  "pf-dst-onevf/${VF%.2}.3/driver_override=mlx5_vfio_pci" \
  "pf-dst-onevf/sys/bus/pci/drivers/mlx5_core/unbind=0000:5e:00.3" \
  "pf-dst-onevf/sys/bus/pci/drivers/mlx5_vfio_pci/bind=0000:5e:00.3" \
  "pf-dst-onevf/$VF/driver_override=mlx5_vfio_pci"

echo "== a new VF on a PF whose enabled VF a VM holds: refused by the check, before anything is written"
# the kernel changes a non-zero VF count only through 0, which would remove busy-01's VF: the
# engine offers no new VF there, so the source has no destination and nothing is prepared
build_hosts pf-src-narrow pf-dst-held
$TREE save "$B" "$WORK/before.json"
run_play "$WORK/held.out" -i "$INV" prepare.yml -e mode=select -e '{"vfio_preflight_destinations": ["pf-dst-held"]}'
expect_rc "$WORK/held.out" 2
expect "$WORK/held.out" "pf-src-narrow: no candidate destination can take all 1 device(s) at once (tried: pf-dst-held)"
expect "$WORK/held.out" "no VF can be added (0000:5e:00.0: numvfs 1 of totalvfs 4, 0000:5e:00.2 in use by VM busy-01)"
expect_not "$WORK/held.out" "Enable the VFs on the destinations"
unchanged "a refused preparation"

echo "role_preflight_prepare: ok"
