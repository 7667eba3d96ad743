/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent writes of cubenet-pods:node, from this node's Node object
 * and the cluster's ranges: the uplink (the netdev holding the node's
 * InternalIP, unless named), the node addresses (its first IPv4 and IPv6
 * InternalIPs), the NodePort range, masquerading of pod traffic leaving the
 * cluster's ranges, IPv4 and IPv6 (--cluster-cidr, else every Node's
 * podCIDRs; and --service-cidr), and how pods reach other nodes' pods
 * (--tunnel: VXLAN, its VNI and port, or native routing).
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
/* The node's pod CIDRs of the family (4 or 6; 0: both) from spec.podCIDRs,
 * else spec.podCIDR, canonical: a new array. One that is not a CIDR of
 * either family is left out; bad, when not NULL, gets the first such ("" if
 * none). */
json_t *node_pod_cidrs(json_t *node, int family, char *bad, size_t size);
/* The node's first IPv4 and first IPv6 InternalIP (kubelet's order),
 * canonical, into v4 and v6 ("" if none). -1 when an InternalIP is not an
 * address (or is IPv4-mapped IPv6): bad gets the first such. */
int node_internal_ips(json_t *node, char *v4, char *v6, size_t size, char *bad, size_t bad_size);
/* A CIDR of the family (4 or 6), canonical, host bits cleared, into out;
 * -1 when it is not one (IPv4-mapped IPv6 is not). */
int canonical_cidr(const char *in, int family, char *out, size_t size);
/* The netdev that holds address (IPv4 or IPv6) in this network namespace,
 * into out. */
int netdev_with_address(const char *address, char *out, size_t size);

#endif
