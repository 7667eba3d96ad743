// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
