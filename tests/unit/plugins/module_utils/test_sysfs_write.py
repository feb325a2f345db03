# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The contained writer: what it writes, and everything it refuses to write."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vfio.migration.plugins.module_utils._sysfs import Reader
from ansible_collections.vfio.migration.plugins.module_utils._sysfs_write import Refused, Writer


def _tree(tmp_path):
    """``root/sys/devices/d/{attr, link_out -> outside file}``, ``root/sys/bus/d -> ../devices/d``, ``outside/secret``."""
    root = tmp_path / 'sys'
    (root / 'devices' / 'd').mkdir(parents=True)
    (root / 'devices' / 'd' / 'attr').write_text('old-longer-value\n')
    (root / 'bus').mkdir()
    os.symlink('../devices/d', str(root / 'bus' / 'd'))
    (tmp_path / 'outside').mkdir()
    (tmp_path / 'outside' / 'secret').write_text('keep\n')
    os.symlink('../../../outside/secret', str(root / 'devices' / 'd' / 'link_out'))
    os.symlink('../../outside', str(root / 'bus' / 'out'))
    return Reader(str(root), '/sys'), root


def test_writes_the_value_alone_and_records_it(tmp_path):
    reader, root = _tree(tmp_path)
    writer = Writer(reader)
    directory = reader.resolve(reader.path('bus', 'd'))
    writer.write(directory, 'attr', 'new')
    assert (root / 'devices' / 'd' / 'attr').read_text() == 'new'
    assert writer.writes == [{'path': '/sys/devices/d/attr', 'value': 'new'}]


def test_shown_path_is_reported_as_given(tmp_path):
    reader, root = _tree(tmp_path)
    writer = Writer(reader)
    writer.write(reader.resolve(reader.path('bus', 'd')), 'attr', '1', shown='/sys/bus/d/attr')
    assert writer.writes == [{'path': '/sys/bus/d/attr', 'value': '1'}]
    assert (root / 'devices' / 'd' / 'attr').read_text() == '1'


def test_check_mode_records_and_writes_nothing(tmp_path):
    reader, root = _tree(tmp_path)
    writer = Writer(reader, check_mode=True)
    writer.write(reader.resolve(reader.path('devices', 'd')), 'attr', 'new')
    assert (root / 'devices' / 'd' / 'attr').read_text() == 'old-longer-value\n'
    assert writer.writes == [{'path': '/sys/devices/d/attr', 'value': 'new'}]


def test_a_symlink_in_place_of_the_attribute_is_not_followed(tmp_path):
    reader, _root = _tree(tmp_path)
    writer = Writer(reader)
    with pytest.raises(Refused, match='symbolic link'):
        writer.write(reader.resolve(reader.path('devices', 'd')), 'link_out', 'x')
    assert (tmp_path / 'outside' / 'secret').read_text() == 'keep\n'


def test_a_missing_attribute_is_never_created(tmp_path):
    reader, root = _tree(tmp_path)
    writer = Writer(reader)
    with pytest.raises(Refused, match='No such file'):
        writer.write(reader.resolve(reader.path('devices', 'd')), 'new_file', 'x')
    assert not (root / 'devices' / 'd' / 'new_file').exists()


@pytest.mark.parametrize('directory, name', [
    ('{outside}', 'secret'),              # a directory outside the root
    ('{root}/bus/out', 'secret'),         # a link out of the root, unresolved
    ('{root}/devices/d', '../../../outside/secret'),
    ('{root}/devices/d/..', 'd'),
])
def test_nothing_outside_the_root(tmp_path, directory, name):
    reader, root = _tree(tmp_path)
    writer = Writer(reader)
    with pytest.raises(Refused, match='outside of /sys, not written'):
        writer.write(directory.format(outside=str(tmp_path / 'outside'), root=reader.root), name, 'x')
    assert (tmp_path / 'outside' / 'secret').read_text() == 'keep\n'
    assert writer.writes == []


def test_the_reader_does_not_resolve_a_link_out_of_the_root(tmp_path):
    reader, _root = _tree(tmp_path)
    assert reader.resolve(reader.path('bus', 'out')) is None


def test_a_directory_in_place_of_the_attribute_is_refused(tmp_path):
    reader, root = _tree(tmp_path)
    (root / 'devices' / 'd' / 'sub').mkdir()
    writer = Writer(reader)
    with pytest.raises(Refused):
        writer.write(reader.resolve(reader.path('devices', 'd')), 'sub', 'x')
