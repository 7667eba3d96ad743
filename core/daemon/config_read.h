/* SPDX-License-Identifier: Apache-2.0 */
/* Reading values out of validated config: what the runtime and every service share. */
#ifndef CUBENETD_CONFIG_READ_H
#define CUBENETD_CONFIG_READ_H

#include <stdint.h>
#include <libyang/libyang.h>
#include "lib/abi/addr.h"
#include "datastore.h"

/* The first node an absolute XPath selects in the config, or NULL. */
const struct lyd_node *cfg_find(const struct lyd_node *config, const char *xpath);
/* The value of the leaf at a path below parent, or NULL. */
const char *cfg_leaf(const struct lyd_node *parent, const char *path);
/* The same for a direct child leaf by name, without parsing a path: for
 * what runs once per entry of a large list. */
const char *cfg_child(const struct lyd_node *parent, const char *name);
int cfg_parse_mac(const char *text, uint8_t mac[6]);
/* "10.1.0.0/16" or "2001:db8::/32"; "10.0.0.1" for an address. 0 or -1. */
int cfg_parse_prefix(const char *text, int *family, union cube_addr *addr, uint32_t *plen);
int cfg_parse_addr(const char *text, int *family, union cube_addr *addr);

/* The node at an exact data path (keys included), or NULL: a hash lookup,
 * whatever the size of the tree. */
struct lyd_node *cfg_at(const struct lyd_node *tree, const char *path);

/*
 * Every entry of a list that a change touches, with the entry as it is
 * after the change (NULL: it is gone) and as it was (NULL: it is new).
 * xpath selects the entries in the diff, e.g.
 * "/cubenet-router:routers/router[name='r0']/route". fn returns 0 or -1
 * (err set), which stops the walk. On restore every entry of the config
 * is new.
 */
typedef int (*cfg_change_fn)(void *arg, const struct lyd_node *now, const struct lyd_node *was,
			     struct cn_error *err);
int cfg_each_change(const struct ds_change *c, const char *xpath, cfg_change_fn fn, void *arg,
		    struct cn_error *err);
/* Every entry xpath selects in tree. */
int cfg_each(const struct lyd_node *tree, const char *xpath, cfg_change_fn fn, void *arg,
	     struct cn_error *err);

#endif
