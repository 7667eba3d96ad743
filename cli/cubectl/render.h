/* SPDX-License-Identifier: Apache-2.0 */
/* Data for people: trees of "name: value", lists as tables when their
 * entries are flat, entries of deeper lists as blocks headed by their keys. */
#ifndef CUBECTL_RENDER_H
#define CUBECTL_RENDER_H

#include <stdio.h>
#include <jansson.h>
#include <libyang/libyang.h>

/* data: a RESTCONF reply body ({"module:node": value}); snode: the schema
 * node it is of, or NULL for the datastore root. */
void render_human(FILE *out, const json_t *data, const struct lysc_node *snode,
		  const struct ly_ctx *ctx);

#endif
