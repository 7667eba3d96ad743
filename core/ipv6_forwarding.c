// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ipv6_forwarding.h"
#include "net_sysctl.h"

/* Under /proc/sys/net, as net_sysctl() takes paths. */
#define CONF "ipv6/conf"

/* accept_ra of one interface (or "default") from 1 to 2; others kept. */
static void keep_taking_advertisements(const char *name)
{
	char path[288], full[320], value[8] = "";
	FILE *f;

	snprintf(path, sizeof(path), CONF "/%s/accept_ra", name);
	snprintf(full, sizeof(full), "/proc/sys/net/%s", path);
	f = fopen(full, "r");
	if (!f)
		return;
	if (!fgets(value, sizeof(value), f))
		value[0] = '\0';
	fclose(f);
	if (!strcmp(value, "1\n"))
		net_sysctl(path, "2");
}

int ipv6_forwarding_on(void)
{
	DIR *d = opendir("/proc/sys/net/" CONF);
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "all"))
			keep_taking_advertisements(e->d_name);
	closedir(d);
	return net_sysctl(CONF "/all/forwarding", "1");
}
