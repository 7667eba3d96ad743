/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent knows of the cluster: Services, EndpointSlices and Nodes
 * by key, each pruned to the fields translation reads; the slices of each
 * service (label kubernetes.io/service-name); and which services changed
 * since they were last written ("dirty"), so a write carries only those.
 */
#ifndef CUBENET_AGENT_STORE_H
#define CUBENET_AGENT_STORE_H

#include <jansson.h>
#include "kinds.h"

struct store {
	/* key -> pruned object: Services and EndpointSlices as compact JSON
	 * text (a tenth of a tree's memory; parsed when translated), Nodes as
	 * trees (few, read at every write). */
	json_t *objects[KIND_COUNT];
	json_t *slices_of;     /* "ns/service" -> {slice key: true} */
	json_t *dirty;	       /* "ns/service" -> true */
	int nodes_changed;     /* a Node changed: the node config may have */
	const char *node_name; /* this node: a change to it reaches every service */
	double first_change;   /* monotonic time of the oldest unwritten change */
};

void store_init(struct store *s, const char *node_name);
void store_free(struct store *s);
json_t *store_prune(enum kind kind, json_t *obj);
void store_replace(struct store *s, enum kind kind, json_t *objects);
void store_event(struct store *s, enum kind kind, enum event_type type, const char *key,
		 json_t *obj);
/* An object as a tree (a new reference), or NULL. */
json_t *store_get(struct store *s, enum kind kind, const char *key);
/* The slices of a service, sorted by name: a new array. */
json_t *store_slices(struct store *s, const char *service_key);
/* Every service the store has heard of, with a Service or with slices. */
void store_mark_all(struct store *s);
void store_mark(struct store *s, const char *service_key);

#endif
