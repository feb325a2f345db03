// SPDX-License-Identifier: GPL-3.0-or-later
/* Holds a VFIO group (or cdev) open and sleeps, like a QEMU process with an assigned device.
 * Installed in the guest as /usr/bin/qemu-system-x86_64 so that its comm and cmdline look like
 * QEMU's ("-name guest=NAME,debug-threads=on ..."); the node to hold comes from VFIO_HOLD. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	const char *path = getenv("VFIO_HOLD");
	int fd;

	if (!path) {
		fprintf(stderr, "VFIO_HOLD is not set\n");
		return 2;
	}
	fd = open(path, O_RDWR);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (;;)
		pause();
	return 0;
}
