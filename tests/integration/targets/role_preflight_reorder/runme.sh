#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# reorder mode: the plan's waves become groups in the planned order (the host whose VM fits on a
# single destination first, although it comes second in the inventory), a following serial play
# drains in that order, and the host with a VM that cannot move is in vfio_migration_blocked.
source "$(dirname "$0")/../setup_sim/env.sh"
source ../role_preflight_lib/lib.sh
build_hosts pf-src-ok pf-src-narrow pf-src-blocked pf-dst-old pf-dst-busy pf-dst-new pf-dst-spare pf-dst-nic
out=$WORK/reorder.out

run_play "$out" -i "$WORK/inventory.yml" preflight.yml -e out_dir="$WORK"
expect_rc "$out" 0 "blocked hosts do not fail"

# the order the following play ran in is the planned order, not the inventory's
printf 'pf-src-narrow\npf-src-ok\n' > "$WORK/expected"
diff -u "$WORK/expected" "$WORK/planned"
diff -u "$WORK/expected" "$WORK/drained"
printf 'pf-src-blocked\n' | diff -u - "$WORK/blocked"

# the plan as the play output shows it
expect_line "$out" "wave 1: pf-src-narrow, 1 VM\(s\): nic-01 -> pf-dst-nic"
expect_line "$out" "wave 2: pf-src-ok, 2 VM\(s\): web-0[12] -> pf-dst-(new|spare), web-0[12] -> pf-dst-(new|spare)"
expect "$out" "blocked: pf-src-blocked, 1 VM(s) cannot move"
expect_line "$out" "db-01 +0000:5e:00\.2 +pci-15b3:101e:15b3:0083 +6\.1\.0-18-amd64 +"
expect_line "$out" "pf-dst-busy.*the destination offers no free device"

echo "role_preflight_reorder: ok"
