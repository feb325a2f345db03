#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Capture the parts of a live sysfs/proc/dev that vfio_facts reads, as one JSON document.

Runs inside the kernel-lane guest (Python 3.8+, standard library only). Output format
(read back by tests/captures/load.py; paths below /sys, /proc, /dev and /boot):

    {"format": 1, "kernel": "6.1.0-..", "entries": {ABSOLUTE_PATH: VALUE, ...}}

VALUE is a string (a regular file's content), {"l": TARGET} (a symlink, target as read),
{} (a directory), {"b": BASE64} (a file that is not UTF-8) or {"c": "MAJOR:MINOR"} (a
character device). Nothing with side effects on read is opened (rom, resource*, vpd, ...;
``config`` only of VFIO-bound functions, as base64), nor anything write-only; only the
subtrees that matter are walked.
"""

import base64
import json
import os
import re
import stat
import sys

SKIP_FILES = {'config', 'rom', 'vpd', 'remove', 'rescan', 'reset', 'create', 'new_id',
              'remove_id', 'bind', 'unbind', 'drivers_probe', 'sriov_vf_msix_count'}
SKIP_FILE_RE = re.compile(r'^resource\d*(_wc)?$')
SKIP_DIRS = {'power', 'msi_irqs', 'net', 'nvme', 'block', 'queue', 'mq', 'holders', 'slaves',
             'trace', 'integrity', 'sections', 'notes', 'ptp', 'hwmon', 'statistics',
             'wakeup', 'nvme-subsystem', 'firmware_node', 'link'}
PCI_ADDR = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')
MAX_READ = 65536
CONFIG_KEPT = ('CONFIG_IOMMUFD', 'CONFIG_VFIO')

entries = {}
errors = []


def add_file(path):
    if path in entries:
        return
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not st.st_mode & 0o444:
        return  # write-only attribute
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_READ)
    except OSError as exc:
        errors.append('%s: %s' % (path, exc.strerror))
        return
    try:
        entries[path] = data.decode('utf-8')
    except UnicodeDecodeError:
        entries[path] = {'b': base64.b64encode(data).decode()}


def add_config(real):
    """The config space of a VFIO-bound function (the module parses its capability chains):
    reading it has no side effect on a function no driver but vfio-pci drives."""
    try:
        with open(os.path.join(real, 'config'), 'rb') as f:
            entries[os.path.join(real, 'config')] = {'b': base64.b64encode(f.read()).decode()}
    except OSError as exc:
        errors.append('%s/config: %s' % (real, exc.strerror))


def walk(path, depth, skip_pci_children=True):
    """Record path (dir, link or file); recurse into real directories up to depth."""
    if path in entries:
        return
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(st.st_mode):
        entries[path] = {'l': os.readlink(path)}
        return
    if stat.S_ISCHR(st.st_mode):
        entries[path] = {'c': '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))}
        return
    if stat.S_ISREG(st.st_mode):
        name = os.path.basename(path)
        if name not in SKIP_FILES and not SKIP_FILE_RE.match(name):
            add_file(path)
        return
    if not stat.S_ISDIR(st.st_mode):
        return
    entries[path] = {}
    if depth <= 0:
        return
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        errors.append('%s: %s' % (path, exc.strerror))
        return
    for name in names:
        child = os.path.join(path, name)
        if name in SKIP_DIRS and os.path.isdir(child) and not os.path.islink(child):
            continue
        if skip_pci_children and PCI_ADDR.match(name) and not os.path.islink(child):
            continue  # a child function (behind a bridge) is walked as its own root
        walk(child, depth - 1, skip_pci_children)


def links_in(directory):
    try:
        return [os.path.join(directory, n) for n in sorted(os.listdir(directory))]
    except OSError:
        return []


def real_dir(path):
    real = os.path.realpath(path)
    return real if os.path.isdir(real) else None


def capture():
    sysfs = '/sys'
    # PCI functions, their drivers and modules
    drivers = {'vfio-pci'}
    walk(sysfs + '/bus/pci/devices', 1)
    for link in links_in(sysfs + '/bus/pci/devices'):
        real = real_dir(link)
        if real:
            walk(real, 4)
            drv = os.path.join(real, 'driver')
            if os.path.islink(drv):
                drivers.add(os.path.basename(os.readlink(drv)))
                if 'vfio' in os.path.basename(os.readlink(drv)):
                    add_config(real)
    modules = set()
    for drv in sorted(drivers):
        d = '%s/bus/pci/drivers/%s' % (sysfs, drv)
        walk(d, 1)
        mod = os.path.join(d, 'module')
        if os.path.islink(mod):
            modules.add(os.path.basename(os.readlink(mod)))
    # mediated devices: parents (with their types and instances), the mdev bus, vfio-dev
    for cls in ('mdev_bus', 'vfio-dev', 'iommu'):
        walk('%s/class/%s' % (sysfs, cls), 1)
        for link in links_in('%s/class/%s' % (sysfs, cls)):
            real = real_dir(link)
            if real:
                walk(real, 5)
    walk(sysfs + '/bus/mdev', 3)
    for link in links_in(sysfs + '/bus/mdev/drivers'):
        mod = os.path.join(link, 'module')
        if os.path.islink(mod):
            modules.add(os.path.basename(os.readlink(mod)))
    walk(sysfs + '/kernel/iommu_groups', 3)
    # modules: those of the drivers above plus the VFIO core and everything the lane loaded
    modules |= {'vfio', 'vfio_pci', 'vfio_pci_core', 'vfio_iommu_type1', 'mdev',
                'mtty', 'mdpy', 'mbochs', 'nvme', 'nvme_core', 'e1000e', 'kvm'}
    for mod in sorted(modules):
        walk('%s/module/%s' % (sysfs, mod), 2)

    # proc: what the module reads about the host and the processes holding VFIO nodes
    for path in ('/proc/sys/kernel/osrelease', '/proc/cmdline', '/proc/modules'):
        add_file(path)
    pids = {'1'}
    for pid in sorted(os.listdir('/proc')):
        if not pid.isdigit() or pid == str(os.getpid()):
            continue
        for fd in links_in('/proc/%s/fd' % pid):
            try:
                if os.readlink(fd).startswith('/dev/vfio/'):
                    pids.add(pid)
            except OSError:
                pass
    for pid in sorted(pids, key=int):
        base = '/proc/' + pid
        entries[base] = {}
        for name in ('cmdline', 'comm', 'status'):
            add_file(os.path.join(base, name))
        entries[base + '/fd'] = {}
        for fd in links_in(base + '/fd'):
            try:
                entries[fd] = {'l': os.readlink(fd)}
            except OSError:
                pass

    # dev: the VFIO nodes
    walk('/dev/vfio', 2)

    # boot: the kernel's build options vfio_facts keeps (host.kernel_config), not the whole file
    with open('/proc/sys/kernel/osrelease') as f:
        config = '/boot/config-' + f.read().strip()
    if os.path.isfile(config):
        with open(config) as f:
            entries[config] = ''.join(line for line in f if line.lstrip('# ').startswith(CONFIG_KEPT))


def main():
    capture()
    with open('/proc/sys/kernel/osrelease') as f:
        kernel = f.read().strip()
    doc = {'format': 1, 'kernel': kernel, 'entries': entries, 'errors': sorted(errors)}
    json.dump(doc, sys.stdout, sort_keys=True, indent=0)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
