#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Facts from a fact cache: gather once into ansible.builtin.jsonfile, then delete the simulated
# trees and break every host's Python, and run the role with vfio_preflight_facts=reuse: it must
# decide exactly as from live facts without contacting a host.
source "$(dirname "$0")/../setup_sim/env.sh"
source ../role_preflight_lib/lib.sh
build_hosts pf-src-ok pf-src-narrow pf-src-blocked pf-dst-old pf-dst-busy pf-dst-new pf-dst-spare pf-dst-nic
"$PYTHON" "$LIB_DIR/inventory.py" "$WORK/build" "$LIB_DIR/groups.yml" /nonexistent/python3 \
  pf-src-ok pf-src-narrow pf-src-blocked pf-dst-old pf-dst-busy pf-dst-new pf-dst-spare pf-dst-nic > "$WORK/down.yml"

export ANSIBLE_CACHE_PLUGIN=ansible.builtin.jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="$WORK/cache" \
  ANSIBLE_CACHE_PLUGIN_TIMEOUT=86400

# 1. Live: the role gathers (the module's facts land in the cache as a side effect).
run_play "$WORK/live.out" -i "$WORK/inventory.yml" plan.yml -e facts=gather -e out_dir="$WORK"
expect_rc "$WORK/live.out" 0
[ "$(find "$WORK/cache" -type f | wc -l)" -ge 8 ] || { ls -l "$WORK/cache"; echo "the cache was not filled" >&2; exit 1; }

# 2. From the cache: no tree to read, no Python on any host.
rm -rf "$WORK/build"
run_play "$WORK/cache.out" -i "$WORK/down.yml" plan.yml -e facts=reuse -e out_dir="$WORK"
expect_rc "$WORK/cache.out" 0
diff -u "$WORK/groups-gather" "$WORK/groups-reuse"
printf 'waves: pf-src-narrow pf-src-ok\nblocked: pf-src-blocked\n' | diff -u - "$WORK/groups-reuse"
expect_line "$WORK/cache.out" "localhost +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0 "
expect_not "$WORK/cache.out" "/nonexistent/python3"

# 3. gather mode with every host unreadable: older facts in the cache must not stand in for them
run_play "$WORK/stale.out" -i "$WORK/down.yml" plan.yml -e facts=gather -e out_dir="$WORK"
expect_rc "$WORK/stale.out" 0 "blocked hosts do not fail"
printf 'waves: \nblocked: pf-src-ok pf-src-narrow pf-src-blocked\n' | diff -u - "$WORK/groups-gather"
expect "$WORK/stale.out" "blocked: pf-src-ok, no vfio facts: nothing can be planned"
expect "$WORK/stale.out" "no vfio facts for pf-dst-old, pf-dst-busy, pf-dst-new, pf-dst-spare, pf-dst-nic, not considered as destinations"

# 4. fail mode from the cache, on the source hosts themselves (nothing runs on them).
run_play "$WORK/check.out" -i "$WORK/down.yml" check.yml
expect_rc "$WORK/check.out" 2
expect "$WORK/check.out" "pf-src-blocked: no candidate destination can take all 3 device(s) at once (tried: pf-dst-old, pf-dst-busy, pf-dst-new, pf-dst-spare, pf-dst-nic)"
expect "$WORK/check.out" "MOVABLE pf-src-ok -> pf-dst-new"
expect "$WORK/check.out" "MOVABLE pf-src-narrow -> pf-dst-nic"
expect_not "$WORK/check.out" "/nonexistent/python3"

# 5. An empty cache: every source says why it cannot be checked, and no host is contacted.
export ANSIBLE_CACHE_PLUGIN_CONNECTION="$WORK/empty-cache"
run_play "$WORK/empty.out" -i "$WORK/down.yml" check.yml
expect_rc "$WORK/empty.out" 2
expect "$WORK/empty.out" "pf-src-ok: no vfio facts for this host, nothing can be checked (vfio_preflight_facts=reuse contacts no host: fill the fact cache first, or use auto)"
expect "$WORK/empty.out" "no vfio facts for pf-dst-old, pf-dst-busy, pf-dst-new, pf-dst-spare, pf-dst-nic"
expect_not "$WORK/empty.out" "/nonexistent/python3"

echo "role_preflight_cache: ok"
