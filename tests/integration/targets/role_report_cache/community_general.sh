# Sourced: makes community.general (for its redis cache plugin) and the redis Python client
# importable. Galaxy is not reachable here, so community.general comes out of PyPI's
# `ansible` package (only that collection is unpacked), and redis from PyPI, both into a
# cache directory that later runs reuse. Nothing is installed into the running Python.
_cache=${VFIO_TEST_CACHE:-$COLLECTION_ROOT/tests/output/.cache}
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
  if [ ! -f "$_cache/collections/ansible_collections/community/general/plugins/cache/redis.py" ]; then
    _wheel_dir=$(mktemp -d "$_cache/wheel.XXXXXX")
    "$PYTHON" -m pip download --quiet --no-deps -d "$_wheel_dir" "ansible==${VFIO_ANSIBLE_PACKAGE_VERSION:-12.3.0}"
    "$PYTHON" - "$_wheel_dir"/ansible-*.whl "$_cache/collections" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in wheel.namelist():
        if name.startswith('ansible_collections/community/general/'):
            wheel.extract(name, sys.argv[2])
PY
    rm -rf "$_wheel_dir"
  fi
  export ANSIBLE_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH:$_cache/collections"
fi
if ! "$PYTHON" -c 'import redis' 2>/dev/null; then
  if [ ! -d "$_cache/pylib/redis" ]; then
    "$PYTHON" -m pip install --quiet --target "$_cache/pylib" redis
  fi
  export PYTHONPATH="$_cache/pylib${PYTHONPATH:+:$PYTHONPATH}"
fi
_have_redis_plugin
"$PYTHON" -c 'import redis'
