# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""The vfio facts of some hosts, read from ``hostvars`` (private to the collection).

``hostvars`` is read for the hosts asked for only: templating every host's variables of a large
inventory costs more than the whole report.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleError

from ansible_collections.vfio.migration.plugins.plugin_utils._gateway import plain

__all__ = ['facts_by_host', 'facts_from_hostvars']


def facts_from_hostvars(hostvars, hosts):
    """``({host: vfio facts}, [hosts without any])``, read from ``hostvars`` for ``hosts`` only."""
    found, missing = {}, []
    for host in hosts:
        try:
            facts = hostvars[host]['ansible_facts']['vfio']
        except (KeyError, TypeError, AnsibleError):  # not in the inventory, or no facts
            facts = None
        if not isinstance(facts, Mapping):  # also Jinja's Undefined for a host not in the inventory
            missing.append(str(host))
        else:
            found[str(host)] = facts
    return found, missing


def facts_by_host(hostvars, hosts):
    """A plain copy of ``{host: vfio facts}`` for the hosts of ``hosts`` that have facts."""
    return plain(facts_from_hostvars(hostvars, hosts)[0])
