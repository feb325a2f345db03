# shellcheck shell=bash
# Sourced by the runme.sh of the role_report* targets. Sets COLLECTION_ROOT, PYTHON,
# SIM_INVENTORY and OUTPUT_DIR (a fresh directory for this target's files) and makes the
# collection importable. Under ansible-test the targets run from a copy and
# ANSIBLE_COLLECTIONS_PATH names the collection tree; run by hand from a checkout, the
# collection is five levels up from this file.
set -euo pipefail
_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_target=$(basename "$(cd "$_here/.." && pwd)")
if [ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ] && [ -d "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vfio/migration" ]; then
  COLLECTION_ROOT=$(cd "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vfio/migration" && pwd)
else
  COLLECTION_ROOT=$(cd "$_here/../../../../.." && pwd)
  case "$COLLECTION_ROOT" in
    */ansible_collections/vfio/migration)
      export ANSIBLE_COLLECTIONS_PATH="${COLLECTION_ROOT%/ansible_collections/vfio/migration}" ;;
    *)
      _collections=$(mktemp -d "${TMPDIR:-/tmp}/vfio-collections.XXXXXX")
      mkdir -p "$_collections/ansible_collections/vfio"
      ln -s "$COLLECTION_ROOT" "$_collections/ansible_collections/vfio/migration"
      export ANSIBLE_COLLECTIONS_PATH="$_collections" ;;
  esac
fi
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3)}
# ansible-test gives each target a scratch OUTPUT_DIR; by hand, files stay under tests/output.
OUTPUT_DIR=${OUTPUT_DIR:-$COLLECTION_ROOT/tests/output}/$_target
rm -rf "$OUTPUT_DIR"
mkdir -p "$OUTPUT_DIR"
SIM_INVENTORY="$_here/sim_inventory.py"
export COLLECTION_ROOT OUTPUT_DIR PYTHON SIM_INVENTORY
