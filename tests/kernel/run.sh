#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Kernel lane: boot real Debian kernels under QEMU with a VFIO stack and check vfio_facts
# against them (see README.md beside this file). `make test-kernel` runs this.
#
# Environment: VFIO_KERNEL_SERIES (default "6.1,6.12"), VFIO_KERNEL_CACHE (default
# ~/.cache/vfio-migration-kernel), VFIO_KERNEL_UPDATE_CAPTURES=1 (rewrite tests/captures),
# VFIO_KERNEL_TIMEOUT (seconds per boot, default 300), VFIO_KERNEL_VERBOSE=1 (guest console).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t0=$(date +%s)

# Host tools, from the machine's own apt sources. Kernel packages are not installed: the lane
# downloads them with `apt-get download` and unpacks them into its cache.
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v gcc-12 >/dev/null || need+=(gcc-12)
command -v make >/dev/null || need+=(make)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
[ -x /usr/bin/python3 ] || need+=(python3)
# Missing lists (a fresh machine) are fetched here; lists too old to name a kernel the mirror
# still has are refreshed by lane.py when a download fails. Root, no questions, no stdin.
if [ ${#need[@]} -gt 0 ] || [ -z "$(apt-cache pkgnames linux-source- 2>/dev/null)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  [ ${#need[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
fi
echo "host tools ready in $(( $(date +%s) - t0 ))s ($(qemu-system-x86_64 --version | head -n 1))"

exec python3 "$here/lane.py" "$@"
