#!/usr/bin/env bash
# vfio.migration.migration_plan and upgrade_order from real playbooks over the simulated inventory.
source "$(dirname "$0")/../setup_sim/env.sh"
sim_build
ansible-playbook -i "$SIM/inventory.yml" migration_plan.yml "$@"
