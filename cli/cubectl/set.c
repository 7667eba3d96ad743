// SPDX-License-Identifier: Apache-2.0
/*
 * set: what the words say, merged into the config below the nearest list
 * entry on the path (or into the datastore when there is none), so that
 * the containers on the way come into being with it, a presence container
 * among them. A leaf-list it names is replaced whole, not merged into: one
 * YANG Patch (RFC 8072) removes each value it has and merges the new ones,
 * in one transaction.
 */
#include <stdio.h>
#include <string.h>
#include "target.h"
#include "values.h"
#include "yaml.h"

static const char *local_name(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon ? colon + 1 : name;
}

/* A member's name in its parent's JSON: qualified where the module changes. */
static void member_name(const struct lysc_node *node, const struct lysc_node *parent, char *out,
			size_t size)
{
	if (!parent || parent->module != node->module)
		snprintf(out, size, "%s:%s", node->module->name, node->name);
	else
		snprintf(out, size, "%s", node->name);
}

/* content, t->node's value, nested in each parent up to the anchor's
 * entry, or up to the top: the body of a merge there. Takes content. */
static json_t *merge_body(struct cubectl *x, const struct target *t, json_t *content)
{
	const struct lysc_node *node = t->node, *parent, *k[MAX_KEYS];
	json_t *value = content, *entry;
	char name[160];

	for (; (parent = lysc_data_parent(node)) && parent != t->anchor; node = parent) {
		json_t *obj = json_object();

		member_name(node, parent, name, sizeof(name));
		json_object_set_new(obj, name, value);
		value = obj;
	}
	if (!t->anchor)
		return cmd_wrap(node, value);
	entry = json_object();
	schema_keys(t->anchor, k, MAX_KEYS);
	for (size_t i = 0; i < t->n_anchor_keys; i++) {
		json_t *v = value_to_json(k[i], t->anchor_keys[i], &x->err);

		if (!v) {
			json_decref(entry);
			json_decref(value);
			return NULL;
		}
		json_object_set_new(entry, k[i]->name, v);
	}
	member_name(node, t->anchor, name, sizeof(name));
	json_object_set_new(entry, name, value);
	return cmd_wrap(t->anchor, entry);
}

static const json_t *member(const json_t *obj, const struct lysc_node *node)
{
	char qualified[160];
	const json_t *v = json_object_get(obj, node->name);

	snprintf(qualified, sizeof(qualified), "%s:%s", node->module->name, node->name);
	return v ? v : json_object_get(obj, qualified);
}

/* Whether content (node's value) sets a leaf-list. */
static int sets_leaflist(const struct lysc_node *node, const json_t *content)
{
	const char *k;
	json_t *v;

	if (node->nodetype == LYS_LEAFLIST)
		return 1;
	if (!(node->nodetype & (LYS_CONTAINER | LYS_LIST)) || !json_is_object(content))
		return 0; /* the entries of a list from -f: merged */
	json_object_foreach((json_t *)content, k, v)
	{
		const struct lysc_node *child = schema_child(node, local_name(k));

		if (child && sets_leaflist(child, v))
			return 1;
	}
	return 0;
}

/* A remove edit for each value that the leaf-lists content sets have now
 * (have: node's config, path: its RESTCONF path). */
static void add_removals(json_t *edits, const struct lysc_node *node, const json_t *content,
			 const json_t *have, const char *path)
{
	char sub[2400], enc[600], text[512], id[32];
	const char *k;
	json_t *v;
	size_t i;

	if (node->nodetype == LYS_LEAFLIST) {
		json_array_foreach((json_t *)have, i, v)
		{
			if (json_is_string(v))
				snprintf(text, sizeof(text), "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
					 json_integer_value(v));
			else if (json_is_boolean(v))
				snprintf(text, sizeof(text), "%s",
					 json_is_true(v) ? "true" : "false");
			else
				continue;
			restconf_encode_key(text, enc, sizeof(enc));
			snprintf(sub, sizeof(sub), "%s=%s", path, enc);
			snprintf(id, sizeof(id), "remove-%zu", json_array_size(edits));
			json_array_append_new(edits,
					      json_pack("{s:s,s:s,s:s}", "edit-id", id, "operation",
							"remove", "target", sub));
		}
		return;
	}
	if (!(node->nodetype & (LYS_CONTAINER | LYS_LIST)) || !json_is_object(content))
		return;
	json_object_foreach((json_t *)content, k, v)
	{
		const struct lysc_node *child = schema_child(node, local_name(k));
		char seg[160];

		if (!child)
			continue;
		member_name(child, node, seg, sizeof(seg));
		snprintf(sub, sizeof(sub), "%s/%s", path, seg);
		add_removals(edits, child, v, member(have, child), sub);
	}
}

/* t->node's config now (for a leaf-list, its parent's, which holds it):
 * *have within *reply, NULL if there is none. */
static int current(struct cubectl *x, const struct target *t, json_t **reply, const json_t **have)
{
	int leaflist = t->node->nodetype == LYS_LEAFLIST;
	char path[2300];
	const char *k;
	json_t *v;

	*have = NULL;
	snprintf(path, sizeof(path), DATA "%s?content=config", leaflist ? t->parent : t->path);
	if (cmd_request(x, "GET", path, NULL, reply)) {
		if (x->err.code != EXIT_NOT_FOUND)
			return -1;
		x->err = (struct cli_error){0}; /* nothing there yet */
		return 0;
	}
	json_object_foreach(*reply, k, v)
	{
		if (json_is_array(v))
			v = json_array_get(v, 0);
		*have = leaflist ? member(v, t->node) : v;
		break;
	}
	return 0;
}

/* Merge body at resource ("" the datastore), the leaf-lists that content
 * sets emptied first, in one YANG Patch. */
static int replace_leaflists(struct cubectl *x, const struct target *t, const json_t *content,
			     json_t *body, const char *resource)
{
	json_t *reply = NULL, *edits, *patch;
	const json_t *have;
	int rc;

	if (current(x, t, &reply, &have))
		return -1;
	edits = json_array();
	add_removals(edits, t->node, content, have, t->path);
	json_array_append_new(edits, json_pack("{s:s,s:s,s:s,s:O}", "edit-id", "merge", "operation",
					       "merge", "target", resource[0] ? resource : "/",
					       "value", body));
	patch = json_pack("{s:{s:s,s:o}}", "ietf-yang-patch:yang-patch", "patch-id", "cubectl-set",
			  "edit", edits);
	rc = cmd_request_as(x, "PATCH", DATA, patch, MEDIA_YANG_PATCH, NULL);
	json_decref(patch);
	json_decref(reply);
	return rc;
}

/* -f for a container: its content, or wrapped as {"[module:]name": {...}}. */
static int container_file(struct cubectl *x, const struct lysc_node *node, json_t *obj)
{
	json_t *file = yaml_load_file(x->file, &x->err);
	const json_t *inner;

	if (!file)
		return -1;
	inner = member(file, node);
	if (!json_is_object(inner ? inner : file)) {
		json_decref(file);
		return cli_fail(&x->err, EXIT_USAGE, "%s: expected an object for %s", x->file,
				node->name);
	}
	json_object_update(obj, (json_t *)(inner ? inner : file));
	json_decref(file);
	return 0;
}

/* What the words set, as t->node's value. */
static json_t *content_of(struct cubectl *x, const struct target *t, int n, char **args)
{
	const char *keys[MAX_KEYS];
	json_t *obj;

	if (t->node->nodetype & (LYS_LEAF | LYS_LEAFLIST)) {
		if (n != 1) {
			cli_fail(&x->err, EXIT_USAGE, "set takes one value");
			return NULL;
		}
		return value_of(t->node, args[0], &x->err);
	}
	if (t->node->nodetype == LYS_LIST) {
		if (!t->keyed) {
			cli_fail(&x->err, EXIT_USAGE, "set on which %s? give its keys",
				 t->node->name);
			return NULL;
		}
		for (size_t i = 0; i < t->n_keys; i++)
			keys[i] = t->keys[i];
		return cmd_entry_body(x, t->node, keys, t->n_keys, n, args);
	}
	obj = json_object();
	if (x->file && container_file(x, t->node, obj))
		goto fail;
	for (int i = 0; i < n; i++)
		if (value_assign(obj, t->node, args[i], &x->err))
			goto fail;
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

int cmd_set(struct cubectl *x, struct target *t, int n, char **args)
{
	char path[2200];
	const char *resource;
	json_t *content, *body;
	int replaces, rc;

	if (!n && !x->file)
		return cli_fail(&x->err, EXIT_USAGE,
				"set needs LEAF=VALUE (or a VALUE for a leaf)");
	content = content_of(x, t, n, args);
	if (!content)
		return -1;
	replaces = sets_leaflist(t->node, content);
	/* A list entry is merged into where it is; anything else below the
	 * anchor, which is there whenever the path is. */
	if (t->node->nodetype == LYS_LIST) {
		body = cmd_wrap(t->node, content);
		resource = t->path;
	} else {
		body = merge_body(x, t, content);
		resource = t->anchor ? t->anchor_path : "";
	}
	if (!body)
		return -1;
	/* content lives on in body */
	if (replaces) {
		rc = replace_leaflists(x, t, content, body, resource);
	} else {
		snprintf(path, sizeof(path), DATA "%s", resource);
		rc = cmd_request(x, "PATCH", path, body, NULL);
	}
	json_decref(body);
	return rc;
}
