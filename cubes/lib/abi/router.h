/* SPDX-License-Identifier: Apache-2.0 */
/* Router cube: LPM routes, neighbours, TTL, ARP for its own addresses. */
#ifndef CUBENET_ABI_ROUTER_H
#define CUBENET_ABI_ROUTER_H

#include <linux/types.h>
#include "addr.h"

/* Map sizes: the cube's maps, the service's limits and the YANG model's
 * max-elements all come from these. */
#define ROUTER_MAX_ROUTES 16384 /* per address family */
#define ROUTER_MAX_NEIGHS 4096	/* configured; as many again learned */
#define ROUTER_MAX_HOSTS  4096	/* directly attached hosts (a node's pod addresses) */

/* Router ports are its interfaces: port N of the cube is interface N. */
struct router_port {
	__u32 ifindex; /* netdev the port is attached to (ingress match) */
	__u8 mac[6];
	__u8 plen4; /* prefix length of ip4, 0 = no IPv4 address */
	__u8 plen6;
	__be32 ip4;
	__u8 ip6[16];
	__u32 enabled;
	__u32 flags; /* enum router_port_flags */
};

enum router_port_flags {
	/* The port is wired to a cube that takes the packet on by its next
	 * hop (a tunnel): no neighbour is looked up, the MACs are that cube's
	 * to write, and the route's next hop goes in cube_meta.nexthop. */
	ROUTER_PORT_F_TUNNEL = 1 << 0,
};

struct router_lpm4_key {
	__u32 prefixlen;
	__be32 addr;
};

struct router_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

enum router_route_flags {
	ROUTER_ROUTE_F_GATEWAY = 1 << 0, /* nexthop is valid; else directly connected */
	/* nexthop is IPv4 whatever the packet's family: an IPv6 range behind
	 * an IPv4 tunnel end. Only on a route out of a tunnel port; a
	 * neighbour of the other family cannot take the frame. */
	ROUTER_ROUTE_F_NEXTHOP_INET = 1 << 1,
};

struct router_route {
	union cube_addr nexthop;
	__u32 port;
	__u32 flags;
};

/* What the router does with what it does not route itself; the const
 * volatile "router_unrouted", set before load. */
enum router_unrouted_verdict {
	ROUTER_UNROUTED_DROP = 0, /* a router on its own: counted NO_ROUTE / NOT_IP drops */
	ROUTER_UNROUTED_PASS,	  /* beside the kernel's stack (a node): it takes the
				     rest, ARP replies included */
};

/* A host attached directly to one of the node's netdevs (a pod behind a
 * veth): frames to it go from a TC ingress straight into the veth's other
 * end (bpf_redirect_peer; so ifindex must be a veth whose other end is in
 * another namespace), elsewhere out of the veth; "router_hosts" (consulted
 * when the const router_with_hosts is set). */
struct router_host {
	__u32 ifindex;
	__u8 dmac[6]; /* the host's MAC */
	__u8 smac[6]; /* the netdev's MAC */
};

struct router_neigh_key {
	union cube_addr addr;
	__u32 family;
};

struct router_neigh {
	__u8 mac[6];
	__u16 pad;
};

#endif
