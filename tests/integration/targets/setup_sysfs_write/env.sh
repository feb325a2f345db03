# shellcheck shell=bash
# Sourced by the runme.sh of the write modules' targets (vfio_mdev, vfio_vf), after
# setup_sim/env.sh; their aliases name needs/target/setup_sysfs_write. Sets
#   TREE   the command of tree.py (snapshots of a simulated host's tree)
# and offers
#   copy_hosts HOST...            build the simulated trees, copy each HOST to $OUTPUT_DIR/HOST
#   roots HOST                    the sysfs_root/proc_root/dev_root arguments of the copy of HOST
#   adhoc_check HOST MODULE ARGS PATTERN
#                                 run MODULE ad hoc with --check --diff on the copy of HOST: it must
#                                 report a change, print a line matching PATTERN, and write nothing
TREE="$PYTHON $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tree.py"
export TREE

copy_hosts() {
  sim_build
  local host
  for host in "$@"; do
    $TREE copy "$SIM/build/$host" "$OUTPUT_DIR/$host"
  done
}

roots() {
  echo "sysfs_root=$OUTPUT_DIR/$1/sys proc_root=$OUTPUT_DIR/$1/proc dev_root=$OUTPUT_DIR/$1/dev"
}

adhoc_check() {
  local host=$1 module=$2 args=$3 pattern=$4
  $TREE save "$OUTPUT_DIR/$host" "$OUTPUT_DIR/adhoc.json"
  ansible localhost -c local -i localhost, --check --diff -m "vfio.migration.$module" \
    -a "$args $(roots "$host")" > "$OUTPUT_DIR/adhoc.txt"
  grep -q "$pattern" "$OUTPUT_DIR/adhoc.txt"
  grep -q '"changed": true' "$OUTPUT_DIR/adhoc.txt"
  test "$($TREE diff "$OUTPUT_DIR/adhoc.json" "$OUTPUT_DIR/$host")" = '{}'
}
