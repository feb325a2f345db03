# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# shellcheck shell=bash
# Sourced: makes community.general (for its redis cache plugin) and the redis Python client
# importable. Galaxy is not reachable here, so community.general comes out of PyPI's
# `ansible` package (only that collection is unpacked) and redis from PyPI, into a cache
# directory shared by later runs and by parallel jobs (each unpacks in a scratch directory
# and renames it into place). Nothing is installed into the running Python.
_cache=${VFIO_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-migration-tests}
mkdir -p "$_cache"
_have_redis_plugin() {
  local dir
  "$PYTHON" -c 'import ansible_collections.community.general.plugins.cache.redis' 2>/dev/null && return 0
  IFS=: read -ra _dirs <<< "${ANSIBLE_COLLECTIONS_PATH:-}:$HOME/.ansible/collections:/usr/share/ansible/collections"
  for dir in "${_dirs[@]}"; do
    [ -n "$dir" ] && [ -f "$dir/ansible_collections/community/general/plugins/cache/redis.py" ] && return 0
  done
  return 1
}
if ! _have_redis_plugin; then
  _cg="$_cache/community-general-${VFIO_ANSIBLE_PACKAGE_VERSION:-12.3.0}"
  if [ ! -f "$_cg/ansible_collections/community/general/plugins/cache/redis.py" ]; then
    _tmp=$(mktemp -d "$_cache/unpack.XXXXXX")
    "$PYTHON" -m pip download --quiet --no-deps -d "$_tmp/wheel" "ansible==${VFIO_ANSIBLE_PACKAGE_VERSION:-12.3.0}"
    "$PYTHON" - "$_tmp"/wheel/ansible-*.whl "$_tmp/tree" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in wheel.namelist():
        if name.startswith('ansible_collections/community/general/'):
            wheel.extract(name, sys.argv[2])
PY
    mv -T "$_tmp/tree" "$_cg" 2>/dev/null || true   # another job may have won the race
    rm -rf "$_tmp"
  fi
  export ANSIBLE_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH:$_cg"
fi
if ! "$PYTHON" -c 'import redis' 2>/dev/null; then
  _lib="$_cache/pylib-redis"
  if [ ! -d "$_lib/redis" ]; then
    _tmp=$(mktemp -d "$_cache/pip.XXXXXX")
    "$PYTHON" -m pip install --quiet --target "$_tmp/lib" redis
    mv -T "$_tmp/lib" "$_lib" 2>/dev/null || true
    rm -rf "$_tmp"
  fi
  export PYTHONPATH="$_lib${PYTHONPATH:+:$PYTHONPATH}"
fi
_have_redis_plugin
"$PYTHON" -c 'import redis'
