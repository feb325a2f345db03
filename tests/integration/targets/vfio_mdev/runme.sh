#!/usr/bin/env bash
# vfio_mdev through ansible-playbook and ansible on copies of simulated hosts: every write is
# checked by path and content in the module's result and in the tree itself (a snapshot of
# the whole tree before and after each task; nothing else may change).
source "$(dirname "$0")/../setup_sim/env.sh"
source ../setup_sysfs_write/env.sh

echo "== build the simulated trees and copy the hosts this target writes to"
copy_hosts t4-a t4-d mtty-612

echo "== create, idempotence, refusals, remove, check mode and diff"
ansible-playbook -i localhost, -c local mdev.yml -e "hosts_dir=$OUTPUT_DIR" -e "tree='$TREE'" "$@"

echo "== ad hoc: --check --diff prints the diff and writes nothing"
adhoc_check mtty-612 vfio_mdev "uuid=0d5bd4e6-8f4b-4b6e-9b61-3f7a3c1c2b10 parent=mtty type=mtty-1" '^+    "exists": true'
