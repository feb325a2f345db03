#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The role rejects bad input before any of its tasks runs, and says what is wrong.
source "$(dirname "$0")/../setup_sim/env.sh"
source ../role_preflight_lib/lib.sh

reject() {  # reject EXTRA_VARS_JSON EXPECTED_TEXT...
  local vars=$1; shift
  run_play "$WORK/out" -i inventory.yml preflight.yml -e "$vars"
  [ "$RC" -ne 0 ] || { echo "accepted bad input: $vars" >&2; exit 1; }
  expect "$WORK/out" "Validating arguments against arg spec"
  local text
  for text in "$@"; do expect "$WORK/out" "$text"; done
  # nothing of the role ran: its first task never started
  expect_not "$WORK/out" "Resolve host and group names"
}

reject '{"vfio_preflight_mode": "migrate"}' \
  "vfio_preflight_mode must be one of: fail, select, reorder, got: migrate"
reject '{"vfio_preflight_facts": "cached"}' \
  "vfio_preflight_facts must be one of: gather, reuse, auto, got: cached"
reject '{"vfio_preflight_sources": {"kvm-a": true}}' \
  "argument 'vfio_preflight_sources' is of type" "unable to convert to list"
reject '{"vfio_preflight_facts_options": {"sysfs": "/srv/sys"}}' \
  "vfio_preflight_facts_options.sysfs" "sysfs_root"
reject '{"vfio_preflight_facts_options": {"scan_processes": "sometimes"}}' \
  "argument 'scan_processes' is of type" "unable to convert to bool"
reject '{"vfio_preflight_vms": {"web01": 1}}' \
  "argument 'vfio_preflight_vms' is of type" "unable to convert to list"

# A name that is neither a host nor a group is refused by the role's first check, by name.
run_play "$WORK/out" -i inventory.yml preflight.yml -e '{"vfio_preflight_destinations": ["kvm-c", "kvm"]}'
[ "$RC" -ne 0 ]
expect "$WORK/out" "vfio.migration.preflight: kvm-c: matches no host of the inventory"
expect_not "$WORK/out" "Gather vfio facts"

echo "role_preflight_validation: bad input rejected"
