/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running configuration: a libyang data tree over the daemon's YANG
 * modules, changed only by transactions that cost what they change.
 *
 * A write (one edit, or several as one transaction) is applied to a copy of
 * its scope (ds_scope.h: what it touches, not the whole config), validated
 * there by libyang, and turned into a diff (libyang's diff format: nodes
 * annotated with yang:operation create / delete / replace / none). The
 * handler (the daemon's services and runtime) then gets the diff through
 * validate -> apply -> commit, or abort if any phase fails; the diff is
 * appended to the journal (journal.h) before commit, so a write is answered
 * only once it is in the datapath and on disk. A failed write changes
 * nothing: not the datapath, not the config, not the disk.
 */
#ifndef CUBENETD_DATASTORE_H
#define CUBENETD_DATASTORE_H

#include <pthread.h>
#include <libyang/libyang.h>
#include "error.h"
#include "ds_scope.h"
#include "journal.h"

enum ds_edit_op {
	DS_CREATE,  /* POST: a new child of the target; 409 if it exists */
	DS_REPLACE, /* PUT: the target, created or replaced */
	DS_MERGE,   /* PATCH: merged into the existing target */
	DS_DELETE,  /* DELETE: the target; 404 if missing */
	/* YANG Patch (RFC 8072) edits, whose body is the target itself: */
	DS_CREATE_NODE, /* create: the target; 409 if it exists */
	DS_MERGE_NODE,	/* merge: into the target, created if missing */
	DS_REMOVE,	/* remove: the target, if it is there */
};

/* One change, as every phase of the handler sees it. */
struct ds_change {
	/* What changes; NULL: nothing. On restore, the config itself: all of
	 * it is new to the services (and no diff of it need be built). */
	const struct lyd_node *diff;
	const struct lyd_node *config; /* the config after it, within its scope */
	const struct lyd_node *before; /* the config before it, within its scope */
	/* The whole config before it: for looking up by path (a cube loaded
	 * afresh by the change is programmed from it); walking it costs the
	 * config's size. NULL on restore, where config is the whole config. */
	const struct lyd_node *running;
	int restore; /* the saved config at start, against the datapath as adopted */
};

/* Runs with the datastore lock held. validate and apply may fail (err
 * set); after a successful apply comes commit or abort, never neither. */
struct ds_handler {
	int (*validate)(void *arg, const struct ds_change *c, struct cn_error *err);
	int (*apply)(void *arg, const struct ds_change *c, struct cn_error *err);
	void (*commit)(void *arg, const struct ds_change *c);
	void (*abort)(void *arg, const struct ds_change *c);
};

struct datastore {
	struct ly_ctx *ctx;
	struct lyd_node *running;
	struct journal journal;
	uint64_t schema; /* fingerprint of the modules validation follows */
	int persist;
	pthread_mutex_t lock;
	const struct ds_handler *handler;
	void *handler_arg;
	struct ds_independent independent;
};

/* state_dir NULL: nothing is saved. */
int ds_init(struct datastore *ds, const char *yang_dir, const char *const *modules,
	    const char *state_dir, struct cn_error *err);
void ds_destroy(struct datastore *ds);
/* Declare an independent list (ds_scope.h) by schema path. 0 or -1. */
int ds_independent_list(struct datastore *ds, const char *schema_path, struct cn_error *err);

/* Load the saved config (if any) and hand it to the handler as a restore. */
int ds_restore(struct datastore *ds, struct cn_error *err);

/* One edit of a write: the target ("" = the datastore) and a JSON body
 * (NULL for DELETE). created tells POST/PUT whether a new node was made
 * (201) or not (204); new_path is the xpath of what POST created. */
struct ds_edit {
	enum ds_edit_op op;
	const char *xpath;
	const char *body;
	int created;
	char new_path[1024];
	int failed; /* this edit is the one err names */
};

/* Apply edits as one transaction: all of them or none. */
int ds_write(struct datastore *ds, struct ds_edit *edits, size_t n, struct cn_error *err);
int ds_edit(struct datastore *ds, enum ds_edit_op op, const char *xpath, const char *body,
	    int *created, char *new_path, size_t new_path_size, struct cn_error *err);

/* RFC 8040 4.8.1 "content". */
enum ds_content {
	DS_CONTENT_ALL = 0,
	DS_CONTENT_CONFIG,
	DS_CONTENT_NONCONFIG,
};

/* JSON of what xpath selects ("" = everything), with state data added by
 * state_fn unless content is config; depth > 0 limits the levels returned.
 * Only what xpath selects is copied and given to state_fn, so reading one
 * entry costs that entry. The caller frees *json. */
typedef void (*ds_state_fn)(void *arg, struct lyd_node *tree);
int ds_get(struct datastore *ds, const char *xpath, int content, int depth, ds_state_fn state,
	   void *state_arg, char **json, struct cn_error *err);

/* The effective operation of a diff node: its own yang:operation, or the
 * create / delete of an ancestor. */
enum ds_op {
	DS_OP_NONE = 0, /* unchanged itself; something below changed */
	DS_OP_CREATE,
	DS_OP_DELETE,
	DS_OP_REPLACE,
};
enum ds_op ds_diff_op(const struct lyd_node *diff_node);

#endif
