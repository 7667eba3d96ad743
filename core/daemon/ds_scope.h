/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of the config a write can affect, so that a write costs what it
 * changes and not what the config holds.
 *
 * Services name their *independent* lists: lists whose entries are valid or
 * not on their own (a Kubernetes service, a VIP, a route), with no YANG
 * constraint that looks across entries. A write's scope is everything that
 * is not in such a list, plus the entries of independent lists it names. The
 * datastore validates, diffs and hands to services a copy of just that
 * scope: one endpoint added to one service among 10,000 copies, validates
 * and diffs one service. What YANG cannot check within a scope (uniqueness
 * across entries, max-elements of an independent list) is checked by the
 * datastore's count and by the services' own indexes.
 */
#ifndef CUBENETD_DS_SCOPE_H
#define CUBENETD_DS_SCOPE_H

#include <stddef.h>
#include <libyang/libyang.h>

struct ds_scope {
	char **paths; /* the touched entries of independent lists (data paths) */
	size_t n, cap;
	uint32_t *slots; /* open-addressing set over paths, for dedup */
	size_t n_slots;
	int all; /* the whole config: no sparse copy */
};

struct ds_independent {
	const struct lysc_node **lists;
	size_t n;
};

int ds_independent_add(struct ds_independent *ind, const struct lysc_node *list);
int ds_is_independent(const struct ds_independent *ind, const struct lysc_node *schema);
void ds_independent_free(struct ds_independent *ind);

void ds_scope_init(struct ds_scope *s);
void ds_scope_free(struct ds_scope *s);
/* Add the path of one entry (deduplicated). 0 or -ENOMEM. */
int ds_scope_add(struct ds_scope *s, const char *path);
/* The independent entry node is, or is inside; NULL if none. */
const struct lyd_node *ds_scope_entry_of(const struct ds_independent *ind,
					 const struct lyd_node *node);
/* Every independent entry at or below the siblings from first on (or only
 * first itself when !siblings). 0 or -ENOMEM. */
int ds_scope_collect(struct ds_scope *s, const struct ds_independent *ind,
		     const struct lyd_node *first, int siblings);
/* Whether schema is an ancestor of (or is) an independent list. */
int ds_scope_holds_independent(const struct ds_independent *ind, const struct lysc_node *schema);

/*
 * A copy of tree limited to the scope: every node outside independent
 * lists, and the scope's entries that tree has. Flags are kept (validated
 * nodes stay validated). 0 or -1.
 */
int ds_scope_copy(const struct ds_scope *s, const struct ds_independent *ind,
		  const struct lyd_node *tree, struct lyd_node **copy);

#endif
