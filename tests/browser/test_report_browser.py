# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTML report in a real headless chromium (Debian's package), driven over CDP.

The report is made by a real ``ansible-playbook`` run of the ``vfio.migration.report`` role
over the simulated fleet (facts gathered from each host's tree), then opened from disk.
Artifacts land in ``tests/output/browser/`` (the page, its JSON twin and screenshots);
``VFIO_UPDATE_SCREENSHOT=1`` also refreshes ``docs/images/report.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cdp import Browser, chromium_path  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(os.environ.get('VFIO_TEST_OUTPUT', os.path.join(ROOT, 'tests', 'output')), 'browser')
TARGET = os.path.join(ROOT, 'tests', 'integration', 'targets', 'role_report')

# From tests/sim/hosts: t4-a's vGPUs cannot go to t4-b (NVIDIA host driver 550.54.16 vs
# 535.161.07); cx6-b's VM on an mlx5_vfio_pci VF fits on cx6-a.
KNOWN_BAD = ('t4-a', 't4-b')
KNOWN_BAD_REASON = 'NVIDIA vGPU migrates only between identical host driver versions'
KNOWN_GOOD = ('cx6-b', 'cx6-a')
# t4-a is full like t4-c, its twin; t4-d has the same offer and a free GPU: the place to go instead.
KNOWN_INSTEAD = (('t4-a', 't4-c'), ('t4-a', 't4-d'))


def _collections_path():
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ['ansible_collections', 'vfio']:
        return os.sep.join(parts[:-3])
    tmp = tempfile.mkdtemp(prefix='vfio-collections-')
    os.makedirs(os.path.join(tmp, 'ansible_collections', 'vfio'))
    os.symlink(ROOT, os.path.join(tmp, 'ansible_collections', 'vfio', 'migration'))
    return tmp


@pytest.fixture(scope='module')
def report():
    if chromium_path() is None:
        pytest.fail('chromium is not installed (apt-get install chromium)')
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='False')
    env['ANSIBLE_COLLECTIONS_PATH'] = _collections_path() + (
        ':' + env['ANSIBLE_COLLECTIONS_PATH'] if env.get('ANSIBLE_COLLECTIONS_PATH') else '')
    inventory = subprocess.run(
        [sys.executable, os.path.join(TARGET, 'files', 'sim_inventory.py'), ROOT, OUT],
        check=True, stdout=subprocess.PIPE, universal_newlines=True, env=env).stdout.strip()
    run = subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(TARGET, 'report.yml'),
                          '-e', 'report_dir=' + OUT], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    with open(os.path.join(OUT, 'ansible-playbook.log'), 'w') as handle:
        handle.write(run.stdout)
    assert run.returncode == 0, run.stdout[-3000:]
    with open(os.path.join(OUT, 'vfio-report.json')) as handle:
        model = json.load(handle)
    browser = Browser(width=1400, height=1000)
    try:
        browser.call('Page.addScriptToEvaluateOnNewDocument',
                     source='window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };')
        browser.navigate('file://' + os.path.join(OUT, 'vfio-report.html'))
        yield browser, model
    finally:
        browser.close()


def cell_center(browser, source, destination):
    return browser.evaluate(
        """(function (s, d) {
             var cells = document.querySelectorAll('td.cell');
             for (var i = 0; i < cells.length; i++) {
               if (cells[i].getAttribute('data-src') === s && cells[i].getAttribute('data-dst') === d) {
                 cells[i].scrollIntoView({block: 'center', inline: 'center'});
                 var r = cells[i].getBoundingClientRect();
                 return [r.left + r.width / 2, r.top + r.height / 2];
               }
             }
             return null;
           })(%s, %s)""" % (json.dumps(source), json.dumps(destination)))


def pair(model, source, destination):
    return [p for p in model['pairs'] if (p['source'], p['destination']) == (source, destination)][0]


def test_page_renders_without_console_errors(report):
    browser, model = report
    assert browser.evaluate('document.readyState') == 'complete'
    assert browser.evaluate("document.querySelector('h1').textContent") == 'VFIO live-migration compatibility report'
    assert browser.problems() == []
    assert browser.evaluate('window.__alerts') == []


def test_matrix_has_a_cell_per_host_pair_with_the_json_verdict(report):
    browser, model = report
    cells = browser.evaluate(
        "[].map.call(document.querySelectorAll('#host-matrix td.cell'),"
        " function (c) { return [c.getAttribute('data-src'), c.getAttribute('data-dst'), c.className]; })")
    names = [h['name'] for h in model['hosts']]
    assert names and len(cells) == len(names) ** 2
    verdicts = dict(((p['source'], p['destination']), p['compatible']) for p in model['pairs'])
    for source, destination, css in cells:
        if source == destination:
            assert 'self' in css
        else:
            assert ('ok' if verdicts[(source, destination)] else 'bad') in css.split(), (source, destination)
    assert pair(model, *KNOWN_GOOD)['compatible'] is True
    assert pair(model, *KNOWN_BAD)['compatible'] is False
    full, instead = KNOWN_INSTEAD
    assert pair(model, *full)['compatible'] is False
    assert pair(model, *instead)['compatible'] is True
    css = dict(((source, destination), c) for source, destination, c in cells)
    assert 'bad' in css[full].split() and 'ok' in css[instead].split()


def test_hover_shows_the_reasons_of_an_incompatible_pair(report):
    browser, model = report
    x, y = cell_center(browser, *KNOWN_BAD)
    browser.hover(x, y)
    assert browser.evaluate("document.getElementById('detail-title').textContent") == '%s \u2192 %s' % KNOWN_BAD
    shown = browser.evaluate("document.getElementById('detail-reasons').innerText")
    reasons = pair(model, *KNOWN_BAD)['reasons']
    assert reasons
    for reason in reasons:
        assert reason in shown


def test_click_pins_the_reasons_and_saves_a_screenshot(report):
    browser, model = report
    x, y = cell_center(browser, *KNOWN_BAD)
    browser.click(x, y)
    assert browser.evaluate("document.getElementById('detail-verdict').textContent") == 'incompatible'
    expected = pair(model, *KNOWN_BAD)['reasons']
    assert expected
    items = browser.evaluate("[].map.call(document.querySelectorAll('#detail-reasons li'), function (l) { return l.textContent; })")
    assert items == expected
    assert any(KNOWN_BAD_REASON in item for item in items)
    # moving over a compatible cell does not replace the pinned reasons
    gx, gy = cell_center(browser, *KNOWN_GOOD)
    browser.hover(gx, gy)
    assert browser.evaluate("document.getElementById('detail-title').textContent") == '%s \u2192 %s' % KNOWN_BAD
    browser.call('Runtime.evaluate', expression='window.scrollTo(0, 0)')
    shot = browser.screenshot(os.path.join(OUT, 'report-clicked.png'), full_page=False)
    assert os.path.getsize(shot) > 10000
    browser.screenshot(os.path.join(OUT, 'report-full.png'), full_page=True)
    if os.environ.get('VFIO_UPDATE_SCREENSHOT'):
        shutil.copy(shot, os.path.join(ROOT, 'docs', 'images', 'report.png'))
    assert browser.problems() == []


def test_hostile_strings_stay_text(report):
    browser, model = report
    hostile = [h['name'] for h in model['hosts'] if '<' in h['name'] or any(
        '<' in (d['id'] or '') + (d['type'] or '') + ((d['in_use'] or {}).get('vm') or '') for d in h['devices'])]
    assert hostile, 'the simulated fleet should have a hostile host'
    assert browser.evaluate('document.scripts.length') == 1
    assert browser.evaluate("document.querySelectorAll('script[src], link, img, iframe, object, embed').length") == 0
    texts = browser.evaluate("document.body.textContent")
    assert '<script>alert(1)</script>' in texts  # shown as text, not run
    assert '</td></tr></table><img src=x onerror=alert(2)>' in texts
    assert browser.evaluate('window.__alerts') == []
    assert browser.problems() == []
