#!/usr/bin/env python
# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ship /tmp/out to the host: an xz tarball, base64, between markers on the second serial port.

The port is opened non-blocking and switched to CLOCAL + raw first: a plain open() of a
serial tty waits for a carrier that QEMU's file backend never raises."""
import base64
import io
import os
import tarfile
import termios

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w:xz') as tar:
    tar.add('/tmp/out', arcname='out')
payload = b'VFIO-LANE-BEGIN\n' + base64.encodebytes(buf.getvalue()) + b'VFIO-LANE-END\n'

fd = os.open('/dev/ttyS1', os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
cflag = (cflag | termios.CLOCAL | termios.CREAD) & ~termios.CRTSCTS
termios.tcsetattr(fd, termios.TCSANOW, [0, 0, cflag, 0, termios.B115200, termios.B115200, cc])
os.set_blocking(fd, True)
view = memoryview(payload)
while view:
    view = view[os.write(fd, view):]
termios.tcdrain(fd)
os.close(fd)
