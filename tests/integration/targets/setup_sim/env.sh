# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# shellcheck shell=bash
# Sourced first by the runme.sh of every integration target (its aliases name
# needs/target/setup_sim, so ansible-test copies this directory next to the target):
#
#   source "$(dirname "$0")/../setup_sim/env.sh"
#
# Enters the target's directory and sets
#   COLLECTION_ROOT  the collection under test: under ansible-test the first entry of
#                    ANSIBLE_COLLECTIONS_PATH, run by hand the checkout this file is in
#                    (ANSIBLE_COLLECTIONS_PATH is then made to point at it);
#   SIM              its tests/sim;
#   PYTHON           the Python of ansible-test (or python3), also the hosts' interpreter;
#   OUTPUT_DIR       an empty directory for this target's files: under ansible-test's
#                    OUTPUT_DIR, by hand under tests/output;
# exports quiet, colourless ANSIBLE_* settings, and offers
#   sim_build        build the simulated hosts of tests/sim/hosts into tests/sim/build, where
#                    tests/sim/inventory.yml reads them. The trees are built once for all
#                    targets of a run: again only when simhost.py or a host file changed.
#                    Targets that delete or alter trees build their own copies instead.

set -euo pipefail

_setup_sim_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$(dirname "$0")"

if [ -n "${ANSIBLE_COLLECTIONS_PATH:-}" ] && [ -d "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vfio/migration" ]; then
  COLLECTION_ROOT=$(cd "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vfio/migration" && pwd)
else
  COLLECTION_ROOT=$(cd "$_setup_sim_dir/../../../.." && pwd)
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
SIM=$COLLECTION_ROOT/tests/sim
PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3)}
OUTPUT_DIR=${OUTPUT_DIR:-$COLLECTION_ROOT/tests/output}/$(basename "$PWD")
rm -rf "$OUTPUT_DIR"
mkdir -p "$OUTPUT_DIR"
export COLLECTION_ROOT SIM PYTHON OUTPUT_DIR

export ANSIBLE_PYTHON_INTERPRETER=$PYTHON ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_LOCALHOST_WARNING=0
export ANSIBLE_INVENTORY_UNPARSED_WARNING=0

sim_build() {
  local stamp=$SIM/build/.inputs.sha256 sum
  sum=$(cd "$SIM" && sha256sum simhost.py hosts/*.yml | sha256sum)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return 0
  fi
  rm -f "$stamp"
  "$PYTHON" "$SIM/simhost.py" build "$SIM"/hosts/*.yml --out "$SIM/build" >/dev/null
  printf '%s\n' "$sum" > "$stamp"
}
