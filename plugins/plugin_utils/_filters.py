# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every engine filter does around the engine: plain data in, AnsibleFilterError out.

Values arriving from templates can be Ansible's own container and string types; JMESPath
type checks (``starts_with``) only know the plain Python types, so the arguments are turned
into plain ``dict``/``list``/``str`` first. Any engine error, and any unexpected error, is
raised as ``AnsibleFilterError`` with a one-line message: a user never sees a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import EngineError

__all__ = ['plain', 'run_filter']


def plain(value):
    """A copy of ``value`` made of plain dict, list, str, int, float, bool and None."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)      # str() of ansible-core 2.16's unsafe text returns the subclass again
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, bytes):
        return value.decode('utf-8', 'surrogateescape')
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if hasattr(value, 'keys') and hasattr(value, '__getitem__'):      # HostVars and friends
        return dict((plain(k), plain(value[k])) for k in value.keys())
    return value


def run_filter(name, func, *args, **kwargs):
    """Call ``func`` with plain arguments; map every failure to ``AnsibleFilterError``."""
    try:
        args = [plain(a) for a in args]
        kwargs = dict((k, plain(v)) for k, v in kwargs.items())
        return func(*args, **kwargs)
    except AnsibleFilterError:
        raise
    except EngineError as exc:
        raise AnsibleFilterError('vfio.migration.%s: %s' % (name, exc))
    except RecursionError:
        raise AnsibleFilterError('vfio.migration.%s: the input is nested too deeply' % name)
    except Exception as exc:  # pylint: disable=broad-except
        raise AnsibleFilterError('vfio.migration.%s: unexpected %s: %s' % (name, type(exc).__name__, exc))
