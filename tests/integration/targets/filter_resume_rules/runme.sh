#!/usr/bin/env bash
# The rules for what QEMU and the kernel check on resume (PCI config identity, PRE_COPY, NVIDIA
# host driver policy and machine type), from real playbooks over the simulated inventory.
source "$(dirname "$0")/../setup_sim/env.sh"
sim_build
ansible-playbook -i "$SIM/inventory.yml" resume_rules.yml "$@"
