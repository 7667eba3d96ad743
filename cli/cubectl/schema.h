/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YANG modules the daemon serves, in a libyang context of cubectl's own:
 * listed from its yang-library, each fetched once and cached by revision,
 * so a new service needs no CLI code. When no daemon answers, the modules
 * installed with cubectl stand in (for help and completion). The words of
 * a command resolve against this schema.
 */
#ifndef CUBECTL_SCHEMA_H
#define CUBECTL_SCHEMA_H

#include <libyang/libyang.h>
#include "restconf_client.h"
#include "cli_error.h"

/* Where the schema came from. */
struct schema_origin {
	char unreachable[256]; /* why no daemon answered; "" if one did */
	char yang_dirs[1024];  /* then: where the installed modules were read */
};

/* Load the daemon's modules into a new context (cache_dir may be NULL);
 * if it cannot be reached, those in yang_dirs, and origin says so. */
int schema_load(struct ly_ctx **ctx, const struct client *c, const char *cache_dir,
		const char *yang_dirs, struct schema_origin *origin, struct cli_error *err);

/* The i-th served module, NULL past the last. */
const struct lys_module *schema_module(const struct ly_ctx *ctx, size_t i);
/* The i-th top-level data node (container or list) of the served
 * modules, NULL past the last. */
const struct lysc_node *schema_top(const struct ly_ctx *ctx, size_t i);
/* Whether a container holds settings of its own (anything but lists), as
 * cubenet-pods:node does and a holder of instances like routers does not. */
int schema_has_settings(const struct lysc_node *container);

/* A top-level list of a served module: "router" in cubenet-router's
 * routers/router. The i-th one, or NULL past the last. */
const struct lysc_node *schema_service(const struct ly_ctx *ctx, size_t i);
const struct lysc_node *schema_service_find(const struct ly_ctx *ctx, const char *name);
/* A data child of node (through choices and cases) by name; also accepts a
 * plural or singular ("routes" for "route"), the exact name first. NULL if
 * none. */
const struct lysc_node *schema_child(const struct lysc_node *node, const char *name);
/* The i-th data child (through choices and cases), NULL past the last. */
const struct lysc_node *schema_child_at(const struct lysc_node *node, size_t i);
/* An RPC of a served module by name, or NULL. */
const struct lysc_node *schema_rpc(const struct ly_ctx *ctx, const char *name);
const struct lysc_node *schema_rpc_at(const struct ly_ctx *ctx, size_t i);
/* Whether this list's key names a cube of cubenet-core (a leafref to it):
 * creating an entry creates the cube too. */
int schema_list_is_cube(const struct lysc_node *list);
/* The keys of a list, in order; returns how many (at most max). */
size_t schema_keys(const struct lysc_node *list, const struct lysc_node **keys, size_t max);
/* Whether a node is one of served modules' (not libyang's own). */
int schema_is_served(const struct lys_module *mod);

#endif
