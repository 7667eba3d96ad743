// SPDX-License-Identifier: Apache-2.0
/*
 * The command grammar, resolved against the schema:
 *
 *   cubectl SERVICE add NAME [LEAF=VALUE...] [-f FILE]   cubectl SERVICE show
 *   cubectl INSTANCE [CHILD [KEY...]]... [show|add|set|del] [ARGS]
 *   cubectl CONTAINER [CHILD [KEY...]]... [show|add|set|del] [ARGS]
 *   cubectl show|del INSTANCE|CONTAINER [CHILD [KEY...]]...
 *   cubectl connect CUBE:PORT CUBE|netdev:NAME|tx|pass|drop
 *   cubectl disconnect CUBE:PORT
 *   cubectl attach|detach INSTANCE NETDEV [mode=MODE]
 *   cubectl RPC [LEAF=VALUE...]
 *
 * CONTAINER is a top-level container of a served module, by its exact name
 * (or module:name); these names come before instance names. Every word
 * becomes part of a RESTCONF path or body; values are checked against the
 * schema before anything is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cubectl.h"
#include "names.h"
#include "render.h"
#include "schema.h"
#include "target.h"
#include "values.h"
#include "yaml.h"

static const char *const verbs[] = {"show", "add", "set", "del", NULL};

const char *const *cmd_verbs(void)
{
	return verbs;
}

static int is_verb(const char *w)
{
	for (const char *const *v = verbs; *v; v++)
		if (strcmp(*v, w) == 0)
			return 1;
	return strcmp(w, "list") == 0 || strcmp(w, "?") == 0;
}

/* -- talking to the daemon ------------------------------------------------ */

/* The errors of a YANG Patch's status: of the patch, or of its edit. */
static json_t *patch_errors(json_t *root)
{
	json_t *st = json_object_get(root, "ietf-yang-patch:yang-patch-status");
	json_t *edit =
	    json_array_get(json_object_get(json_object_get(st, "edit-status"), "edit"), 0);

	return json_object_get(st, "errors") ? json_object_get(st, "errors")
					     : json_object_get(edit, "errors");
}

/* One line from a RESTCONF error body (or a YANG Patch status): "path:
 * message". */
static void error_line(const char *body, char *out, size_t size)
{
	json_t *root = json_loads(body, 0, NULL);
	json_t *errors = json_object_get(root, "ietf-restconf:errors");
	json_t *e =
	    json_array_get(json_object_get(errors ? errors : patch_errors(root), "error"), 0);
	const char *msg = json_string_value(json_object_get(e, "error-message"));
	const char *path = json_string_value(json_object_get(e, "error-path"));

	if (msg)
		snprintf(out, size, "%s%s%s", path && path[0] ? path : "",
			 path && path[0] ? ": " : "", msg);
	else
		snprintf(out, size, "%.200s", body[0] ? body : "no reason given");
	json_decref(root);
}

int cmd_request_as(struct cubectl *x, const char *method, const char *path, const json_t *body,
		   const char *media, json_t **reply)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct response resp;
	char why[900];
	int rc = 0;

	if (reply)
		*reply = NULL;
	if (x->origin.unreachable[0]) { /* already tried, when loading the schema */
		free(text);
		return cli_fail(&x->err, EXIT_UNREACHABLE, "cannot reach cubenetd: %s",
				x->origin.unreachable);
	}
	if (client_request_as(&x->client, method, path, text, media, &resp)) {
		rc = cli_fail(&x->err, EXIT_UNREACHABLE, "cannot reach cubenetd: %s", resp.error);
	} else if (resp.status < 200 || resp.status > 299) {
		int code = resp.status == 404	? EXIT_NOT_FOUND
			   : resp.status == 409 ? EXIT_CONFLICT
			   : resp.status == 401 ? EXIT_DENIED
						: EXIT_FAILED;

		error_line(resp.body, why, sizeof(why));
		rc = cli_fail(&x->err, code, "%s", why);
	} else if (reply && resp.body[0]) {
		*reply = json_loads(resp.body, 0, NULL);
	}
	free(text);
	response_free(&resp);
	return rc;
}

int cmd_request(struct cubectl *x, const char *method, const char *path, const json_t *body,
		json_t **reply)
{
	return cmd_request_as(x, method, path, body, MEDIA_DATA, reply);
}

json_t *cmd_config(struct cubectl *x)
{
	if (!x->config && cmd_request(x, "GET", DATA "?content=config", NULL, &x->config) == 0 &&
	    !x->config)
		x->config = json_object();
	return x->config;
}

/* -- paths ---------------------------------------------------------------- */

static void append_node(char *path, size_t size, const struct lysc_node *parent,
			const struct lysc_node *node)
{
	size_t len = strlen(path);

	if (!parent || parent->module != node->module)
		snprintf(path + len, size - len, "/%s:%s", node->module->name, node->name);
	else
		snprintf(path + len, size - len, "/%s", node->name);
}

static void append_keys(char *path, size_t size, const char *const *keys, size_t n)
{
	char enc[512];
	size_t len = strlen(path);

	for (size_t i = 0; i < n; i++) {
		restconf_encode_key(keys[i], enc, sizeof(enc));
		len += (size_t)snprintf(path + len, size - len, "%s%s", i ? "," : "=", enc);
	}
}

/* Where a top list lives: /mod:container/list, held by /mod:container. */
static void service_paths(const struct lysc_node *list, char *path, size_t size, char *parent)
{
	path[0] = parent[0] = '\0';
	if (list->parent) {
		append_node(parent, size, NULL, list->parent);
		snprintf(path, size, "%s", parent);
	}
	append_node(path, size, list->parent, list);
}

/* The entries of a top list in the config JSON. */
static json_t *service_entries(json_t *config, const struct lysc_node *list)
{
	char name[160];

	if (list->parent) {
		snprintf(name, sizeof(name), "%s:%s", list->module->name, list->parent->name);
		return json_object_get(json_object_get(config, name), list->name);
	}
	snprintf(name, sizeof(name), "%s:%s", list->module->name, list->name);
	return json_object_get(config, name);
}

static int has_entry(json_t *entries, const struct lysc_node *list, const char *name)
{
	const struct lysc_node *key;
	size_t i;
	json_t *e;

	if (schema_keys(list, &key, 1) != 1)
		return 0;
	json_array_foreach(entries, i, e)
	{
		json_t *v = json_object_get(e, key->name);

		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return 1;
	}
	return 0;
}

static const struct lysc_node *core_cube_list(const struct ly_ctx *ly)
{
	const struct lysc_node *s = schema_service_find(ly, "cube");

	return s && strcmp(s->module->name, "cubenet-core") == 0 ? s : NULL;
}

/* A service's name where an instance's was wanted ("cubectl service
 * default web ..."): say how its entries are named. */
static int service_not_instance(struct cubectl *x, const struct lysc_node *list)
{
	const struct lysc_node *k[MAX_KEYS];
	size_t n = schema_keys(list, k, MAX_KEYS);
	char keys[256] = "", how[256];

	for (size_t i = 0; i < n; i++)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), " %s", k[i]->name);
	/* One key: an entry goes by it; more: through the list's path. */
	if (n == 1)
		snprintf(how, sizeof(how), "cubectl <%s> ...", k[0]->name);
	else if (list->parent)
		snprintf(how, sizeof(how), "cubectl %s %s%s ...", list->parent->name, list->name,
			 keys);
	else
		snprintf(how, sizeof(how), "cubectl %s%s ...", list->name, keys);
	return cli_fail(&x->err, EXIT_USAGE, "%s is a service, not an instance: its entries are %s",
			list->name, how);
}

/* An instance by name: a service's entry first, else a bare core cube. */
static int resolve_instance(struct cubectl *x, const char *name, struct target *t)
{
	const struct lysc_node *s, *core = core_cube_list(x->ly), *found = NULL;
	json_t *config = cmd_config(x);

	if (!config)
		return -1;
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; (s = schema_service(x->ly, i)); i++) {
		if (s == core || !has_entry(service_entries(config, s), s, name))
			continue;
		found = s;
		break;
	}
	t->also_core = core && has_entry(service_entries(config, core), core, name);
	if (!found && t->also_core)
		found = core;
	if (!found) {
		struct cli_error ignored = {0};
		struct named like;

		if (name_find(x->ly, NULL, name, NAME_SERVICE | NAME_TOP, &like, &ignored) != 1)
			return cli_fail(&x->err, EXIT_NOT_FOUND,
					"no instance '%s' (cubectl show lists what there is)",
					name);
		if (!strcmp(like.node->name, name) && like.node->nodetype == LYS_LIST)
			return service_not_instance(x, like.node);
		return cli_fail(&x->err, EXIT_NOT_FOUND,
				"no instance '%s' (did you mean %s? cubectl help %s)", name,
				like.node->name, like.node->name);
	}
	t->service = t->node = found;
	t->keyed = 1;
	snprintf(t->instance, sizeof(t->instance), "%s", name);
	service_paths(found, t->path, sizeof(t->path), t->parent);
	append_keys(t->path, sizeof(t->path), (const char *const[]){name}, 1);
	snprintf(t->keys[0], sizeof(t->keys[0]), "%s", name);
	t->n_keys = 1;
	return 0;
}

/* A top-level container by its exact name (or module:name): 1 with t
 * set, 0 if name is none, -1 if it is two modules'. */
static int resolve_container(struct cubectl *x, const char *name, struct target *t)
{
	struct named found;
	int rc = name_find(x->ly, NULL, name, NAME_TOP | NAME_EXACT, &found, &x->err);

	if (rc <= 0 || found.node->nodetype != LYS_CONTAINER)
		return rc < 0 ? -1 : 0;
	memset(t, 0, sizeof(*t));
	t->node = found.node;
	append_node(t->path, sizeof(t->path), NULL, found.node);
	return 1;
}

static void set_keys(struct target *t, const char **keys, size_t n)
{
	append_keys(t->path, sizeof(t->path), keys, n);
	for (size_t i = 0; i < n; i++)
		snprintf(t->keys[i], sizeof(t->keys[i]), "%s", keys[i]);
	t->n_keys = n;
	t->keyed = 1;
}

/* Take a list's keys from words (one per key, or one word joined with
 * commas); checked against their types. Returns words used, or -1. */
static int take_keys(struct cubectl *x, const struct lysc_node *list, int n, char **words,
		     const char **keys, size_t *n_keys)
{
	const struct lysc_node *k[MAX_KEYS];
	static char joined[MAX_KEYS][256];
	size_t want = schema_keys(list, k, MAX_KEYS);
	int used = 0;

	if (n > 0 && want > 1 && strchr(words[0], ',')) {
		char *save = NULL, *copy = strdup(words[0]), *tok;
		size_t got = 0;

		for (tok = strtok_r(copy, ",", &save); tok && got < want;
		     tok = strtok_r(NULL, ",", &save))
			snprintf(joined[got++], sizeof(joined[0]), "%s", tok);
		free(copy);
		if (got != want)
			return cli_fail(&x->err, EXIT_USAGE, "%s needs %zu keys", list->name, want);
		for (size_t i = 0; i < want; i++)
			keys[i] = joined[i];
		used = 1;
	} else {
		if ((size_t)n < want)
			goto missing;
		for (size_t i = 0; i < want; i++) {
			if (strchr(words[i], '=') || strcmp(words[i], "?") == 0)
				goto missing;
			keys[i] = words[i];
		}
		used = (int)want;
	}
	for (size_t i = 0; i < want; i++) {
		json_t *v = value_to_json(k[i], keys[i], &x->err);

		if (!v)
			return -1;
		json_decref(v);
	}
	*n_keys = want;
	return used;
missing : {
	char names[256] = "";

	for (size_t i = 0; i < want; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s", k[i]->name);
	return cli_fail(&x->err, EXIT_USAGE, "%s entries are named by:%s", list->name, names);
}
}

/* Follow CHILD [KEY...] words from t; returns the index of the first word
 * that is not part of the path (a verb, an assignment, "?"). */
static int walk(struct cubectl *x, struct target *t, int n, char **words)
{
	int i = 0;

	while (i < n && !is_verb(words[i]) && !strchr(words[i], '=')) {
		if (t->node->nodetype == LYS_LIST && !t->keyed) {
			const char *keys[MAX_KEYS];
			size_t n_keys = 0;
			int used = take_keys(x, t->node, n - i, words + i, keys, &n_keys);

			if (used < 0)
				return -1;
			set_keys(t, keys, n_keys);
			i += used;
			continue;
		}
		const struct lysc_node *child = schema_child(t->node, words[i]);

		if (!child ||
		    !(child->nodetype & (LYS_CONTAINER | LYS_LIST | LYS_LEAF | LYS_LEAFLIST)))
			return cli_fail(&x->err, EXIT_USAGE,
					"%s has no '%s' (cubectl help lists what it has)",
					t->node->name, words[i]);
		if (t->node->nodetype == LYS_LIST) {
			t->anchor = t->node;
			snprintf(t->anchor_path, sizeof(t->anchor_path), "%s", t->path);
			memcpy(t->anchor_keys, t->keys, sizeof(t->keys));
			t->n_anchor_keys = t->n_keys;
		}
		snprintf(t->parent, sizeof(t->parent), "%s", t->path);
		append_node(t->path, sizeof(t->path), t->node, child);
		t->node = child;
		t->keyed = 0;
		i++;
	}
	return i;
}

/* -- bodies --------------------------------------------------------------- */

/* {keys..., assignments..., -f file} for a new or changed entry. */
json_t *cmd_entry_body(struct cubectl *x, const struct lysc_node *list, const char **keys,
		       size_t n_keys, int n, char **args)
{
	const struct lysc_node *k[MAX_KEYS];
	json_t *entry = json_object();

	if (x->file) {
		json_t *file = yaml_load_file(x->file, &x->err);
		json_t *inner;
		char qualified[160];

		if (!file)
			goto fail;
		/* The entry itself, or wrapped as {"[module:]list": [entry]}. */
		snprintf(qualified, sizeof(qualified), "%s:%s", list->module->name, list->name);
		inner = json_object_get(file, qualified);
		if (!inner)
			inner = json_object_get(file, list->name);
		if (json_is_array(inner))
			inner = json_array_get(inner, 0);
		if (!json_is_object(inner ? inner : file)) {
			json_decref(file);
			cli_fail(&x->err, EXIT_USAGE, "%s: expected an object for a %s entry",
				 x->file, list->name);
			goto fail;
		}
		json_object_update(entry, inner ? inner : file);
		json_decref(file);
	}
	schema_keys(list, k, MAX_KEYS);
	for (size_t i = 0; i < n_keys; i++) {
		json_t *v = value_to_json(k[i], keys[i], &x->err);

		if (!v)
			goto fail;
		json_object_set_new(entry, k[i]->name, v);
	}
	for (int i = 0; i < n; i++)
		if (value_assign(entry, list, args[i], &x->err))
			goto fail;
	return entry;
fail:
	json_decref(entry);
	return NULL;
}

json_t *cmd_wrap(const struct lysc_node *node, json_t *value)
{
	char name[160];
	json_t *out = json_object();

	snprintf(name, sizeof(name), "%s:%s", node->module->name, node->name);
	json_object_set_new(out, name,
			    node->nodetype == LYS_LIST ? json_pack("[o]", value) : value);
	return out;
}

/* -- verbs ---------------------------------------------------------------- */

static int print_data(struct cubectl *x, json_t *data, const struct lysc_node *node)
{
	if (x->output == OUTPUT_JSON) {
		char *s = json_dumps(data, JSON_INDENT(2));

		puts(s ? s : "{}");
		free(s);
	} else if (x->output == OUTPUT_YAML) {
		yaml_print(stdout, data);
	} else {
		render_human(stdout, data, node, x->ly);
	}
	return 0;
}

static int do_show(struct cubectl *x, const struct target *t)
{
	char path[2200];
	json_t *data = NULL, *core = NULL;
	int rc;

	snprintf(path, sizeof(path), DATA "%s", t->path);
	rc = cmd_request(x, "GET", path, NULL, &data);
	/* Empty, not missing: a service with no instance, and a container
	 * below a top-level one that exists whenever its module does. */
	if (rc && x->err.code == EXIT_NOT_FOUND &&
	    ((t->node == t->service && !t->keyed) ||
	     (!t->service && !t->anchor && t->node->nodetype == LYS_CONTAINER &&
	      !(t->node->flags & LYS_PRESENCE)))) {
		x->err = (struct cli_error){0};
		rc = 0;
	}
	if (!rc && !data)
		data = json_object(); /* nothing configured there */
	/* A service's instance is a cube too: its wiring and counters. */
	if (!rc && t->node == t->service && t->also_core && t->service != core_cube_list(x->ly)) {
		snprintf(path, sizeof(path), DATA "/cubenet-core:cubes/cube=%s", t->instance);
		if (!cmd_request(x, "GET", path, NULL, &core) && core)
			json_object_update(data, core);
		json_decref(core);
	}
	if (!rc)
		print_data(x, data, t->node);
	json_decref(data);
	return rc;
}

/* POST a new entry of list under parent; a missing top container is
 * created with it. */
static int post_entry(struct cubectl *x, const struct lysc_node *list, const char *parent,
		      json_t *entry)
{
	char path[2200];
	json_t *body = cmd_wrap(list, json_incref(entry));
	int rc;

	snprintf(path, sizeof(path), DATA "%s", parent);
	if (parent[0] && list->parent && !list->parent->parent &&
	    list->parent->nodetype == LYS_CONTAINER) {
		/* Top container: POST into it, or create it if it is not there. */
		struct cli_error saved = x->err;

		rc = cmd_request(x, "POST", path, body, NULL);
		if (rc && x->err.code == EXIT_NOT_FOUND) {
			json_t *outer = json_object(), *inner = json_object();
			char name[160];

			x->err = saved;
			json_object_set_new(inner, list->name, json_pack("[O]", entry));
			snprintf(name, sizeof(name), "%s:%s", list->module->name,
				 list->parent->name);
			json_object_set_new(outer, name, inner);
			rc = cmd_request(x, "POST", DATA, outer, NULL);
			json_decref(outer);
		}
	} else {
		rc = cmd_request(x, "POST", path, body, NULL);
	}
	json_decref(body);
	return rc;
}

/* A service whose key names a cube: the cube and its config in one PATCH. */
static int add_cube_service(struct cubectl *x, const struct lysc_node *list, json_t *entry,
			    const char *name)
{
	char path[300], cname[160];
	json_t *body, *inner = json_object();
	int rc;

	snprintf(path, sizeof(path), DATA "/cubenet-core:cubes/cube=%s", name);
	if (!cmd_request(x, "GET", path, NULL, NULL))
		return cli_fail(&x->err, EXIT_CONFLICT, "a cube named '%s' exists already", name);
	if (x->err.code != EXIT_NOT_FOUND)
		return -1;
	x->err = (struct cli_error){0};
	body = json_pack("{s:{s:[{s:s, s:s}]}}", "cubenet-core:cubes", "cube", "name", name, "type",
			 list->name);
	json_object_set_new(inner, list->name, json_pack("[O]", entry));
	snprintf(cname, sizeof(cname), "%s:%s", list->module->name, list->parent->name);
	json_object_set_new(body, cname, inner);
	rc = cmd_request(x, "PATCH", DATA, body, NULL);
	json_decref(body);
	return rc;
}

static int do_add(struct cubectl *x, struct target *t, int n, char **args)
{
	const char *keys[MAX_KEYS];
	size_t n_keys = 0;
	json_t *entry;
	int used, rc;

	if (t->node->nodetype != LYS_LIST || t->keyed)
		return cli_fail(&x->err, EXIT_USAGE, "add makes entries of a list; %s is not one",
				t->node->name);
	used = take_keys(x, t->node, n, args, keys, &n_keys);
	if (used < 0)
		return -1;
	entry = cmd_entry_body(x, t->node, keys, n_keys, n - used, args + used);
	if (!entry)
		return -1;
	if (!t->node->parent || !t->node->parent->parent) {
		if (schema_list_is_cube(t->node))
			rc = add_cube_service(x, t->node, entry, keys[0]);
		else
			rc = post_entry(x, t->node, t->parent, entry);
	} else {
		rc = post_entry(x, t->node, t->parent, entry);
	}
	json_decref(entry);
	return rc;
}

/* What stops a cube from going: attachments and ports that name it. */
static int cube_in_use(struct cubectl *x, const char *name)
{
	json_t *config = cmd_config(x), *list, *e, *p;
	size_t i, j;

	list = json_object_get(json_object_get(config, "cubenet-core:attachments"), "attachment");
	json_array_foreach(list, i, e)
	{
		if (json_is_string(json_object_get(e, "cube")) &&
		    strcmp(json_string_value(json_object_get(e, "cube")), name) == 0)
			return cli_fail(&x->err, EXIT_CONFLICT,
					"%s is attached to %s: cubectl detach %s %s first", name,
					json_string_value(json_object_get(e, "netdev")), name,
					json_string_value(json_object_get(e, "netdev")));
	}
	list = json_object_get(json_object_get(config, "cubenet-core:cubes"), "cube");
	json_array_foreach(list, i, e)
	{
		json_array_foreach(json_object_get(e, "port"), j, p)
		{
			const char *peer = json_string_value(json_object_get(p, "cube"));

			if (peer && strcmp(peer, name) == 0)
				return cli_fail(&x->err, EXIT_CONFLICT,
						"%s is wired from %s port %" JSON_INTEGER_FORMAT
						": cubectl disconnect %s:%" JSON_INTEGER_FORMAT
						" first",
						name, json_string_value(json_object_get(e, "name")),
						json_integer_value(json_object_get(p, "id")),
						json_string_value(json_object_get(e, "name")),
						json_integer_value(json_object_get(p, "id")));
		}
	}
	return 0;
}

static int do_del(struct cubectl *x, struct target *t, int n, char **args)
{
	char path[2200];
	const struct lysc_node *core = core_cube_list(x->ly);

	if (t->node->nodetype == LYS_LIST && !t->keyed) {
		const char *keys[MAX_KEYS];
		size_t n_keys = 0;
		int used = take_keys(x, t->node, n, args, keys, &n_keys);

		if (used < 0)
			return -1;
		set_keys(t, keys, n_keys);
		args += used;
		n -= used;
	}
	if (n)
		return cli_fail(&x->err, EXIT_USAGE, "del takes no '%s'", args[0]);
	/* A top-level container of instances: they go one by one, each with
	 * what it needs undone first. */
	if (!t->service && t->node->nodetype == LYS_CONTAINER && !lysc_data_parent(t->node)) {
		const struct lysc_node *c;

		for (size_t i = 0; (c = schema_child_at(t->node, i)); i++)
			if (c->nodetype == LYS_LIST)
				return cli_fail(&x->err, EXIT_USAGE,
						"del on %s would remove every %s: remove them "
						"one by one",
						t->node->name, c->name);
	}
	if (t->node == t->service && (t->also_core || t->service == core) &&
	    cube_in_use(x, t->instance))
		return -1;
	snprintf(path, sizeof(path), DATA "%s", t->path);
	if (cmd_request(x, "DELETE", path, NULL, NULL))
		return -1;
	/* The service's config is gone; the cube it configured goes too. */
	if (t->node == t->service && t->also_core && t->service != core) {
		snprintf(path, sizeof(path), DATA "/cubenet-core:cubes/cube=%s", t->instance);
		return cmd_request(x, "DELETE", path, NULL, NULL);
	}
	return 0;
}

static int apply_verb(struct cubectl *x, struct target *t, int n, char **words)
{
	const char *verb = n ? words[0] : "show";

	if (strcmp(verb, "?") == 0)
		return help_node(x, t->node);
	if (strcmp(verb, "show") == 0 || strcmp(verb, "list") == 0) {
		if (n > 1)
			return cli_fail(&x->err, EXIT_USAGE, "show takes no '%s'", words[1]);
		return do_show(x, t);
	}
	if (strcmp(verb, "add") == 0)
		return do_add(x, t, n - 1, words + 1);
	if (strcmp(verb, "del") == 0)
		return do_del(x, t, n - 1, words + 1);
	if (strcmp(verb, "set") == 0)
		return cmd_set(x, t, n - 1, words + 1);
	return cli_fail(&x->err, EXIT_USAGE, "'%s': expected show, add, set or del", verb);
}

/* -- the commands that are not paths -------------------------------------- */

static int split_port(struct cubectl *x, const char *arg, char *cube, size_t size,
		      unsigned long *port)
{
	const char *colon = strrchr(arg, ':');
	char *end;

	if (!colon || colon == arg || (size_t)(colon - arg) >= size)
		return cli_fail(&x->err, EXIT_USAGE, "'%s': expected CUBE:PORT", arg);
	memcpy(cube, arg, (size_t)(colon - arg));
	cube[colon - arg] = '\0';
	*port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == '\0')
		return cli_fail(&x->err, EXIT_USAGE, "'%s': the port is a number", arg);
	return 0;
}

static int do_connect(struct cubectl *x, int n, char **words)
{
	char cube[128], path[400];
	unsigned long port;
	json_t *entry, *body;
	int rc;

	if (n != 2)
		return cli_fail(&x->err, EXIT_USAGE,
				"usage: cubectl connect CUBE:PORT CUBE|netdev:NAME|tx|pass|drop");
	if (split_port(x, words[0], cube, sizeof(cube), &port))
		return -1;
	entry = json_pack("{s:I}", "id", (json_int_t)port);
	if (strncmp(words[1], "netdev:", 7) == 0)
		json_object_set_new(entry, "netdev", json_string(words[1] + 7));
	else if (!strcmp(words[1], "tx") || !strcmp(words[1], "pass") || !strcmp(words[1], "drop"))
		json_object_set_new(entry, "verdict", json_string(words[1]));
	else if (strchr(words[1], ':')) {
		json_decref(entry);
		return cli_fail(&x->err, EXIT_USAGE,
				"'%s': a cube has one way in; name the cube alone", words[1]);
	} else
		json_object_set_new(entry, "cube", json_string(words[1]));
	/* PUT replaces the port's whole choice (cube, netdev or verdict). */
	snprintf(path, sizeof(path), DATA "/cubenet-core:cubes/cube=%s/port=%lu", cube, port);
	body = json_pack("{s:[o]}", "cubenet-core:port", entry);
	rc = cmd_request(x, "PUT", path, body, NULL);
	json_decref(body);
	return rc;
}

static int do_disconnect(struct cubectl *x, int n, char **words)
{
	char cube[128], path[400];
	unsigned long port;

	if (n != 1)
		return cli_fail(&x->err, EXIT_USAGE, "usage: cubectl disconnect CUBE:PORT");
	if (split_port(x, words[0], cube, sizeof(cube), &port))
		return -1;
	snprintf(path, sizeof(path), DATA "/cubenet-core:cubes/cube=%s/port=%lu", cube, port);
	return cmd_request(x, "DELETE", path, NULL, NULL);
}

static const char *mode_arg(struct cubectl *x, int n, char **words, const char *dflt)
{
	for (int i = 0; i < n; i++) {
		if (strncmp(words[i], "mode=", 5) == 0)
			return words[i] + 5;
		cli_fail(&x->err, EXIT_USAGE, "'%s': expected mode=MODE", words[i]);
		return NULL;
	}
	return dflt;
}

static int do_attach(struct cubectl *x, int n, char **words, int attach)
{
	struct target t;
	char path[600], enc[128];
	const char *mode;

	if (n < 2)
		return cli_fail(&x->err, EXIT_USAGE,
				"usage: cubectl %s INSTANCE NETDEV [mode=MODE]",
				attach ? "attach" : "detach");
	if (resolve_instance(x, words[0], &t))
		return -1;
	/* A service that attaches itself (an lb) has its netdev in its config. */
	if (t.service != core_cube_list(x->ly) && schema_child(t.service, "netdev")) {
		char *args[2], a0[64], a1[64];
		int nargs = 0;

		if (!attach)
			return cli_fail(&x->err, EXIT_USAGE,
					"%s attaches itself: cubectl del %s removes it", t.instance,
					t.instance);
		snprintf(a0, sizeof(a0), "netdev=%s", words[1]);
		args[nargs++] = a0;
		if ((mode = mode_arg(x, n - 2, words + 2, NULL))) {
			snprintf(a1, sizeof(a1), "attach-mode=%s", mode);
			args[nargs++] = a1;
		} else if (x->err.code) {
			return -1;
		}
		return cmd_set(x, &t, nargs, args);
	}
	mode = mode_arg(x, n - 2, words + 2, attach ? "xdp" : NULL);
	if (x->err.code)
		return -1;
	if (attach) {
		const struct lysc_node *list = schema_service_find(x->ly, "attachment");
		char a0[80], a1[80], a2[80], *args[] = {a0, a1, a2};
		json_t *entry;
		int rc;

		if (!list)
			return cli_fail(&x->err, EXIT_FAILED, "the daemon has no attachments");
		snprintf(a0, sizeof(a0), "netdev=%s", words[1]);
		snprintf(a1, sizeof(a1), "mode=%s", mode);
		snprintf(a2, sizeof(a2), "cube=%s", words[0]);
		entry = cmd_entry_body(x, list, NULL, 0, 3, args);
		if (!entry)
			return -1;
		rc = post_entry(x, list, "/cubenet-core:attachments", entry);
		json_decref(entry);
		return rc;
	}
	if (!mode) { /* the attachment of this cube on that netdev */
		json_t *list = json_object_get(
			   json_object_get(cmd_config(x), "cubenet-core:attachments"),
			   "attachment"),
		       *e;
		size_t i;

		json_array_foreach(list, i, e)
		{
			if (!strcmp(json_string_value(json_object_get(e, "netdev")), words[1]) &&
			    !strcmp(json_string_value(json_object_get(e, "cube")), words[0]))
				mode = json_string_value(json_object_get(e, "mode"));
		}
		if (!mode)
			return cli_fail(&x->err, EXIT_NOT_FOUND, "%s is not attached to %s",
					words[0], words[1]);
	}
	restconf_encode_key(words[1], enc, sizeof(enc));
	snprintf(path, sizeof(path), DATA "/cubenet-core:attachments/attachment=%s,%s", enc, mode);
	return cmd_request(x, "DELETE", path, NULL, NULL);
}

static int do_rpc(struct cubectl *x, const struct lysc_node *rpc, int n, char **args)
{
	char path[300], name[160];
	const struct lysc_node *input = lysc_node_child(rpc);
	json_t *in = json_object(), *body, *out = NULL;
	int rc;

	while (input && input->nodetype != LYS_INPUT)
		input = input->next;
	for (int i = 0; i < n; i++)
		if (!input || value_assign(in, input, args[i], &x->err)) {
			json_decref(in);
			return x->err.code
				   ? -1
				   : cli_fail(&x->err, EXIT_USAGE, "%s takes no input", rpc->name);
		}
	snprintf(name, sizeof(name), "%s:input", rpc->module->name);
	body = json_pack("{s:o}", name, in);
	snprintf(path, sizeof(path), "/restconf/operations/%s:%s", rpc->module->name, rpc->name);
	rc = cmd_request(x, "POST", path, body, &out);
	if (!rc && out)
		print_data(x, out, NULL);
	json_decref(out);
	json_decref(body);
	return rc;
}

static int do_service(struct cubectl *x, const struct lysc_node *list, int n, char **words)
{
	struct target t = {.node = list, .service = list};

	service_paths(list, t.path, sizeof(t.path), t.parent);
	if (n == 0 || strcmp(words[0], "show") == 0 || strcmp(words[0], "list") == 0) {
		if (n > 1)
			return cli_fail(&x->err, EXIT_USAGE, "show takes no '%s'", words[1]);
		return do_show(x, &t);
	}
	if (strcmp(words[0], "?") == 0)
		return help_node(x, list);
	if (strcmp(words[0], "add") == 0)
		return do_add(x, &t, n - 1, words + 1);
	if (strcmp(words[0], "del") == 0) {
		if (n != 2)
			return cli_fail(&x->err, EXIT_USAGE, "usage: cubectl %s del NAME",
					list->name);
		if (resolve_instance(x, words[1], &t))
			return -1;
		return do_del(x, &t, 0, NULL);
	}
	return cli_fail(&x->err, EXIT_USAGE, "'%s %s': expected add, del or show", list->name,
			words[0]);
}

int cmd_run(struct cubectl *x, int n, char **words)
{
	const struct lysc_node *s;
	struct target t;
	int used, found;

	/* With the installed modules standing in, only help is answered. */
	if (x->origin.unreachable[0] && strcmp(words[0], "help") && strcmp(words[n - 1], "?"))
		return cli_fail(&x->err, EXIT_UNREACHABLE, "cannot reach cubenetd: %s",
				x->origin.unreachable);
	if (strcmp(words[0], "help") == 0)
		return help_run(x, n - 1, words + 1);
	if (strcmp(words[0], "connect") == 0)
		return do_connect(x, n - 1, words + 1);
	if (strcmp(words[0], "disconnect") == 0)
		return do_disconnect(x, n - 1, words + 1);
	if (strcmp(words[0], "attach") == 0 || strcmp(words[0], "detach") == 0)
		return do_attach(x, n - 1, words + 1, words[0][0] == 'a');
	if (strcmp(words[0], "show") == 0 || strcmp(words[0], "del") == 0) {
		if (n == 1 && words[0][0] == 's') { /* everything */
			json_t *data = NULL;
			int rc = cmd_request(x, "GET", DATA, NULL, &data);

			if (!rc) {
				if (!data)
					data = json_object();
				print_data(x, data, NULL);
			}
			json_decref(data);
			return rc;
		}
		if (n == 1)
			return cli_fail(&x->err, EXIT_USAGE, "usage: cubectl del INSTANCE [PATH]");
		if ((found = resolve_container(x, words[1], &t)) < 0 ||
		    (!found && resolve_instance(x, words[1], &t)) ||
		    (used = walk(x, &t, n - 2, words + 2)) < 0)
			return -1;
		if (used != n - 2)
			return cli_fail(&x->err, EXIT_USAGE, "'%s' after the path",
					words[2 + used]);
		return words[0][0] == 's' ? do_show(x, &t) : do_del(x, &t, 0, NULL);
	}
	if ((s = schema_service_find(x->ly, words[0])) && (n == 1 || is_verb(words[1])))
		return do_service(x, s, n - 1, words + 1);
	if ((s = schema_rpc(x->ly, words[0])))
		return do_rpc(x, s, n - 1, words + 1);
	if ((found = resolve_container(x, words[0], &t)) < 0 ||
	    (!found && resolve_instance(x, words[0], &t)))
		return -1;
	used = walk(x, &t, n - 1, words + 1);
	if (used < 0)
		return -1;
	return apply_verb(x, &t, n - 1 - used, words + 1 + used);
}
