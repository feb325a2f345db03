#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Device dirty tracking: the kernel's build options (host.kernel_config) and each VM's QEMU
# options (in_use.qemu_options) decide whether a migration can start (rules
# device_dirty_tracking_report and dirty_tracking_blocker). Two hosts of its own, outside
# the demo inventory.
source "$(dirname "$0")/../setup_sim/env.sh"
"$PYTHON" "$SIM/simhost.py" build hosts/*.yml --out "$OUTPUT_DIR" >/dev/null
ansible-playbook -i inventory.yml -e "sim_out=$OUTPUT_DIR" dirty_tracking.yml "$@"
