#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Predict every real migration of the kernel lane with the collection's filters, and compare.

The guest (guest/migrate.py) migrated a paused QEMU VM per case and recorded what QEMU and
the kernel did; right before, the module gathered the guest's facts (facts-migrate.json).
This runs the ``vfio.migration.compatible`` and ``migration_check`` filters on those facts,
source device against destination device, and checks per case:

- the real outcome is the one the case exists to show (``EXPECTED``; else the lane's setup
  is broken, not the collection);
- the verdict equals the real outcome, and for a refusal the first reason names the same
  cause as QEMU's or the kernel's error (``cause_of_reason`` vs ``cause_of_error``);
- a completed migration moved exactly the device-state bytes ``migration.state_size``
  predicted, when the facts predict it, and (mtty) the destination's driver loaded them.

Known disagreements (``KNOWN_GAPS``) are reported, not failed, as long as they stay exactly
as recorded; a gap that closes fails the run until it is removed here.

Usage (lane.py runs it with a Python that has ansible-core, jmespath and packaging):

    groundtruth.py OUT.md "QEMU VERSION" SERIES=RELEASE=FACTS.json=OUTCOMES.json ...

prints ``{"rows": [...], "problems": [...]}`` as JSON and writes the matrix to OUT.md.
"""

import atexit
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The outcome each case must have on each series ('completed' or 'failed').
EXPECTED = {
    'mtty-1_to_mtty-1': {'6.1': 'failed', '6.12': 'completed'},
    'mtty-2_to_mtty-2': {'6.1': 'failed', '6.12': 'completed'},
    'mtty-1_to_mtty-2': {'6.12': 'failed'},
    'mtty-2_to_mtty-1': {'6.12': 'failed'},
    'mtty-1_to_mtty-1_qemu-defaults': {'6.12': 'failed'},
    'mtty-1_to_mtty-1_no-device-tracking': {'6.12': 'failed'},
    'mdpy-xga_to_mdpy-xga': {'6.12': 'failed'},
    'mbochs-medium_to_mbochs-medium': {'6.12': 'failed'},
    'nvme-vf_to_nvme-vf': {'6.12': 'failed'},
    'igb-vf_to_igb-vf': {'6.12': 'failed'},
}

# Cases where the filters and reality disagree for a reason the facts cannot see yet:
# case -> (the real cause, the explanation printed in the matrix).
KNOWN_GAPS = {}

# The cause a reason's rule names.
RULE_CAUSES = {
    'source_migration_capable': 'no migration support',
    'destination_migration_capable': 'no migration support',
    'type': 'device type',
    'device_dirty_tracking_report': 'dirty tracking',
    'dirty_tracking_blocker': 'dirty tracking blocker',
}

# The cause an error names: QEMU's migration blocker for a device without VFIO migration
# (hw/vfio/migration.c), the destination failing to load the vfio section because its
# device rejected the stream (mtty: port count in the header, samples/vfio-mdev/mtty.c
# mtty_resume_write), a failed dirty-page report.
ERROR_CAUSES = (
    (re.compile(r'VFIO migration is not supported in kernel'), 'no migration support'),
    (re.compile(r'error while loading state section id \d+\([^)]*/vfio\)'), 'device type'),
    (re.compile(r'DMA logging report|ram_save_setup failed'), 'dirty tracking'),
    (re.compile(r"doesn't support device (and IOMMU )?dirty tracking"), 'dirty tracking blocker'),
)


def cause_of_reason(reason):
    return RULE_CAUSES.get((reason or {}).get('rule'), 'rule %s' % (reason or {}).get('rule'))


def cause_of_error(error):
    for rx, cause in ERROR_CAUSES:
        if error and rx.search(error):
            return cause
    return 'unrecognised error'


def _filters():
    """The two filters as Ansible calls them, from this checkout (linked into a temporary
    ansible_collections tree, removed at exit)."""
    root = tempfile.mkdtemp(prefix='vfio-lane-collections-')
    atexit.register(shutil.rmtree, root, True)
    os.makedirs(os.path.join(root, 'ansible_collections', 'vfio'))
    os.symlink(REPO, os.path.join(root, 'ansible_collections', 'vfio', 'migration'))
    sys.path.insert(0, root)
    from ansible_collections.vfio.migration.plugins.filter.compatible import compatible
    from ansible_collections.vfio.migration.plugins.filter.migration_check import migration_check
    return compatible, migration_check


def destination_facts(facts, device):
    """The destination host as this case sees it: only the destination device, free."""
    dst = dict(facts)
    dst['devices'] = [dict(device, in_use=None)]
    dst['mdev_types'] = []
    dst['sriov'] = []
    return dst


def predict(facts, case, filters):
    compatible, migration_check = filters
    devices = dict((d['id'], d) for d in facts['devices'])
    src, dst = devices.get(case['source']), devices.get(case['destination'])
    if src is None or dst is None:
        return None, 'device missing from the facts (%s -> %s)' % (case['source'], case['destination'])
    verdict = compatible(src, dst)
    check = migration_check(facts, destination_facts(facts, dst), devices=[src['id']])
    if check['compatible'] != verdict['compatible']:
        return None, 'compatible says %s, migration_check says %s' % (verdict, check)
    reasons = verdict['reasons']
    if not check['compatible'] and reasons[0]['rule'] != check['unplaced'][0]['reasons'][0]['rule']:
        return None, 'compatible and migration_check give different first reasons: %s / %s' % (
            reasons[0], check['unplaced'][0]['reasons'][0])
    return {'compatible': verdict['compatible'], 'reason': reasons[0] if reasons else None,
            'source': src, 'destination': dst}, None


def judge(series, outcome, prediction):
    """(agreement, problems) of one case."""
    case = outcome['case']
    problems = []
    want = EXPECTED.get(case, {}).get(series)
    if want is None:
        problems.append('no expected outcome for case %s on %s' % (case, series))
    elif outcome['outcome'] != want:
        problems.append('the real migration %s but the case exists to show %s (lane setup?): %s'
                        % (outcome['outcome'], want, outcome['error']))
    real_ok = outcome['outcome'] == 'completed'
    if real_ok and outcome.get('state_loaded') is False:
        problems.append('QEMU completed, but the destination device never left RESUMING: '
                        'its driver did not load the state')
    gap = KNOWN_GAPS.get(case)
    if prediction['compatible'] != real_ok:
        if gap and not real_ok and cause_of_error(outcome['error']) == gap[0]:
            return 'known gap', problems
        problems.append('verdict %s, real migration %s: %s' % (
            'compatible' if prediction['compatible'] else 'refused', outcome['outcome'],
            (prediction['reason'] or {}).get('message') or outcome['error']))
        return 'NO', problems
    if gap:
        problems.append('known gap %s closed: the verdict now matches; remove it from KNOWN_GAPS' % case)
    if not real_ok:
        ours, theirs = cause_of_reason(prediction['reason']), cause_of_error(outcome['error'])
        if ours != theirs:
            problems.append('refused for %s, but QEMU/kernel failed for %s: %s' % (ours, theirs, outcome['error']))
            return 'NO (cause)', problems
    expected_size = (prediction['source'].get('migration') or {}).get('state_size')
    if real_ok and expected_size is not None and outcome['vfio_bytes'] != expected_size:
        problems.append('device state: QEMU moved %s bytes, migration.state_size says %s'
                        % (outcome['vfio_bytes'], expected_size))
        return 'NO (state size)', problems
    return 'yes', problems


def _cell(text, limit=160):
    text = ' '.join(str(text).split()).replace('|', '\\|')
    return text if len(text) <= limit else text[:limit - 3] + '...'


def row_markdown(row):
    reason = row['reason']
    verdict = 'compatible' if row['compatible'] else 'refused: %s (%s)' % (
        reason['rule'], reason['message']) if reason else '?'
    real = row['outcome']
    if row.get('state_loaded'):
        real += ' (the destination driver loaded the state: RESUMING -> STOP)'
    if row['error']:
        real += ' at %s: %s' % (row['stage'], row['error'].replace('qemu-system-x86_64: ', ''))
    kernel = '; '.join(re.sub(r'[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>', k) for k in row['kernel']) or '-'
    devices = '%s -> %s%s' % (row['source_type'], row['destination_type'],
                              ' (%s)' % row['options'] if row.get('options') else '')
    size = '-' if row['state_size'] is None else str(row['state_size'])
    moved = '-' if row['vfio_bytes'] is None else str(row['vfio_bytes'])
    time_ = '-' if row['total_time_ms'] is None else '%s ms' % row['total_time_ms']
    return '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
        row['series'], row['case'], _cell(devices), _cell(verdict, 200), _cell(real, 200), _cell(kernel),
        row['agree'], time_, moved, size, '%.1f s' % row['case_s'])


def markdown(rows, kernels, qemu):
    lines = [
        '# Ground truth: predicted and real VFIO live migrations',
        '',
        'Written by the kernel lane (`make test-kernel`, tests/kernel/groundtruth.py); do not edit.',
        'Each case migrates a paused QEMU VM (TCG, 16 MiB, no disk, `-S`) with one device from a',
        'source QEMU to a destination QEMU started with `-incoming`, inside the lane\'s guest, and',
        'compares the real outcome with `vfio.migration.compatible` / `migration_check` on',
        'vfio_facts gathered in the same guest while both QEMUs of the case hold their devices',
        '(the source device in use by the source VM, with its options; destination: only the',
        'destination device).',
        '',
        'Kernels: %s. QEMU inside the guest: %s. Migration time is QEMU\'s `total-time`, device' % (
            ', '.join(kernels), qemu),
        'state moved its `vfio.transferred`; the case wall time includes starting both QEMUs under',
        'emulation (TCG inside TCG on a 2-core machine shared with other jobs).',
        '',
        '| kernel | case | devices (vfio-pci options) | our verdict, first reason | real outcome, error | '
        'kernel log | agree | migration time | device state moved (bytes) | migration.state_size | '
        'case wall time |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    lines += [row_markdown(r) for r in rows]
    gaps = sorted(set(r['case'] for r in rows if r['agree'] == 'known gap'))
    if gaps:
        lines += ['', 'Known gaps (the facts cannot see the cause yet):', '']
        lines += ['- `%s`: %s' % (case, KNOWN_GAPS[case][1]) for case in gaps]
    return '\n'.join(lines) + '\n'


def facts_of_case(outcome, directory, fallback):
    """(facts, error): the facts migrate.py gathered while the case's QEMUs ran, else ``fallback``
    (an outcome without a ``facts`` key: its QEMUs never started)."""
    never_started = outcome.get('stage') in ('source start', 'destination start')
    if 'facts' not in outcome or (outcome['facts'] is None and never_started):
        return fallback, None
    if outcome['facts'] is None:
        return None, outcome.get('facts_error') or 'no facts gathered during the case'
    try:
        with open(os.path.join(directory, os.path.basename(outcome['facts']))) as f:
            return json.load(f)['ansible_facts']['vfio'], None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, 'facts of the case unreadable: %s' % exc


def evaluate(specs):
    filters = _filters()
    rows, problems, kernels = [], [], []
    for spec in specs:
        series, release, facts_path, outcomes_path = spec.split('=', 3)
        kernels.append('%s (%s)' % (series, release))
        with open(facts_path) as f:
            facts = json.load(f)['ansible_facts']['vfio']
        with open(outcomes_path) as f:
            outcomes = json.load(f)
        if not outcomes:
            problems.append('%s all: no migration cases ran' % series)
        for outcome in outcomes:
            case_facts, error = facts_of_case(outcome, os.path.dirname(outcomes_path), facts)
            if error:
                problems.append('%s %s: %s' % (series, outcome['case'], error))
                continue
            prediction, error = predict(case_facts, outcome, filters)
            if error:
                problems.append('%s %s: %s' % (series, outcome['case'], error))
                continue
            agree, found = judge(series, outcome, prediction)
            problems += ['%s %s: %s' % (series, outcome['case'], p) for p in found]
            rows.append(dict(outcome, series=series, agree=agree, compatible=prediction['compatible'],
                             reason=prediction['reason'], source_type=prediction['source']['type'],
                             destination_type=prediction['destination']['type'],
                             state_size=(prediction['source'].get('migration') or {}).get('state_size')))
    return rows, problems, kernels


def main(argv):
    out, qemu, specs = argv[1], argv[2], argv[3:]
    rows, problems, kernels = evaluate(specs)
    with open(out, 'w') as f:
        f.write(markdown(rows, kernels, qemu))
    json.dump({'rows': rows, 'problems': problems}, sys.stdout, indent=1, sort_keys=True, default=str)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
