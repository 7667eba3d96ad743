/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One kind of object kept in step with the API server, as client-go's
 * reflector does it: list (in pages), then watch from the list's
 * resourceVersion with bookmarks; a watch that ends is resumed from the
 * last resourceVersion seen (event or bookmark); a 410 Expired, on the
 * watch or on a list page, means list again from scratch; every failure
 * waits a capped, jittered exponential backoff. Transfers run on the
 * caller's curl multi handle, so one loop serves every kind.
 */
#ifndef CUBENET_AGENT_REFLECTOR_H
#define CUBENET_AGENT_REFLECTOR_H

#include <curl/curl.h>
#include <jansson.h>
#include "buf.h"
#include "kinds.h"
#include "kubeconfig.h"

struct reflector_ops {
	/* Keep of an object what the agent needs (a new reference). */
	json_t *(*prune)(enum kind kind, json_t *obj);
	/* A full list: objects by key ("namespace/name" or "name"), stolen. */
	void (*replace)(void *arg, enum kind kind, json_t *objects);
	/* ADDED, MODIFIED or DELETED of one (pruned) object, borrowed. */
	void (*event)(void *arg, enum kind kind, enum event_type type, const char *key,
		      json_t *obj);
};

enum reflector_state { R_IDLE, R_LISTING, R_WATCHING, R_WAITING };

struct reflector {
	enum kind kind;
	char path[192];
	struct kube_config *kc;
	CURLM *multi;
	const struct reflector_ops *ops;
	void *arg;
	double max_backoff;

	enum reflector_state state;
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	char *rv, *cont;
	json_t *listing;
	double retry_at, backoff, watch_started;
	int synced;
	int relist;    /* the watch said 410: list again when it ends */
	int broken;    /* the watch sent what is not an event */
	char why[256]; /* the last failure, for the log */
	unsigned long watch_events;
};

void reflector_init(struct reflector *r, enum kind kind, const char *path, struct kube_config *kc,
		    CURLM *multi, const struct reflector_ops *ops, void *arg, double max_backoff);
void reflector_start(struct reflector *r);
int reflector_owns(const struct reflector *r, CURL *easy);
/* The transfer ended (result from curl_multi_info_read). */
void reflector_done(struct reflector *r, CURLcode result);
/* Start what is due; the seconds until something will be (or -1). */
double reflector_tick(struct reflector *r, double now);
void reflector_free(struct reflector *r);

double monotonic_seconds(void);
/* "namespace/name" (or "name") of an object; "" when it has none. */
void object_key(json_t *obj, char *out, size_t size);

#endif
