// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "operations.h"
#include "service.h"

static int reset_counters(struct runtime *rt, const struct lyd_node *input, json_t *output,
			  struct cn_error *err)
{
	struct lyd_node *cube = NULL;
	const char *name = NULL;
	json_int_t n = 0;

	if (lyd_find_path(input, "cube", 0, &cube) == LY_SUCCESS && cube)
		name = lyd_get_value(cube);
	for (size_t i = 0; i < rt->n_cubes; i++) {
		if (name && strcmp(rt->cubes[i].name, name))
			continue;
		if (cube_reset_stats(rt->cubes[i].cube))
			return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot reset '%s'",
				       rt->cubes[i].name);
		n++;
	}
	json_object_set_new(output, "reset", json_integer(n));
	return 0;
}

/* The core module's own; services bring theirs in their registration. */
static const struct service_operation core_operations[] = {
    {"cubenet-core:reset-counters", reset_counters},
    {NULL, NULL},
};

/* The operation called name (module:rpc), or NULL. */
static const struct service_operation *find_operation(const char *name)
{
	for (const struct service_operation *op = core_operations; op->name; op++)
		if (!strcmp(op->name, name))
			return op;
	for (size_t i = 0; i < service_count(); i++)
		for (const struct service_operation *op = service_at(i)->operations; op && op->name;
		     op++)
			if (!strcmp(op->name, name))
				return op;
	return NULL;
}

char *operations_list(void)
{
	json_t *ops = json_object(), *doc;
	char *text;

	for (const struct service_operation *op = core_operations; op->name; op++)
		json_object_set_new(ops, op->name, json_pack("[n]"));
	for (size_t i = 0; i < service_count(); i++)
		for (const struct service_operation *op = service_at(i)->operations; op && op->name;
		     op++)
			json_object_set_new(ops, op->name, json_pack("[n]"));
	doc = json_pack("{s:o}", "ietf-restconf:operations", ops);
	text = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	return text;
}

int operations_invoke(struct datastore *ds, struct runtime *rt, const char *name, const char *body,
		      char **output, struct cn_error *err)
{
	const struct service_operation *op = find_operation(name);
	struct lyd_node *tree = NULL, *rpc = NULL;
	json_t *in = NULL, *wrapped = NULL, *out = json_object();
	char key[160], *text = NULL;
	struct ly_in *lin = NULL;
	const char *colon = strchr(name, ':');
	int rc = -1;

	*output = NULL;
	if (!op || !colon) {
		cn_fail(err, CN_ERR_DATA_MISSING, name, "no such operation");
		goto out;
	}

	/* RESTCONF sends {"module:input": {...}}; libyang reads the RPC node. */
	snprintf(key, sizeof(key), "%.*s:input", (int)(colon - name), name);
	if (body && *body) {
		json_error_t jerr;
		json_t *doc = json_loads(body, 0, &jerr);

		if (!doc || !json_is_object(doc)) {
			json_decref(doc);
			cn_fail(err, CN_ERR_MALFORMED, name, "body is not a JSON object: %s",
				jerr.text);
			goto out;
		}
		in = json_incref(json_object_get(doc, key));
		if (json_object_size(doc) != (in ? 1u : 0u) || (in && !json_is_object(in))) {
			json_decref(doc);
			cn_fail(err, CN_ERR_MALFORMED, name, "the body must be {\"%s\": {...}}",
				key);
			goto out;
		}
		json_decref(doc);
	}
	wrapped = json_pack("{s:o}", name, in ? in : json_object());
	in = NULL;
	text = json_dumps(wrapped, 0);
	ly_in_new_memory(text, &lin);
	pthread_mutex_lock(&ds->lock);
	ly_err_clean(ds->ctx, NULL);
	if (lyd_parse_op(ds->ctx, NULL, lin, LYD_JSON, LYD_TYPE_RPC_YANG, &tree, &rpc) ||
	    lyd_validate_op(tree, ds->running, LYD_TYPE_RPC_YANG, NULL)) {
		const struct ly_err_item *e = ly_err_first(ds->ctx);

		cn_fail(err, CN_ERR_INVALID_VALUE, e && e->path ? e->path : name, "%s",
			e && e->msg ? e->msg : "invalid input");
		ly_err_clean(ds->ctx, NULL);
	} else if (!op->run(rt, rpc, out, err)) {
		json_t *doc;

		snprintf(key, sizeof(key), "%.*s:output", (int)(colon - name), name);
		doc = json_pack("{s:O}", key, out);
		*output = json_object_size(out) ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		json_decref(doc);
		rc = 0;
	}
	pthread_mutex_unlock(&ds->lock);
out:
	ly_in_free(lin, 0);
	lyd_free_all(tree);
	json_decref(in);
	json_decref(wrapped);
	json_decref(out);
	free(text);
	return rc;
}
