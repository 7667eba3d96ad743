/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The requests that bring cubenetd from what it holds (the shadow) to what
 * the API says, for the entries that changed, never the whole config.
 *
 * With RFC 8072 YANG Patch: one PATCH of /restconf/data whose edits
 * (node parts merged, replaced or removed; peers and services replaced or
 * removed) cubenetd applies as one transaction.
 *
 * Without it, RESTCONF's PATCH is a merge: it can add and change but not
 * take away. So a batch becomes: the node's removals; each deleted service
 * a DELETE of its entry; each changed service that lost something (an
 * endpoint, a port, an address, a leaf) a PUT of its entry; and every new
 * service or one that only gained, together, one PATCH of /restconf/data
 * carrying their complete entries (the node's too) -- one transaction for
 * the common case, a burst of new endpoints or services. Peers likewise,
 * after the node (a peer needs the node's address) and before services.
 *
 * Either way a body stays under max_bytes (and a YANG Patch under 2,048
 * edits): beyond, more requests.
 */
#ifndef CUBENET_AGENT_PLAN_H
#define CUBENET_AGENT_PLAN_H

#include <jansson.h>

#define SERVICES_PATH "/restconf/data/cubenet-pods:services"
#define NODE_PATH     "/restconf/data/cubenet-pods:node"
#define PEERS_PATH    "/restconf/data/cubenet-pods:peers"

/* A request: {"method", "path", "content-type", "body" (absent: none),
 * "keys": [service keys it writes], "peers": [peer names it writes] (absent:
 * none), "node": true if it writes the node}. peer_shadow and peer_changes
 * (name -> entry, or null: remove) may be NULL: no peer changes. */
json_t *plan_requests(const json_t *shadow, const json_t *node_shadow, const json_t *changes,
		      const json_t *node_desired, const json_t *peer_shadow,
		      const json_t *peer_changes, int yang_patch, size_t max_bytes,
		      unsigned long *patch_seq);

/* "namespace/name" -> ".../service=namespace,name" (under prefix). */
void service_path(const char *prefix, const char *key, char *out, size_t size);
/* A peer's name -> ".../peer=name" (under prefix). */
void peer_path(const char *prefix, const char *name, char *out, size_t size);

#endif
