#!/usr/bin/env bash
# vfio_mdev through ansible-playbook and ansible on copies of simulated hosts: every write is
# checked by path and content in the module's result and in the tree itself (a snapshot of
# the whole tree before and after each task; nothing else may change).
source "$(dirname "$0")/../setup_sim/env.sh"
TREE="$PYTHON $(cd ../setup_sysfs_write && pwd)/tree.py"
export TREE

echo "== build the simulated trees and copy the hosts this target writes to"
sim_build
for host in t4-a t4-d mtty-612; do
  $TREE copy "$SIM/build/$host" "$OUTPUT_DIR/$host"
done

echo "== create, idempotence, refusals, remove, check mode and diff"
ansible-playbook -i localhost, -c local mdev.yml -e "hosts_dir=$OUTPUT_DIR" -e "tree='$TREE'" "$@"

echo "== ad hoc: --check --diff prints the diff and writes nothing"
$TREE save "$OUTPUT_DIR/mtty-612" "$OUTPUT_DIR/adhoc.json"
ROOTS="sysfs_root=$OUTPUT_DIR/mtty-612/sys proc_root=$OUTPUT_DIR/mtty-612/proc dev_root=$OUTPUT_DIR/mtty-612/dev"
ansible localhost -c local -i localhost, --check --diff -m vfio.migration.vfio_mdev \
  -a "uuid=0d5bd4e6-8f4b-4b6e-9b61-3f7a3c1c2b10 parent=mtty type=mtty-1 $ROOTS" > "$OUTPUT_DIR/adhoc.txt"
grep -q '^+    "exists": true' "$OUTPUT_DIR/adhoc.txt"
grep -q '"changed": true' "$OUTPUT_DIR/adhoc.txt"
test "$($TREE diff "$OUTPUT_DIR/adhoc.json" "$OUTPUT_DIR/mtty-612")" = '{}'
