#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# vfio_facts through its public interface: real `ansible` and `ansible-playbook` runs against
# the bundled simulated inventory (tests/sim/inventory.yml), every host reading its own tree.
source "$(dirname "$0")/../setup_sim/env.sh"
INV=$SIM/inventory.yml
OUT=$OUTPUT_DIR

echo "== build the simulated trees"
sim_build

echo "== as a task: facts per host"
ansible-playbook -i "$INV" facts.yml "$@"

echo "== as a task in check mode"
ansible-playbook -i "$INV" facts.yml --check --limit t4-a,empty,broken-links "$@"

echo "== as a facts module of gather_facts (FACTS_MODULES, options from module_defaults)"
ANSIBLE_FACTS_MODULES=vfio.migration.vfio_facts ansible-playbook -i "$INV" gather.yml "$@"

echo "== ad hoc, and deterministic: two runs print the same bytes for every host"
ROOTS='sysfs_root={{ vfio_sysfs_root }} proc_root={{ vfio_proc_root }} dev_root={{ vfio_dev_root }}'
ansible all -i "$INV" -m vfio.migration.vfio_facts -a "$ROOTS" > "$OUT/adhoc-1.txt"
ansible all -i "$INV" -m vfio.migration.vfio_facts -a "$ROOTS" > "$OUT/adhoc-2.txt"
# Hosts run in parallel and print in the order they finish: each host's block ("HOST | STATUS
# => {...}") is compared with its block of the other run.
by_host() {
  "$PYTHON" -c 'import re, sys; print("".join(sorted(re.split(r"(?m)^(?=\S+ \| )", open(sys.argv[1]).read()))))' "$1"
}
cmp <(by_host "$OUT/adhoc-1.txt") <(by_host "$OUT/adhoc-2.txt")
hosts=$(ansible all -i "$INV" --list-hosts | tail -n +2 | wc -l)
test "$(grep -c '| SUCCESS => {' "$OUT/adhoc-1.txt")" -eq "$hosts"
grep -q '"schema_version": 1' "$OUT/adhoc-1.txt"

echo "== ad hoc in check mode, one host, options given literally"
ansible t4-a -i "$INV" --check -m vfio.migration.vfio_facts \
  -a "sysfs_root=$SIM/build/t4-a/sys proc_root=$SIM/build/t4-a/proc dev_root=$SIM/build/t4-a/dev scan_processes=false" \
  > "$OUT/adhoc-check.txt"
grep -q '"processes_scanned": false' "$OUT/adhoc-check.txt"
grep -q '"changed": false' "$OUT/adhoc-check.txt"

echo "== a bad option fails cleanly"
if ansible t4-a -i "$INV" -m vfio.migration.vfio_facts -a 'no_such_option=1' > "$OUT/bad.txt" 2>&1; then
  echo "an unknown option was accepted"; exit 1
fi
grep -q 'Unsupported parameters' "$OUT/bad.txt"
