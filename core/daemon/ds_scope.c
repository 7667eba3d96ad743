// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ds_scope.h"

int ds_independent_add(struct ds_independent *ind, const struct lysc_node *list)
{
	const struct lysc_node **grown = realloc(ind->lists, (ind->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	ind->lists = grown;
	ind->lists[ind->n++] = list;
	return 0;
}

int ds_is_independent(const struct ds_independent *ind, const struct lysc_node *schema)
{
	for (size_t i = 0; schema && i < ind->n; i++)
		if (ind->lists[i] == schema)
			return 1;
	return 0;
}

void ds_independent_free(struct ds_independent *ind)
{
	free(ind->lists);
	*ind = (struct ds_independent){0};
}

int ds_scope_holds_independent(const struct ds_independent *ind, const struct lysc_node *schema)
{
	for (size_t i = 0; schema && i < ind->n; i++)
		for (const struct lysc_node *s = ind->lists[i]; s; s = s->parent)
			if (s == schema)
				return 1;
	return 0;
}

void ds_scope_init(struct ds_scope *s)
{
	*s = (struct ds_scope){0};
}

void ds_scope_free(struct ds_scope *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->slots);
	*s = (struct ds_scope){0};
}

static uint32_t hash(const char *p)
{
	uint32_t h = 2166136261u;

	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* Slots hold index + 1 into paths; 0 is free. Kept at most half full. */
static int rehash(struct ds_scope *s, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		size_t at = hash(s->paths[i]) & (n_slots - 1);

		while (slots[at])
			at = (at + 1) & (n_slots - 1);
		slots[at] = (uint32_t)i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->n_slots = n_slots;
	return 0;
}

int ds_scope_add(struct ds_scope *s, const char *path)
{
	size_t at;

	if (2 * (s->n + 1) > s->n_slots && rehash(s, s->n_slots ? 2 * s->n_slots : 64))
		return -ENOMEM;
	for (at = hash(path) & (s->n_slots - 1); s->slots[at]; at = (at + 1) & (s->n_slots - 1))
		if (strcmp(s->paths[s->slots[at] - 1], path) == 0)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **grown = realloc(s->paths, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->paths = grown;
		s->cap = cap;
	}
	if (!(s->paths[s->n] = strdup(path)))
		return -ENOMEM;
	s->slots[at] = (uint32_t)++s->n;
	return 0;
}

const struct lyd_node *ds_scope_entry_of(const struct ds_independent *ind,
					 const struct lyd_node *node)
{
	const struct lyd_node *entry = NULL;

	/* The outermost one: an entry inside an entry is part of it. */
	for (; node; node = lyd_parent(node))
		if (ds_is_independent(ind, node->schema))
			entry = node;
	return entry;
}

static int add_node(struct ds_scope *s, const struct lyd_node *entry)
{
	char *path = lyd_path(entry, LYD_PATH_STD, NULL, 0);
	int e = path ? ds_scope_add(s, path) : -ENOMEM;

	free(path);
	return e;
}

int ds_scope_collect(struct ds_scope *s, const struct ds_independent *ind,
		     const struct lyd_node *first, int siblings)
{
	for (const struct lyd_node *n = first; n; n = siblings ? n->next : NULL) {
		int e;

		if (ds_is_independent(ind, n->schema)) {
			e = add_node(s, n);
		} else if (!ds_scope_holds_independent(ind, n->schema)) {
			continue; /* nothing independent below */
		} else {
			e = ds_scope_collect(s, ind, lyd_child(n), 1);
		}
		if (e)
			return e;
	}
	return 0;
}

/* The node at path, exactly (lyd_find_path() alone may answer a parent). */
static struct lyd_node *find_exact(const struct lyd_node *tree, const char *path)
{
	struct lyd_node *match = NULL;

	if (!tree || lyd_find_path(tree, path, 0, &match) != LY_SUCCESS)
		return NULL;
	return match;
}

/* Everything under src but independent entries. */
static int copy_skeleton(const struct ds_independent *ind, const struct lyd_node *src,
			 struct lyd_node_inner *parent, struct lyd_node **first)
{
	for (const struct lyd_node *n = src; n; n = n->next) {
		struct lyd_node *dup = NULL;

		if (ds_is_independent(ind, n->schema) || (parent && lysc_is_key(n->schema)))
			continue; /* keys come with their list entry */
		if (lyd_dup_single(n, parent, LYD_DUP_WITH_FLAGS, &dup))
			return -1;
		if (!parent && lyd_insert_sibling(*first, dup, first))
			return -1;
		if (!(n->schema && (n->schema->nodetype & LYD_NODE_TERM)) && lyd_child(n) &&
		    copy_skeleton(ind, lyd_child(n), (struct lyd_node_inner *)dup, NULL))
			return -1;
	}
	return 0;
}

int ds_scope_copy(const struct ds_scope *s, const struct ds_independent *ind,
		  const struct lyd_node *tree, struct lyd_node **copy)
{
	struct lyd_node *first = NULL;

	*copy = NULL;
	if (s->all) {
		if (tree &&
		    lyd_dup_siblings(tree, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, &first))
			return -1;
		*copy = first;
		return 0;
	}
	if (tree && copy_skeleton(ind, tree, NULL, &first))
		goto fail;
	for (size_t i = 0; i < s->n; i++) {
		const struct lyd_node *entry = find_exact(tree, s->paths[i]);
		struct lyd_node *parent = NULL, *dup = NULL;
		char *parent_path;

		if (!entry)
			continue; /* touched, but not there (yet, or any more) */
		if (lyd_parent(entry)) {
			parent_path = lyd_path(lyd_parent(entry), LYD_PATH_STD, NULL, 0);
			parent = parent_path ? find_exact(first, parent_path) : NULL;
			free(parent_path);
		}
		if (parent) {
			if (lyd_dup_single(entry, (struct lyd_node_inner *)parent,
					   LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, NULL))
				goto fail;
			continue;
		}
		/* Its parents are not in the copy yet: bring them along. */
		if (lyd_dup_single(entry, NULL,
				   LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS | LYD_DUP_WITH_PARENTS,
				   &dup))
			goto fail;
		while (lyd_parent(dup))
			dup = lyd_parent(dup);
		if (lyd_merge_siblings(&first, dup, LYD_MERGE_DESTRUCT | LYD_MERGE_WITH_FLAGS))
			goto fail;
	}
	/* What comes from the running config is valid: validating the copy
	 * checks only what an edit adds (and lets a new case of a choice
	 * replace the old one). */
	for (struct lyd_node *top = first; top; top = top->next) {
		struct lyd_node *n;

		LYD_TREE_DFS_BEGIN(top, n)
		{
			n->flags &= ~LYD_NEW;
			LYD_TREE_DFS_END(top, n);
		}
	}
	*copy = first;
	return 0;
fail:
	lyd_free_all(first);
	return -1;
}
