# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""``software_version`` of a device or mdev type, and where it came from.

The kernel has no migration stream version (``migration_version`` / ``software_version``
were proposed in 2019-2020 and never merged), so the version is taken from the first of:

1. ``sysfs``: a vendor ``migration_version`` file, or ``migration/software_version`` in a
   vendor ``migration/`` attribute directory, on the device (or, for mdevs, its type);
2. ``module``: ``/sys/module/<module>/version`` of the driver's module (set by
   out-of-tree drivers such as nvidia.ko, and by a few in-tree ones);
3. ``kernel``: the kernel release, for an in-tree driver (no ``version`` file and no
   out-of-tree taint ``O`` in ``/sys/module/<module>/taint``): in-tree drivers change with
   the kernel;
4. ``override``: the operator's ``software_versions`` option has the last word, keyed by
   mdev/vGPU type id (wins) or driver name.

When none applies the version and its source are ``None``.
"""

from __future__ import annotations

__all__ = ['Versions', 'vendor_attributes']


def vendor_attributes(reader, directory):
    """Vendor migration attributes of a resolved ``directory``: ``(version, attributes)``.

    ``version`` comes from ``migration_version`` or ``migration/software_version``;
    ``attributes`` maps ``migration/<file>`` names to their text (``{}`` when absent).
    """
    version = reader.read(directory + '/migration_version')
    attrs = {}
    sub = reader.subdir(directory, 'migration')
    if sub is not None:
        for name in reader.listdir(sub):
            value = reader.read(sub + '/' + name)
            if value is not None:
                attrs[name] = value
        if version is None and attrs.get('software_version'):
            version = attrs['software_version']
    return (version or None), attrs


class Versions(object):
    """Module versions and the version rules, cached per module.

    :param reader: the sysfs :class:`Reader`.
    :param kernel_release: the host's kernel release or ``None``.
    :param overrides: ``{type id or driver: version}`` from the operator.
    """

    def __init__(self, reader, kernel_release, overrides=None):
        self.reader = reader
        self.kernel_release = kernel_release
        self.overrides = {}
        self.driver_overrides = {}
        for key, value in (overrides or {}).items():
            if value is None:
                continue
            self.overrides[str(key)] = str(value)
            self.driver_overrides[str(key).replace('-', '_')] = str(value)
        self._modules = {}
        self._driver_module = {}
        self.used = set()

    def module_of(self, driver, driver_dir=None):
        """Module name of ``driver``: the driver directory's ``module`` link, else the name with ``_``.

        ``driver_dir`` is the (lexical) path of ``/sys/bus/<bus>/drivers/<driver>``.
        """
        if not driver:
            return None
        key = driver_dir or driver
        name = self._driver_module.get(key)
        if name is None:
            name = None
            if driver_dir is not None:
                name = self.reader.link_name(driver_dir + '/module')
            if not name:
                name = driver.replace('-', '_')
            self._driver_module[key] = name
        return name

    def module(self, name):
        """``{'version', 'srcversion', 'taint'}`` of ``/sys/module/<name>`` (values may be ``None``)."""
        info = self._modules.get(name)
        if info is None:
            directory = self.reader.resolve(self.reader.path('module', name), quiet_missing=True)
            if directory is None:
                info = {'version': None, 'srcversion': None, 'taint': None, 'present': False}
            else:
                info = {
                    'version': self.reader.read(directory + '/version'),
                    'srcversion': self.reader.read(directory + '/srcversion'),
                    'taint': self.reader.read(directory + '/taint'),
                    'present': True,
                }
            self._modules[name] = info
        return info

    def resolve(self, driver, module, type_id=None, vendor_version=None):
        """``(software_version, source)`` by the rules above; records ``module`` as used."""
        version, source = None, None
        if vendor_version:
            version, source = vendor_version, 'sysfs'
        elif module:
            info = self.module(module)
            if info['version']:
                version, source = info['version'], 'module'
            elif 'O' not in (info['taint'] or ''):
                if self.kernel_release:
                    version, source = self.kernel_release, 'kernel'
        if module:
            self.used.add(module)
        if type_id is not None and type_id in self.overrides:
            return self.overrides[type_id], 'override'
        if driver:
            key = driver.replace('-', '_')
            if driver in self.overrides:
                return self.overrides[driver], 'override'
            if key in self.driver_overrides:
                return self.driver_overrides[key], 'override'
        return version, source

    def host_modules(self):
        """``{module: {'version', 'srcversion'}}`` for every module a device or type used."""
        result = {}
        for name in sorted(self.used):
            info = self.module(name)
            result[name] = {'srcversion': info['srcversion'], 'version': info['version']}
        return result
