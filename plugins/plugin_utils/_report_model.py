# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

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
             evacuation: {evacuable, single_host, destinations: int, destination_classes: [str],
                          blocked: [{device, vm, type, reasons}]},
             warnings: [str]}]
    classes: [{id, hosts: [str], profile: [{kind, type, driver, software_version, count}]}]
    class_matrix: [{source, destination, compatible, reasons: [str], rules: [str],
                    blocked: [{type, driver, count, rules}]}]      # between class ids
    pairs: [{source, destination, compatible, reasons, rules, blocked}] | null   # host names
    pairs_expanded: bool
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import ReportError
from ansible_collections.vfio.migration.plugins.plugin_utils._reasons import and_more, more, offers_nothing

REPORT_VERSION = 1


def plain(value):
    """A copy of ``value`` made of exact dict, list, str, int, float, bool and None.

    Ansible hands filters its own subclasses (``AnsibleUnsafeText`` ...), on which ``str()``
    returns the subclass again and JMESPath's type checks fail; ``str.__str__`` copies.
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict) or (hasattr(value, 'keys') and hasattr(value, '__getitem__')):
        return dict((plain(k), plain(value[k])) for k in value.keys())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def _str(value):
    return None if value is None else str(value)


def _vendor_device(record):
    """``vendor:device`` of a record's PCI ids, or None without them."""
    pci = record.get('pci') or {}
    return ('%s:%s' % (pci.get('vendor'), pci.get('device'))) if pci.get('vendor') else None


def _texts(record, *fields):
    """``{field: record[field] as str or None}`` for each of ``fields``."""
    return dict((field, _str(record.get(field))) for field in fields)


def _device_entry(dev):
    migration = dev.get('migration') or {}
    in_use = dev.get('in_use')
    entry = _texts(dev, 'id', 'kind', 'device_api', 'type', 'driver', 'parent', 'iommu_group',
                   'software_version', 'software_version_source')
    entry.update(numa_node=dev.get('numa_node'), vendor_device=_vendor_device(dev),
                 migration_capable=migration.get('capable'), migration_reason=_str(migration.get('reason')),
                 in_use=None if not in_use else {'pid': in_use.get('pid'), 'vm': _str(in_use.get('vm'))})
    return entry


def _mdev_type_entry(entry):
    out = _texts(entry, 'parent', 'type', 'name', 'description', 'device_api', 'software_version')
    out.update(available_instances=entry.get('available_instances'), vendor_device=_vendor_device(entry))
    return out


def _sriov_entry(entry):
    total, num = entry.get('totalvfs'), entry.get('numvfs')
    return {
        'pf': _str(entry.get('pf')),
        'driver': _str(entry.get('driver')),
        'vendor_device': _vendor_device(entry),
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
        'evacuation': {'evacuable': True, 'single_host': True, 'destinations': 0, 'destination_classes': [],
                       'blocked': []},
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


def _verdict_entry(verdict, **names):
    entry = dict(names)
    entry['compatible'] = bool(verdict['compatible'])
    entry['reasons'] = [str(r) for r in verdict.get('reasons') or []]
    entry['rules'] = [str(r) for r in verdict.get('rules') or []]
    entry['blocked'] = [{'type': _str(b.get('type')), 'driver': _str(b.get('driver')), 'count': b.get('count'),
                         'rules': [str(r) for r in b.get('rules') or []]} for b in verdict.get('blocked') or []]
    return entry


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
        pair = dict(entry)
        pair.update(source=source, destination=destination)
        return pair

    def __iter__(self):
        names = sorted(self._class_of)
        for source in names:
            for destination in names:
                if source != destination:
                    yield self.get(source, destination)


def _host_entries(facts_by_host, classes, evacuation):
    """The hosts of the model, sorted by name, each with its class and evacuation verdict."""
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
    return hosts


def _class_entries(classes, class_verdicts, hosts):
    """``(classes, class_matrix)`` of the model, classes ordered by their first host's name."""
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
            class_matrix.append(_verdict_entry(verdict, source=src, destination=dst))
    return class_list, class_matrix


def _expanded_pairs(model, pair_verdicts):
    """Every directed host pair, from its class pair unless ``pair_verdicts`` overrides it."""
    pairs = []
    for pair in PairIndex(model):
        override = (pair_verdicts or {}).get((pair['source'], pair['destination']))
        if override is not None:
            pair = _verdict_entry(override, source=pair['source'], destination=pair['destination'])
        pairs.append(pair)
    return pairs


def _compatible_pair_count(class_list, class_matrix):
    """Compatible directed host pairs, counted without building them: a class pair stands for
    |source| x |destination| host pairs, less the host itself when both classes are the same."""
    size = dict((c['id'], len(c['hosts'])) for c in class_list)
    return sum(size[c['source']] * (size[c['destination']] - (c['source'] == c['destination']))
               for c in class_matrix if c['compatible'])


def _summary(hosts, class_list, compatible, hosts_without_facts):
    total = len(hosts) * (len(hosts) - 1)
    devices = [d for h in hosts for d in h['devices']]
    return {
        'hosts': len(hosts),
        'hosts_without_facts': sorted(str(n) for n in hosts_without_facts or []),
        'classes': len(class_list),
        'pairs': total,
        'compatible_pairs': compatible,
        'incompatible_pairs': total - compatible,
        'devices': len(devices),
        'devices_in_use': sum(1 for d in devices if d['in_use']),
        'hosts_not_evacuable': [h['name'] for h in hosts if not h['evacuation']['evacuable']],
    }


def build_model(facts_by_host, classes, class_verdicts, pair_verdicts=None, evacuation=None,
                hosts_without_facts=None, facts_source='gathered', generated_at=None, rules=None,
                pair_details_max_hosts=200):
    """Assemble the report model.

    :param facts_by_host: ``{host: vfio facts}`` of the hosts that have facts.
    :param classes: ``{class_id: [host, ...]}``: every host of ``facts_by_host`` in one class.
    :param class_verdicts: ``{(source_class, destination_class): verdict}`` where a verdict is
        ``{'compatible': bool, 'reasons': [str], 'rules': [str], 'blocked': [{'type', 'count'}]}``
        (``rules``: the rules that refused; ``blocked``: the device types left without a place).
    :param pair_verdicts: optional ``{(source_host, destination_host): verdict}`` overriding
        the class verdict for a host pair.
    :param evacuation: optional ``{host: {'evacuable': bool, 'destinations': [host],
        'blocked': [{'device', 'vm', 'type', 'reasons'}]}}``.
    """
    hosts = _host_entries(facts_by_host, classes, evacuation)
    class_list, class_matrix = _class_entries(classes, class_verdicts, hosts)
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
    if len(hosts) <= pair_details_max_hosts or pair_verdicts:
        model['pairs'] = _expanded_pairs(model, pair_verdicts)
        model['pairs_expanded'] = True
        compatible = sum(1 for p in model['pairs'] if p['compatible'])
    else:
        compatible = _compatible_pair_count(class_list, class_matrix)
    model['summary'] = _summary(hosts, class_list, compatible, hosts_without_facts)
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


def reason_lines(unplaced, devices=None):
    """Readable reasons for one verdict, from the engine's ``unplaced`` entries.

    For each device type left without a place, the reasons of its *nearest misses*: the
    candidate slots on the destination refused by the fewest rules (a slot that is compatible
    but taken counts as one), since those say what would have to change. One line per
    distinct message, prefixed with how many devices of that type are left over:
    ``"3 x nvidia-230: NVIDIA vGPU migrates only between identical host driver versions: ..."``,
    then how many other candidates differ in more ways. Device ids, VM names and candidate
    addresses are left out on purpose: a class verdict stands for every host of the class,
    whose ids differ. ``devices`` (id -> device record of the class's first host, whose
    devices the engine names) adds the driver, which tells apart devices of one PCI type.
    """
    lines, rules, blocked = [], [], []
    for entry in unplaced or []:
        driver = ((devices or {}).get(entry.get('source')) or {}).get('driver')
        label = '%s x %s' % (entry.get('count', 1), entry.get('type') or 'device')
        if driver:
            label += ' (%s)' % driver
        item = {'type': entry.get('type'), 'driver': driver, 'count': entry.get('count', 1), 'rules': []}
        blocked.append(item)
        by_candidate = []
        for reason in entry.get('reasons') or []:
            key = reason.get('candidate')
            for group in by_candidate:
                if group[0] == key:
                    group[1].append(reason)
                    break
            else:
                by_candidate.append((key, [reason]))
        if not by_candidate:
            lines.append('%s: no place on the destination' % label)
            continue
        fewest = min(len(group[1]) for group in by_candidate)
        nearest = [group for group in by_candidate if len(group[1]) == fewest]
        for dummy, reasons in nearest:
            for reason in reasons:
                line = '%s: %s' % (label, reason.get('message') or reason.get('rule'))
                if line not in lines:
                    lines.append(line)
                if reason.get('rule') and reason['rule'] not in rules:
                    rules.append(reason['rule'])
                if reason.get('rule') and reason['rule'] not in item['rules']:
                    item['rules'].append(reason['rule'])
        others = len(by_candidate) - len(nearest)
        if others:
            lines.append('%s: %d other candidate(s) on the destination differ in more ways' % (label, others))
    return {'reasons': lines, 'rules': rules, 'blocked': blocked}


def from_matrix(matrix, facts_by_host=None):
    """Classes and class verdicts from the output of ``vfio.migration.compat_matrix``.

    :returns: ``(classes, class_verdicts)`` as :func:`build_model` takes them.
    """
    if not isinstance(matrix, dict) or not isinstance(matrix.get('classes'), list) \
            or not isinstance(matrix.get('verdicts'), dict):
        raise ReportError('matrix must be the result of vfio.migration.compat_matrix '
                          '(a dictionary with classes and verdicts)')
    classes = dict((c['id'], list(c['hosts'])) for c in matrix['classes'])
    verdicts = {}
    for src, row in matrix['verdicts'].items():
        first = (facts_by_host or {}).get(sorted(classes.get(src) or [''])[0]) or {}
        devices = dict((d.get('id'), d) for d in first.get('devices') or [] if isinstance(d, dict))
        for dst, verdict in row.items():
            entry = reason_lines(verdict.get('unplaced'), devices)
            entry['compatible'] = bool(verdict.get('compatible'))
            verdicts[(src, dst)] = entry
    return classes, verdicts


def _plan_reason(reason):
    """One line for a reason of ``migration_plan``'s ``blocked`` entries, naming where it holds."""
    hosts, count = reason.get('hosts') or [], reason.get('host_count') or 0
    where = and_more([str(h) for h in hosts], limit=None, total=count)
    return '%s: %s' % (where, reason.get('message')) if where else str(reason.get('message'))


def _reasons_most_actionable_first(vm):
    """The reasons of a blocked VM: compatible hosts that are full first, hosts offering nothing last."""
    return sorted(vm.get('reasons') or [], key=lambda r: (
        2 if offers_nothing(r) else int(r.get('rule') != 'capacity')))


def _blocked_by_plan(blocked_vms, devices, max_reasons):
    """``[((type, driver), reasons)]`` for each device of the plan's blocked VMs on one host
    (``devices``: that host's devices in use by id), at most ``max_reasons`` reasons each."""
    stuck = []
    for vm in blocked_vms:
        lines = []
        for reason in _reasons_most_actionable_first(vm):
            line = _plan_reason(reason)
            if line not in lines:
                lines.append(line)
        if len(lines) > max_reasons:
            lines = lines[:max_reasons] + [more(len(lines) - max_reasons)]
        for dev_id in vm.get('devices') or []:
            dev = devices.get(str(dev_id)) or {}
            stuck.append(((dev.get('type'), dev.get('driver')), lines))
    return stuck


def _blocked_by_verdicts(row, in_use):
    """``[((type, driver), reasons)]`` for every device in ``in_use``, with the reasons of
    every class verdict in ``row`` (used without a plan)."""
    lines = []
    for dummy, verdict in row:
        lines.extend(r for r in verdict['reasons'] if r not in lines)
    return [((d.get('type'), d.get('driver')), lines or ['no other host in the report']) for d in in_use]


def _blocked_devices(in_use, stuck):
    """The devices of one host (``in_use``) that match, by type and driver, the ones of ``stuck``."""
    blocked, left = [], list(stuck)
    for dev in in_use:
        key = (dev.get('type'), dev.get('driver'))
        match = [item for item in left if item[0] == key]
        if match:
            left.remove(match[0])
            blocked.append({'device': _str(dev.get('id')), 'vm': _str(dev['in_use'].get('vm')),
                            'type': _str(dev.get('type')), 'reasons': list(match[0][1])})
    return blocked


def evacuation_view(facts_by_host, classes, class_verdicts, plan=None, max_reasons=3):
    """Per host: can every device in use leave it, and what cannot.

    A host is evacuable at once when one other host takes all its devices in use (a
    compatible class verdict). Otherwise ``plan(host)`` (the engine's ``migration_plan`` with
    ``drain=[host]``: VMs spread over every other host, whole VMs, capacity-aware) decides,
    one time per class since hosts of a class are interchangeable; its blocked VMs give the
    devices that cannot leave, with the reasons and the destination hosts they come from.
    Other hosts of the class get the same verdict, and the same number of blocked devices of
    each type and driver, taken from their own devices. Without ``plan`` a host with no
    single destination is reported as not evacuable with the class verdicts' reasons.

    Each blocked device gets the first ``max_reasons`` reasons the plan gives for its VM, each
    naming the destination hosts it comes from, capacity first (compatible hosts exist, but
    full); the complete list is what ``migration_plan`` returns for a drain of that host.

    :returns: ``{host: {'evacuable', 'single_host', 'destinations', 'destination_classes',
        'blocked': [{'device', 'vm', 'type', 'reasons'}]}}``.
    """
    size = dict((cid, len(members)) for cid, members in classes.items())
    result = {}
    for src, members in classes.items():
        row = [(dst, class_verdicts[(src, dst)]) for dst in classes
               if (src, dst) in class_verdicts and (dst != src or size[src] > 1)]
        good = [dst for dst, verdict in row if verdict['compatible']]
        destinations = sum(size[dst] - (dst == src) for dst in good)
        members = sorted(members)
        in_use = dict((h, sorted((d for d in facts_by_host[h].get('devices') or [] if d.get('in_use')),
                                 key=lambda d: str(d.get('id')))) for h in members)
        stuck = []   # [((type, driver), reasons)] of the first host's blocked devices
        if not good and in_use[members[0]] and plan is not None:
            first = dict((str(d.get('id')), d) for d in in_use[members[0]])
            stuck = _blocked_by_plan(plan(members[0]).get('blocked') or [], first, max_reasons)
        elif not good and in_use[members[0]]:
            stuck = _blocked_by_verdicts(row, in_use[members[0]])
        for host in members:
            blocked = _blocked_devices(in_use[host], stuck)
            result[host] = {'evacuable': not blocked, 'single_host': bool(good), 'destinations': destinations,
                            'destination_classes': good, 'blocked': blocked}
    return result


def rules_label(spec):
    """A short description of the ``rules`` argument, for the report's header."""
    if spec is None:
        return ['shipped rules']
    if isinstance(spec, str):
        return ['shipped rules', spec]
    if isinstance(spec, dict):
        label = ['shipped rules'] if spec.get('defaults', True) else []
        files = spec.get('files') or []
        label.extend([files] if isinstance(files, str) else [str(f) for f in files])
        inline = spec.get('rules') or []
        count = 1 if isinstance(inline, dict) else len(inline)
        if count:
            label.append('%d inline rule(s)' % count)
        disabled = spec.get('disable') or []
        if disabled:
            label.append('disabled: %s' % ', '.join([disabled] if isinstance(disabled, str) else
                                                    [str(d) for d in disabled]))
        return label
    if isinstance(spec, (list, tuple)):
        label = ['shipped rules'] + [item for item in spec if isinstance(item, str)]
        inline = len([item for item in spec if not isinstance(item, str)])
        if inline:
            label.append('%d inline rule(s)' % inline)
        return label
    return [str(spec)]
