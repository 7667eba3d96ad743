/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent writes of cubenet-pods:node, from this node's Node object
 * and the cluster's ranges: the uplink (the netdev holding the node's
 * InternalIP, unless named), the node address (that InternalIP), the
 * NodePort range, masquerading of pod traffic leaving the cluster's
 * ranges (--cluster-cidr, else every Node's podCIDRs; and --service-cidr),
 * and how pods reach other nodes' pods (--tunnel: VXLAN, its VNI and port,
 * or native routing).
 */
#ifndef CUBENET_AGENT_NODE_CONFIG_H
#define CUBENET_AGENT_NODE_CONFIG_H

#include <jansson.h>

#define MAX_CIDRS 16

struct node_options {
	const char *name;
	const char *uplink; /* NULL: found from the InternalIP */
	const char *cluster_cidrs[MAX_CIDRS];
	int n_cluster_cidrs;
	const char *service_cidrs[MAX_CIDRS];
	int n_service_cidrs;
	int port_min, port_max;
	int masquerade;
	const char *tunnel; /* "vxlan" or "native" */
	int vni, vxlan_port;
};

/* The node parts to write, or NULL while this node's Node is unknown.
 * address: its IPv4 InternalIP ("" if none). */
json_t *node_desired(json_t *nodes, const struct node_options *o, char *address, size_t size);
/* The node's kubernetes.io/hostname label, or NULL. */
const char *node_hostname(json_t *nodes, const char *name);
/* The node's IPv4 pod CIDRs (spec.podCIDRs, else spec.podCIDR): a new array. */
json_t *node_pod_cidrs(json_t *node, int family);
/* A CIDR of the family (4 or 6), canonical (IPv4: host bits cleared), into
 * out; -1 when it is not one. */
int canonical_cidr(const char *in, int family, char *out, size_t size);
/* The netdev that holds address in this network namespace, into out. */
int netdev_with_address(const char *address, char *out, size_t size);

#endif
