#!/usr/bin/env bash
# vfio.migration.compatible from real playbooks over the simulated inventory.
set -euo pipefail
COLLECTION_ROOT=${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vfio/migration
SIM=$COLLECTION_ROOT/tests/sim
PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
export ANSIBLE_PYTHON_INTERPRETER=$PYTHON ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_NOCOLOR=1
cd "$(dirname "$0")"
"$PYTHON" "$SIM/simhost.py" build "$SIM"/hosts/*.yml --out "$SIM/build" >/dev/null
ansible-playbook -i "$SIM/inventory.yml" compatible.yml "$@"
