# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Offline stand-in for get-pip.py in ansible-test's cache (~/.ansible/test/cache/get_pip_X_Y.py).

ansible-test bootstraps pip into each of its fresh virtual environments with a get-pip.py it
downloads from a host this machine cannot reach, unless the script is already in its cache. It runs
it as ``python get_pip_X_Y.py [pip options] pip==X.Y ... [--no-setuptools] [--no-wheel]`` inside the
new venv. This stand-in does the same job with the standard library: ``ensurepip`` puts the bundled
pip into the venv, then that pip installs the requested packages through the machine's pip config.

``python get_pip_offline.py --seed`` (run with the Python that has ansible-test installed) copies
this file into the cache under the name that ansible-test release asks for.
"""

import os
import subprocess
import sys
import tempfile
import types


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def seed():
    from ansible_test._internal.python_requirements import get_venv_packages

    version = '%d.%d' % sys.version_info[:2]
    pip_version = get_venv_packages(types.SimpleNamespace(version=version))['pip']
    cache = os.path.expanduser('~/.ansible/test/cache')
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, 'get_pip_%s.py' % pip_version.replace('.', '_'))
    content = _read(os.path.abspath(__file__))
    if not os.path.exists(target) or _read(target) != content:
        # replace atomically: a parallel job may be running the old copy
        with tempfile.NamedTemporaryFile(dir=cache, delete=False) as tmp:
            tmp.write(content)
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, target)
        print('ansible-test pip %s bootstrap: %s' % (pip_version, target))
    return 0


def bootstrap(args):
    # Options only get-pip.py understands; `pip install` would reject them.
    args = [arg for arg in args if arg not in ('--no-setuptools', '--no-wheel')]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
    return subprocess.call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)


if __name__ == '__main__':
    sys.exit(seed() if sys.argv[1:] == ['--seed'] else bootstrap(sys.argv[1:]))
