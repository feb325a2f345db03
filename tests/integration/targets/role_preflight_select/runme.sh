#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# select mode: the only compatible destination is chosen, with a placement per device; a source
# that no destination takes fails (with its table) and gets no selection.
source "$(dirname "$0")/../setup_sim/env.sh"
source ../role_preflight_lib/lib.sh
build_hosts pf-src-ok pf-src-blocked pf-dst-old pf-dst-busy pf-dst-new
out=$WORK/select.out

run_play "$out" -i "$WORK/inventory.yml" preflight.yml
expect_rc "$out" 2 "pf-src-blocked fails"
expect "$out" "SELECTED pf-src-ok -> pf-dst-new"
expect_not "$out" "SELECTED pf-src-blocked"
expect "$out" "pf-src-blocked: no candidate destination can take all 3 device(s) at once (tried: pf-dst-old, pf-dst-busy, pf-dst-new)"
expect_line "$out" "pf-src-ok +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0 "
expect_line "$out" "pf-src-blocked +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=1 "

echo "role_preflight_select: ok"
