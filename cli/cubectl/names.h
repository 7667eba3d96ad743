/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The names users type for what the schema has: a node's own name, its
 * plural or singular where the schema has the other ("routes" for route,
 * "nodes" for node, "policies" for policy), a module's name without its
 * organisation ("pods" for cubenet-pods), and module:name for a name two
 * modules share. All read off the schema: no service is known here.
 */
#ifndef CUBECTL_NAMES_H
#define CUBECTL_NAMES_H

#include <libyang/libyang.h>
#include "cli_error.h"

/* What to look among, tried in this order; exact names in all of them
 * before plurals and singulars in any. */
enum name_kind {
	NAME_SERVICE = 1, /* a top list of a served module: router, pod */
	NAME_ACTION = 2,  /* an RPC */
	NAME_MODULE = 4,  /* a served module: cubenet-pods, pods */
	NAME_TOP = 8,	  /* a top-level container or list: node, pods, routers */
	NAME_EXACT = 16,  /* no plurals or singulars */
};

struct named {
	const struct lysc_node *node;	 /* a service, action or top-level node */
	const struct lys_module *module; /* or a whole module */
};

/* Whether word is name or, inflected, its plural or singular. */
int name_matches(const char *word, const char *name, int inflected);

/* What word names among kinds (in module in, if not NULL): 1 with *found
 * set, 0 if nothing, -1 if two things (err names both). */
int name_find(const struct ly_ctx *ctx, const struct lys_module *in, const char *word,
	      unsigned int kinds, struct named *found, struct cli_error *err);

/* "module:name" for a node, for messages. */
void name_qualified(const struct named *n, char *out, size_t size);

#endif
