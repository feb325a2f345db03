#!/usr/bin/env bash
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The HTML report in a real headless browser (tests/browser/test_report_browser.py).
# Needs Debian's chromium (apt-get install chromium); Python with ansible-core and pytest
# (PYTHON, else the newest .venvs/core-* of the Makefile, else python3); websocket-client is
# installed into tests/output/.cache when that Python lacks it.
# Artifacts: tests/output/browser/ (report, screenshots). VFIO_UPDATE_SCREENSHOT=1 also
# refreshes docs/images/report.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
py=${PYTHON:-}
if [ -z "$py" ]; then
  for v in .venvs/core-2.19 .venvs/core-2.18 .venvs/core-2.17 .venvs/core-2.16; do
    if [ -x "$v/bin/python" ]; then py=$top/$v/bin/python; break; fi
  done
fi
py=${py:-$(command -v python3)}
bindir=$(dirname "$py")
export PATH="$bindir:$PATH"
command -v chromium >/dev/null || [ -n "${VFIO_CHROMIUM:-}" ] || { echo "chromium is needed: apt-get install chromium"; exit 1; }
if ! "$py" -c 'import websocket' 2>/dev/null; then
  lib=$top/tests/output/.cache/pylib-browser
  [ -d "$lib/websocket" ] || "$py" -m pip install --quiet --target "$lib" websocket-client
  export PYTHONPATH="$lib${PYTHONPATH:+:$PYTHONPATH}"
fi
exec "$py" -m pytest -q -p no:cacheprovider tests/browser "$@"
