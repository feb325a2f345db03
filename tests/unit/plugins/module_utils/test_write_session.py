# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_write_session: a write module's roots, writer and holders set up from its options; how it reports."""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused
from ansible_collections.vfio.migration.plugins.module_utils._write_session import ROOT_OPTIONS, run


def _params(host, **extra):
    params = dict((name, spec['default']) for name, spec in ROOT_OPTIONS.items())
    params.update(sysfs_root=host.sys, proc_root=host.proc, dev_root=host.dev, verify=False, **extra)
    return params


def test_a_result_carries_the_writes_and_the_diff(host):
    def ensure(reader, writer, holders, params, verify):
        assert verify is False and holders.of(reader.path('devices')) is None
        writer.write(reader.path('devices'), 'attr', params['value'])
        return {'changed': True, 'before': {'v': None}, 'after': {'v': params['value']}}
    ok, result, warnings = run(_params(host, value='1'), True, True, ensure)
    assert ok and warnings == []
    assert result['writes'] == [{'path': '/sys/devices/attr', 'value': '1'}]
    assert result['diff'] == {'before': {'v': None}, 'after': {'v': '1'}}


def test_a_refusal_is_a_message_with_the_writes_so_far(host):
    def ensure(reader, writer, holders, params, verify):
        raise Refused('no, because')
    ok, result, _warnings = run(_params(host), False, False, ensure)
    assert not ok and result == {'msg': 'no, because', 'writes': []}


def test_a_missing_root_is_reported(tmp_path):
    params = dict((name, spec['default']) for name, spec in ROOT_OPTIONS.items())
    params.update(sysfs_root=str(tmp_path / 'none'), proc_root=str(tmp_path), dev_root=str(tmp_path))
    ok, result, _warnings = run(params, False, False, None)
    assert not ok and result['writes'] == [] and result['msg']
