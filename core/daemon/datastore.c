// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "datastore.h"

#define PARSE_OPTS (LYD_PARSE_ONLY | LYD_PARSE_STRICT | LYD_PARSE_NO_STATE)

/* The node at xpath, or NULL. (lyd_find_path() alone also answers with the
 * deepest existing parent when the node itself is missing.) */
static struct lyd_node *find_exact(const struct lyd_node *tree, const char *xpath)
{
	struct lyd_node *match = NULL;

	if (!tree || lyd_find_path(tree, xpath, 0, &match) != LY_SUCCESS)
		return NULL;
	return match;
}

/* libyang's last error as one of ours. */
static int ly_fail(struct datastore *ds, struct cn_error *err, const char *what)
{
	const struct ly_err_item *e = ly_err_last(ds->ctx);
	enum cn_err_tag tag = CN_ERR_INVALID_VALUE;
	const char *msg = e && e->msg ? e->msg : "invalid data";

	if (e && (e->vecode == LYVE_SYNTAX_JSON || e->vecode == LYVE_SYNTAX))
		tag = CN_ERR_MALFORMED;
	else if (strstr(msg, "not found") || strstr(msg, "Unknown"))
		tag = CN_ERR_UNKNOWN_ELEMENT;
	else if (strstr(msg, "Mandatory") || strstr(msg, "missing"))
		tag = CN_ERR_MISSING_ELEMENT;
	else if (strstr(msg, "Duplicate instance"))
		tag = CN_ERR_DATA_EXISTS;
	cn_fail(err, tag, e && e->path ? e->path : "", "%s: %s", what, msg);
	ly_err_clean(ds->ctx, NULL);
	return -1;
}

int ds_init(struct datastore *ds, const char *yang_dir, const char *const *modules,
	    const char *save_path, struct cn_error *err)
{
	memset(ds, 0, sizeof(*ds));
	pthread_mutex_init(&ds->lock, NULL);
	snprintf(ds->save_path, sizeof(ds->save_path), "%s", save_path ? save_path : "");
	if (ly_ctx_new(yang_dir, 0, &ds->ctx))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot create a YANG context");
	ly_log_options(LY_LOSTORE_LAST); /* errors are read back, not printed */
	for (const char *const *m = modules; *m; m++)
		if (!ly_ctx_load_module(ds->ctx, *m, NULL, NULL))
			return cn_fail(err, CN_ERR_OPERATION_FAILED, "",
				       "cannot load YANG module %s from %s", *m, yang_dir);
	return 0;
}

void ds_destroy(struct datastore *ds)
{
	lyd_free_all(ds->running);
	ly_ctx_destroy(ds->ctx);
	pthread_mutex_destroy(&ds->lock);
}

/* Write temp, fsync, rename: a crash leaves the old file or the new one. */
static int save(struct datastore *ds, const struct lyd_node *tree, struct cn_error *err)
{
	char tmp[300];
	char *json = NULL;
	int fd, ok;

	if (!ds->save_path[0])
		return 0;
	if (lyd_print_mem(&json, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot print the config");
	snprintf(tmp, sizeof(tmp), "%s.tmp", ds->save_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0;
	if (ok && json) {
		size_t len = strlen(json), off = 0;

		while (ok && off < len) {
			ssize_t n = write(fd, json + off, len - off);

			ok = n > 0;
			off += ok ? (size_t)n : 0;
		}
	}
	ok = ok && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	ok = ok && rename(tmp, ds->save_path) == 0;
	free(json);
	if (!ok)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot save the config to %s: %s",
			       ds->save_path, strerror(errno));
	return 0;
}

/* Validate, apply to the datapath, then make it running and save it.
 * Takes ownership of cand. */
static int commit(struct datastore *ds, struct lyd_node *cand, struct cn_error *err)
{
	if (lyd_validate_all(&cand, ds->ctx, LYD_VALIDATE_NO_STATE, NULL)) {
		ly_fail(ds, err, "invalid configuration");
		goto abort;
	}
	if (ds->apply && ds->apply(ds->apply_arg, ds->running, cand, err))
		goto abort;
	if (save(ds, cand, err)) {
		/* The datapath has the change; put it back to match what is saved. */
		struct cn_error ignored = {0};

		if (ds->apply)
			ds->apply(ds->apply_arg, cand, ds->running, &ignored);
		goto abort;
	}
	lyd_free_all(ds->running);
	ds->running = cand;
	return 0;
abort:
	lyd_free_all(cand);
	return -1;
}

int ds_restore(struct datastore *ds, struct cn_error *err)
{
	struct lyd_node *tree = NULL;
	FILE *f;
	int rc;

	if (!ds->save_path[0])
		return 0;
	f = fopen(ds->save_path, "r");
	if (!f)
		return errno == ENOENT ? 0
				       : cn_fail(err, CN_ERR_OPERATION_FAILED, "", "%s: %s",
						 ds->save_path, strerror(errno));
	fclose(f);
	if (lyd_parse_data_path(ds->ctx, ds->save_path, LYD_JSON, PARSE_OPTS, 0, &tree))
		return ly_fail(ds, err, "saved configuration");
	pthread_mutex_lock(&ds->lock);
	rc = commit(ds, tree, err);
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

/* The xpath of the target's parent ("" for a top-level node): up to the last
 * '/' outside a quoted key value. */
static void parent_xpath(const char *xpath, char *out, size_t size)
{
	size_t cut = 0;
	char quote = 0;

	for (size_t i = 0; xpath[i]; i++) {
		if (quote) {
			quote = xpath[i] == quote ? 0 : quote;
		} else if (xpath[i] == '\'' || xpath[i] == '"') {
			quote = xpath[i];
		} else if (xpath[i] == '/') {
			cut = i;
		}
	}
	snprintf(out, size, "%.*s", (int)cut, xpath);
}

/* A list entry or leaf-list value given twice among its siblings (at any
 * depth): the parser keeps both, and merging would let the last one win. */
static const struct lyd_node *duplicate_instance(const struct lyd_node *first)
{
	for (const struct lyd_node *n = first; n; n = n->next) {
		const struct lyd_node *dup;

		if (n->schema && (n->schema->nodetype & (LYS_LIST | LYS_LEAFLIST)))
			for (const struct lyd_node *m = first; m != n; m = m->next)
				if (m->schema == n->schema && !lyd_compare_single(m, n, 0))
					return n;
		dup = duplicate_instance(lyd_child(n));
		if (dup)
			return dup;
	}
	return NULL;
}

/*
 * Parse body as the children of the node at parent ("" = top level) into a
 * scratch tree holding just that path. Returns the scratch root and the
 * node the body landed under (NULL at top level).
 */
static int parse_under(struct datastore *ds, const char *parent, const char *body,
		       struct lyd_node **scratch, struct lyd_node **under, struct cn_error *err)
{
	struct ly_in *in = NULL;
	struct lyd_node *tree = NULL;
	LY_ERR rc;

	*scratch = *under = NULL;
	if (!body || !*body)
		return cn_fail(err, CN_ERR_MALFORMED, "", "the request needs a body");
	if (parent[0]) {
		if (lyd_new_path(NULL, ds->ctx, parent, NULL, 0, scratch))
			return ly_fail(ds, err, "target");
		while (lyd_parent(*scratch))
			*scratch = lyd_parent(*scratch); /* the top of the new path */
		*under = find_exact(*scratch, parent);
		if (!*under)
			return ly_fail(ds, err, "target");
	}
	ly_in_new_memory(body, &in);
	rc = lyd_parse_data(ds->ctx, *under, in, LYD_JSON, PARSE_OPTS, 0, &tree);
	ly_in_free(in, 0);
	if (rc) {
		lyd_free_all(*scratch);
		lyd_free_all(tree);
		*scratch = NULL;
		return ly_fail(ds, err, "request body");
	}
	if (!*scratch)
		*scratch = tree;
	if (!*scratch)
		return cn_fail(err, CN_ERR_MALFORMED, "", "the request body holds no data");
	const struct lyd_node *dup = duplicate_instance(*scratch);

	if (dup) {
		char path[512];

		lyd_path(dup, LYD_PATH_STD, path, sizeof(path));
		cn_fail(err, CN_ERR_INVALID_VALUE, path, "the request body gives this entry twice");
		lyd_free_all(*scratch);
		*scratch = NULL;
		return -1;
	}
	return 0;
}

/* The first child of `under` (or top-level sibling) that is not a list key. */
static struct lyd_node *first_payload(struct lyd_node *scratch, struct lyd_node *under)
{
	struct lyd_node *n = under ? lyd_child(under) : scratch;

	while (n && lysc_is_key(n->schema))
		n = n->next;
	return n;
}

int ds_edit(struct datastore *ds, enum ds_edit_op op, const char *xpath, const char *body,
	    int *created, char *new_path, size_t new_path_size, struct cn_error *err)
{
	struct lyd_node *cand = NULL, *scratch = NULL, *under = NULL, *target = NULL, *n;
	char parent[1024], path[1024];
	int rc = -1;

	*created = 0;
	if (new_path_size)
		new_path[0] = '\0';
	pthread_mutex_lock(&ds->lock);
	/* Keep the flags: validated nodes stay validated, so a node the edit adds
	 * in one case of a choice makes validation drop the other case's data. */
	if (ds->running &&
	    lyd_dup_siblings(ds->running, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, &cand)) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot copy the running config");
		goto out;
	}
	if (xpath[0])
		target = find_exact(cand, xpath);

	switch (op) {
	case DS_DELETE:
		if (!xpath[0]) {
			cn_fail(err, CN_ERR_NOT_ALLOWED, "",
				"the datastore itself cannot be deleted");
			goto out;
		}
		if (!target) {
			cn_fail(err, CN_ERR_DATA_MISSING, xpath, "no such data");
			goto out;
		}
		if (target == cand)
			cand = cand->next;
		lyd_free_tree(target);
		break;

	case DS_CREATE:
		if (xpath[0] && !target) {
			cn_fail(err, CN_ERR_DATA_MISSING, xpath,
				"the parent of the new data is missing");
			goto out;
		}
		if (parse_under(ds, xpath, body, &scratch, &under, err))
			goto out;
		n = first_payload(scratch, under);
		if (!n) {
			cn_fail(err, CN_ERR_MALFORMED, xpath, "the body holds no new data");
			goto out;
		}
		lyd_path(n, LYD_PATH_STD, new_path, new_path_size);
		for (; n; n = n->next) {
			if (lysc_is_key(n->schema))
				continue;
			lyd_path(n, LYD_PATH_STD, path, sizeof(path));
			if (find_exact(cand, path)) {
				cn_fail(err, CN_ERR_DATA_EXISTS, path, "the data already exists");
				goto out;
			}
		}
		if (lyd_merge_siblings(&cand, scratch, 0)) {
			ly_fail(ds, err, "create");
			goto out;
		}
		*created = 1;
		break;

	case DS_REPLACE:
	case DS_MERGE:
		if (op == DS_MERGE && xpath[0] && !target) {
			cn_fail(err, CN_ERR_DATA_MISSING, xpath, "no such data to merge into");
			goto out;
		}
		if (!xpath[0]) {
			/* The whole datastore. */
			if (parse_under(ds, "", body, &scratch, &under, err))
				goto out;
			if (op == DS_REPLACE) {
				lyd_free_all(cand);
				cand = scratch;
				scratch = NULL;
			} else if (lyd_merge_siblings(&cand, scratch, 0)) {
				ly_fail(ds, err, "merge");
				goto out;
			}
			break;
		}
		parent_xpath(xpath, parent, sizeof(parent));
		if (parse_under(ds, parent, body, &scratch, &under, err))
			goto out;
		n = first_payload(scratch, under);
		/* The body is the target itself: same node, same keys. */
		{
			if (!n || find_exact(scratch, xpath) != n) {
				cn_fail(err, CN_ERR_INVALID_VALUE, xpath,
					"the body must hold exactly the target node, with the keys "
					"of the URI");
				goto out;
			}
			for (struct lyd_node *s = n->next; s; s = s->next) {
				if (!lysc_is_key(s->schema)) {
					cn_fail(err, CN_ERR_INVALID_VALUE, xpath,
						"the body must hold only the target node");
					goto out;
				}
			}
		}
		if (op == DS_REPLACE) {
			*created = target == NULL;
			if (target) {
				if (target == cand)
					cand = cand->next;
				lyd_free_tree(target);
			}
		}
		if (lyd_merge_siblings(&cand, scratch, 0)) {
			ly_fail(ds, err, "edit");
			goto out;
		}
		break;
	}

	rc = commit(ds, cand, err);
	cand = NULL;
out:
	lyd_free_all(cand);
	lyd_free_all(scratch);
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

/* Remove config data, keeping list keys and whatever leads to state. */
static void prune_config(struct lyd_node *parent)
{
	struct lyd_node *n = lyd_child(parent), *next;

	for (; n; n = next) {
		next = n->next;
		if (lysc_is_key(n->schema))
			continue;
		if (n->schema->nodetype & (LYS_LEAF | LYS_LEAFLIST)) {
			if (n->schema->flags & LYS_CONFIG_W)
				lyd_free_tree(n);
			continue;
		}
		prune_config(n);
		/* Nothing but keys left: nothing of state below. */
		struct lyd_node *c = lyd_child(n);

		while (c && lysc_is_key(c->schema))
			c = c->next;
		if (!c)
			lyd_free_tree(n);
	}
}

/* RFC 8040 4.8.2: keep `depth` levels from the target (its keys always). */
static void prune_depth(struct lyd_node *node, int depth)
{
	struct lyd_node *n = lyd_child(node), *next;

	for (; n; n = next) {
		next = n->next;
		if (lysc_is_key(n->schema))
			continue;
		if (depth <= 1)
			lyd_free_tree(n);
		else
			prune_depth(n, depth - 1);
	}
}

int ds_get(struct datastore *ds, const char *xpath, int content, int depth, ds_state_fn state,
	   void *state_arg, char **json, struct cn_error *err)
{
	struct lyd_node *tree = NULL, *out = NULL, *parent = NULL, *first = NULL;
	struct ly_set *set = NULL;
	int rc = -1;

	*json = NULL;
	pthread_mutex_lock(&ds->lock);
	if (ds->running && lyd_dup_siblings(ds->running, NULL, LYD_DUP_RECURSIVE, &tree)) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot copy the running config");
		goto out;
	}
	if (content != DS_CONTENT_CONFIG && state)
		state(state_arg, tree);
	if (content == DS_CONTENT_NONCONFIG) {
		struct lyd_node *n = tree, *next;

		for (; n; n = next) { /* top-level nodes */
			next = n->next;
			prune_config(n);
			if (!lyd_child(n)) {
				if (n == tree)
					tree = next;
				lyd_free_tree(n);
			}
		}
	}
	if (!xpath[0]) {
		if (depth > 0)
			for (struct lyd_node *n = tree; n; n = n->next)
				prune_depth(n, depth);
		if (lyd_print_mem(json, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS))
			goto print_failed;
		if (!*json)
			*json = strdup("{}");
		rc = 0;
		goto out;
	}
	/* Every instance the path selects: a list without keys is all of it. */
	if (!tree || lyd_find_xpath(tree, xpath, &set) || !set->count) {
		cn_fail(err, CN_ERR_DATA_MISSING, xpath, "no such data");
		goto out;
	}
	if (lyd_parent(set->dnodes[0]) &&
	    lyd_dup_single(lyd_parent(set->dnodes[0]), NULL, LYD_DUP_WITH_PARENTS, &parent))
		goto print_failed;
	for (uint32_t i = 0; i < set->count; i++) {
		struct lyd_node *dup = NULL;

		if (lyd_dup_single(set->dnodes[i], (struct lyd_node_inner *)parent,
				   LYD_DUP_RECURSIVE, &dup))
			goto print_failed;
		if (depth > 0)
			prune_depth(dup, depth);
		if (!parent)
			lyd_insert_sibling(first, dup, &first);
	}
	out = parent ? lyd_child(parent) : first;
	while (out && parent && lysc_is_key(out->schema))
		out = out->next; /* the parent's own keys are not the answer */
	/* A container cut off by depth is still there, just empty. */
	if (lyd_print_mem(json, out, LYD_JSON,
			  LYD_PRINT_WITHSIBLINGS | (depth > 0 ? LYD_PRINT_KEEPEMPTYCONT : 0)))
		goto print_failed;
	rc = 0;
	goto out;
print_failed:
	cn_fail(err, CN_ERR_OPERATION_FAILED, xpath, "cannot print the data");
out:
	ly_set_free(set, NULL);
	lyd_free_all(parent);
	lyd_free_all(first);
	lyd_free_all(tree);
	pthread_mutex_unlock(&ds->lock);
	return rc;
}
