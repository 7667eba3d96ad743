// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libyang/version.h>
#include "datastore.h"
#include "log.h"

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

/* Whether what libyang's error path names is absent from tree: validation
 * then complains about a mandatory node that is not there. */
static int names_missing_node(const struct ly_ctx *ctx, const struct lyd_node *tree,
			      const char *path)
{
	const struct lysc_node *schema;

	static const char prefix[] = "Schema location \"";
	char schema_path[512];

	(void)tree;
	/* libyang names a missing mandatory node by its schema location. */
	if (!path || strncmp(path, prefix, sizeof(prefix) - 1))
		return 0;
	snprintf(schema_path, sizeof(schema_path), "%s", path + sizeof(prefix) - 1);
	schema_path[strcspn(schema_path, "\"")] = '\0';
	schema = lys_find_path(ctx, NULL, schema_path, 0);
	return schema && (schema->flags & LYS_MAND_TRUE);
}

/* For a list past its max-elements: the limit, so the error names it. */
static uint32_t max_elements_of(const struct ly_ctx *ctx, const struct ly_err_item *e)
{
	char path[512], schema[512];
	const char *q = e->path ? strchr(e->path, '"') : NULL;
	const struct lysc_node *node;
	size_t o = 0;
	int depth = 0;

	if (e->vecode != LYVE_DATA || !q || (!e->apptag && strncmp(e->msg, "Too many", 8)))
		return 0;
	if (e->apptag && strcmp(e->apptag, "too-many-elements"))
		return 0;
	snprintf(path, sizeof(path), "%s", q + 1);
	path[strcspn(path, "\"")] = '\0';
	/* The data path without its predicates is the schema path. */
	for (const char *p = path; *p && o + 1 < sizeof(schema); p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if (!depth)
			schema[o++] = *p;
	}
	schema[o] = '\0';
	node = lys_find_path(ctx, NULL, schema, 0);
	if (node && node->nodetype == LYS_LIST)
		return ((const struct lysc_node_list *)node)->max;
	if (node && node->nodetype == LYS_LEAFLIST)
		return ((const struct lysc_node_leaflist *)node)->max;
	return 0;
}

/* libyang's first error (what went wrong; later ones follow from it) as
 * one of ours, by its validation code and app tag. */
static int ly_fail(struct datastore *ds, const struct lyd_node *tree, struct cn_error *err,
		   const char *what)
{
	const struct ly_err_item *e = ly_err_first(ds->ctx);
	enum cn_err_tag tag = CN_ERR_INVALID_VALUE;
	const char *msg = e && e->msg ? e->msg : "invalid data";

	if (!e)
		tag = CN_ERR_OPERATION_FAILED;
	else if (e->vecode == LYVE_SYNTAX_JSON || e->vecode == LYVE_SYNTAX)
		tag = CN_ERR_MALFORMED;
	else if (e->vecode == LYVE_REFERENCE)
		tag = CN_ERR_UNKNOWN_ELEMENT; /* a node or module the schema lacks */
	else if (e->vecode == LYVE_DATA && !e->apptag && names_missing_node(ds->ctx, tree, e->path))
		tag = CN_ERR_MISSING_ELEMENT;
	uint32_t max = e ? max_elements_of(ds->ctx, e) : 0;

	if (max)
		cn_fail(err, tag, e->path ? e->path : "", "%s: %s (at most %u)", what, msg, max);
	else
		cn_fail(err, tag, e && e->path ? e->path : "", "%s: %s", what, msg);
	ly_err_clean(ds->ctx, NULL);
	return -1;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* What validation depends on: libyang's version and every module in the
 * context, its name, revision, whether implemented, and the text it was
 * read from. Saved data validated under the same fingerprint is valid. */
static uint64_t schema_fingerprint(const struct ly_ctx *ctx)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, LY_VERSION, sizeof(LY_VERSION));
	const struct lys_module *m;
	uint32_t idx = 0;

	while ((m = ly_ctx_get_module_iter(ctx, &idx))) {
		FILE *f = m->filepath ? fopen(m->filepath, "re") : NULL;
		char buf[4096];
		size_t n;

		h = fnv(h, m->name, strlen(m->name) + 1);
		h = fnv(h, m->revision ? m->revision : "",
			m->revision ? strlen(m->revision) + 1 : 1);
		h = fnv(h, &m->implemented, sizeof(m->implemented));
		while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
			h = fnv(h, buf, n);
		if (f)
			fclose(f);
	}
	return h;
}

int ds_init(struct datastore *ds, const char *yang_dir, const char *const *modules,
	    const char *state_dir, struct cn_error *err)
{
	memset(ds, 0, sizeof(*ds));
	ds->journal.fd = -1;
	pthread_mutex_init(&ds->lock, NULL);
	if (ly_ctx_new(yang_dir, 0, &ds->ctx))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot create a YANG context");
	ly_log_options(LY_LOSTORE); /* errors are read back, not printed */
	for (const char *const *m = modules; *m; m++)
		if (!ly_ctx_load_module(ds->ctx, *m, NULL, NULL))
			return cn_fail(err, CN_ERR_OPERATION_FAILED, "",
				       "cannot load YANG module %s from %s", *m, yang_dir);
	if (state_dir) {
		snprintf(ds->journal.dir, sizeof(ds->journal.dir), "%s", state_dir);
		ds->persist = 1;
	}
	ds->schema = schema_fingerprint(ds->ctx);
	return 0;
}

void ds_destroy(struct datastore *ds)
{
	journal_close(&ds->journal);
	lyd_free_all(ds->running);
	ly_ctx_destroy(ds->ctx);
	ds_independent_free(&ds->independent);
	pthread_mutex_destroy(&ds->lock);
}

int ds_independent_list(struct datastore *ds, const char *schema_path, struct cn_error *err)
{
	const struct lysc_node *list = lys_find_path(ds->ctx, NULL, schema_path, 0);

	if (!list || list->nodetype != LYS_LIST)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, schema_path, "no list %s",
			       schema_path);
	/* Constraints across entries cannot be checked within a scope. */
	if (((const struct lysc_node_list *)list)->uniques ||
	    ((const struct lysc_node_list *)list)->min)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, schema_path,
			       "%s has unique or min-elements: it cannot be independent",
			       schema_path);
	return ds_independent_add(&ds->independent, list)
		   ? cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory")
		   : 0;
}

enum ds_op ds_diff_op(const struct lyd_node *node)
{
	for (const struct lyd_node *n = node; n; n = lyd_parent(n)) {
		struct lyd_meta *m = lyd_find_meta(n->meta, NULL, "yang:operation");
		const char *op = m ? lyd_get_meta_value(m) : NULL;

		if (!op)
			continue;
		if (!strcmp(op, "create"))
			return DS_OP_CREATE;
		if (!strcmp(op, "delete"))
			return DS_OP_DELETE;
		if (n == node && !strcmp(op, "replace"))
			return DS_OP_REPLACE;
		if (n == node)
			return DS_OP_NONE; /* "none" stops inheritance below itself */
	}
	return DS_OP_NONE;
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
 * depth): the parser keeps both, and merging would let the last one win.
 * Siblings under a parent are hashed, so this costs the body's size. */
static const struct lyd_node *duplicate_instance(const struct lyd_node *first)
{
	for (const struct lyd_node *n = first; n; n = n->next) {
		const struct lyd_node *dup;

		if (n->schema && (n->schema->nodetype & (LYS_LIST | LYS_LEAFLIST))) {
			struct lyd_node *match = NULL;

			if (lyd_parent(n)) {
				if (!lyd_find_sibling_first(first, n, &match) && match != n)
					return n;
			} else {
				for (const struct lyd_node *m = first; m != n; m = m->next)
					if (m->schema == n->schema && !lyd_compare_single(m, n, 0))
						return n;
			}
		}
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
			return ly_fail(ds, NULL, err, "target");
		while (lyd_parent(*scratch))
			*scratch = lyd_parent(*scratch); /* the top of the new path */
		*under = find_exact(*scratch, parent);
		if (!*under)
			return ly_fail(ds, NULL, err, "target");
	}
	ly_in_new_memory(body, &in);
	rc = lyd_parse_data(ds->ctx, *under, in, LYD_JSON, PARSE_OPTS, 0, &tree);
	ly_in_free(in, 0);
	if (rc) {
		/* Parsed under a parent, what was parsed hangs in the scratch
		 * tree: freeing tree as well would free it twice. */
		if (*scratch)
			lyd_free_all(*scratch);
		else
			lyd_free_all(tree);
		*scratch = NULL;
		return ly_fail(ds, NULL, err, "request body");
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

/* Whether xpath names a non-presence container outside any list entry:
 * such a container exists whether or not a node stands for it, so a POST
 * into it needs no earlier write to make it. */
static int implicit_container(struct datastore *ds, const char *xpath)
{
	const struct lysc_node *s = lys_find_path(ds->ctx, NULL, xpath, 0);

	if (!s)
		return 0;
	for (; s; s = s->parent)
		if (s->nodetype != LYS_CONTAINER || (s->flags & LYS_PRESENCE))
			return 0;
	return 1;
}

/* Whether a parsed node is something a POST creates: not a list key, and
 * not an empty non-presence container (libyang flags those default: they
 * exist implicitly, and a GET finds nothing in them). */
static int creates_data(const struct lyd_node *n)
{
	return !lysc_is_key(n->schema) && !(n->flags & LYD_DEFAULT);
}

/* One edit, parsed. */
struct edit_work {
	struct ds_edit *edit;
	struct lyd_node *scratch, *under;
	char parent[1024];
};

static int parse_edit(struct datastore *ds, struct edit_work *w, struct cn_error *err)
{
	const struct ds_edit *e = w->edit;

	if (e->op == DS_DELETE || e->op == DS_REMOVE)
		return 0;
	if (e->op == DS_CREATE || !e->xpath[0])
		snprintf(w->parent, sizeof(w->parent), "%s", e->xpath);
	else
		parent_xpath(e->xpath, w->parent, sizeof(w->parent));
	return parse_under(ds, w->parent, e->body, &w->scratch, &w->under, err);
}

/* What an edit can touch: the entry its target is in, the entries its body
 * holds and, when it replaces or deletes a subtree holding independent
 * lists, every entry there now. */
static int scope_edit(struct datastore *ds, struct ds_scope *scope, const struct edit_work *w)
{
	const struct ds_edit *e = w->edit;
	const struct lyd_node *target = e->xpath[0] ? find_exact(ds->running, e->xpath) : NULL;
	const struct lyd_node *entry = ds_scope_entry_of(&ds->independent, target);
	int rc = 0;

	if (!e->xpath[0] && e->op != DS_MERGE && e->op != DS_MERGE_NODE && e->op != DS_CREATE) {
		scope->all = 1;
		return 0;
	}
	if (entry) {
		char *path = lyd_path(entry, LYD_PATH_STD, NULL, 0);

		rc = path ? ds_scope_add(scope, path) : -ENOMEM;
		free(path);
	}
	if (!rc && w->scratch)
		rc = ds_scope_collect(scope, &ds->independent, w->scratch, 1);
	if (!rc && target &&
	    (e->op == DS_REPLACE || e->op == DS_DELETE || e->op == DS_REMOVE ||
	     e->op == DS_CREATE_NODE))
		rc = ds_scope_collect(scope, &ds->independent, target, 0);
	return rc;
}

/* Apply one parsed edit to cand (a copy of its scope). */
static int apply_edit(struct datastore *ds, struct lyd_node **cand, struct edit_work *w,
		      struct cn_error *err)
{
	struct ds_edit *e = w->edit;
	struct lyd_node *target = e->xpath[0] ? find_exact(*cand, e->xpath) : NULL, *n;
	char path[1024];

	e->created = 0;
	e->new_path[0] = '\0';
	switch (e->op) {
	case DS_REMOVE:
	case DS_DELETE:
		if (!e->xpath[0])
			return cn_fail(err, CN_ERR_NOT_ALLOWED, "",
				       "the datastore itself cannot be deleted");
		if (!target && e->op == DS_REMOVE)
			return 0;
		if (!target)
			return cn_fail(err, CN_ERR_DATA_MISSING, e->xpath, "no such data");
		if (target == *cand)
			*cand = (*cand)->next;
		lyd_free_tree(target);
		return 0;

	case DS_CREATE:
		if (e->xpath[0] && !target && !implicit_container(ds, e->xpath))
			return cn_fail(err, CN_ERR_DATA_MISSING, e->xpath,
				       "the parent of the new data is missing");
		n = first_payload(w->scratch, w->under);
		while (n && !creates_data(n))
			n = n->next;
		if (!n)
			return cn_fail(err, CN_ERR_MALFORMED, e->xpath,
				       "the body holds no new data");
		lyd_path(n, LYD_PATH_STD, e->new_path, sizeof(e->new_path));
		for (; n; n = n->next) {
			if (!creates_data(n))
				continue;
			struct lyd_node *there;

			lyd_path(n, LYD_PATH_STD, path, sizeof(path));
			/* An implicit container (validation makes them) is not data. */
			if ((there = find_exact(*cand, path)) && !(there->flags & LYD_DEFAULT))
				return cn_fail(err, CN_ERR_DATA_EXISTS, path,
					       "the data already exists");
		}
		if (lyd_merge_siblings(cand, w->scratch, 0))
			return ly_fail(ds, *cand, err, "create");
		e->created = 1;
		return 0;

	case DS_CREATE_NODE:
		if (target && !(target->flags & LYD_DEFAULT))
			return cn_fail(err, CN_ERR_DATA_EXISTS, e->xpath,
				       "the data already exists");
		/* The body is the target, as for replace. */
		__attribute__((fallthrough));
	case DS_REPLACE:
	case DS_MERGE:
	case DS_MERGE_NODE:
		if (e->op == DS_MERGE && e->xpath[0] && !target)
			return cn_fail(err, CN_ERR_DATA_MISSING, e->xpath,
				       "no such data to merge into");
		if (!e->xpath[0]) {
			/* The whole datastore. */
			if (e->op == DS_REPLACE) {
				lyd_free_all(*cand);
				*cand = w->scratch;
				w->scratch = NULL;
			} else if (lyd_merge_siblings(cand, w->scratch, 0)) {
				return ly_fail(ds, *cand, err, "merge");
			}
			return 0;
		}
		n = first_payload(w->scratch, w->under);
		/* The body is the target itself: same node, same keys. */
		if (!n || find_exact(w->scratch, e->xpath) != n)
			return cn_fail(err, CN_ERR_INVALID_VALUE, e->xpath,
				       "the body must hold exactly the target node, with the keys "
				       "of the URI");
		for (struct lyd_node *s = n->next; s; s = s->next)
			if (!lysc_is_key(s->schema))
				return cn_fail(err, CN_ERR_INVALID_VALUE, e->xpath,
					       "the body must hold only the target node");
		if (e->op == DS_REPLACE || e->op == DS_CREATE_NODE) {
			e->created = target == NULL;
			if (target) {
				if (target == *cand)
					*cand = (*cand)->next;
				lyd_free_tree(target);
			}
		}
		if (lyd_merge_siblings(cand, w->scratch, 0))
			return ly_fail(ds, *cand, err, "edit");
		return 0;
	}
	return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "unknown edit");
}

/* Entries of list under parent in tree. */
static uint32_t count_entries(const struct lyd_node *tree, const struct lysc_node *list,
			      const struct lyd_node *diff_entry)
{
	const struct lyd_node *parent = NULL, *first;
	uint32_t n = 0;

	if (lyd_parent(diff_entry)) {
		char *path = lyd_path(lyd_parent(diff_entry), LYD_PATH_STD, NULL, 0);

		parent = path ? find_exact(tree, path) : NULL;
		free(path);
		if (!parent)
			return 0;
		first = lyd_child(parent);
	} else {
		first = tree;
	}
	for (const struct lyd_node *c = first; c; c = c->next)
		n += c->schema == list;
	return n;
}

/* max-elements of independent lists, which a scope holds only part of:
 * the running count, plus what the diff creates, less what it deletes. */
static int check_list_sizes(struct datastore *ds, const struct lyd_node *diff, struct cn_error *err)
{
	for (size_t i = 0; i < ds->independent.n; i++) {
		const struct lysc_node_list *list = (const void *)ds->independent.lists[i];
		struct ly_set *set = NULL;
		char *xpath;

		if (list->max == UINT32_MAX)
			continue;
		xpath = lysc_path(&list->node, LYSC_PATH_DATA, NULL, 0);
		if (!xpath || lyd_find_xpath(diff, xpath, &set)) {
			free(xpath);
			continue;
		}
		free(xpath);
		/* Per parent instance; diffs are small, so pairs are cheap. */
		for (uint32_t a = 0; a < set->count; a++) {
			int64_t delta = 0;
			int seen = 0;

			for (uint32_t b = 0; b < a && !seen; b++)
				seen = lyd_parent(set->dnodes[b]) == lyd_parent(set->dnodes[a]);
			if (seen)
				continue;
			for (uint32_t b = a; b < set->count; b++) {
				if (lyd_parent(set->dnodes[b]) != lyd_parent(set->dnodes[a]))
					continue;
				enum ds_op op = ds_diff_op(set->dnodes[b]);

				delta += op == DS_OP_CREATE ? 1 : op == DS_OP_DELETE ? -1 : 0;
			}
			if (delta > 0 &&
			    count_entries(ds->running, &list->node, set->dnodes[a]) + delta >
				list->max) {
				char *path = lysc_path(&list->node, LYSC_PATH_DATA, NULL, 0);

				cn_fail(err, CN_ERR_INVALID_VALUE, path ? path : "",
					"too many entries: at most %u", list->max);
				free(path);
				ly_set_free(set, NULL);
				return -1;
			}
		}
		ly_set_free(set, NULL);
	}
	return 0;
}

/*
 * A scope holds a container without the independent entries it has:
 * validation, seeing it empty, makes it implicit (default), which a diff
 * would call a change. A container that was explicit stays so.
 */
static void keep_explicit_containers(const struct lyd_node *before, struct lyd_node *after)
{
	for (struct lyd_node *top = after; top; top = top->next) {
		struct lyd_node *n;

		LYD_TREE_DFS_BEGIN(top, n)
		{
			if (n->schema && n->schema->nodetype == LYS_CONTAINER &&
			    (n->flags & LYD_DEFAULT)) {
				char *path = lyd_path(n, LYD_PATH_STD, NULL, 0);
				const struct lyd_node *was = path ? find_exact(before, path) : NULL;

				if (was && !(was->flags & LYD_DEFAULT))
					n->flags &= ~LYD_DEFAULT;
				free(path);
			}
			LYD_TREE_DFS_END(top, n);
		}
	}
}

/* Hand one change to the handler, apply it to running, journal it. The
 * handler's abort undoes everything but running, which changes only once
 * the handler has applied the change. */
static int transact(struct datastore *ds, const struct ds_change *c,
		    const struct lyd_node *journal_diff, struct cn_error *err)
{
	const struct ds_handler *h = ds->handler;

	if (h && h->validate && h->validate(ds->handler_arg, c, err))
		return -1;
	if (h && h->apply && h->apply(ds->handler_arg, c, err))
		return -1; /* apply undoes its own partial work */
	if (c->diff && lyd_diff_apply_all(&ds->running, c->diff)) {
		ly_fail(ds, NULL, err, "applying the change");
		goto abort;
	}
	if (ds->persist && journal_diff && !c->restore &&
	    journal_append(&ds->journal, journal_diff, err)) {
		struct lyd_node *reverse = NULL;

		/* Back to what is on disk. */
		if (lyd_diff_reverse_all(c->diff, &reverse) ||
		    lyd_diff_apply_all(&ds->running, reverse))
			cn_log(CN_LOG_ERROR,
			       "cannot take a failed write back out of the running config");
		lyd_free_all(reverse);
		goto abort;
	}
	if (h && h->commit)
		h->commit(ds->handler_arg, c);
	return 0;
abort:
	if (h && h->abort)
		h->abort(ds->handler_arg, c);
	return -1;
}

int ds_write(struct datastore *ds, struct ds_edit *edits, size_t n, struct cn_error *err)
{
	struct edit_work *work = calloc(n ? n : 1, sizeof(*work));
	struct lyd_node *before = NULL, *after = NULL, *diff = NULL, *journal_diff = NULL;
	struct ds_scope scope;
	int rc = -1;

	ds_scope_init(&scope);
	if (!work)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
	pthread_mutex_lock(&ds->lock);
	/* Errors are kept per thread until read: lookups that miss leave some. */
	ly_err_clean(ds->ctx, NULL);
	for (size_t i = 0; i < n; i++) {
		work[i].edit = &edits[i];
		edits[i].failed = 0;
		if (parse_edit(ds, &work[i], err)) {
			edits[i].failed = 1;
			goto out;
		}
		if (scope_edit(ds, &scope, &work[i])) {
			cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
			goto out;
		}
	}
	if (ds_scope_copy(&scope, &ds->independent, ds->running, &before) ||
	    (before &&
	     lyd_dup_siblings(before, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, &after))) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot copy the running config");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (apply_edit(ds, &after, &work[i], err)) {
			edits[i].failed = 1;
			goto out;
		}
	if (lyd_validate_all(&after, ds->ctx, LYD_VALIDATE_NO_STATE, NULL)) {
		ly_fail(ds, after, err, "invalid configuration");
		goto out;
	}
	keep_explicit_containers(before, after);
	if (lyd_diff_siblings(before, after, LYD_DIFF_DEFAULTS, &diff)) {
		ly_fail(ds, NULL, err, "diff");
		goto out;
	}
	if (diff && check_list_sizes(ds, diff, err))
		goto out;
	struct ds_change change = {
	    .diff = diff, .config = after, .before = before, .running = ds->running};

	/* The journal keeps explicit data, as the snapshot does: a leaf set
	 * back to its default is a delete there. */
	if (diff && ds->persist && lyd_diff_siblings(before, after, 0, &journal_diff)) {
		ly_fail(ds, NULL, err, "diff");
		goto out;
	}
	if (diff && transact(ds, &change, journal_diff, err))
		goto out;
	if (ds->persist && journal_wants_snapshot(&ds->journal)) {
		struct cn_error ignored = {0};

		/* The write is safe in the journal already; a failed snapshot
		 * only leaves the journal longer. */
		if (journal_snapshot(&ds->journal, ds->running, &ignored))
			cn_log(CN_LOG_WARNING, "%s", ignored.message);
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		lyd_free_all(work[i].scratch);
	free(work);
	lyd_free_all(diff);
	lyd_free_all(journal_diff);
	lyd_free_all(before);
	lyd_free_all(after);
	ds_scope_free(&scope);
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int ds_edit(struct datastore *ds, enum ds_edit_op op, const char *xpath, const char *body,
	    int *created, char *new_path, size_t new_path_size, struct cn_error *err)
{
	struct ds_edit e = {.op = op, .xpath = xpath, .body = body};
	int rc = ds_write(ds, &e, 1, err);

	*created = e.created;
	if (new_path_size)
		snprintf(new_path, new_path_size, "%s", e.new_path);
	return rc;
}

int ds_restore(struct datastore *ds, struct cn_error *err)
{
	struct lyd_node *config = NULL;
	int rc = -1;

	pthread_mutex_lock(&ds->lock);
	if (ds->persist &&
	    journal_open(&ds->journal, ds->journal.dir, ds->ctx, ds->schema, &config, err))
		goto out;
	/* What was saved was valid when saved. Saved under these very modules
	 * and intact, it needs only its defaults back (validation would cost
	 * more than the rest of a restart); else it is validated in full, and
	 * saved anew once restored, so records follow a snapshot of theirs. */
	int trusted = !ds->persist || ds->journal.trusted;

	if (trusted && lyd_new_implicit_all(&config, ds->ctx, LYD_IMPLICIT_NO_STATE, NULL)) {
		ly_fail(ds, config, err, "saved configuration");
		goto out;
	}
	if (!trusted && lyd_validate_all(&config, ds->ctx, LYD_VALIDATE_NO_STATE, NULL)) {
		ly_fail(ds, config, err, "saved configuration");
		goto out;
	}
	struct ds_change change = {.diff = config, .config = config, .restore = 1};
	const struct ds_handler *h = ds->handler;

	if (h && h->validate && h->validate(ds->handler_arg, &change, err))
		goto out;
	if (h && h->apply && h->apply(ds->handler_arg, &change, err))
		goto out;
	if (h && h->commit)
		h->commit(ds->handler_arg, &change);
	ds->running = config;
	config = NULL;
	rc = 0;
	/* Not saved anew (a full disk): the next start validates again. */
	if (!trusted) {
		struct cn_error ignored;

		journal_snapshot(&ds->journal, ds->running, &ignored);
	}
out:
	lyd_free_all(config);
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

/* The part of running a GET needs: the target with its parents when it
 * is one node there, else everything. */
static int copy_for_get(struct datastore *ds, const char *xpath, struct lyd_node **tree)
{
	const struct lyd_node *target = xpath[0] ? find_exact(ds->running, xpath) : NULL;
	struct lyd_node *dup = NULL;

	*tree = NULL;
	if (target && (target->flags & LYD_DEFAULT))
		return 0; /* only what validation made implicitly: nothing configured */
	if (!target)
		return ds->running ? lyd_dup_siblings(ds->running, NULL, LYD_DUP_RECURSIVE, tree)
				   : 0;
	if (lyd_dup_single(target, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_PARENTS, &dup))
		return -1;
	while (lyd_parent(dup))
		dup = lyd_parent(dup);
	*tree = dup;
	return 0;
}

int ds_get(struct datastore *ds, const char *xpath, int content, int depth, ds_state_fn state,
	   void *state_arg, char **json, struct cn_error *err)
{
	struct lyd_node *tree = NULL, *out = NULL, *parent = NULL, *first = NULL;
	struct ly_set *set = NULL;
	int rc = -1;

	*json = NULL;
	pthread_mutex_lock(&ds->lock);
	ly_err_clean(ds->ctx, NULL);
	if (copy_for_get(ds, xpath, &tree)) {
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
