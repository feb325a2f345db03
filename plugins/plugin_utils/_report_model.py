# -*- coding: utf-8 -*-
# Copyright: contributors to the vfio.migration collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data model of the fleet compatibility report (report_version 1).

The model is built once on the controller from the facts of every host and from the
engine's results (``compat_matrix`` and, optionally, ``migration_plan`` drains); every
output format (JSON, CSV, Markdown, HTML) is rendered from it and from nothing else.

Shape (all lists sorted, so two runs over the same facts give the same model)::

    report_version: 1
    generated_at: str | null
    facts_source: gathered | cache
    rules: [str]                     # what the engine was given, for the reader
    summary: {hosts, hosts_without_facts: [str], classes, pairs, compatible_pairs,
              incompatible_pairs, devices, devices_in_use, hosts_not_evacuable: [str]}
    hosts: [{name, class, kernel_release, devices: [...], capacity: {mdev_types, sriov},
             evacuation: {evacuable, destinations: [str], blocked: [...]}, warnings: [str]}]
    classes: [{id, hosts: [str], profile: [{kind, type, driver, software_version, count}]}]
    class_matrix: [{source, destination, compatible, reasons: [str]}]   # class ids
    pairs: [{source, destination, compatible, reasons: [str]}] | null   # host names
    pairs_expanded: bool
"""

from __future__ import annotations

REPORT_VERSION = 1


class ReportError(ValueError):
    """Raised for input the report cannot be built from; the message names host and field."""


def _str(value):
    return None if value is None else str(value)


def _device_entry(dev):
    pci = dev.get('pci') or {}
    migration = dev.get('migration') or {}
    in_use = dev.get('in_use')
    return {
        'id': _str(dev.get('id')),
        'kind': _str(dev.get('kind')),
        'device_api': _str(dev.get('device_api')),
        'type': _str(dev.get('type')),
        'driver': _str(dev.get('driver')),
        'parent': _str(dev.get('parent')),
        'iommu_group': _str(dev.get('iommu_group')),
        'numa_node': dev.get('numa_node'),
        'vendor_device': ('%s:%s' % (pci.get('vendor'), pci.get('device'))) if pci.get('vendor') else None,
        'software_version': _str(dev.get('software_version')),
        'software_version_source': _str(dev.get('software_version_source')),
        'migration_capable': migration.get('capable'),
        'migration_reason': _str(migration.get('reason')),
        'in_use': None if not in_use else {'pid': in_use.get('pid'), 'vm': _str(in_use.get('vm'))},
    }


def _mdev_type_entry(entry):
    pci = entry.get('pci') or {}
    return {
        'parent': _str(entry.get('parent')),
        'type': _str(entry.get('type')),
        'name': _str(entry.get('name')),
        'description': _str(entry.get('description')),
        'device_api': _str(entry.get('device_api')),
        'available_instances': entry.get('available_instances'),
        'vendor_device': ('%s:%s' % (pci.get('vendor'), pci.get('device'))) if pci.get('vendor') else None,
        'software_version': _str(entry.get('software_version')),
    }


def _sriov_entry(entry):
    pci = entry.get('pci') or {}
    total, num = entry.get('totalvfs'), entry.get('numvfs')
    return {
        'pf': _str(entry.get('pf')),
        'driver': _str(entry.get('driver')),
        'vendor_device': ('%s:%s' % (pci.get('vendor'), pci.get('device'))) if pci.get('vendor') else None,
        'totalvfs': total,
        'numvfs': num,
        'free_vfs': (total - num) if isinstance(total, int) and isinstance(num, int) else None,
    }


def _sort_key(entry, *fields):
    return tuple('' if entry.get(f) is None else str(entry.get(f)) for f in fields)


def host_entry(name, facts):
    """Per-host part of the model: devices, capacity and warnings, read from vfio facts."""
    if not isinstance(facts, dict):
        raise ReportError('host %s: vfio facts must be a dictionary, got %s' % (name, type(facts).__name__))
    for key in ('devices', 'mdev_types', 'sriov', 'warnings'):
        if facts.get(key) is not None and not isinstance(facts.get(key), list):
            raise ReportError('host %s: vfio.%s must be a list, got %s' % (name, key, type(facts.get(key)).__name__))
    for key in ('devices', 'mdev_types', 'sriov'):
        for index, item in enumerate(facts.get(key) or []):
            if not isinstance(item, dict):
                raise ReportError('host %s: vfio.%s[%d] must be a dictionary' % (name, key, index))
    host = facts.get('host') or {}
    devices = sorted((_device_entry(d) for d in facts.get('devices') or []), key=lambda e: _sort_key(e, 'id'))
    return {
        'name': name,
        'class': None,
        'kernel_release': _str(host.get('kernel_release')) if isinstance(host, dict) else None,
        'devices': devices,
        'capacity': {
            'mdev_types': sorted((_mdev_type_entry(t) for t in facts.get('mdev_types') or []),
                                 key=lambda e: _sort_key(e, 'parent', 'type')),
            'sriov': sorted((_sriov_entry(s) for s in facts.get('sriov') or []), key=lambda e: _sort_key(e, 'pf')),
        },
        'evacuation': {'evacuable': True, 'destinations': [], 'blocked': []},
        'warnings': [str(w) for w in facts.get('warnings') or []],
    }


def class_profile(host):
    """A short, readable description of what a host offers (for the class table)."""
    counts = {}
    for dev in host['devices']:
        key = (dev['kind'], dev['type'], dev['driver'], dev['software_version'])
        counts[key] = counts.get(key, 0) + 1
    for mtype in host['capacity']['mdev_types']:
        key = ('mdev_type', mtype['type'], None, mtype['software_version'])
        counts.setdefault(key, 0)
        counts[key] += mtype['available_instances'] if isinstance(mtype['available_instances'], int) else 0
    return [
        {'kind': k[0], 'type': k[1], 'driver': k[2], 'software_version': k[3], 'count': n}
        for k, n in sorted(counts.items(), key=lambda kv: tuple('' if v is None else str(v) for v in kv[0]))
    ]


class PairIndex(object):
    """Directed host-pair verdicts, from expanded pairs or from classes (no n^2 storage)."""

    def __init__(self, model):
        self._class_of = dict((h['name'], h['class']) for h in model['hosts'])
        self._classes = dict(((c['source'], c['destination']), c) for c in model['class_matrix'])
        self._pairs = None
        if model.get('pairs') is not None:
            self._pairs = dict(((p['source'], p['destination']), p) for p in model['pairs'])

    def get(self, source, destination):
        if self._pairs is not None:
            return self._pairs.get((source, destination))
        entry = self._classes.get((self._class_of.get(source), self._class_of.get(destination)))
        if entry is None:
            return None
        return {'source': source, 'destination': destination,
                'compatible': entry['compatible'], 'reasons': entry['reasons']}

    def __iter__(self):
        names = sorted(self._class_of)
        for source in names:
            for destination in names:
                if source != destination:
                    yield self.get(source, destination)


def build_model(facts_by_host, classes, class_verdicts, pair_verdicts=None, evacuation=None,
                hosts_without_facts=None, facts_source='gathered', generated_at=None, rules=None,
                pairs_max_hosts=500):
    """Assemble the report model.

    :param facts_by_host: ``{host: vfio facts}`` of the hosts that have facts.
    :param classes: ``{class_id: [host, ...]}``: every host of ``facts_by_host`` in one class.
    :param class_verdicts: ``{(source_class, destination_class): (compatible, [reason, ...])}``.
    :param pair_verdicts: optional ``{(source_host, destination_host): (compatible, reasons)}``
        overriding the class verdict for a host pair (when the engine gave host-level reasons).
    :param evacuation: optional ``{host: {'evacuable': bool, 'destinations': [host],
        'blocked': [{'device', 'vm', 'type', 'reasons'}]}}``.
    """
    names = sorted(facts_by_host)
    hosts = [host_entry(name, facts_by_host[name]) for name in names]
    class_of = {}
    for cid, members in classes.items():
        for member in members:
            class_of[member] = cid
    missing = [name for name in names if name not in class_of]
    if missing:
        raise ReportError('the engine put no class on host(s) %s' % ', '.join(missing))
    for host in hosts:
        host['class'] = class_of[host['name']]
        if evacuation and host['name'] in evacuation:
            host['evacuation'] = evacuation[host['name']]
    by_name = dict((h['name'], h) for h in hosts)

    ordered = sorted(classes, key=lambda c: (sorted(classes[c])[0] if classes[c] else '', c))
    class_list = [{'id': cid, 'hosts': sorted(classes[cid]),
                   'profile': class_profile(by_name[sorted(classes[cid])[0]]) if classes[cid] else []}
                  for cid in ordered]
    class_matrix = []
    for src in ordered:
        for dst in ordered:
            verdict = class_verdicts.get((src, dst))
            if verdict is None:
                continue
            class_matrix.append({'source': src, 'destination': dst, 'compatible': bool(verdict[0]),
                                 'reasons': [str(r) for r in verdict[1]]})

    model = {
        'report_version': REPORT_VERSION,
        'generated_at': generated_at,
        'facts_source': facts_source,
        'rules': [str(r) for r in rules or []],
        'hosts': hosts,
        'classes': class_list,
        'class_matrix': class_matrix,
        'pairs': None,
        'pairs_expanded': False,
    }
    total = len(names) * (len(names) - 1)
    expand = len(names) <= pairs_max_hosts
    if expand or pair_verdicts:
        pairs = []
        for pair in PairIndex(model):
            override = (pair_verdicts or {}).get((pair['source'], pair['destination']))
            if override is not None:
                pair = {'source': pair['source'], 'destination': pair['destination'],
                        'compatible': bool(override[0]), 'reasons': [str(r) for r in override[1]]}
            pairs.append(pair)
        compatible = sum(1 for p in pairs if p['compatible'])
        model['pairs'] = pairs
        model['pairs_expanded'] = True
    else:
        # n^2 pairs without building them: a class pair stands for |source| x |destination|
        # host pairs, less the host itself when both classes are the same.
        size = dict((c['id'], len(c['hosts'])) for c in class_list)
        compatible = sum(size[c['source']] * (size[c['destination']] - (c['source'] == c['destination']))
                         for c in class_matrix if c['compatible'])
    devices = [d for h in hosts for d in h['devices']]
    model['summary'] = {
        'hosts': len(names),
        'hosts_without_facts': sorted(str(n) for n in hosts_without_facts or []),
        'classes': len(class_list),
        'pairs': total,
        'compatible_pairs': compatible,
        'incompatible_pairs': total - compatible,
        'devices': len(devices),
        'devices_in_use': sum(1 for d in devices if d['in_use']),
        'hosts_not_evacuable': [h['name'] for h in hosts if not h['evacuation']['evacuable']],
    }
    return model


def check_model(model):
    """Raise ReportError unless ``model`` looks like a report model of this version."""
    if not isinstance(model, dict):
        raise ReportError('a report model must be a dictionary, got %s' % type(model).__name__)
    if model.get('report_version') != REPORT_VERSION:
        raise ReportError('report_version %r is not supported (expected %d)'
                          % (model.get('report_version'), REPORT_VERSION))
    for key in ('summary', 'hosts', 'classes', 'class_matrix'):
        if key not in model:
            raise ReportError('the report model has no %r' % key)
