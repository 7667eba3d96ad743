// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_read.h"

const struct lyd_node *cfg_find(const struct lyd_node *config, const char *xpath)
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

const char *cfg_leaf(const struct lyd_node *parent, const char *path)
{
	struct lyd_node *n = NULL;

	if (lyd_find_path(parent, path, 0, &n) != LY_SUCCESS || !n)
		return NULL;
	return lyd_get_value(n);
}

const char *cfg_child(const struct lyd_node *parent, const char *name)
{
	for (const struct lyd_node *n = lyd_child(parent); n; n = n->next)
		if (n->schema && (n->schema->nodetype & LYD_NODE_TERM) &&
		    !strcmp(n->schema->name, name))
			return lyd_get_value(n);
	return NULL;
}

int cfg_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (!s || sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int cfg_parse_addr(const char *s, int *family, union cube_addr *addr)
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

int cfg_parse_prefix(const char *s, int *family, union cube_addr *addr, uint32_t *plen)
{
	char buf[64];
	const char *slash = s ? strchr(s, '/') : NULL;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - s), s);
	*plen = (uint32_t)atoi(slash + 1);
	if (cfg_parse_addr(buf, family, addr))
		return -1;
	return *plen <= (*family == CUBE_AF_INET ? 32u : 128u) ? 0 : -1;
}

struct lyd_node *cfg_at(const struct lyd_node *tree, const char *path)
{
	struct lyd_node *match = NULL;

	/* lyd_find_path() may answer with the deepest parent that exists. */
	if (!tree || lyd_find_path(tree, path, 0, &match) != LY_SUCCESS)
		return NULL;
	return match;
}

int cfg_each(const struct lyd_node *tree, const char *xpath, cfg_change_fn fn, void *arg,
	     struct cn_error *err)
{
	struct ly_set *set = NULL;
	int rc = 0;

	if (!tree || lyd_find_xpath(tree, xpath, &set))
		return 0;
	for (uint32_t i = 0; i < set->count && !rc; i++)
		rc = fn(arg, set->dnodes[i], NULL, err);
	ly_set_free(set, NULL);
	return rc;
}

/* The node of tree at the place node has in its own tree (a diff's):
 * found level by level through the schema's hashes of keys, with no path
 * printed or parsed. NULL if tree has none. */
static struct lyd_node *twin(const struct lyd_node *tree, const struct lyd_node *node)
{
	const struct lyd_node *parent = lyd_parent(node);
	struct lyd_node *siblings, *match = NULL;

	if (!tree)
		return NULL;
	if (parent) {
		struct lyd_node *p = twin(tree, parent);

		if (!p)
			return NULL;
		siblings = lyd_child(p);
	} else {
		siblings = lyd_first_sibling(tree);
	}
	if (!siblings || lyd_find_sibling_first(siblings, node, &match) != LY_SUCCESS)
		return NULL;
	return match;
}

int cfg_each_change(const struct ds_change *c, const char *xpath, cfg_change_fn fn, void *arg,
		    struct cn_error *err)
{
	struct ly_set *set = NULL;
	int rc = 0;

	if (c->restore)
		return cfg_each(c->config, xpath, fn, arg, err);
	if (!c->diff || lyd_find_xpath(c->diff, xpath, &set))
		return 0;
	for (uint32_t i = 0; i < set->count && !rc; i++)
		rc = fn(arg, twin(c->config, set->dnodes[i]), twin(c->before, set->dnodes[i]), err);
	ly_set_free(set, NULL);
	return rc;
}
