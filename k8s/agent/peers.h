/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster's other nodes as cubenet-pods:peers entries: every Node but
 * this one, its name, its first IPv4 InternalIP (the tunnel's remote end or
 * the next hop), its first IPv6 one (the next hop of its IPv6 ranges) and
 * its pod ranges of both families (spec.podCIDRs, else spec.podCIDR). A
 * Node without an IPv4 InternalIP or a pod range, with a value that is not
 * an address or CIDR, more ranges than a peer holds, or (native) IPv6 ranges
 * without an IPv6 InternalIP is not a peer: it is reported, by name, with
 * the problem, and nothing of it is written. A pure function of the Nodes:
 * the unit tests feed it objects.
 */
#ifndef CUBENET_AGENT_PEERS_H
#define CUBENET_AGENT_PEERS_H

#include <jansson.h>
#include "kinds.h"

/* The pod ranges one peer entry holds (cubenet-pods.yang, PODS_PEER_CIDRS). */
#define PEER_MAX_CIDRS 8

struct peer_translation {
	json_t *entry;	  /* the peer entry (normalized); NULL: not a peer */
	unsigned problem; /* why not: a bit of enum problem, 0 when it is one */
	char message[200];
};

/* One Node (pruned as the store keeps it) named name; native: pods are
 * routed to peers without a tunnel. */
void translate_peer(const char *name, json_t *node, int native, struct peer_translation *t);
/* A peer entry in one form whoever wrote it: pod ranges sorted, an empty
 * list dropped. */
void peer_normalize(json_t *entry);
/* Every Node but self, translated: name -> entry. problems, when not NULL,
 * gets name -> {"bits": problem bit, "message": text} for each Node left out. */
json_t *peers_desired(json_t *nodes, const char *self, int native, json_t *problems);

#endif
