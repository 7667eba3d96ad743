/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a command's words lead: a node of the schema and its RESTCONF
 * path, and what the verbs need to reach it; with the requests and bodies
 * the verbs share.
 */
#ifndef CUBECTL_TARGET_H
#define CUBECTL_TARGET_H

#include "cubectl.h"

#define DATA		 "/restconf/data"
#define MEDIA_DATA	 "application/yang-data+json"
#define MEDIA_YANG_PATCH "application/yang-patch+json"
#define MAX_KEYS	 8

struct target {
	char path[2048];   /* below /restconf/data */
	char parent[2048]; /* the resource holding node */
	const struct lysc_node *node;
	int keyed;		  /* node is a list entry (keys given) */
	char keys[MAX_KEYS][256]; /* the entry's keys, when keyed */
	size_t n_keys;
	const struct lysc_node *service;
	char instance[128];
	int also_core; /* the instance is a cubenet-core cube too */
	/* The last list entry on the path above node (NULL: none, node hangs
	 * off a top-level container): what a write below it merges into. */
	const struct lysc_node *anchor;
	char anchor_path[2048];
	char anchor_keys[MAX_KEYS][256];
	size_t n_anchor_keys;
};

/* Send; 2xx gives 0 and the reply's JSON (if any) in reply; anything else
 * is an error with its exit code (x->err says it in one line). */
int cmd_request(struct cubectl *x, const char *method, const char *path, const json_t *body,
		json_t **reply);
int cmd_request_as(struct cubectl *x, const char *method, const char *path, const json_t *body,
		   const char *media, json_t **reply);
/* {"module:name": value}, the value in an array for a list. */
json_t *cmd_wrap(const struct lysc_node *node, json_t *value);
/* {keys..., assignments..., -f file} for a new or changed list entry. */
json_t *cmd_entry_body(struct cubectl *x, const struct lysc_node *list, const char **keys,
		       size_t n_keys, int n, char **args);
/* set LEAF=VALUE... (or one VALUE for a leaf) on t. */
int cmd_set(struct cubectl *x, struct target *t, int n, char **args);

#endif
