// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include "net_sysctl.h"

int net_sysctl(const char *path, const char *value)
{
	char full[160];
	FILE *f;
	int e = 0;

	snprintf(full, sizeof(full), "/proc/sys/net/%s", path);
	f = fopen(full, "w");
	if (!f)
		return -errno;
	if (fputs(value, f) < 0)
		e = -EIO;
	if (fclose(f) && !e)
		e = -errno;
	return e;
}
