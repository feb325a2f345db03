#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Fact caches: gather once into ansible.builtin.jsonfile (the role does, while it makes the
# reference report from live facts) and into community.general.redis (a real redis-server on
# a random loopback port, stopped at the end), delete the simulated trees, make every host
# unreachable, and write the report from each cache. The reports must equal the live one.
source "$(dirname "$0")/../setup_sim/env.sh"
SIM_INVENTORY=../role_report/files/sim_inventory.py
ARGS=()
for a in "$@"; do case "$a" in -v*) ARGS+=("$a") ;; esac; done
set -- "${ARGS[@]+"${ARGS[@]}"}"
source ./community_general.sh

command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)"; exit 1; }
INV=$("$PYTHON" "$SIM_INVENTORY" "$COLLECTION_ROOT" "$OUTPUT_DIR")
INV_DOWN=$("$PYTHON" "$SIM_INVENTORY" "$COLLECTION_ROOT" "$OUTPUT_DIR" --unreachable)
HOSTS=$("$PYTHON" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["all"]["hosts"]))' "$INV")

PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$OUTPUT_DIR/redis"
redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --dir "$OUTPUT_DIR/redis" \
  --daemonize no >"$OUTPUT_DIR/redis/server.log" 2>&1 &
REDIS_PID=$!
trap 'kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping)" = PONG ]

jsonfile() {
  ANSIBLE_CACHE_PLUGIN=ansible.builtin.jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="$OUTPUT_DIR/jsonfile" \
  ANSIBLE_CACHE_PLUGIN_TIMEOUT=86400 "$@"
}
redis() {
  ANSIBLE_CACHE_PLUGIN=community.general.redis ANSIBLE_CACHE_PLUGIN_CONNECTION="127.0.0.1:$PORT:0" \
  ANSIBLE_CACHE_PLUGIN_PREFIX=vfio_test_ ANSIBLE_CACHE_PLUGIN_TIMEOUT=86400 "$@"
}

echo "== reference: the report from live facts; the role's gathering fills the jsonfile cache"
jsonfile ansible-playbook -i "$INV" ../role_report/report.yml -e "report_dir=$OUTPUT_DIR/live" "$@" \
  >"$OUTPUT_DIR/live.log" 2>&1 || { tail -n 40 "$OUTPUT_DIR/live.log"; exit 1; }

echo "== gather once into the redis cache"
redis ansible-playbook -i "$INV" gather.yml "$@"
test "$(find "$OUTPUT_DIR/jsonfile" -type f | wc -l)" -eq "$HOSTS"
test "$(redis-cli -h 127.0.0.1 -p "$PORT" --scan --pattern 'vfio_test_*' | wc -l)" -eq "$HOSTS"

echo "== the hosts are gone: trees deleted, every connection refused"
rm -rf "$OUTPUT_DIR/build"
if ansible -i "$INV_DOWN" all -m ansible.builtin.ping -o >"$OUTPUT_DIR/ping.log" 2>&1; then
  echo "a host answered"; exit 1
fi
grep -q UNREACHABLE "$OUTPUT_DIR/ping.log"

for backend in jsonfile redis; do
  for play in report_cached.yml report_cached_localhost.yml; do
    out="$OUTPUT_DIR/from-$backend-${play%.yml}"
    echo "== $backend cache, $play"
    $backend ansible-playbook -i "$INV_DOWN" "$play" -e "report_dir=$out" "$@" | tee "$out.log"
    if grep -q 'UNREACHABLE' "$out.log"; then echo "a host was contacted"; exit 1; fi
    grep -Eq 'unreachable=0 +failed=0' "$out.log"
    cmp "$OUTPUT_DIR/live/vfio-report.csv" "$out/vfio-report.csv"
    cmp "$OUTPUT_DIR/live/vfio-report.html" <(sed 's/from cache facts/from gathered facts/' "$out/vfio-report.html")
    "$PYTHON" - "$OUTPUT_DIR/live/vfio-report.json" "$out/vfio-report.json" <<'PY'
import json, sys
live, cached = (json.load(open(p)) for p in sys.argv[1:3])
assert cached.pop('facts_source') == 'cache' and live.pop('facts_source') == 'gathered'
assert live == cached, 'the report from the cache differs from the live one'
PY
  done
done
echo "role_report_cache: all checks passed"
