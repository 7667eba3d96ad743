/* SPDX-License-Identifier: Apache-2.0 */
/* Router cube: LPM routes, neighbours, TTL, ARP for its own addresses. */
#ifndef CUBENET_ABI_ROUTER_H
#define CUBENET_ABI_ROUTER_H

#include <linux/types.h>
#include "addr.h"

/* Router ports are its interfaces: port N of the cube is interface N. */
struct router_port {
	__u32 ifindex; /* netdev the port is attached to (ingress match) */
	__u8 mac[6];
	__u8 plen4; /* prefix length of ip4, 0 = no IPv4 address */
	__u8 plen6;
	__be32 ip4;
	__u8 ip6[16];
	__u32 enabled;
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
};

struct router_route {
	union cube_addr nexthop;
	__u32 port;
	__u32 flags;
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
