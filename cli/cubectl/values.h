/* SPDX-License-Identifier: Apache-2.0 */
/* Values typed on the command line, checked against the schema and turned
 * into RFC 7951 JSON before anything is sent. */
#ifndef CUBECTL_VALUES_H
#define CUBECTL_VALUES_H

#include <jansson.h>
#include <libyang/libyang.h>
#include "cli_error.h"

/* A leaf's value as JSON of its type (number, boolean, [null] for empty,
 * string), or NULL with the schema's complaint in err. */
json_t *value_to_json(const struct lysc_node *leaf, const char *text, struct cli_error *err);
/* A leaf's value, or a leaf-list's whole list from "a,b,c". */
json_t *value_of(const struct lysc_node *node, const char *text, struct cli_error *err);
/* Set "a.b.c=value" (or a/b/c) under node into obj, creating containers on
 * the way. 0 or -1. */
int value_assign(json_t *obj, const struct lysc_node *node, const char *assignment,
		 struct cli_error *err);

#endif
