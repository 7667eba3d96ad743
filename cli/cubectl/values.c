// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "values.h"
#include "schema.h"

static const struct lysc_type *leaf_type(const struct lysc_node *leaf)
{
	return ((const struct lysc_node_leaf *)leaf)->type;
}

/* Types RFC 7951 writes as JSON numbers: integers of up to 32 bits. */
static int is_json_number(LY_DATA_TYPE t)
{
	return t == LY_TYPE_UINT8 || t == LY_TYPE_UINT16 || t == LY_TYPE_UINT32 ||
	       t == LY_TYPE_INT8 || t == LY_TYPE_INT16 || t == LY_TYPE_INT32;
}

json_t *value_to_json(const struct lysc_node *leaf, const char *text, struct cli_error *err)
{
	const struct lysc_type *type;
	LY_ERR rc;

	if (!(leaf->nodetype & (LYS_LEAF | LYS_LEAFLIST))) {
		cli_fail(err, EXIT_USAGE, "%s is not a leaf: give its leaves, %s.NAME=VALUE",
			 leaf->name, leaf->name);
		return NULL;
	}
	type = leaf_type(leaf);
	if (type->basetype == LY_TYPE_EMPTY) {
		if (text[0] && strcmp(text, "true")) {
			cli_fail(err, EXIT_USAGE, "%s takes no value (it is set or not)",
				 leaf->name);
			return NULL;
		}
		return json_pack("[n]");
	}
	rc = lyd_value_validate(leaf->module->ctx, leaf, text, strlen(text), NULL, NULL, NULL);
	if (rc != LY_SUCCESS &&
	    rc != LY_EINCOMPLETE) { /* incomplete: a leafref, checked by the daemon */
		const char *why = ly_errmsg(leaf->module->ctx);

		cli_fail(err, EXIT_USAGE, "%s=%s: %s", leaf->name, text,
			 why ? why : "not a valid value");
		return NULL;
	}
	while (type->basetype == LY_TYPE_LEAFREF)
		type = ((const struct lysc_type_leafref *)type)->realtype;
	if (is_json_number(type->basetype))
		return json_integer(strtoll(text, NULL, 10));
	if (type->basetype == LY_TYPE_BOOL)
		return json_boolean(strcmp(text, "true") == 0);
	return json_string(text);
}

json_t *value_of(const struct lysc_node *node, const char *text, struct cli_error *err)
{
	char *copy, *save = NULL;
	json_t *list;

	if (node->nodetype != LYS_LEAFLIST)
		return value_to_json(node, text, err);
	copy = strdup(text); /* a,b,c: the whole list */
	list = json_array();
	if (!copy || !list) {
		free(copy);
		json_decref(list);
		cli_fail(err, EXIT_FAILED, "out of memory");
		return NULL;
	}
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		json_t *v = value_to_json(node, item, err);

		if (!v) {
			free(copy);
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, v);
	}
	free(copy);
	if (!json_array_size(list)) {
		json_decref(list);
		cli_fail(err, EXIT_USAGE, "%s: give one value or more, a,b,c", node->name);
		return NULL;
	}
	return list;
}

int value_assign(json_t *obj, const struct lysc_node *node, const char *assignment,
		 struct cli_error *err)
{
	const char *eq = strchr(assignment, '=');
	char name[256], *seg, *save = NULL;
	const struct lysc_node *at = node;
	json_t *where = obj, *value;

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(name))
		return cli_fail(err, EXIT_USAGE, "'%s': expected NAME=VALUE", assignment);
	memcpy(name, assignment, (size_t)(eq - assignment));
	name[eq - assignment] = '\0';
	for (seg = strtok_r(name, "./", &save); seg; seg = strtok_r(NULL, "./", &save)) {
		const struct lysc_node *child = schema_child(at, seg);

		if (!child)
			return cli_fail(err, EXIT_USAGE, "%s has no '%s' (see: cubectl help)",
					at->name, seg);
		at = child;
		if (at->nodetype == LYS_CONTAINER) {
			json_t *next = json_object_get(where, at->name);

			if (!next) {
				next = json_object();
				json_object_set_new(where, at->name, next);
			}
			where = next;
		} else if (at->nodetype & (LYS_LIST)) {
			return cli_fail(err, EXIT_USAGE,
					"%s is a list: add its entries with '... %s add KEY ...'",
					at->name, at->name);
		}
	}
	value = value_of(at, eq + 1, err);
	if (!value)
		return -1;
	json_object_set_new(where, at->name, value);
	return 0;
}
