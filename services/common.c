// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common.h"

const struct lyd_node *svc_find(const struct lyd_node *config, const char *xpath)
{
	struct ly_set *set = NULL;
	const struct lyd_node *n = NULL;

	if (!config || lyd_find_xpath(config, xpath, &set))
		return NULL;
	if (set->count)
		n = set->dnodes[0];
	ly_set_free(set, NULL);
	return n;
}

const char *svc_leaf(const struct lyd_node *parent, const char *path)
{
	struct lyd_node *n = NULL;

	if (lyd_find_path(parent, path, 0, &n) != LY_SUCCESS || !n)
		return NULL;
	return lyd_get_value(n);
}

int svc_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (!s || sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int svc_netdev_mac(const char *dev, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
		rc = 0;
	}
	close(fd);
	return rc;
}

int svc_netdev_addr(const char *dev, int family, union cube_addr *addr)
{
	struct ifaddrs *all, *a;
	int rc = -1;

	if (getifaddrs(&all))
		return -1;
	memset(addr, 0, sizeof(*addr));
	for (a = all; a && rc; a = a->ifa_next) {
		if (!a->ifa_addr || strcmp(a->ifa_name, dev))
			continue;
		if (family == CUBE_AF_INET && a->ifa_addr->sa_family == AF_INET) {
			addr->ip4 = ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr;
			rc = 0;
		} else if (family == CUBE_AF_INET6 && a->ifa_addr->sa_family == AF_INET6 &&
			   !IN6_IS_ADDR_LINKLOCAL(
			       &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr)) {
			memcpy(addr->bytes, &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, 16);
			rc = 0;
		}
	}
	freeifaddrs(all);
	return rc;
}

int svc_parse_addr(const char *s, int *family, union cube_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	if (s && inet_pton(AF_INET, s, &addr->ip4) == 1)
		*family = CUBE_AF_INET;
	else if (s && inet_pton(AF_INET6, s, addr->bytes) == 1)
		*family = CUBE_AF_INET6;
	else
		return -1;
	return 0;
}

int svc_parse_prefix(const char *s, int *family, union cube_addr *addr, uint32_t *plen)
{
	char buf[64];
	const char *slash = s ? strchr(s, '/') : NULL;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - s), s);
	*plen = (uint32_t)atoi(slash + 1);
	if (svc_parse_addr(buf, family, addr))
		return -1;
	return *plen <= (*family == CUBE_AF_INET ? 32u : 128u) ? 0 : -1;
}
