# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Which drivers can live-migrate a VFIO device, and why.

sysfs says nothing about migration: the kernel answers only through the
``VFIO_DEVICE_FEATURE_MIGRATION`` ioctl on an open device, which a read-only fact
gatherer must not do.  This table encodes what the drivers' sources say instead.
Keys are driver names with ``-`` written as ``_`` (``vfio-pci`` -> ``vfio_pci``);
mdev types are looked up by the parent driver, which is the prefix of the type id.

:func:`capability` returns ``{'capable': True|False|None, 'reason': '<sentence>'}``.
"""

from __future__ import annotations

from ansible_collections.vfio.migration.plugins.module_utils._migration_features import features, kernel_version

__all__ = ['capability', 'is_vfio_pci_driver', 'kernel_at_least', 'VFIO_PCI_DRIVERS']

# Drivers that hand a whole PCI function to VFIO besides the ``*_vfio_pci`` variant drivers.
VFIO_PCI_DRIVERS = frozenset(('vfio_pci',))


def is_vfio_pci_driver(driver):
    """True for vfio-pci and its variant drivers (``mlx5_vfio_pci``, ``xe-vfio-pci`` ...)."""
    if not driver:
        return False
    key = driver.replace('-', '_')
    return key in VFIO_PCI_DRIVERS or key.endswith('_vfio_pci')


def kernel_at_least(release, major, minor):
    """True when the kernel ``release`` (``6.8.0-45-generic``) is at least ``major.minor``.

    ``None`` when the release does not start with two numbers.
    """
    version = kernel_version(release)
    return None if version is None else version >= (major, minor)


def _yes(reason):
    return {'capable': True, 'reason': reason}


def _no(reason):
    return {'capable': False, 'reason': reason}


# --- whole PCI functions: variant drivers (drivers/vfio/pci/*) -------------------------

# drivers/vfio/pci/mlx5/main.c: id table { PCI_DRIVER_OVERRIDE_DEVICE_VFIO(MELLANOX, 0x101e) }
# ("ConnectX Family mlx5Gen Virtual Function"); migration needs the firmware's
# migratable capability (drivers/vfio/pci/mlx5/cmd.c, MLX5_CAP_GEN(mdev, migration)).
_MLX5_IDS = frozenset((('15b3', '101e'),))

# drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c: the id table binds the ZIP/SEC/HPRE
# PFs and VFs; only VFs get hisi_acc_vfio_pci_migrn_ops, PFs get the plain ops.
_HISI_VFS = {'a251': 'ZIP', 'a256': 'SEC', 'a259': 'HPRE'}
_HISI_PFS = {'a250': 'ZIP', 'a255': 'SEC', 'a258': 'HPRE'}

# drivers/vfio/pci/qat/main.c: QAT 4xxx VFs (8086:4941, 4943, 4945).
_QAT_IDS = frozenset(('4941', '4943', '4945'))


def _mlx5(pci, is_vf):
    if pci and (pci.get('vendor'), pci.get('device')) in _MLX5_IDS:
        return _yes('mlx5_vfio_pci implements VFIO live migration for ConnectX-7 / ConnectX-6 Dx VFs '
                    '(15b3:101e), provided the device firmware advertises the migration capability.')
    return {'capable': None,
            'reason': 'mlx5_vfio_pci migrates only 15b3:101e VFs; this function (%s) is outside its id table.'
                      % _ids(pci)}


def _hisi(pci, is_vf):
    device = (pci or {}).get('device')
    if device in _HISI_VFS:
        return _yes('hisi_acc_vfio_pci implements VFIO live migration for HiSilicon %s VFs (19e5:%s); '
                    'the stream carries the device id and queue count, which must match.' % (_HISI_VFS[device], device))
    if device in _HISI_PFS:
        return _no('hisi_acc_vfio_pci assigns HiSilicon %s PFs (19e5:%s) without migration; only their VFs migrate.'
                   % (_HISI_PFS[device], device))
    return {'capable': None,
            'reason': 'hisi_acc_vfio_pci migrates only ZIP/SEC/HPRE VFs (19e5:a251/a256/a259); '
                      'this function (%s) is not one of them.' % _ids(pci)}


def _qat(pci, is_vf):
    if pci and pci.get('vendor') == '8086' and pci.get('device') in _QAT_IDS:
        return _yes('qat_vfio_pci implements VFIO live migration for Intel QAT 4xxx VFs (8086:%s).' % pci['device'])
    return {'capable': None,
            'reason': 'qat_vfio_pci migrates only QAT 4xxx VFs (8086:4941/4943/4945); this function (%s) is not one of them.'
                      % _ids(pci)}


def _ids(pci):
    if not pci:
        return 'unknown ids'
    return '%s:%s' % (pci.get('vendor'), pci.get('device'))


# driver -> fixed verdict, or a function (pci, is_vf) -> verdict
_PCI_TABLE = {
    'mlx5_vfio_pci': _mlx5,
    'hisi_acc_vfio_pci': _hisi,
    'qat_vfio_pci': _qat,
    # drivers/vfio/pci/pds/ (lm.c, dirty.c): AMD/Pensando DSC VFs, migration and dirty tracking.
    'pds_vfio_pci': _yes('pds_vfio_pci implements VFIO live migration (with device dirty tracking) '
                         'for AMD Pensando VFs.'),
    # drivers/vfio/pci/virtio/migrate.c: state saved through the PF's virtio admin queue.
    'virtio_vfio_pci': _yes('virtio_vfio_pci implements VFIO live migration for virtio-net VFs through the '
                            'virtio admin queue of their PF, which must offer the device-parts commands.'),
    # drivers/vfio/pci/xe/main.c ("VFIO PCI driver with migration support for Intel Graphics");
    # a recent addition whose first kernel release is not verified here.
    'xe_vfio_pci': _yes('xe-vfio-pci implements VFIO live migration for Intel Xe SR-IOV VFs (source less certain: '
                        'a recent driver whose kernel release is not verified).'),
    # drivers/vfio/pci/vfio_pci.c: vfio_pci_ops has no migration_ops.
    'vfio_pci': _no('vfio-pci assigns the function but implements no migration state; a VM using it cannot '
                    'live-migrate (assignment only).'),
    # drivers/vfio/pci/nvgrace-gpu/main.c: no migration_ops.
    'nvgrace_gpu_vfio_pci': _no('nvgrace_gpu_vfio_pci assigns Grace Hopper/Blackwell GPUs without migration support '
                                '(assignment only).'),
    # drivers/vfio/pci/ism/main.c: ism_pci_ops has no migration_ops.
    'ism_vfio_pci': _no('ism_vfio_pci assigns s390 ISM devices without migration support (assignment only).'),
}

# --- mediated devices, keyed by parent driver -----------------------------------------

_MDEV_TABLE = {
    # NVIDIA's out-of-tree host driver (nvidia.ko + nvidia-vgpu-vfio) implements vGPU migration.
    'nvidia': _yes('the NVIDIA vGPU host driver implements vGPU live migration; source and destination need '
                   'the same vGPU type and a compatible host driver version.'),
    # drivers/gpu/drm/i915/gvt/kvmgt.c: intel_vgpu_dev_ops has no migration_ops.
    'i915': _no('Intel GVT-g (i915) mediated devices do not support VFIO live migration.'),
    # samples/vfio-mdev/mdpy.c, mbochs.c: sample display devices without migration_ops.
    'mdpy': _no('mdpy is a sample display mdev without migration support.'),
    'mbochs': _no('mbochs is a sample display mdev without migration support.'),
    # drivers/s390/cio/vfio_ccw_ops.c, drivers/s390/crypto/vfio_ap_ops.c: no migration_ops.
    'vfio_ccw': _no('vfio-ccw subchannels cannot be live-migrated (assignment only).'),
    'vfio_ap': _no('vfio-ap crypto adapters cannot be live-migrated (assignment only).'),
}

_NVIDIA_SRIOV = _yes('the NVIDIA vGPU host driver implements live migration of SR-IOV vGPUs; source and '
                     'destination need the same vGPU type and a compatible host driver version.')


def _mtty(kernel_release):
    # samples/vfio-mdev/mtty.c gained migration_ops ("vfio/mtty: Add migration support") in 6.7.
    newer = kernel_at_least(kernel_release, 6, 7)
    if newer:
        return _yes('the mtty sample mdev implements VFIO live migration (kernel 6.7 and later).')
    if newer is None:
        return {'capable': None,
                'reason': 'the mtty sample mdev implements migration only from kernel 6.7; kernel release %r is unknown.'
                          % (kernel_release,)}
    return _no('the mtty sample mdev implements migration only from kernel 6.7; this host runs %s.' % kernel_release)


def capability(kind, driver, pci=None, is_vf=False, kernel_release=None):
    """Migration verdict for one device or type, with the protocol features of its driver.

    Same parameters as :func:`verdict`; returns ``{'capable', 'dma_logging', 'features', 'reason'}`` where
    ``features`` (see ``_migration_features``) is ``[]`` for a driver that cannot migrate and
    ``None`` when not known.
    """
    found = verdict(kind, driver, pci, is_vf, kernel_release)
    names = [] if found['capable'] is False else features(driver, kernel_release)
    # dma_logging is filled in by _kernel_config.annotate, once the kernel config is read
    return {'capable': found['capable'], 'dma_logging': None, 'features': names, 'reason': found['reason']}


def verdict(kind, driver, pci=None, is_vf=False, kernel_release=None):
    """Migration verdict for one device or type.

    :param kind: ``pci``, ``mdev``, ``nvidia_vgpu``, ``ccw`` or ``ap``.
    :param driver: the bound driver (``pci``) or the mdev parent driver (``mdev``, ``ccw``, ``ap``).
    :param pci: ``{'vendor': '15b3', 'device': '101e', ...}`` where ids matter.
    :param is_vf: the PCI function is an SR-IOV VF.
    :param kernel_release: the host's kernel release (for drivers that gained migration later).
    :returns: ``{'capable': True|False|None, 'reason': str}`` (a new dict every call).
    """
    key = (driver or '').replace('-', '_')
    if kind == 'nvidia_vgpu':
        return dict(_NVIDIA_SRIOV)
    if kind == 'pci':
        entry = _PCI_TABLE.get(key)
    elif key == 'mtty':
        return _mtty(kernel_release)
    else:
        entry = _MDEV_TABLE.get(key)
    if entry is None:
        if not driver:
            return {'capable': None, 'reason': 'no driver is bound, so nothing is known about migration.'}
        return {'capable': None,
                'reason': 'unknown driver %s: whether it implements VFIO migration is not known; '
                          'check with the vendor.' % driver}
    if callable(entry):
        return entry(pci, is_vf)
    return dict(entry)
