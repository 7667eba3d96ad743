// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ipv6_forwarding.h"

#define CONF "/proc/sys/net/ipv6/conf"

static int write_value(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int e = 0;

	if (!f)
		return -errno;
	if (fputs(value, f) < 0)
		e = -EIO;
	if (fclose(f) && !e)
		e = -errno;
	return e;
}

/* accept_ra of one interface (or "default") from 1 to 2; others kept. */
static void keep_taking_advertisements(const char *name)
{
	char path[320], value[8] = "";
	FILE *f;

	snprintf(path, sizeof(path), CONF "/%s/accept_ra", name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(value, sizeof(value), f))
		value[0] = '\0';
	fclose(f);
	if (!strcmp(value, "1\n"))
		write_value(path, "2");
}

int ipv6_forwarding_on(void)
{
	DIR *d = opendir(CONF);
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "all"))
			keep_taking_advertisements(e->d_name);
	closedir(d);
	return write_value(CONF "/all/forwarding", "1");
}
