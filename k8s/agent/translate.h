/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Service and its EndpointSlices as one cubenet-pods service entry, with
 * kube-proxy's semantics: every clusterIP, externalIPs, load-balancer
 * ingress IPs, NodePorts, TCP and UDP ports (SCTP reported, not written),
 * targetPort by number or by name (resolved per endpoint through its
 * slice's ports), client-IP affinity and its timeout, the traffic
 * policies, health-check node port, publishNotReadyAddresses; endpoints
 * merged over all slices with their conditions (ready nil = true, serving
 * nil = true, terminating nil = false) and whether they are on this node.
 * Headless and ExternalName services are not written; FQDN slices are
 * ignored. EndpointSlices of discovery.k8s.io v1 and v1beta1 alike.
 * A pure function of its input: the unit tests feed it recorded objects.
 */
#ifndef CUBENET_AGENT_TRANSLATE_H
#define CUBENET_AGENT_TRANSLATE_H

#include <jansson.h>
#include "kinds.h"

/* This node, as endpoints name it: nodeName (v1), or the
 * kubernetes.io/hostname topology label (v1beta1). */
struct node_identity {
	const char *name;
	const char *hostname; /* the Node's kubernetes.io/hostname label, or NULL */
};

struct translation {
	json_t *entry;	      /* the service entry; NULL: nothing to write */
	const char *ignored;  /* why there is none, when there is a Service */
	unsigned problems;    /* bit per enum problem */
	json_t *messages;     /* one string per problem, for the log */
	unsigned local_ready; /* ready endpoints on this node, for the health check */
	int health_check_port;
};

/* svc NULL: the Service is gone (its slices do not make one). slices: an
 * array of the service's EndpointSlices, sorted by name. */
void translate_service(json_t *svc, json_t *slices, const struct node_identity *node,
		       struct translation *t);
void translation_free(struct translation *t);

/* inet_pton then inet_ntop: the canonical text of an address; 4 or 6, or 0
 * when it is none. */
int canonical_ip(const char *in, char *out, size_t size);

#endif
