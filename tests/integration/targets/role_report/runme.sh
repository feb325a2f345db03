#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The report role over the simulated fleet, with real ansible-playbook runs:
# gather on the hosts, then check every format; bad input refused before any task;
# a play on localhost that gathers delegated; two runs give byte-identical files.
source "$(dirname "$0")/../setup_sim/env.sh"
SIM_INVENTORY=files/sim_inventory.py
# ansible-test passes its own inventory and variables: keep only the verbosity.
ARGS=()
for a in "$@"; do case "$a" in -v*) ARGS+=("$a") ;; esac; done
set -- "${ARGS[@]+"${ARGS[@]}"}"

"$PYTHON" "$SIM_INVENTORY" "$COLLECTION_ROOT" "$OUTPUT_DIR" >/dev/null
INV="$OUTPUT_DIR/inventory.yml"

echo "== report over the fleet, facts gathered on each host; then every format checked (one run)"
ansible-playbook -i "$INV" report.yml verify.yml -e "report_dir=$OUTPUT_DIR/report" "$@" | tee "$OUTPUT_DIR/report.log"
grep -q 'Report files:' "$OUTPUT_DIR/report.log"

echo "== the same report from a play on localhost (delegated gathering) is byte-identical"
ansible-playbook -i "$INV" report_localhost.yml -e "report_dir=$OUTPUT_DIR/report-localhost" "$@" \
  >"$OUTPUT_DIR/report-localhost.log" 2>&1 || { tail -n 40 "$OUTPUT_DIR/report-localhost.log"; exit 1; }
for f in vfio-report.json vfio-report.csv vfio-report.md vfio-report.html; do
  cmp "$OUTPUT_DIR/report/$f" "$OUTPUT_DIR/report-localhost/$f"
done

echo "== bad role input is refused before any task runs"
for bad in '{"vfio_report_formats": ["pdf"]}' '{"vfio_report_facts": "sometimes"}' \
           '{"vfio_report_matrix_max_hosts": "many"}'; do
  if ansible-playbook -i "$INV" report.yml -e "report_dir=$OUTPUT_DIR/bad" -e "$bad" >"$OUTPUT_DIR/bad.log" 2>&1; then
    echo "accepted bad input $bad"; exit 1
  fi
  grep -q "Validating arguments against arg spec 'main'" "$OUTPUT_DIR/bad.log"
  grep -q 'Validation of arguments failed' "$OUTPUT_DIR/bad.log"
  # nothing ran after the validation: no gathering, no directory
  if grep -q 'TASK \[vfio.migration.report : Gather' "$OUTPUT_DIR/bad.log"; then echo "a task ran"; exit 1; fi
  test ! -e "$OUTPUT_DIR/bad"
done

echo "== missing facts: warn lists the host, fail refuses"
ansible-playbook -i "$INV" report_missing.yml -e "report_dir=$OUTPUT_DIR/missing" "$@"
if ansible-playbook -i "$INV" report_missing.yml -e "report_dir=$OUTPUT_DIR/missing-fail" \
     -e vfio_report_missing_facts=fail >"$OUTPUT_DIR/missing-fail.log" 2>&1; then
  echo "missing facts did not fail"; exit 1
fi
grep -q 'No vfio facts for 1 host(s)' "$OUTPUT_DIR/missing-fail.log"
test ! -e "$OUTPUT_DIR/missing-fail"
echo "role_report: all checks passed"
