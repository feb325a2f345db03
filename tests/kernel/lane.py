#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Boot real Debian kernels under QEMU with a VFIO stack and check vfio_facts against them.

Host side of the kernel lane (see README.md beside this file). Standard library only.
Per kernel series it: resolves the newest Debian kernel packages of that series from the
machine's own apt configuration, downloads and unpacks them, builds the mdev samples
(mtty, mdpy, mbochs) out of tree, builds a busybox + python3 initramfs, boots it under
QEMU (TCG, q35, intel-iommu), and reads back what the guest scenario produced: ground
truth from a shell script, the module's facts, a capture of the sysfs/proc/dev tree, and
the outcomes of real migrations between QEMUs in the guest, which groundtruth.py compares
with what the filters predicted.
"""

import argparse
import base64
import glob
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'captures'))

import truth as truthmod  # noqa: E402  (tests/captures/truth.py)
import stamp as stampmod  # noqa: E402  (tests/kernel/stamp.py)

# Kernel modules the scenario needs inside the guest (dependencies are added from modinfo).
GUEST_MODULES = ['nvme', 'e1000e', 'igb', 'vfio', 'vfio_iommu_type1', 'vfio-pci', 'mdev']
SAMPLES = ['mtty', 'mdpy', 'mbochs']
BEGIN, END = 'VFIO-LANE-BEGIN', 'VFIO-LANE-END'


class LaneError(Exception):
    pass


class Timer:
    """Collects wall time per stage and prints each stage as it ends."""

    def __init__(self):
        self.rows = []

    def stage(self, kernel, name):
        timer = self

        class _Stage:
            def __enter__(self):
                self.t0 = time.monotonic()
                print('[%s] %s ...' % (kernel, name), flush=True)
                return self

            def __exit__(self, exc_type, exc, tb):
                dt = time.monotonic() - self.t0
                timer.rows.append((kernel, name, dt, exc is None))
                print('[%s] %s: %.1fs%s' % (kernel, name, dt, '' if exc is None else ' (failed)'),
                      flush=True)
                return False
        return _Stage()

    def table(self):
        lines = ['%-8s %-28s %8s' % ('kernel', 'stage', 'seconds')]
        for kernel, name, dt, ok in self.rows:
            lines.append('%-8s %-28s %8.1f%s' % (kernel, name, dt, '' if ok else '  FAILED'))
        return '\n'.join(lines)


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, **kw)


def out(cmd):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout


def natural_key(text):
    return [int(p) if p.isdigit() else p for p in re.split(r'(\d+)', text)]


# ---------------------------------------------------------------- packages

def resolve_packages(series):
    """Newest installable Debian amd64 kernel of a series ("6.1", "6.12") and its build packages."""
    names = out(['apt-cache', 'pkgnames', 'linux-image-%s.' % series]).split()
    rx = re.compile(r'^linux-image-(%s\.[0-9][^ ]*-amd64)$' % re.escape(series))
    abis = []
    for name in names:
        m = rx.match(name)
        if m and not re.search(r'(cloud|rt|dbg|unsigned)', m.group(1)):
            abis.append(m.group(1))
    abis.sort(key=natural_key)
    while abis:
        abi = abis.pop()
        policy = out(['apt-cache', 'policy', 'linux-image-' + abi])
        if re.search(r'Candidate: (?!\(none\))', policy):
            break
    else:
        raise LaneError('no installable linux-image-%s.*-amd64 in the apt sources of this '
                        'machine (run apt-get update?)' % series)
    headers = 'linux-headers-' + abi
    deps = out(['apt-cache', 'depends', headers])
    common = re.search(r'Depends: (linux-headers-\S+-common)\b', deps)
    kbuild = re.search(r'Depends: (linux-kbuild-\S+)', deps)
    if not common or not kbuild:
        raise LaneError('cannot find the common headers / kbuild packages of ' + headers)
    return {
        'release': abi,
        'image': 'linux-image-' + abi,
        'headers': headers,
        'common': common.group(1),
        'kbuild': kbuild.group(1),
        'source': 'linux-source-' + series,
    }


_APT_UPDATED = []


def apt_update():
    """`apt-get update`, at most once a run: stale lists name kernels the mirror no longer has."""
    if _APT_UPDATED:
        return False
    _APT_UPDATED.append(True)
    if os.geteuid() != 0:
        print('NOTE not root: cannot refresh the apt lists (run apt-get update as root)')
        return False
    run(['apt-get', 'update', '-qq'], stdin=subprocess.DEVNULL,
        env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
    return True


def fetch(pkgs, debdir):
    os.makedirs(debdir, exist_ok=True)
    want = [pkgs[k] for k in ('image', 'headers', 'common', 'kbuild', 'source')]
    have = os.listdir(debdir)
    missing = [p for p in want if not any(f.startswith(p + '_') for f in have)]
    if missing:
        run(['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root'] + missing, cwd=debdir)
    files = sorted(os.listdir(debdir))
    return {p: os.path.join(debdir, next(f for f in files if f.startswith(p + '_'))) for p in want}


def unpack(pkgs, debs, kdir):
    """dpkg -x image, headers, kbuild; the mdev samples from the source tarball."""
    stamp = os.path.join(kdir, '.unpacked')
    if os.path.exists(stamp):
        return
    shutil.rmtree(kdir, ignore_errors=True)
    root = os.path.join(kdir, 'root')
    os.makedirs(root)
    for key in ('image', 'headers', 'common', 'kbuild'):
        run(['dpkg-deb', '-x', debs[pkgs[key]], root])
    src = os.path.join(kdir, 'samples-src')
    os.makedirs(src)
    deb = subprocess.Popen(['dpkg-deb', '--fsys-tarfile', debs[pkgs['source']]],
                           stdout=subprocess.PIPE)
    inner = subprocess.Popen(['tar', '-xO', '--wildcards', '*.tar.xz'], stdin=deb.stdout,
                             stdout=subprocess.PIPE)
    deb.stdout.close()
    run(['tar', '-xJ', '-C', src, '--strip-components=3', '--wildcards',
         '*/samples/vfio-mdev/*'], stdin=inner.stdout)
    inner.wait()
    deb.wait()
    if not os.path.exists(os.path.join(src, 'mtty.c')):
        raise LaneError('samples/vfio-mdev not found in ' + debs[pkgs['source']])
    open(stamp, 'w').close()


def build_samples(pkgs, kdir):
    bdir = os.path.join(kdir, 'samples')
    if all(os.path.exists(os.path.join(bdir, m + '.ko')) for m in SAMPLES):
        return bdir
    root = os.path.join(kdir, 'root')
    hdr = os.path.join(root, 'usr', 'src', pkgs['headers'])
    mk = os.path.join(hdr, 'Makefile')
    with open(mk) as f:
        text = f.read()
    # The headers' Makefile includes the common headers by absolute path: point it here.
    text = re.sub(r'^include /usr/src/', 'include %s/usr/src/' % root, text, flags=re.M)
    with open(mk, 'w') as f:
        f.write(text)
    shutil.rmtree(bdir, ignore_errors=True)
    shutil.copytree(os.path.join(kdir, 'samples-src'), bdir)
    cmd = ['make', '-C', hdr, 'M=' + bdir, 'modules', '-j%d' % (os.cpu_count() or 2),
           'CONFIG_DEBUG_INFO_BTF_MODULES=']
    cmd += ['CONFIG_SAMPLE_VFIO_MDEV_%s=m' % m.upper() for m in SAMPLES]
    log = os.path.join(kdir, 'samples-build.log')
    with open(log, 'w') as f:
        res = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False)
    if res.returncode != 0:
        sys.stdout.write(open(log).read()[-4000:])
        raise LaneError('building the mdev samples failed (log: %s)' % log)
    return bdir


# ---------------------------------------------------------------- initramfs

class Cpio:
    """Minimal writer of the "newc" cpio format the kernel unpacks as initramfs."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1000
        self.seen = set()

    def _hdr(self, name, mode, size, nlink=1, mtime=0):
        self.ino += 1
        name_b = name.encode() + b'\0'
        fields = [self.ino, mode, 0, 0, nlink, int(mtime), size, 0, 0, 0, 0, len(name_b), 0]
        self.buf.write(b'070701' + b''.join(b'%08x' % v for v in fields) + name_b)
        self._pad()

    def _pad(self):
        self.buf.write(b'\0' * (-self.buf.tell() % 4))

    def dir(self, name):
        name = name.strip('/')
        if not name or name in self.seen:
            return
        self.dir(os.path.dirname(name))
        self.seen.add(name)
        self._hdr(name, 0o40755, 0, 2)

    def file(self, name, data, mode=0o644, mtime=0):
        name = name.strip('/')
        self.dir(os.path.dirname(name))
        if name in self.seen:
            return
        self.seen.add(name)
        self._hdr(name, 0o100000 | mode, len(data), mtime=mtime)
        self.buf.write(data)
        self._pad()

    def symlink(self, name, target):
        name = name.strip('/')
        self.dir(os.path.dirname(name))
        if name in self.seen:
            return
        self.seen.add(name)
        data = target.encode()
        self._hdr(name, 0o120777, len(data))
        self.buf.write(data)
        self._pad()

    def copy(self, src, name=None, mode=None):
        # keep mtimes: timestamp-based .pyc files are only used if their source's matches
        with open(src, 'rb') as f:
            data = f.read()
        st = os.stat(src)
        self.file(name or src, data, mode if mode is not None else st.st_mode & 0o777,
                  mtime=st.st_mtime)

    def tree(self, src, dest, skip=()):
        for dirpath, dirnames, filenames in os.walk(src):
            rel = os.path.relpath(dirpath, src)
            dirnames[:] = sorted(d for d in dirnames
                                 if os.path.normpath(os.path.join(rel, d)) not in skip
                                 and d not in skip)
            target = os.path.normpath(os.path.join(dest, rel))
            self.dir(target)
            for fn in sorted(filenames):
                path = os.path.join(dirpath, fn)
                if os.path.islink(path):
                    self.symlink(os.path.join(target, fn), os.readlink(path))
                elif os.path.isfile(path):
                    self.copy(path, os.path.join(target, fn))

    def finish(self):
        self._hdr('TRAILER!!!', 0, 0)
        self.buf.write(b'\0' * (-self.buf.tell() % 512))
        return self.buf.getvalue()


def read_ko(path):
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.xz'):
        data = lzma.decompress(data)
    return data


def module_index(moddir):
    index = {}
    for dirpath, _dirs, files in os.walk(os.path.join(moddir, 'kernel')):
        for fn in files:
            m = re.match(r'^(.*)\.ko(\.xz)?$', fn)
            if m:
                index[m.group(1).replace('-', '_')] = os.path.join(dirpath, fn)
    return index


def module_depends(data):
    m = re.search(rb'\0depends=([^\0]*)\0', b'\0' + data)
    return [d.decode() for d in m.group(1).split(b',') if d] if m else []


def module_load_order(index, extra, wanted):
    """Topological order of wanted modules plus dependencies, read from .modinfo."""
    order, seen = [], set()

    def visit(name):
        name = name.replace('-', '_')
        if name in seen:
            return
        seen.add(name)
        path = extra.get(name) or index.get(name)
        if path is None:
            return  # built in
        data = read_ko(path)
        for dep in module_depends(data):
            visit(dep)
        order.append((name, data))
    for w in wanted:
        visit(w)
    return order


def host_python():
    py = os.path.realpath('/usr/bin/python3')
    if not os.path.exists(py):
        raise LaneError('/usr/bin/python3 (Debian python3) is needed for the guest root')
    ver = out([py, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).strip()
    return py, ver


def shared_libs(paths):
    libs = set()
    for p in paths:
        res = subprocess.run(['ldd', p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False,
                             universal_newlines=True)
        for line in res.stdout.splitlines():
            m = re.search(r'(/\S+) \(0x', line)
            if m:
                libs.add(m.group(1))
    return sorted(libs)


def build_holder(cache):
    """A static program that holds a VFIO group open; installed as qemu-system-x86_64."""
    exe = os.path.join(cache, 'holder')
    src = os.path.join(HERE, 'guest', 'holder.c')
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        run(['gcc', '-static', '-O2', '-o', exe, src])
    return exe


def guest_qemu(c, qemu):
    """The lane's own QEMU (``qemu`` is its command prefix with ``-L`` dirs) as
    /opt/qemu/bin/qemu-system-x86_64 with its shared libraries and the firmware a paused,
    diskless VM asks for (SeaBIOS' bios-256k.bin, kvmvapic.bin in /opt/qemu/share)."""
    exe = qemu[0]
    c.copy(exe, 'opt/qemu/bin/qemu-system-x86_64', 0o755)
    for lib in shared_libs([exe]):
        c.copy(os.path.realpath(lib), lib.lstrip('/'), 0o755)
    dirs = [qemu[i + 1] for i, arg in enumerate(qemu[:-1]) if arg == '-L']
    dirs += ['/usr/share/seabios', '/usr/share/qemu']
    bios = next((os.path.join(d, 'bios-256k.bin') for d in dirs
                 if os.path.exists(os.path.join(d, 'bios-256k.bin'))), None)
    if bios is None:
        raise LaneError('no bios-256k.bin for the guest QEMU in %s' % ', '.join(dirs))
    c.copy(os.path.realpath(bios), 'opt/qemu/share/bios-256k.bin', 0o644)
    vapic = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(exe))), 'share', 'qemu',
                         'kvmvapic.bin')
    if os.path.exists(vapic):  # the pc machine asks for it even under TCG
        c.copy(vapic, 'opt/qemu/share/kvmvapic.bin', 0o644)


def base_initramfs(pkgs, kdir, samples_dir, cache, qemu):
    """busybox + python3 + QEMU + kernel modules + samples; cached per kernel release and QEMU."""
    path = os.path.join(kdir, 'base.cpio')
    key = hashlib.sha256(pkgs['release'].encode())
    for name in ('lane.py', 'guest/holder.c', '/bin/busybox', '/usr/bin/python3', qemu[0]):
        with open(os.path.join(HERE, name), 'rb') as f:
            key.update(f.read())
    key.update(repr(qemu).encode())
    key = key.hexdigest()
    if os.path.exists(path) and os.path.exists(path + '.key') and open(path + '.key').read() == key:
        return path
    c = Cpio()
    for d in ('bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'run',
              'etc', 'root', 'lane'):
        c.dir(d)
    c.copy('/bin/busybox', 'bin/busybox', 0o755)
    c.symlink('bin/sh', 'busybox')  # /init is a #!/bin/sh script
    c.copy(build_holder(cache), 'usr/bin/qemu-system-x86_64', 0o755)
    py, ver = host_python()
    c.copy(py, 'usr/bin/python3', 0o755)
    stdlib = '/usr/lib/python%s' % ver
    skip = {'test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3', 'pydoc_data',
            'distutils', 'site-packages', 'dist-packages', 'unittest', 'sqlite3'}
    skip |= {d for d in os.listdir(stdlib) if d.startswith('config-')}
    c.tree(stdlib, 'usr/lib/python%s' % ver, skip=skip)
    dynload = [os.path.join(stdlib, 'lib-dynload', f)
               for f in os.listdir(os.path.join(stdlib, 'lib-dynload'))]
    for lib in shared_libs([py] + dynload):
        real = os.path.realpath(lib)
        c.copy(real, lib.lstrip('/'), 0o755)
    c.copy('/lib64/ld-linux-x86-64.so.2', 'lib64/ld-linux-x86-64.so.2', 0o755)
    guest_qemu(c, qemu)
    # the kernel's build configuration where Debian installs it: vfio_facts reads host.kernel_config from it
    c.dir('boot')
    c.copy(os.path.join(kdir, 'root', 'boot', 'config-' + pkgs['release']), 'boot/config-' + pkgs['release'], 0o644)
    # kernel modules, flat, with a load order file
    moddir = os.path.join(kdir, 'root', 'lib', 'modules', pkgs['release'])
    extra = {m: os.path.join(samples_dir, m + '.ko') for m in SAMPLES}
    order = module_load_order(module_index(moddir), extra, GUEST_MODULES + SAMPLES)
    for name, data in order:
        c.file('lane/modules/%s.ko' % name, data)
    c.file('lane/modules/order', ''.join(name + '\n' for name, _data in order).encode())
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'wb') as f:
        f.write(c.finish())
    os.replace(tmp, path)
    with open(path + '.key', 'w') as f:
        f.write(key)
    return path


def ansible_package(cache):
    """Directory holding ansible/module_utils for the guest (AnsiballZ ships the same).

    Taken from VFIO_KERNEL_HOST_PYTHON, else the newest ansible-core venv of the Makefile
    (.venvs/core-X.Y), else this Python; failing all, a pip-downloaded ansible-core wheel."""
    venvs = sorted(glob.glob(os.path.join(REPO, '.venvs', 'core-*', 'bin', 'python')),
                   key=natural_key, reverse=True)
    pythons = [os.environ.get('VFIO_KERNEL_HOST_PYTHON')] + venvs + [sys.executable]
    for python in [p for p in pythons if p]:
        res = subprocess.run([python, '-c', 'import ansible.module_utils, os; '
                              'print(os.path.dirname(os.path.dirname(ansible.module_utils.__file__)))'],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, check=False)
        if res.returncode == 0 and res.stdout.strip():
            return res.stdout.strip()
    wheels = os.path.join(cache, 'wheels')
    found = [f for f in os.listdir(wheels) if f.startswith('ansible_core-')] \
        if os.path.isdir(wheels) else []
    if not found:
        run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '-d', wheels,
             'ansible-core'])
        found = [f for f in os.listdir(wheels) if f.startswith('ansible_core-')]
    dest = os.path.join(cache, 'ansible-core')
    if not os.path.isdir(os.path.join(dest, 'ansible', 'module_utils')):
        with zipfile.ZipFile(os.path.join(wheels, sorted(found)[-1])) as z:
            z.extractall(dest, [n for n in z.namelist() if n.startswith('ansible/module_utils/')])
    return os.path.join(dest, 'ansible')


def run_initramfs(cache, extra_env):
    """Per-run layer: guest scripts, the collection under test, ansible module_utils.

    Both Python trees are byte-compiled here with the guest's interpreter (the host's
    /usr/bin/python3): compiling them under emulation would cost the guest many seconds."""
    stage = tempfile.mkdtemp(prefix='stage-', dir=cache)  # private: lanes may run side by side
    try:
        return _run_initramfs(stage, extra_env)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _run_initramfs(stage, extra_env):
    cache = os.path.dirname(stage)
    coll = os.path.join(stage, 'collections', 'ansible_collections', 'vfio', 'migration')
    os.makedirs(coll)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    for part in ('plugins', 'meta'):
        if os.path.isdir(os.path.join(REPO, part)):
            shutil.copytree(os.path.join(REPO, part), os.path.join(coll, part), ignore=ignore)
    shutil.copy2(os.path.join(REPO, 'galaxy.yml'), coll)
    ans = os.path.join(stage, 'ansible', 'ansible')
    shutil.copytree(os.path.join(ansible_package(cache), 'module_utils'),
                    os.path.join(ans, 'module_utils'), ignore=ignore)
    open(os.path.join(ans, '__init__.py'), 'w').close()  # as in an AnsiballZ payload
    py, _ver = host_python()
    run([py, '-m', 'compileall', '-q', '-j', '0', stage], stdout=subprocess.DEVNULL)

    c = Cpio()
    guest = os.path.join(HERE, 'guest')
    c.copy(os.path.join(guest, 'init'), 'init', 0o755)
    for fn in sorted(os.listdir(guest)):
        if fn not in ('init', 'holder.c'):
            c.copy(os.path.join(guest, fn), 'lane/' + fn, 0o755)
    c.tree(os.path.join(stage, 'collections'), 'opt/collections')
    c.tree(os.path.join(stage, 'ansible'), 'opt/ansible')
    c.file('lane/env', ''.join('%s=%s\n' % kv for kv in sorted(extra_env.items())).encode())
    return c.finish()


# ---------------------------------------------------------------- QEMU

def supports_igb(qemu):
    # QEMU 7.2 answers an unknown device's help with exit status 0 too: read what it says
    res = subprocess.run([qemu, '-device', 'igb,help'], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return res.stdout.startswith('igb options')


def debian_mirror():
    """(URI, codename, Signed-By) of this machine's main Debian archive, from its apt sources."""
    codename = re.search(r'^VERSION_CODENAME=(\S+)', open('/etc/os-release').read(), re.M).group(1)
    paths = glob.glob('/etc/apt/sources.list.d/*.sources')
    for path in sorted(paths):
        for stanza in re.split(r'\n\s*\n', open(path).read()):
            fields = dict(m.groups() for m in re.finditer(r'^([A-Za-z-]+):\s*(.*)$', stanza, re.M))
            if codename in fields.get('Suites', '').split() and 'deb' in fields.get('Types', '').split():
                return fields['URIs'].split()[0], codename, fields.get('Signed-By')
    for path in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
        if os.path.exists(path):
            for line in open(path):
                m = re.match(r'^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s', line)
                if m and m.group(2) == codename:
                    return m.group(1), codename, None
    raise LaneError('no %s entry in the apt sources of this machine' % codename)


def backports_qemu(cache):
    """QEMU from <codename>-backports (has igb), unpacked into the cache: apt's own config is
    left alone, a private source list names the same mirror with the backports suite."""
    root = os.path.join(cache, 'qemu-backports')
    exe = os.path.join(root, 'root', 'usr', 'bin', 'qemu-system-x86_64')
    if not os.path.exists(exe):
        uri, codename, signed_by = debian_mirror()
        shutil.rmtree(root, ignore_errors=True)
        for d in ('parts', 'lists/partial', 'cache/archives/partial', 'debs'):
            os.makedirs(os.path.join(root, d))
        with open(os.path.join(root, 'parts', 'backports.sources'), 'w') as f:
            f.write('Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\n%s'
                    % (uri, codename, 'Signed-By: %s\n' % signed_by if signed_by else ''))
        opts = ['-o', 'Dir::Etc::SourceList=/dev/null', '-o', 'Dir::Etc::SourceParts=' + root + '/parts',
                '-o', 'Dir::State::Lists=' + root + '/lists', '-o', 'Dir::Cache=' + root + '/cache',
                '-o', 'APT::Sandbox::User=root', '-q']
        run(['apt-get'] + opts + ['update'], stdout=subprocess.DEVNULL)
        run(['apt-get'] + opts + ['download', 'qemu-system-x86', 'qemu-system-data', 'seabios'],
            cwd=os.path.join(root, 'debs'), stdout=subprocess.DEVNULL)
        for deb in sorted(os.listdir(os.path.join(root, 'debs'))):
            run(['dpkg-deb', '-x', os.path.join(root, 'debs', deb), os.path.join(root, 'root')])
    share = os.path.join(root, 'root', 'usr', 'share')
    return exe, ['-L', os.path.join(share, 'qemu'), '-L', os.path.join(share, 'seabios')]


def find_qemu(cache):
    """(command prefix, has igb): VFIO_KERNEL_QEMU, else the system QEMU if it has igb, else
    (unless VFIO_KERNEL_BACKPORTS_QEMU=0) QEMU from backports, else the system QEMU alone."""
    if os.environ.get('VFIO_KERNEL_QEMU'):
        qemu = os.environ['VFIO_KERNEL_QEMU']
        return [qemu], supports_igb(qemu)
    system = shutil.which('qemu-system-x86_64')
    if supports_igb(system):
        return [system], True
    if os.environ.get('VFIO_KERNEL_BACKPORTS_QEMU', '1') == '1':
        try:
            exe, data = backports_qemu(cache)
            if supports_igb(exe):
                return [exe] + data, True
        except (LaneError, subprocess.CalledProcessError, OSError) as exc:
            print('NOTE no QEMU from backports (%s): no igb, NVMe VFs only' % exc)
    return [system], False


# ---------------------------------------------------------------- boot

def qemu_cmd(qemu, igb, vmlinuz, initrd, console, data, mem):
    cmd = qemu + [
        '-accel', 'tcg', '-machine', 'q35', '-m', str(mem), '-smp', '1',
        '-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none', '-no-reboot',
        '-device', 'intel-iommu,intremap=on',
        '-kernel', vmlinuz, '-initrd', initrd,
        '-append', 'console=ttyS0 intel_iommu=on no_timer_check panic=-1 loglevel=4 '
                   'mitigations=off rdinit=/init',
        '-serial', 'file:' + console, '-serial', 'file:' + data,
        # An NVMe PF with two SR-IOV VFs (QEMU >= 7.1).
        '-device', 'nvme-subsys,id=subsys0',
        '-device', 'nvme,serial=vfiolane0,subsys=subsys0,sriov_max_vfs=2,'
                   'sriov_vq_flexible=4,sriov_vi_flexible=2',
        # Two e1000e functions: one is bound to vfio-pci whole, one stays on e1000e.
        '-device', 'e1000e,romfile=,mac=52:54:00:12:34:01',
        '-device', 'e1000e,romfile=,mac=52:54:00:12:34:02',
    ]
    if igb:
        # An igb PF (SR-IOV NIC, 7 VFs at stride 2) behind a PCIe root port (QEMU >= 8.0).
        cmd += ['-device', 'pcie-root-port,id=rp1,chassis=1,slot=1',
                '-device', 'igb,bus=rp1,romfile=,mac=52:54:00:12:34:03']
    return cmd


def boot(kernel, qemu, igb, vmlinuz, initrd, workdir, timeout, mem):
    console = os.path.join(workdir, 'console.log')
    data = os.path.join(workdir, 'data.txt')
    for p in (console, data):
        if os.path.exists(p):
            os.unlink(p)
    cmd = qemu_cmd(qemu, igb, vmlinuz, initrd, console, data, mem)
    with open(os.path.join(workdir, 'qemu.cmd'), 'w') as f:
        f.write(' '.join(cmd) + '\n')
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                raise LaneError('%s: guest did not finish within %ds (console: %s)'
                                % (kernel, timeout, console))
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = open(console, errors='replace').read() if os.path.exists(console) else ''
    if os.environ.get('VFIO_KERNEL_VERBOSE'):
        sys.stdout.write(text)
    payload = open(data, errors='replace').read() if os.path.exists(data) else ''
    if BEGIN not in payload or END not in payload:
        sys.stdout.write(text[-6000:])
        raise LaneError('%s: the guest sent no results (console: %s)' % (kernel, console))
    b64 = payload.split(BEGIN, 1)[1].split(END, 1)[0]
    blob = base64.b64decode(''.join(b64.split()))
    results = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode='r:*') as tar:
        for m in tar.getmembers():
            if m.isfile():
                results[os.path.basename(m.name)] = tar.extractfile(m).read().decode(
                    'utf-8', 'replace')
    for name, text_ in results.items():
        with open(os.path.join(workdir, name), 'w') as f:
            f.write(text_)
    return results, text


# ---------------------------------------------------------------- checks

def check(kernel, results):
    """Compare the module's facts with the guest's ground truth, before and after."""
    problems = []
    log = results.get('guest.log', '')
    for line in log.splitlines():
        if line.startswith('FAIL'):
            problems.append('guest: ' + line)
    truths = {}
    for phase in ('before', 'after'):
        t = results.get('truth-%s.txt' % phase)
        f = results.get('facts-%s.json' % phase)
        if t is None:
            problems.append('%s: no ground truth' % phase)
            continue
        truths[phase] = truthmod.parse(t)
        if f is None:
            problems.append('%s: the module produced no output' % phase)
            continue
        try:
            res = json.loads(f)
        except ValueError:
            problems.append('%s: module output is not JSON: %s' % (phase, f[:2000]))
            continue
        if res.get('failed'):
            problems.append('%s: module failed: %s' % (phase, res.get('msg')))
            continue
        facts = res.get('ansible_facts', {}).get('vfio')
        problems += ['%s: %s' % (phase, p) for p in truthmod.compare(facts, truths[phase])]
    if len(truths) == 2:
        problems += truthmod.compare_capacity(truths['before'], truths['after'])
    return problems


def filter_python():
    """A Python that can run the collection's filters (ansible-core, jmespath, PyYAML,
    packaging): VFIO_KERNEL_FILTER_PYTHON, else the newest .venvs/core-X.Y, else this one."""
    venvs = sorted(glob.glob(os.path.join(REPO, '.venvs', 'core-*', 'bin', 'python')),
                   key=natural_key, reverse=True)
    for python in [os.environ.get('VFIO_KERNEL_FILTER_PYTHON')] + venvs + [sys.executable]:
        if python and subprocess.run([python, '-c', 'import ansible, jmespath, yaml, packaging'],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     check=False).returncode == 0:
            return python
    raise LaneError('no Python with ansible-core, jmespath, PyYAML and packaging to run the '
                    'filters on the migration cases (make prepare, or VFIO_KERNEL_FILTER_PYTHON)')


def ground_truth(migrations, qemu_version, out):
    """Run tests/kernel/groundtruth.py on every kernel's migration cases: print the matrix,
    write <out>/groundtruth.md, return {series: [problem, ...]}."""
    md = os.path.join(out, 'groundtruth.md')
    specs = ['%s=%s=%s=%s' % m for m in migrations]
    res = subprocess.run([filter_python(), os.path.join(HERE, 'groundtruth.py'), md, qemu_version]
                         + specs, stdout=subprocess.PIPE, universal_newlines=True, check=True)
    doc = json.loads(res.stdout)
    print('\nmigrations: kernel, case, our verdict (first reason), real outcome (error), agreement')
    for row in doc['rows']:
        reason = row['reason']
        print('  %-5s %-31s %-40s %-10s %-10s %s' % (
            row['series'], row['case'],
            'compatible' if row['compatible'] else 'refused: %s' % reason['rule'],
            row['outcome'], row['agree'],
            ('%s ms, %s device bytes' % (row['total_time_ms'], row['vfio_bytes'])
             if row['outcome'] == 'completed' else (row['error'] or '')[:110])))
    problems = {}
    for problem in doc['problems']:
        problems.setdefault(problem.split(' ', 1)[0], []).append(problem)
    return md, problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    ap.add_argument('--kernels', default=os.environ.get('VFIO_KERNEL_SERIES', '6.1,6.12'),
                    help='comma-separated Debian kernel series (default 6.1,6.12)')
    ap.add_argument('--cache', default=os.environ.get(
        'VFIO_KERNEL_CACHE', os.path.expanduser('~/.cache/vfio-migration-kernel')))
    ap.add_argument('--out', default=os.environ.get(
        'VFIO_KERNEL_OUT', os.path.join(REPO, 'tests', 'output', 'kernel')))
    ap.add_argument('--update-captures', action='store_true',
                    default=os.environ.get('VFIO_KERNEL_UPDATE_CAPTURES') == '1',
                    help='write tests/captures/debian-<series>.json.xz from this run')
    ap.add_argument('--timeout', type=int, default=int(os.environ.get('VFIO_KERNEL_TIMEOUT',
                                                                      '300')))
    ap.add_argument('--memory', type=int, default=int(os.environ.get('VFIO_KERNEL_MEMORY',
                                                                     '1024')))
    args = ap.parse_args(argv)
    timer = Timer()
    failures = {}
    releases = {}
    migrations = []
    md = None
    t_all = time.monotonic()
    try:
        verified = stampmod.current()  # what this run tests: the tree as it is now
    except stampmod.StampError as exc:
        print('NOTE no digest of module and lane (%s): the stamp will not be written' % exc)
        verified = None
    with timer.stage('qemu', 'find QEMU'):
        qemu, igb = find_qemu(args.cache)
        qemu_version = out(qemu[:1] + ['--version']).splitlines()[0]
        print('[qemu] %s%s' % (qemu_version, ', with igb' if igb else ', no igb'))
    for series in [s.strip() for s in args.kernels.split(',') if s.strip()]:
        kdir = os.path.join(args.cache, 'kernels', series)
        workdir = os.path.join(args.out, series)
        os.makedirs(workdir, exist_ok=True)
        try:
            with timer.stage(series, 'resolve packages'):
                try:
                    pkgs = resolve_packages(series)
                except LaneError:
                    if not apt_update():
                        raise
                    pkgs = resolve_packages(series)
                print('[%s] kernel %s' % (series, pkgs['release']))
            with timer.stage(series, 'download'):
                try:
                    debs = fetch(pkgs, os.path.join(args.cache, 'debs'))
                except subprocess.CalledProcessError:
                    # the lists name a kernel the mirror dropped: refresh them, resolve again
                    if not apt_update():
                        raise
                    pkgs = resolve_packages(series)
                    print('[%s] apt lists refreshed: kernel %s' % (series, pkgs['release']))
                    debs = fetch(pkgs, os.path.join(args.cache, 'debs'))
            releases[series] = pkgs['release']
            if os.path.exists(os.path.join(kdir, '.unpacked')) and \
                    open(os.path.join(kdir, '.unpacked')).read() != pkgs['release']:
                os.unlink(os.path.join(kdir, '.unpacked'))
            with timer.stage(series, 'unpack'):
                unpack(pkgs, debs, kdir)
                with open(os.path.join(kdir, '.unpacked'), 'w') as f:
                    f.write(pkgs['release'])
            with timer.stage(series, 'build mdev samples'):
                samples = build_samples(pkgs, kdir)
            with timer.stage(series, 'initramfs'):
                base = base_initramfs(pkgs, kdir, samples, args.cache, qemu)
                initrd = os.path.join(workdir, 'initrd.cpio')
                with open(initrd, 'wb') as f:
                    with open(base, 'rb') as b:
                        shutil.copyfileobj(b, f)
                    f.write(run_initramfs(args.cache, {'LANE_SERIES': series}))
            vmlinuz = os.path.join(kdir, 'root', 'boot', 'vmlinuz-' + pkgs['release'])
            with timer.stage(series, 'boot + scenario (guest)'):
                results, _console = boot(series, qemu, igb, vmlinuz, initrd, workdir,
                                         args.timeout, args.memory)
            for line in results.get('guest.log', '').splitlines():
                if line.startswith(('TIME', 'FAIL', 'NOTE')):
                    print('[%s] guest %s' % (series, line))
            with timer.stage(series, 'compare facts'):
                problems = check(series, results)
                for p in problems:
                    print('[%s] MISMATCH %s' % (series, p))
                if problems:
                    failures[series] = '%d mismatches' % len(problems)
                if 'migrate.json' in results and 'facts-migrate.json' in results:
                    migrations.append((series, pkgs['release'],
                                       os.path.join(workdir, 'facts-migrate.json'),
                                       os.path.join(workdir, 'migrate.json')))
                else:
                    failures[series] = failures.get(series) or 'the guest ran no migrations'
            with timer.stage(series, 'capture'):
                cap = results.get('capture.json')
                if not cap:
                    raise LaneError('no capture from the guest')
                data = json.loads(cap)
                data['ground_truth'] = results.get('truth-after.txt', '')
                blob = lzma.compress(json.dumps(data, sort_keys=True, indent=0).encode(),
                                     preset=9 | lzma.PRESET_EXTREME)
                name = 'debian-%s.json.xz' % series
                with open(os.path.join(workdir, name), 'wb') as f:
                    f.write(blob)
                print('[%s] capture: %d entries, %d bytes' % (series, len(data['entries']),
                                                              len(blob)))
                if args.update_captures:
                    with open(os.path.join(REPO, 'tests', 'captures', name), 'wb') as f:
                        f.write(blob)
                    print('[%s] wrote tests/captures/%s' % (series, name))
        except (LaneError, subprocess.CalledProcessError, OSError) as exc:
            print('[%s] ERROR %s' % (series, exc), flush=True)
            failures[series] = str(exc)
    if migrations:
        with timer.stage('all', 'migration verdicts'):
            try:
                md, problems = ground_truth(migrations, qemu_version, args.out)
            except (LaneError, subprocess.CalledProcessError, OSError, ValueError) as exc:
                print('ERROR ground truth of the migrations: %s' % exc)
                problems = dict((m[0], [str(exc)]) for m in migrations)
                md = None
            for series, found in sorted(problems.items()):
                for p in found:
                    print('[%s] MIGRATION MISMATCH %s' % (series, p))
                failures[series] = failures.get(series) or '%d migration mismatches' % len(found)
    print('\nkernel lane wall time per stage:\n' + timer.table())
    print('total %.1fs' % (time.monotonic() - t_all))
    for series, why in sorted(failures.items()):
        print('kernel %s: FAILED (%s)' % (series, why))
    kernels = [s.strip() for s in args.kernels.split(',') if s.strip()]
    print('%d passed, %d failed' % (len(kernels) - len(failures), len(failures)))
    if failures:
        return 1
    if md and all(s in kernels for s in stampmod.DEFAULT_SERIES):
        shutil.copy(md, os.path.join(HERE, 'groundtruth.md'))
        print('wrote tests/kernel/groundtruth.md')
    write_stamp(verified, kernels, releases,
                '%s, %s' % (qemu_version, 'with igb' if igb else 'no igb'))
    return 0


def write_stamp(verified, kernels, releases, qemu):
    """Record a passing run of every default series in tests/kernel/verified.txt, unless the
    module or lane changed while it ran."""
    missing = [s for s in stampmod.DEFAULT_SERIES if s not in kernels]
    if missing:
        print('stamp not written: series %s not run' % ', '.join(missing))
        return
    if verified is None:
        return
    try:
        now = stampmod.current()
    except stampmod.StampError as exc:
        print('stamp not written: %s' % exc)
        return
    if now[0] != verified[0]:
        print('stamp not written: module or lane changed during the run')
        return
    path = stampmod.write(verified[0], verified[1],
                          ', '.join('%s (%s)' % (s, releases[s]) for s in kernels), qemu)
    print('stamp: %s %s' % (os.path.relpath(path, REPO), verified[0]))


if __name__ == '__main__':
    sys.exit(main())
