// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "installed.h"
#include "names.h"
#include "schema.h"

#define MAX_SERVED 64

/* The modules the daemon serves that this context loaded from it. */
static struct served {
	char name[INSTALLED_NAME_MAX], revision[16];
	char *text;
} served[MAX_SERVED];
static size_t n_served;

static int mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0700);
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -errno : 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long len;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (text = malloc((size_t)len + 1))) {
		if (fread(text, 1, (size_t)len, f) != (size_t)len) {
			free(text);
			text = NULL;
		} else {
			text[len] = '\0';
		}
	}
	fclose(f);
	return text;
}

/* The module's text: from the cache when its revision is there, else from
 * the daemon (then cached). */
static char *module_text(const struct client *c, const char *cache_dir, const char *name,
			 const char *rev, struct cli_error *err)
{
	char path[600], url[200];
	struct response resp;
	char *text;
	FILE *f;

	if (cache_dir && rev[0]) {
		snprintf(path, sizeof(path), "%s/%s@%s.yang", cache_dir, name, rev);
		if ((text = read_file(path)))
			return text;
	}
	snprintf(url, sizeof(url), "/restconf/yang/%s%s%s", name, rev[0] ? "@" : "", rev);
	if (client_request(c, "GET", url, NULL, &resp)) {
		cli_fail(err, EXIT_UNREACHABLE, "cannot reach cubenetd: %s", resp.error);
		response_free(&resp);
		return NULL;
	}
	if (resp.status != 200) {
		cli_fail(err, EXIT_FAILED, "cubenetd did not give module %s: HTTP %ld", name,
			 resp.status);
		response_free(&resp);
		return NULL;
	}
	if (cache_dir && rev[0] && !mkdirs(cache_dir) && (f = fopen(path, "w"))) {
		fputs(resp.body, f);
		fclose(f);
	}
	return resp.body; /* handed over */
}

static LY_ERR import_served(const char *mod_name, const char *mod_rev, const char *submod_name,
			    const char *submod_rev, void *user_data, LYS_INFORMAT *format,
			    const char **module_data, void (**free_module_data)(void *, void *))
{
	(void)mod_rev;
	(void)submod_rev;
	(void)user_data;
	if (submod_name)
		return LY_ENOTFOUND;
	for (size_t i = 0; i < n_served; i++) {
		if (strcmp(served[i].name, mod_name) == 0) {
			*format = LYS_IN_YANG;
			*module_data = served[i].text;
			*free_module_data = NULL;
			return LY_SUCCESS;
		}
	}
	return LY_ENOTFOUND;
}

/* No daemon answered: the installed modules, or the reason for both. */
static int load_installed(struct ly_ctx **ctx, const char *yang_dirs, struct schema_origin *origin,
			  struct cli_error *err)
{
	static char names[MAX_SERVED][INSTALLED_NAME_MAX];
	struct cli_error why = {0};
	size_t n;

	snprintf(origin->yang_dirs, sizeof(origin->yang_dirs), "%s", yang_dirs);
	if (installed_load(ctx, yang_dirs, names, MAX_SERVED, &n, &why))
		return cli_fail(err, EXIT_UNREACHABLE, "cannot reach cubenetd: %s (and %s)",
				origin->unreachable, why.msg);
	for (n_served = 0; n_served < n; n_served++) {
		const struct lys_module *mod = ly_ctx_get_module_implemented(*ctx, names[n_served]);

		snprintf(served[n_served].name, sizeof(served[n_served].name), "%s",
			 names[n_served]);
		snprintf(served[n_served].revision, sizeof(served[n_served].revision), "%s",
			 mod && mod->revision ? mod->revision : "");
	}
	return 0;
}

int schema_load(struct ly_ctx **ctx, const struct client *c, const char *cache_dir,
		const char *yang_dirs, struct schema_origin *origin, struct cli_error *err)
{
	struct response resp;
	json_t *root = NULL, *mods, *m;
	size_t i;
	int rc = -1;

	*ctx = NULL;
	*origin = (struct schema_origin){0};
	if (client_request(c, "GET", "/restconf/data/ietf-yang-library:yang-library", NULL,
			   &resp)) {
		snprintf(origin->unreachable, sizeof(origin->unreachable), "%s", resp.error);
		rc = load_installed(ctx, yang_dirs, origin, err);
		goto cleanup;
	}
	if (resp.status == 401) {
		cli_fail(err, EXIT_DENIED, "cubenetd refused the token (HTTP 401)");
		goto cleanup;
	}
	root = json_loads(resp.body, 0, NULL);
	mods = json_object_get(
	    json_array_get(json_object_get(json_object_get(root, "ietf-yang-library:yang-library"),
					   "module-set"),
			   0),
	    "module");
	if (resp.status != 200 || !json_is_array(mods)) {
		cli_fail(err, EXIT_FAILED, "cubenetd gave no module list (HTTP %ld)", resp.status);
		goto cleanup;
	}
	if (ly_ctx_new(NULL, LY_CTX_NO_YANGLIBRARY | LY_CTX_DISABLE_SEARCHDIR_CWD, ctx)) {
		cli_fail(err, EXIT_FAILED, "cannot create a libyang context");
		goto cleanup;
	}
	ly_ctx_set_module_imp_clb(*ctx, import_served, NULL);
	json_array_foreach(mods, i, m)
	{
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *rev = json_string_value(json_object_get(m, "revision"));

		if (!name || ly_ctx_get_module_implemented(*ctx, name) ||
		    strcmp(name, "ietf-yang-library") == 0 || strcmp(name, "yang") == 0 ||
		    strncmp(name, "ietf-", 5) == 0 || n_served == MAX_SERVED)
			continue; /* libyang's own and the standard ones it has */
		snprintf(served[n_served].name, sizeof(served[n_served].name), "%s", name);
		snprintf(served[n_served].revision, sizeof(served[n_served].revision), "%s",
			 rev ? rev : "");
		served[n_served].text = module_text(c, cache_dir, name, rev ? rev : "", err);
		if (!served[n_served].text)
			goto cleanup;
		n_served++;
	}
	for (i = 0; i < n_served; i++) {
		if (!ly_ctx_load_module(*ctx, served[i].name,
					served[i].revision[0] ? served[i].revision : NULL, NULL)) {
			cli_fail(err, EXIT_FAILED, "cannot load module %s: %s (delete the cache?)",
				 served[i].name, ly_errmsg(*ctx));
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	if (rc && *ctx) {
		ly_ctx_destroy(*ctx);
		*ctx = NULL;
	}
	json_decref(root);
	response_free(&resp);
	return rc;
}

int schema_is_served(const struct lys_module *mod)
{
	for (size_t i = 0; i < n_served; i++)
		if (strcmp(served[i].name, mod->name) == 0)
			return 1;
	return 0;
}

static const struct lys_module *served_module(const struct ly_ctx *ctx, size_t i)
{
	return i < n_served ? ly_ctx_get_module_implemented(ctx, served[i].name) : NULL;
}

const struct lys_module *schema_module(const struct ly_ctx *ctx, size_t want)
{
	const struct lys_module *mod;

	for (size_t m = 0; m < n_served; m++)
		if ((mod = served_module(ctx, m)) && mod->compiled && want-- == 0)
			return mod;
	return NULL;
}

const struct lysc_node *schema_top(const struct ly_ctx *ctx, size_t want)
{
	const struct lys_module *mod;

	for (size_t m = 0; (mod = schema_module(ctx, m)); m++) {
		const struct lysc_node *top = NULL;

		while ((top = lys_getnext(top, NULL, mod->compiled, 0)))
			if (top->nodetype & (LYS_CONTAINER | LYS_LIST) && want-- == 0)
				return top;
	}
	return NULL;
}

int schema_has_settings(const struct lysc_node *container)
{
	const struct lysc_node *child;

	if (container->nodetype != LYS_CONTAINER)
		return 0;
	for (size_t i = 0; (child = schema_child_at(container, i)); i++)
		if (child->nodetype != LYS_LIST && !(child->flags & LYS_CONFIG_R))
			return 1;
	return 0;
}

const struct lysc_node *schema_service(const struct ly_ctx *ctx, size_t want)
{
	size_t seen = 0;

	for (size_t m = 0; m < n_served; m++) {
		const struct lys_module *mod = served_module(ctx, m);
		const struct lysc_node *top = NULL;

		while (mod && (top = lys_getnext(top, NULL, mod->compiled, 0))) {
			const struct lysc_node *list = NULL;

			if (top->nodetype == LYS_LIST && seen++ == want)
				return top;
			if (top->nodetype != LYS_CONTAINER)
				continue;
			while ((list = lys_getnext(list, top, NULL, 0)))
				if (list->nodetype == LYS_LIST && seen++ == want)
					return list;
		}
	}
	return NULL;
}

const struct lysc_node *schema_service_find(const struct ly_ctx *ctx, const char *name)
{
	const struct lysc_node *s;

	for (size_t i = 0; (s = schema_service(ctx, i)); i++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

const struct lysc_node *schema_child_at(const struct lysc_node *node, size_t i)
{
	const struct lysc_node *child = NULL;

	while ((child = lys_getnext(child, node, NULL, 0)))
		if (i-- == 0)
			return child;
	return NULL;
}

const struct lysc_node *schema_child(const struct lysc_node *node, const char *name)
{
	const struct lysc_node *child;

	/* "routes" for route, "addresses" for address: after the exact names. */
	for (int inflected = 0; inflected <= 1; inflected++)
		for (size_t i = 0; (child = schema_child_at(node, i)); i++)
			if (name_matches(name, child->name, inflected))
				return child;
	return NULL;
}

const struct lysc_node *schema_rpc_at(const struct ly_ctx *ctx, size_t want)
{
	size_t seen = 0;

	for (size_t m = 0; m < n_served; m++) {
		const struct lys_module *mod = served_module(ctx, m);
		const struct lysc_node_action *rpc;

		for (rpc = mod && mod->compiled ? mod->compiled->rpcs : NULL; rpc;
		     rpc = (const struct lysc_node_action *)rpc->next)
			if (seen++ == want)
				return &rpc->node;
	}
	return NULL;
}

const struct lysc_node *schema_rpc(const struct ly_ctx *ctx, const char *name)
{
	const struct lysc_node *rpc;

	for (size_t i = 0; (rpc = schema_rpc_at(ctx, i)); i++)
		if (strcmp(rpc->name, name) == 0)
			return rpc;
	return NULL;
}

size_t schema_keys(const struct lysc_node *list, const struct lysc_node **keys, size_t max)
{
	size_t n = 0;

	for (const struct lysc_node *c = lysc_node_child(list); c && n < max; c = c->next)
		if (lysc_is_key(c))
			keys[n++] = c;
	return n;
}

int schema_list_is_cube(const struct lysc_node *list)
{
	const struct lysc_node *key;

	if (schema_keys(list, &key, 1) != 1 || key->nodetype != LYS_LEAF)
		return 0;
	const struct lysc_type *type = ((const struct lysc_node_leaf *)key)->type;

	if (type->basetype != LY_TYPE_LEAFREF)
		return 0;
	const char *path = lyxp_get_expr(((const struct lysc_type_leafref *)type)->path);

	return path && strstr(path, "cubes/") && strstr(path, "cube/") &&
	       strcmp(list->module->name, "cubenet-core") != 0;
}
