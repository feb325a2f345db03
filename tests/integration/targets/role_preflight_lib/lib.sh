# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# shellcheck shell=bash
# Sourced by the runme.sh of every role_preflight_* target, after ../setup_sim/env.sh (whose
# variables it uses). Sets WORK (this target's scratch directory, setup_sim's OUTPUT_DIR) and
# offers:
#   build_hosts NAME...        build the simulated hosts described in hosts/NAME.yml and write
#                              $WORK/inventory.yml (each host reads its own tree, groups from
#                              groups.yml);
#   run_play OUT ARGS...       run ansible-playbook ARGS, output to OUT, exit code in RC;
#   expect_rc OUT N [WHY]      that exit code is N, else print OUT (and why N) and fail;
#   expect OUT TEXT            OUT contains TEXT (fixed string), else print OUT and fail;
#   expect_not OUT TEXT        OUT does not contain TEXT;
#   expect_line OUT REGEX      some line of OUT matches REGEX (grep -E).

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$OUTPUT_DIR
export ANSIBLE_HOST_PATTERN_MISMATCH=ignore

build_hosts() {
  local files=() name
  for name in "$@"; do files+=("$LIB_DIR/hosts/$name.yml"); done
  "$PYTHON" "$SIM/simhost.py" build "${files[@]}" --out "$WORK/build" >/dev/null
  "$PYTHON" "$LIB_DIR/inventory.py" "$WORK/build" "$LIB_DIR/groups.yml" "$PYTHON" "$@" > "$WORK/inventory.yml"
}

RC=0
run_play() {
  local out=$1; shift
  set +e
  ansible-playbook "$@" > "$out" 2>&1
  RC=$?
  set -e
  echo "ansible-playbook $* -> rc=$RC (output: $out)"
}

expect_rc() {
  if [ "$RC" -ne "$2" ]; then
    cat "$1" >&2
    echo "EXPECTED exit code $2${3:+ ($3)} of the run with output $1, got $RC" >&2
    exit 1
  fi
}

expect() {
  if ! grep -qF -- "$2" "$1"; then
    cat "$1" >&2
    echo "EXPECTED in $1: $2" >&2
    exit 1
  fi
}

expect_not() {
  if grep -qF -- "$2" "$1"; then
    cat "$1" >&2
    echo "NOT EXPECTED in $1: $2" >&2
    exit 1
  fi
}

expect_line() {
  if ! grep -qE -- "$2" "$1"; then
    cat "$1" >&2
    echo "EXPECTED a line of $1 matching: $2" >&2
    exit 1
  fi
}
