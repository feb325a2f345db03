# shellcheck shell=bash
# Sourced by the runme.sh of every role_preflight_* target.
#
# Sets COLLECTION_ROOT, WORK (a scratch directory removed on exit) and ANSIBLE_COLLECTIONS_PATH,
# and offers:
#   build_hosts NAME...        build the simulated hosts described in hosts/NAME.yml and write
#                              $WORK/inventory.yml (each host reads its own tree, groups from
#                              groups.yml);
#   run_play OUT ARGS...       run ansible-playbook ARGS, output to OUT, exit code in RC;
#   expect OUT TEXT            OUT contains TEXT (fixed string), else print OUT and fail;
#   expect_not OUT TEXT        OUT does not contain TEXT;
#   expect_line OUT REGEX      some line of OUT matches REGEX (grep -E).

set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Under ansible-test the targets are copied to a temporary directory and ANSIBLE_COLLECTIONS_PATH
# names the collection tree; run by hand, the collection is four levels up.
if [ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ] && [ -d "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vfio/migration" ]; then
  COLLECTION_ROOT=$(cd "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vfio/migration" && pwd)
else
  COLLECTION_ROOT=$(cd "$LIB_DIR/../../../.." && pwd)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vfio-preflight.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

case "$COLLECTION_ROOT" in
  */ansible_collections/vfio/migration) export ANSIBLE_COLLECTIONS_PATH="${COLLECTION_ROOT%/ansible_collections/vfio/migration}" ;;
  *)
    mkdir -p "$WORK/collections/ansible_collections/vfio"
    ln -s "$COLLECTION_ROOT" "$WORK/collections/ansible_collections/vfio/migration"
    export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
    ;;
esac

export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_HOST_PATTERN_MISMATCH=ignore
PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3)}

build_hosts() {
  local files=() name
  for name in "$@"; do files+=("$LIB_DIR/hosts/$name.yml"); done
  "$PYTHON" "$COLLECTION_ROOT/tests/sim/simhost.py" build "${files[@]}" --out "$WORK/build" >/dev/null
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
