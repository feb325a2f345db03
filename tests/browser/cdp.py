# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small Chrome DevTools Protocol client for Debian's headless chromium.

Starts ``chromium --headless`` on a fresh profile with the DevTools endpoint on a random
loopback port, attaches to its first page over a websocket (``websocket-client``) and
records every console message, uncaught exception, log entry and JavaScript dialog, so a
test can assert that a page rendered cleanly. Nothing is downloaded: the browser is the
system's (``VFIO_CHROMIUM`` or ``/usr/bin/chromium``).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

CHROMIUM_FLAGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-extensions', '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
    '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
]


def chromium_path():
    for candidate in (os.environ.get('VFIO_CHROMIUM'), '/usr/bin/chromium', shutil.which('chromium'),
                      shutil.which('chromium-browser')):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


class Browser(object):
    """One headless chromium process and a CDP session on its first page."""

    def __init__(self, width=1400, height=1000, timeout=30):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='vfio-chromium-')
        self.events = []
        self._id = 0
        binary = chromium_path()
        if binary is None:
            raise RuntimeError('no chromium binary (apt-get install chromium)')
        self.proc = subprocess.Popen(
            [binary] + CHROMIUM_FLAGS + ['--user-data-dir=' + self.profile,
                                         '--window-size=%d,%d' % (width, height), 'about:blank'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = self._wait_port()
            with urllib.request.urlopen('http://127.0.0.1:%d/json/list' % port, timeout=10) as resp:
                targets = json.loads(resp.read().decode('utf-8'))
            page = [t for t in targets if t.get('type') == 'page'][0]
            self.ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=timeout,
                                                  suppress_origin=True)
            for domain in ('Page', 'Runtime', 'Log'):
                self.call(domain + '.enable')
            self.call('Emulation.setDeviceMetricsOverride', width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
        except Exception:
            self.close()
            raise

    def _wait_port(self):
        marker = os.path.join(self.profile, 'DevToolsActivePort')
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('chromium exited with %s' % self.proc.returncode)
            if os.path.exists(marker):
                with open(marker) as handle:
                    first = handle.readline().strip()
                if first.isdigit():
                    return int(first)
            time.sleep(0.1)
        raise RuntimeError('chromium did not open its DevTools port in %ss' % self.timeout)

    def call(self, method, **params):
        """Send one command and return its result; events seen meanwhile are recorded."""
        self._id += 1
        mine = self._id
        self.ws.send(json.dumps({'id': mine, 'method': method, 'params': params}))
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            message = json.loads(self.ws.recv())
            if message.get('id') == mine:
                if 'error' in message:
                    raise RuntimeError('%s: %s' % (method, message['error']))
                return message.get('result', {})
            if 'method' in message:
                self.events.append(message)
        raise RuntimeError('%s: no answer in %ss' % (method, self.timeout))

    def wait_event(self, method, timeout=None):
        for event in self.events:
            if event['method'] == method:
                return event
        deadline = time.time() + (timeout or self.timeout)
        while time.time() < deadline:
            message = json.loads(self.ws.recv())
            if 'method' in message:
                self.events.append(message)
                if message['method'] == method:
                    return message
        raise RuntimeError('no %s event in time' % method)

    def navigate(self, url):
        self.events = [e for e in self.events if e['method'] != 'Page.loadEventFired']
        result = self.call('Page.navigate', url=url)
        if result.get('errorText'):
            raise RuntimeError('navigation failed: %s' % result['errorText'])
        self.wait_event('Page.loadEventFired')

    def evaluate(self, expression):
        result = self.call('Runtime.evaluate', expression=expression, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in result:
            raise RuntimeError('evaluation failed: %s' % result['exceptionDetails'])
        return result['result'].get('value')

    def mouse(self, kind, x, y, **extra):
        self.call('Input.dispatchMouseEvent', type=kind, x=x, y=y, **extra)

    def hover(self, x, y):
        self.mouse('mouseMoved', x, y)

    def click(self, x, y):
        self.mouse('mouseMoved', x, y)
        self.mouse('mousePressed', x, y, button='left', clickCount=1)
        self.mouse('mouseReleased', x, y, button='left', clickCount=1)

    def screenshot(self, path, full_page=True):
        params = {'format': 'png'}
        if full_page:
            size = self.evaluate('[document.documentElement.scrollWidth, document.documentElement.scrollHeight]')
            params.update(captureBeyondViewport=True,
                          clip={'x': 0, 'y': 0, 'width': size[0], 'height': size[1], 'scale': 1})
        data = self.call('Page.captureScreenshot', **params)['data']
        with open(path, 'wb') as handle:
            handle.write(base64.b64decode(data))
        return path

    def problems(self):
        """Console errors/warnings, uncaught exceptions, error log entries and dialogs."""
        found = []
        for event in self.events:
            method, params = event['method'], event.get('params', {})
            if method == 'Runtime.consoleAPICalled' and params.get('type') in ('error', 'warning', 'assert'):
                values = [a.get('value', a.get('description')) for a in params.get('args', [])]
                found.append('console.%s: %s' % (params['type'], values))
            elif method == 'Runtime.exceptionThrown':
                found.append('exception: %s' % params.get('exceptionDetails', {}).get('text'))
            elif method == 'Log.entryAdded' and params.get('entry', {}).get('level') in ('error', 'warning'):
                found.append('log %s: %s' % (params['entry'].get('source'), params['entry'].get('text')))
            elif method == 'Page.javascriptDialogOpening':
                found.append('dialog: %s' % params.get('message'))
        return found

    def close(self):
        try:
            if getattr(self, 'ws', None) is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)
