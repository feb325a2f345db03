# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ground truth recorded by the kernel lane, and its comparison with vfio facts.

The guest's tests/kernel/guest/truth.sh writes one tab-separated record a line
("KIND [ID] key=value ..."), read with nothing but ls/readlink/cat, independently of the
module. ``parse`` turns that text into dicts; ``compare`` lists every way in which a
``vfio`` facts dict (schema_version 1) disagrees with it. Capability chains
(``config`` records, read by tests/kernel/guest/pciconf.py) are compared with
``config_space`` when the module reports that field. Used both by the QEMU lane and by
the unit tests that run the module's reader on the committed captures.
"""


def parse(text):
    truth = {'kernel': None, 'iommu_groups': None, 'pci': {}, 'pf': {}, 'mdev_types': {},
             'mdev': {}, 'holders': [], 'migration': {}, 'config': {}, 'kconfig': None}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split('\t')
        kind = fields[0]
        if kind in ('pci', 'pf', 'mdev', 'migration', 'config'):
            ident, pairs = fields[1], fields[2:]
        else:
            ident, pairs = None, fields[1:]
        rec = {}
        for pair in pairs:
            key, _sep, value = pair.partition('=')
            rec[key] = value
        if kind == 'kernel':
            truth['kernel'] = rec['release']
        elif kind == 'iommu':
            truth['iommu_groups'] = int(rec['groups'])
        elif kind == 'kconfig':
            truth['kconfig'] = rec
        elif kind in ('pci', 'pf', 'mdev', 'migration', 'config'):
            truth[kind][ident] = rec
        elif kind == 'mdev_type':
            truth['mdev_types'][(rec['parent'], rec['type'])] = rec
        elif kind == 'holder':
            rec['pid'] = int(rec['pid'])
            truth['holders'].append(rec)
        else:
            raise ValueError('unknown ground-truth record: %r' % line)
    return truth


def _none(value):
    return None if value in ('', '-') else value


def _diff(problems, where, field, got, want):
    if got != want:
        problems.append('%s: %s is %r, ground truth says %r' % (where, field, got, want))


def _pair(problems, want, got, missing, extra=None):
    """Note the ids only ground truth has (``missing % id``) or only the facts have
    (``extra % id``); return the ids both have, sorted."""
    for ident in sorted(set(want) - set(got)):
        problems.append(missing % ident)
    for ident in sorted(set(got) - set(want)) if extra else ():
        problems.append(extra % ident)
    return sorted(set(want) & set(got))


def compare(facts, truth):
    """Every disagreement between a vfio facts dict and parsed ground truth, as sentences."""
    if not isinstance(facts, dict):
        return ['no vfio facts (got %r)' % (facts,)]
    problems = []
    host = facts.get('host') or {}
    _diff(problems, 'host', 'kernel_release', host.get('kernel_release'), truth['kernel'])
    iommu = host.get('iommu') or {}
    _diff(problems, 'host', 'iommu.enabled', iommu.get('enabled'), truth['iommu_groups'] > 0)
    if truth['kconfig'] is not None:
        _diff(problems, 'host', 'kernel_config.options', (host.get('kernel_config') or {}).get('options'),
              truth['kconfig'])
    groups = iommu.get('groups')
    if isinstance(groups, list):
        groups = len(groups)
    _diff(problems, 'host', 'iommu.groups', groups, truth['iommu_groups'])

    devices = {d.get('id'): d for d in facts.get('devices') or []}
    held = {}
    for h in truth['holders']:
        held.setdefault(h['group'], h)

    pci = {i: d for i, d in devices.items() if d.get('kind') == 'pci'}
    for ident in _pair(problems, truth['pci'], pci, 'pci %s is bound to a VFIO driver but missing from devices',
                       'pci %s is in devices but not bound to a VFIO driver'):
        d, t = pci[ident], truth['pci'][ident]
        where = 'pci ' + ident
        _diff(problems, where, 'driver', d.get('driver'), t['driver'])
        _diff(problems, where, 'iommu_group', d.get('iommu_group'), t['group'])
        _diff(problems, where, 'parent', d.get('parent'), _none(t['parent']))
        _diff(problems, where, 'device_api', d.get('device_api'), 'vfio-pci')
        _diff(problems, where, 'type', d.get('type'), 'pci-%s:%s:%s:%s' % (
            t['vendor'], t['device'], t['subsystem_vendor'], t['subsystem_device']))
        ids = d.get('pci') or {}
        for key in ('vendor', 'device', 'subsystem_vendor', 'subsystem_device', 'class',
                    'revision'):
            _diff(problems, where, 'pci.' + key, ids.get(key), t[key])
        numa = int(t['numa_node'])
        _diff(problems, where, 'numa_node', d.get('numa_node'), None if numa < 0 else numa)

    mdev = {i: d for i, d in devices.items() if d.get('kind') == 'mdev'}
    for ident in _pair(problems, truth['mdev'], mdev, 'mdev %s exists but is missing from devices',
                       'mdev %s is in devices but does not exist'):
        d, t = mdev[ident], truth['mdev'][ident]
        where = 'mdev ' + ident
        _diff(problems, where, 'type', d.get('type'), t['type'])
        _diff(problems, where, 'parent', d.get('parent'), t['parent'])
        _diff(problems, where, 'iommu_group', d.get('iommu_group'), t['group'])
        _diff(problems, where, 'device_api', d.get('device_api'),
              truth['mdev_types'].get((t['parent'], t['type']), {}).get('device_api'))

    for ident in sorted(set(truth['pci']) | set(truth['mdev'])):
        d = devices.get(ident)
        if d is None:
            continue
        group = (truth['pci'].get(ident) or truth['mdev'].get(ident))['group']
        h = held.get(group)
        in_use = d.get('in_use')
        where = '%s %s' % (d.get('kind'), ident)
        if h is None:
            if in_use:
                problems.append('%s: in_use is %r but no process holds group %s'
                                % (where, in_use, group))
            continue
        if not isinstance(in_use, dict):
            problems.append('%s: in_use is %r, ground truth says pid %d (vm %s) holds %s'
                            % (where, in_use, h['pid'], h['vm'], h['node']))
            continue
        _diff(problems, where, 'in_use.pid', in_use.get('pid'), h['pid'])
        _diff(problems, where, 'in_use.vm', in_use.get('vm'), _none(h['vm']))

    for ident in sorted(truth['migration']):
        t, d = truth['migration'][ident], devices.get(ident)
        if d is None:
            continue
        if t['capable'] not in ('0', '1'):
            problems.append('%s: the migration probe failed in the guest (%s)' % (ident, t))
            continue
        _diff(problems, '%s %s' % (d.get('kind'), ident), 'migration.capable',
              (d.get('migration') or {}).get('capable'), t['capable'] == '1')

    problems += _compare_config(devices, truth['config'])

    types = {'%s/%s' % (t.get('parent'), t.get('type')): t for t in facts.get('mdev_types') or []}
    want = {'%s/%s' % key: rec for key, rec in truth['mdev_types'].items()}
    for key in _pair(problems, want, types, 'mdev type %s (parent/type) is missing from mdev_types',
                     'mdev type %s (parent/type) is in mdev_types but not in sysfs'):
        d, t = types[key], want[key]
        where = 'mdev type ' + key
        _diff(problems, where, 'available_instances', d.get('available_instances'),
              int(t['available']))
        _diff(problems, where, 'device_api', d.get('device_api'), t['device_api'])
        _diff(problems, where, 'name', d.get('name'), _none(t['name']))
        _diff(problems, where, 'description', d.get('description'), _none(t['description']))

    sriov = {s.get('pf'): s for s in facts.get('sriov') or []}
    for ident in _pair(problems, truth['pf'], sriov, 'SR-IOV PF %s is missing from sriov'):
        s, t = sriov[ident], truth['pf'][ident]
        where = 'sriov ' + ident
        _diff(problems, where, 'driver', s.get('driver'), _none(t['driver']))
        _diff(problems, where, 'totalvfs', s.get('totalvfs'), int(t['totalvfs']))
        _diff(problems, where, 'numvfs', s.get('numvfs'), int(t['numvfs']))
        if 'vf_device' in t:  # sriov_vf_device is "%x" in sysfs ("10"), an id is 4 hex digits
            _diff(problems, where, 'vf_device', s.get('vf_device'), t['vf_device'])
    return problems


def _chain(text):
    return [] if text in ('', '-') else text.split(',')


def _compare_config(devices, config):
    """``config_space`` of each vfio-bound function against the chains guest/pciconf.py read.

    Compared only when the module reports the field (a module from before it skips this)."""
    problems = []
    reported = [i for i, d in devices.items() if d.get('kind') == 'pci' and 'config_space' in d]
    if reported and not config:
        problems.append('config_space is reported but the ground truth has no capability chains')
    for ident in sorted(config):
        d = devices.get(ident)
        if d is None or 'config_space' not in d:
            continue
        t = config[ident]
        want = {'header_type': t['header_type'], 'capabilities': _chain(t['caps']),
                'extended_capabilities': _chain(t['ext'])}
        _diff(problems, '%s %s' % (d.get('kind'), ident), 'config_space', d['config_space'], want)
    return problems


def compare_capacity(before, after):
    """The lane's own sanity check: creating one instance lowered available_instances."""
    problems = []
    new = set(after['mdev']) - set(before['mdev'])
    if len(new) != 1:
        problems.append('expected exactly one new mdev between the two phases, got %s'
                        % sorted(new))
        return problems
    t = after['mdev'][new.pop()]
    key = (t['parent'], t['type'])
    was = int(before['mdev_types'][key]['available'])
    now = int(after['mdev_types'][key]['available'])
    if now != was - 1:
        problems.append('available_instances of %s went from %d to %d after creating one'
                        % (key[1], was, now))
    return problems
