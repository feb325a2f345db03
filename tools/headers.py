# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One licence header in every .py, .sh and .yml file of the collection's code and tests.

``python3 tools/headers.py`` rewrites the files that differ; ``--check`` only lists them
(exit status 1 when there is one).  The header is :data:`HEADER`, after a ``#!`` line when
the file has one; a module_utils or plugin_utils file carries the PRIVATE note after it.
Earlier variants of the lines (a ``coding`` line, other copyright wordings) are replaced.
"""

from __future__ import annotations

import os
import re
import sys

HEADER = [
    '# Copyright (c) vfio.migration contributors',
    '# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)',
    '# SPDX-License-Identifier: GPL-3.0-or-later',
]
PRIVATE = '# Note that this %s is **PRIVATE** to the collection. It can have breaking changes at any time.'
DIRECTORIES = ('plugins', 'roles', 'rules', 'tests', 'benchmarks', 'tools')
SUFFIXES = ('.py', '.sh', '.yml', '.yaml')
# directories of output, not sources (ansible-test's output, simulated hosts, caches)
SKIPPED = ('output', 'build', '__pycache__', '.pytest_cache')
# lines of an earlier header, replaced wherever they stand in the leading comment block
OLD = re.compile(r'^# (-\*- coding: .* -\*-|Copyright\b.*|GNU General Public License v3\.0\+.*'
                 r'|SPDX-License-Identifier: .*|Note that this (module|plugin)_utils is \*\*PRIVATE\*\*.*)$')


def files(top):
    """The files to check, below :data:`DIRECTORIES` (what tests and builds write left out)."""
    found = []
    for directory in DIRECTORIES:
        for base, dirs, names in os.walk(os.path.join(top, directory)):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
            found.extend(os.path.relpath(os.path.join(base, n), top) for n in sorted(names) if n.endswith(SUFFIXES))
    return found


def wanted(path, text):
    """The text of ``path`` with the one header."""
    lines = text.split('\n')
    shebang = [lines.pop(0)] if lines and lines[0].startswith('#!') else []
    while lines and (OLD.match(lines[0]) or (lines[0] == '' and len(lines) > 1 and OLD.match(lines[1]))):
        lines.pop(0)
    while lines and lines[0] == '' and len(lines) > 1:
        lines.pop(0)
    header = list(HEADER)
    kind = path.split('/')[1] if path.startswith('plugins/') else None
    if kind in ('module_utils', 'plugin_utils') and path.endswith('.py'):
        header += ['', PRIVATE % kind]
    rest = lines if lines != [''] else []
    return '\n'.join(shebang + header) + '\n' + ('\n' + '\n'.join(rest) if rest else '')


def main(argv):
    check = '--check' in argv
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    differ = []
    for path in files(top):
        full = os.path.join(top, path)
        with open(full, encoding='utf-8') as handle:
            text = handle.read()
        new = wanted(path, text)
        if new != text:
            differ.append(path)
            if not check:
                with open(full, 'w', encoding='utf-8') as handle:
                    handle.write(new)
    for path in differ:
        print(path)
    return 1 if check and differ else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
