#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# vfio.migration.migration_check from real playbooks over the simulated inventory.
source "$(dirname "$0")/../setup_sim/env.sh"
sim_build
ansible-playbook -i "$SIM/inventory.yml" migration_check.yml "$@"
