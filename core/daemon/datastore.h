/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running configuration: a libyang data tree over the daemon's YANG
 * modules. An edit builds a candidate (a copy of running with the change),
 * validates it against the schemas, hands it to the apply hook (which
 * changes the datapath or fails leaving it as it was), then commits: the
 * candidate becomes running and is saved (temp file, fsync, rename).
 */
#ifndef CUBENETD_DATASTORE_H
#define CUBENETD_DATASTORE_H

#include <pthread.h>
#include <libyang/libyang.h>
#include "error.h"

enum ds_edit_op {
	DS_CREATE,  /* POST: a new child of the target; 409 if it exists */
	DS_REPLACE, /* PUT: the target, created or replaced */
	DS_MERGE,   /* PATCH: merged into the existing target */
	DS_DELETE,  /* DELETE: the target; 404 if missing */
};

/* Make the datapath match `candidate` (whole new config) or fail leaving it
 * unchanged. Runs with the datastore lock held. */
typedef int (*ds_apply_fn)(void *arg, const struct lyd_node *running,
			   const struct lyd_node *candidate, struct cn_error *err);

struct datastore {
	struct ly_ctx *ctx;
	struct lyd_node *running;
	char save_path[256]; /* "" = not persisted */
	pthread_mutex_t lock;
	ds_apply_fn apply;
	void *apply_arg;
};

int ds_init(struct datastore *ds, const char *yang_dir, const char *const *modules,
	    const char *save_path, struct cn_error *err);
void ds_destroy(struct datastore *ds);

/* Load the saved config (if any) and apply it; a missing file is empty. */
int ds_restore(struct datastore *ds, struct cn_error *err);

/*
 * Edit at `xpath` ("" = the root) with a JSON body (NULL for DELETE).
 * *created tells POST/PUT whether a new node was made (201) or not (204);
 * new_path gets the xpath of what POST created.
 */
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
 * The caller frees *json. */
typedef void (*ds_state_fn)(void *arg, struct lyd_node *tree);
int ds_get(struct datastore *ds, const char *xpath, int content, int depth, ds_state_fn state,
	   void *state_arg, char **json, struct cn_error *err);

#endif
