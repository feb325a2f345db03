# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The mdevctl commands vfio_mdev runs for persistent=true, against a recorded command runner."""

from __future__ import annotations

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._mdevctl import ensure_defined
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused

UUID = '0d5bd4e6-8f4b-4b6e-9b61-3f7a3c1c2b10'


class Runner(object):
    """Answers ``mdevctl list`` with ``listed`` and records every command."""

    def __init__(self, listed='', rc=0):
        self.listed = listed
        self.rc = rc
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[1] == 'list':
            return 0, self.listed, ''
        return self.rc, '', 'mdevctl: boom\n'


def spec(state='present'):
    return {'uuid': UUID.upper(), 'parent': 'mtty', 'type': 'mtty-1', 'state': state}


def test_define_when_missing():
    run = Runner()
    define = ['mdevctl', 'define', '--uuid', UUID, '--parent', 'mtty', '--type', 'mtty-1', '--auto']
    assert ensure_defined(run, 'mdevctl', spec(), False) == (True, [define])
    assert run.calls == [['mdevctl', 'list', '--defined', '--uuid', UUID], define]


def test_check_mode_only_lists():
    run = Runner()
    changed, commands = ensure_defined(run, 'mdevctl', spec(), True)
    assert changed and commands[0][1] == 'define'
    assert [argv[1] for argv in run.calls] == ['list']


def test_defined_alike_is_left_alone_and_undefined_on_absent():
    run = Runner('%s mtty mtty-1 auto\n' % UUID)
    assert ensure_defined(run, 'mdevctl', spec(), False) == (False, [])
    assert ensure_defined(run, 'mdevctl', spec('absent'), False) == (True, [['mdevctl', 'undefine', '--uuid', UUID]])
    assert ensure_defined(Runner(), 'mdevctl', spec('absent'), False) == (False, [])


def test_defined_otherwise_or_failing_is_refused():
    with pytest.raises(Refused, match='defines %s with parent mtty and type mtty-2' % UUID):
        ensure_defined(Runner('%s mtty mtty-2 manual\n' % UUID), 'mdevctl', spec(), False)
    with pytest.raises(Refused, match='mdevctl: boom'):
        ensure_defined(Runner(rc=1), 'mdevctl', spec(), False)
