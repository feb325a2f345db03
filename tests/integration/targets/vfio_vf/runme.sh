#!/usr/bin/env bash
# vfio_vf through ansible-playbook and ansible on copies of simulated hosts: every write is
# checked by path and content in the module's result and in the tree itself (a snapshot of
# the whole tree before and after each task; nothing else may change).
source "$(dirname "$0")/../setup_sim/env.sh"
source ../setup_sysfs_write/env.sh

echo "== build the simulated trees and copy the hosts this target writes to"
copy_hosts cx6-a qat

echo "== VF count, binding, idempotence, refusals, check mode and diff"
ansible-playbook -i localhost, -c local vf.yml -e "hosts_dir=$OUTPUT_DIR" -e "tree='$TREE'" "$@"

echo "== ad hoc: --check --diff prints the diff and writes nothing"
adhoc_check qat vfio_vf "pf=0000:70:00.0 num_vfs=4" '^+    "sriov_numvfs": 4'

echo "== bad option combinations fail cleanly, writing nothing"
$TREE save "$OUTPUT_DIR/qat" "$OUTPUT_DIR/bad.json"
if ansible localhost -c local -i localhost, -m vfio.migration.vfio_vf -a "pf=0000:70:00.0 driver=vfio-pci $(roots qat)" \
    > "$OUTPUT_DIR/bad.txt" 2>&1; then
  echo "driver without vf was accepted"; exit 1
fi
grep -q 'driver needs vf or vf_index' "$OUTPUT_DIR/bad.txt"
test "$($TREE diff "$OUTPUT_DIR/bad.json" "$OUTPUT_DIR/qat")" = '{}'
