#!/usr/bin/env bash
# Every example of the user guide (docs/docsite/rst) runs here against simulated hosts, and does
# what the guide says it does. The examples live in the guides themselves (antsibull-docs
# publishes only the .rst files), each a code block right after a comment naming its file:
#
#   .. example: preflight_fail.yml
#   .. code-block:: yaml
#
#     ---
#     - name: ...
#
# This test writes them to $WORK/examples and runs them from there.
source "$(dirname "$0")/../setup_sim/env.sh"
source ../role_preflight_lib/lib.sh
EXAMPLES=$WORK/examples
HOSTS=(pf-src-ok pf-src-narrow pf-src-blocked pf-dst-old pf-dst-busy pf-dst-new pf-dst-spare pf-dst-nic)
build_hosts "${HOSTS[@]}"
"$PYTHON" "$LIB_DIR/inventory.py" "$WORK/build" "$LIB_DIR/groups.yml" /nonexistent/python3 "${HOSTS[@]}" > "$WORK/down.yml"
INV=$WORK/inventory.yml

# write the guides' examples to $EXAMPLES; every yaml or ini block of a guide is an example
"$PYTHON" - "$COLLECTION_ROOT/docs/docsite/rst" "$EXAMPLES" <<'PY'
import glob, os, re, sys
rst_dir, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
languages = {'.yml': 'yaml', '.cfg': 'ini'}
problems, written = [], set()
for path in sorted(glob.glob(os.path.join(rst_dir, '*.rst'))):
    lines = open(path).read().split('\n')
    for i, line in enumerate(lines):
        where = '%s:%d' % (os.path.basename(path), i + 1)
        if 'literalinclude' in line or '../examples' in line:
            problems.append('%s: an example outside the guide, which antsibull-docs does not publish' % where)
        block = re.match(r'\.\. code-block:: *(yaml|ini)\s*$', line)
        if block and not (i and re.match(r'\.\. example: ', lines[i - 1])):
            problems.append('%s: a %s block with no ".. example: FILE" right before it' % (where, block.group(1)))
        marker = re.match(r'\.\. example: *(\S+)\s*$', line)
        if not marker:
            continue
        name = marker.group(1)
        language = languages.get(os.path.splitext(name)[1], '(.yml or .cfg file)')
        following = lines[i + 1] if i + 1 < len(lines) else ''
        if not re.match(r'\.\. code-block:: *%s\s*$' % re.escape(language), following):
            problems.append('%s: %s is not followed by ".. code-block:: %s"' % (where, name, language))
            continue
        if name in written or '/' in name:
            problems.append('%s: %s is not a new file name' % (where, name))
            continue
        j = i + 2
        while j < len(lines) and re.match(r'\s+:[\w-]+:', lines[j]):
            j += 1  # options of the code block
        body = []
        while j < len(lines) and (not lines[j].strip() or lines[j][:1].isspace()):
            body.append(lines[j])
            j += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if not body:
            problems.append('%s: the block of %s is empty' % (where, name))
            continue
        indent = min(len(b) - len(b.lstrip()) for b in body if b.strip())
        with open(os.path.join(out, name), 'w') as f:
            f.write(''.join(b[indent:] + '\n' for b in body))
        written.add(name)
assert not problems, '\n'.join(problems)
PY
# every example in the guides is one of the files run below, and each of those is in a guide
printf '%s\n' ansible.cfg drain_for_maintenance.yml fill_fact_cache.yml fleet_report.yml preflight_fail.yml \
  preflight_from_cache.yml preflight_select.yml preflight_with_rules.yml site_rules.yml > "$WORK/examples.run"
find "$EXAMPLES" -mindepth 1 -printf '%f\n' | LC_ALL=C sort | diff -u "$WORK/examples.run" - \
  || { echo "the examples in the guides (+) differ from the ones this test runs (-)" >&2; exit 1; }

# the guides name every role variable, and no variable that a role does not have
"$PYTHON" - "$COLLECTION_ROOT" <<'PY'
import glob, os, re, sys
import yaml
root = sys.argv[1]
text = ''.join(open(f).read() for f in glob.glob(os.path.join(root, 'docs/docsite/rst/*.rst')))
facts = {'vfio_report', 'vfio_preflight_result', 'vfio_preflight_selection', 'vfio_preflight_plan',
         'vfio_preflight_drain'}
problems = []
for role, prefix in (('report', 'vfio_report_'), ('preflight', 'vfio_preflight_')):
    spec = yaml.safe_load(open(os.path.join(root, 'roles', role, 'meta/argument_specs.yml')))
    options = set(spec['argument_specs']['main']['options'])
    problems += ['%s is not in the guide' % o for o in sorted(options) if o not in text]
    named = set(re.findall(r'\b%s[a-z_]+' % prefix, text)) - facts
    problems += ['the guide names %s, which the %s role does not have' % (n, role) for n in sorted(named - options)]
assert not problems, '\n'.join(problems)
PY

# preflight_fail.yml: the blocked host fails with its table, the others reach the migration play
run_play "$WORK/fail.out" -i "$INV" "$EXAMPLES/preflight_fail.yml"
expect_rc "$WORK/fail.out" 2 "preflight_fail.yml"
expect "$WORK/fail.out" "pf-src-blocked: no candidate destination can take all 3 device(s) at once (tried: pf-dst-old, pf-dst-busy, pf-dst-new, pf-dst-spare, pf-dst-nic)"
expect "$WORK/fail.out" "pf-src-ok: all 2 device(s) fit on pf-dst-new"
expect "$WORK/fail.out" "pf-src-narrow: all 1 device(s) fit on pf-dst-nic"

# preflight_select.yml (dry run): one line per device, with the action to take
run_play "$WORK/select.out" -i "$INV" "$EXAMPLES/preflight_select.yml"
expect_rc "$WORK/select.out" 2 "preflight_select.yml"
expect_line "$WORK/select.out" "web-01: [0-9a-f-]{36} -> pf-dst-new 0000:3b:00\.0 \(create_mdev nvidia-230\)"
expect_line "$WORK/select.out" "nic-01: 0000:5e:00\.2 -> pf-dst-nic 0000:5e:00\.[2-5] \(use pci-15b3:101e:15b3:0083\)"
expect_not "$WORK/select.out" "changed: ["

# preflight_select.yml for real, under --check: the role would create both vGPUs on pf-dst-new
# (vfio_preflight_prepare), the migration commands are skipped, and no tree changes
run_play "$WORK/select-check.out" -i "$INV" "$EXAMPLES/preflight_select.yml" -e '{"dry_run": false}' --check
expect_rc "$WORK/select-check.out" 2 "preflight_select.yml --check"
for vm in web-01 web-02; do
  expect_line "$WORK/select-check.out" "^changed: .*pf-dst-new: mdev [0-9a-f-]{36} of type nvidia-230 on 0000:3b:00\.0 \(VM $vm from pf-src-ok\)"
done
# the simulated create files are empty until something writes a UUID to them
[ -z "$(find "$WORK/build" -name create -size +0)" ] || { echo "--check wrote a UUID" >&2; exit 1; }

# drain_for_maintenance.yml (dry run): the planned order, then the blocked host
run_play "$WORK/drain.out" -i "$INV" "$EXAMPLES/drain_for_maintenance.yml"
expect_rc "$WORK/drain.out" 0 "drain_for_maintenance.yml"
grep -oE '"wave [0-9]+: [a-z0-9-]+ -> [a-z0-9-]+"' "$WORK/drain.out" > "$WORK/drain.moves"
printf '"wave 1: nic-01 -> pf-dst-nic"\n"wave 2: web-01 -> pf-dst-new"\n"wave 2: web-02 -> pf-dst-new"\n' \
  | diff -u - "$WORK/drain.moves"
expect "$WORK/drain.out" "pf-src-blocked cannot be drained"

# ansible.cfg + fill_fact_cache.yml: the cache gets every hypervisor
export ANSIBLE_CONFIG=$EXAMPLES/ansible.cfg ANSIBLE_CACHE_PLUGIN_CONNECTION=$WORK/cache
run_play "$WORK/fill.out" -i "$INV" "$EXAMPLES/fill_fact_cache.yml"
expect_rc "$WORK/fill.out" 0
[ "$(find "$WORK/cache" -type f | wc -l)" -eq ${#HOSTS[@]} ] || { ls -l "$WORK/cache"; echo "cache not filled" >&2; exit 1; }

# preflight_from_cache.yml and fleet_report.yml: no tree, no Python on the hosts
rm -rf "$WORK/build"
run_play "$WORK/cached.out" -i "$WORK/down.yml" "$EXAMPLES/preflight_from_cache.yml"
expect_rc "$WORK/cached.out" 2 "preflight_from_cache.yml"
expect "$WORK/cached.out" "pf-src-blocked: no candidate destination can take all 3 device(s) at once"
expect_not "$WORK/cached.out" "pf-src-ok: no candidate destination"
expect_not "$WORK/cached.out" "/nonexistent/python3"

run_play "$WORK/report.out" -i "$WORK/down.yml" "$EXAMPLES/fleet_report.yml" -e vfio_report_dir="$WORK/report"
expect_rc "$WORK/report.out" 0 "fleet_report.yml"
for ext in json csv md html; do [ -s "$WORK/report/vfio-report.$ext" ] || { echo "no vfio-report.$ext" >&2; exit 1; }; done
"$PYTHON" - "$WORK/report/vfio-report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
hosts = sorted(h['name'] for h in report['hosts'])
assert hosts == sorted(['pf-src-ok', 'pf-src-narrow', 'pf-src-blocked', 'pf-dst-old', 'pf-dst-busy',
                        'pf-dst-new', 'pf-dst-spare', 'pf-dst-nic']), hosts
PY
expect_not "$WORK/report.out" "/nonexistent/python3"
unset ANSIBLE_CONFIG ANSIBLE_CACHE_PLUGIN_CONNECTION

# site_rules.yml + preflight_with_rules.yml: the site rule refuses the 550.54.16 destination
build_hosts "${HOSTS[@]}"
run_play "$WORK/rules.out" -i "$INV" "$EXAMPLES/preflight_with_rules.yml"
expect_rc "$WORK/rules.out" 2 "preflight_with_rules.yml"
expect_line "$WORK/rules.out" "pf-dst-new .*site policy: vGPU VMs move only to hosts with NVIDIA driver 550\.90\.07 or later of the 550 branch, this destination runs 550\.54\.16"
expect "$WORK/rules.out" "pf-src-ok: no candidate destination can take all 2 device(s) at once"
expect_not "$WORK/rules.out" "pf-src-narrow: no candidate destination"

echo "role_preflight_docs: every example ran as documented"
