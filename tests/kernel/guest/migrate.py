#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real VFIO live migrations inside the lane's guest: the outcome the filters must predict.

Usage: migrate.py CASES.json > outcomes.json, where CASES.json is a list of
``{"case", "source", "destination", "options"}`` (device ids: a PCI address or an mdev
uuid; options: appended to both ``-device vfio-pci,...``, may be empty). Per case:
a destination QEMU with ``-incoming unix:...`` on the destination device, a source QEMU on
the source device (both TCG, 16 MiB, no disk, paused with ``-S``, ``-nodefaults``), QMP
``migrate`` on the source, ``query-migrate`` on both until each side ends, then ``cont`` on
the destination (its devices load the state when they leave RESUMING). While both QEMUs
wait, before the migration starts, vfio_facts runs once (``facts-case-<case>.json`` in the
output): the facts the case is judged on see the source device held by the source VM, with
the options its command line gives it. The outcome:

    {"case", "source", "destination", "outcome": "completed" | "failed",
     "stage": "source start" | "destination start" | "migrate" | "source" | "destination" |
              "destination resume" | null,
     "error": QEMU's or the kernel's error text (null on success),
     "total_time_ms", "downtime_ms", "vfio_bytes", "ram_bytes": from the source's query-migrate,
     "wall_s": seconds from the migrate command to both sides finished,
     "kernel": what the mdev driver logged about the stream (mtty's debug lines),
     "state_loaded": whether mtty's destination loaded the state (null: not mtty), "case_s",
     "facts": the facts file's name, null when the module failed (its error in "facts_error")}

Standard library only (the guest has python3 and nothing else).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

QEMU = '/opt/qemu/bin/qemu-system-x86_64'
# vfio_facts as guest.sh runs it (run_module)
FACTS = ['python3', '-m', 'ansible_collections.vfio.migration.plugins.modules.vfio_facts', '/lane/module-args.json']
FACTS_ENV = dict(os.environ, PYTHONPATH='/opt/collections:/opt/ansible')
WORK = '/tmp/mig'
OUT = '/tmp/out'
TIMEOUT = 60
# a source error that only says the destination went away
CHANNEL_ERROR = re.compile(r'Broken pipe|Connection reset|Unable to write to socket|Input/output error')


class QmpError(Exception):
    pass


class Qmp:
    """A QMP client on a unix socket: one command at a time, events skipped."""

    def __init__(self, path, proc, deadline):
        self.sock = None
        while self.sock is None:
            if proc.poll() is not None:
                raise QmpError('QEMU exited with status %d before its monitor answered' % proc.returncode)
            if time.monotonic() > deadline:
                raise QmpError('no QMP monitor at %s' % path)
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(path)
                self.sock = sock
            except OSError:
                sock.close()
                time.sleep(0.2)
        self.sock.settimeout(TIMEOUT)
        self.file = self.sock.makefile('rb')
        self._reply()  # greeting
        self.cmd('qmp_capabilities')

    def _reply(self):
        while True:
            line = self.file.readline()
            if not line:
                raise QmpError('QMP connection closed')
            msg = json.loads(line.decode('utf-8', 'replace'))
            if 'event' not in msg:
                return msg

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({'execute': name, 'arguments': args}).encode() + b'\n')
        msg = self._reply()
        if 'error' in msg:
            raise QmpError(msg['error'].get('desc', str(msg['error'])))
        return msg.get('return')

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def device_arg(ident, options):
    if os.path.exists('/sys/bus/mdev/devices/' + ident):
        arg = 'vfio-pci,sysfsdev=/sys/bus/mdev/devices/' + ident
    else:
        arg = 'vfio-pci,host=' + ident
    return arg + (',' + options if options else '')


def start(name, ident, options, incoming=None):
    qmp = os.path.join(WORK, name + '.qmp')
    if os.path.exists(qmp):
        os.unlink(qmp)
    cmd = [QEMU, '-L', '/opt/qemu/share', '-name', 'guest=' + name, '-machine', 'pc',
           '-accel', 'tcg,tb-size=8', '-m', '16', '-smp', '1', '-nodefaults', '-no-user-config',
           '-display', 'none', '-S', '-qmp', 'unix:%s,server=on,wait=off' % qmp,
           '-device', device_arg(ident, options)]
    if incoming:
        cmd += ['-incoming', incoming]
    log = open(os.path.join(WORK, name + '.log'), 'w')
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc, qmp


class StartError(Exception):
    """(stage, error) of a QEMU that did not come up."""


def launch(procs, name, ident, options, deadline, incoming=None):
    """Start QEMU ``name`` (appended to ``procs`` as [process, qmp]) and connect to its QMP."""
    proc, path = start(name, ident, options, incoming)
    procs.append([proc, None])
    try:
        procs[-1][1] = Qmp(path, proc, deadline)
    except QmpError as exc:
        side = 'destination' if incoming else 'source'
        raise StartError(side + ' start', '%s: %s' % (exc, log_tail(name)))
    return proc, procs[-1][1]


def log_tail(name):
    try:
        with open(os.path.join(WORK, name + '.log')) as f:
            lines = [ln.strip() for ln in f if ln.strip() and 'warning' not in ln]
    except OSError:
        return ''
    errors = [ln for ln in lines if 'error' in ln or 'fail' in ln]
    return ' | '.join((errors or lines)[-3:])


def wait_status(qmp, proc, deadline):
    """The side's final query-migrate, or None when its QEMU exited first."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            info = qmp.cmd('query-migrate')
        except (QmpError, OSError, ValueError):
            if proc.poll() is not None or time.monotonic() > deadline:
                return None
            time.sleep(0.2)
            continue
        if info.get('status') in ('completed', 'failed', 'cancelled'):
            return info
        time.sleep(0.2)
    return {'status': 'timeout'}


def resume(qmp, name):
    """Run the destination VM: its devices leave RESUMING, and only then does a driver load
    the state it was given (mtty_load_state on RESUMING -> STOP). The error QEMU logged
    while doing so, or None."""
    log = os.path.join(WORK, name + '.log')
    seen = os.path.getsize(log)
    try:
        qmp.cmd('cont')
        qmp.cmd('stop')
    except (QmpError, OSError, ValueError) as exc:
        return 'cont: %s' % exc
    with open(log) as f:
        f.seek(seen)
        errors = [ln.strip() for ln in f if 'vfio' in ln or 'rror' in ln or 'ail' in ln]
    return ' | '.join(errors[-3:]) or None


def stop(proc, qmp):
    if qmp is not None:
        try:
            qmp.cmd('quit')
        except (QmpError, OSError, ValueError):
            pass
        qmp.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def gather_facts(case):
    """Run vfio_facts while the case's QEMUs hold their devices: ``{'facts': name}`` or the error."""
    name = 'facts-case-%s.json' % case
    with open(os.path.join(OUT, name), 'w') as out:
        proc = subprocess.run(FACTS, stdout=out, stderr=subprocess.PIPE, env=FACTS_ENV,
                              universal_newlines=True, check=False)
    if proc.returncode != 0:
        return {'facts': None, 'facts_error': 'vfio_facts exited %d: %s' % (
            proc.returncode, ' | '.join(proc.stderr.strip().splitlines()[-3:]))}
    return {'facts': name}


def migrate(case):
    res = dict(case, outcome='failed', stage=None, error=None, total_time_ms=None,
               downtime_ms=None, vfio_bytes=None, ram_bytes=None, wall_s=None)
    sock = os.path.join(WORK, 'stream.sock')
    if os.path.exists(sock):
        os.unlink(sock)
    deadline = time.monotonic() + TIMEOUT
    procs = []
    try:
        try:
            dst, qd = launch(procs, 'mig-dst', case['destination'], case.get('options'), deadline,
                             incoming='unix:' + sock)
            src, qs = launch(procs, 'mig-src', case['source'], case.get('options'), deadline)
        except StartError as exc:
            res.update(stage=exc.args[0], error=exc.args[1])
            return res
        res.update(gather_facts(case['case']))
        t0 = time.monotonic()
        try:
            qs.cmd('migrate', uri='unix:' + sock)
        except QmpError as exc:
            res.update(stage='migrate', error=str(exc))
            return res
        info = wait_status(qs, src, deadline) or {'status': 'exited'}
        ram = info.get('ram') or {}
        res.update(total_time_ms=info.get('total-time'), downtime_ms=info.get('downtime'),
                   vfio_bytes=(info.get('vfio') or {}).get('transferred'),
                   ram_bytes=ram.get('transferred'))
        src_error = None if info['status'] == 'completed' else 'source status %s: %s' % (
            info['status'], info.get('error-desc') or log_tail('mig-src'))
        if src_error and not CHANNEL_ERROR.search(src_error):
            res.update(stage='source', error=src_error, wall_s=round(time.monotonic() - t0, 2))
            return res
        # the destination decides: a stream its kernel rejects ends the source with a broken pipe
        dinfo = wait_status(qd, dst, deadline)
        res['wall_s'] = round(time.monotonic() - t0, 2)
        if dinfo is None or dinfo.get('status') != 'completed':
            status = 'exited with status %s' % dst.returncode if dinfo is None else dinfo['status']
            res.update(stage='destination', error='destination %s: %s' % (
                status, (dinfo or {}).get('error-desc') or log_tail('mig-dst')))
            return res
        if src_error:
            res.update(stage='source', error=src_error)
            return res
        resumed = resume(qd, 'mig-dst')
        res['wall_s'] = round(time.monotonic() - t0, 2)
        if resumed:
            res.update(stage='destination resume', error=resumed)
            return res
        res['outcome'] = 'completed'
        return res
    finally:
        for proc, qmp in reversed(procs):
            stop(proc, qmp)


def kernel_lines(text):
    """What the mdev drivers logged about migration data (mtty's dev_dbg, enabled by guest.sh)."""
    keep = ('validation', 'expected', 'fail', 'error')
    return [line.split('] ', 1)[-1] for line in text.splitlines()
            if 'mtty' in line and any(k in line for k in keep)][:3]


def state_loaded(text, ident):
    """Whether mtty logged the destination leaving RESUMING for STOP, the step on which it
    loads the state (mtty_step_state: 4 -> 1); None when mtty logged nothing about it."""
    steps = [line for line in text.splitlines() if ident in line and 'mtty_step_state' in line]
    return any(line.endswith(': 4 -> 1') for line in steps) if steps else None


def dmesg_clear():
    return subprocess.run(['dmesg', '-c'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True, check=False).stdout


def main():
    os.makedirs(WORK, exist_ok=True)
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    results = []
    for case in cases:
        dmesg_clear()
        t0 = time.monotonic()
        res = migrate(case)
        dmesg = dmesg_clear()
        res['kernel'] = kernel_lines(dmesg)
        res['state_loaded'] = state_loaded(dmesg, case['destination'])
        with open(os.path.join(OUT, 'dmesg-%s.txt' % case['case']), 'w') as f:
            f.write(dmesg)
        res['case_s'] = round(time.monotonic() - t0, 2)
        results.append(res)
        print('NOTE migration %s: %s%s (%.1fs)' % (case['case'], res['outcome'],
              ' at %s: %s' % (res['stage'], res['error']) if res['error'] else '', res['case_s']),
              file=sys.stderr)
        for name in ('mig-src', 'mig-dst'):
            log = os.path.join(WORK, name + '.log')
            if os.path.exists(log):
                os.rename(log, os.path.join(OUT, 'qemu-%s-%s.log' % (case['case'], name[4:])))
    json.dump(results, sys.stdout, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
