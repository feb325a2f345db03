#!/usr/bin/env bash
# vfio.migration.compat_matrix from real playbooks over the simulated inventory.
source "$(dirname "$0")/../setup_sim/env.sh"
sim_build
ansible-playbook -i "$SIM/inventory.yml" compat_matrix.yml "$@"
