#!/usr/bin/env bash
# vfio_vf through ansible-playbook and ansible on copies of simulated hosts: every write is
# checked by path and content in the module's result and in the tree itself (a snapshot of
# the whole tree before and after each task; nothing else may change).
source "$(dirname "$0")/../setup_sim/env.sh"
TREE="$PYTHON $(cd ../setup_sysfs_write && pwd)/tree.py"
export TREE

echo "== build the simulated trees and copy the hosts this target writes to"
sim_build
for host in cx6-a qat; do
  $TREE copy "$SIM/build/$host" "$OUTPUT_DIR/$host"
done

echo "== VF count, binding, idempotence, refusals, check mode and diff"
ansible-playbook -i localhost, -c local vf.yml -e "hosts_dir=$OUTPUT_DIR" -e "tree='$TREE'" "$@"

echo "== ad hoc: --check --diff prints the diff and writes nothing"
$TREE save "$OUTPUT_DIR/qat" "$OUTPUT_DIR/adhoc.json"
ROOTS="sysfs_root=$OUTPUT_DIR/qat/sys proc_root=$OUTPUT_DIR/qat/proc dev_root=$OUTPUT_DIR/qat/dev"
ansible localhost -c local -i localhost, --check --diff -m vfio.migration.vfio_vf \
  -a "pf=0000:70:00.0 num_vfs=4 $ROOTS" > "$OUTPUT_DIR/adhoc.txt"
grep -q '^+    "sriov_numvfs": 4' "$OUTPUT_DIR/adhoc.txt"
grep -q '"changed": true' "$OUTPUT_DIR/adhoc.txt"
test "$($TREE diff "$OUTPUT_DIR/adhoc.json" "$OUTPUT_DIR/qat")" = '{}'

echo "== bad option combinations fail cleanly"
if ansible localhost -c local -i localhost, -m vfio.migration.vfio_vf -a "pf=0000:70:00.0 driver=vfio-pci $ROOTS" \
    > "$OUTPUT_DIR/bad.txt" 2>&1; then
  echo "driver without vf was accepted"; exit 1
fi
grep -q 'driver needs vf or vf_index' "$OUTPUT_DIR/bad.txt"
test "$($TREE diff "$OUTPUT_DIR/adhoc.json" "$OUTPUT_DIR/qat")" = '{}'
