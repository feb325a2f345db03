#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# fail mode: the source that cannot move fails with a table a person can read; the other goes on.
source "$(dirname "$0")/../setup_sim/env.sh"
source ../role_preflight_lib/lib.sh
build_hosts pf-src-ok pf-src-blocked pf-dst-old pf-dst-busy pf-dst-new
out=$WORK/fail.out

# 1. The role in a play over the sources, facts gathered now (delegated for the destinations).
run_play "$out" -i "$WORK/inventory.yml" preflight.yml
expect_rc "$out" 2 "a host failed"
expect "$out" "pf-src-blocked: no candidate destination can take all 3 device(s) at once (tried: pf-dst-old, pf-dst-busy, pf-dst-new)"
expect_line "$out" "VM +DEVICE +TYPE +VERSION +DESTINATION +WHY NOT"
# the VF of db-01: no destination has a ConnectX-6 Dx; the first failed rule is named, per candidate slot
expect_line "$out" "db-01 +0000:5e:00\.2 +pci-15b3:101e:15b3:0083 +6\.1\.0-18-amd64 +pf-dst-old +0000:3b:00\.0/nvidia-23[04][^:]*: the PCI vendor differs: 15b3 on the source, 10de on the destination"
expect_line "$out" "cache-01 +0000:5e:00\.3 +pci-15b3:101e:15b3:0083 "
expect_line "$out" " +pf-dst-busy +the destination offers no free device, no mdev type with available instances"
# the vGPU of db-01: wrong host driver on pf-dst-old; on pf-dst-new it would fit, but its VM's VF does not
expect_line "$out" "db-01 +[0-9a-f-]{36} +nvidia-230 +550\.54\.16 +pf-dst-old +0000:3b:00\.0/nvidia-230: the driver versions are not compatible: the source runs 550\.54\.16, the destination 535\.161\.07"
expect_line "$out" " +pf-dst-new +the devices of one VM move together, and 0000:5e:00\.2 of the same VM has no compatible place on this destination"
# the other source went on to the migration play; the blocked one did not
expect "$out" "MIGRATING pf-src-ok -> pf-dst-new"
expect_not "$out" "MIGRATING pf-src-blocked"
expect_line "$out" "pf-src-blocked +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=1 "
expect_line "$out" "pf-src-ok +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0 "
expect_not "$out" "pf-src-ok: no candidate destination"

# 2. From localhost, naming the sources and two VMs: the play host fails with the table of the
#    named source that cannot move, which only lists db-01's devices.
out=$WORK/outside.out
run_play "$out" -i "$WORK/inventory.yml" preflight_outside.yml
expect_rc "$out" 2
expect "$out" "pf-src-blocked: no candidate destination can take all 2 device(s) at once (tried: pf-dst-old, pf-dst-busy, pf-dst-new)"
expect_line "$out" "db-01 +0000:5e:00\.2 "
expect_not "$out" "cache-01"
expect_not "$out" "REACHED"
expect_line "$out" "localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=1 "

echo "role_preflight_fail: ok"
