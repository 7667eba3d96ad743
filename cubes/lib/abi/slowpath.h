/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slow path: a cube that needs the daemon (an unknown neighbour, a reply to
 * learn from) copies the packet head into the shared ring buffer
 * "cube_slowpath" with who sent it and why. The daemon reads the ring,
 * resolves, and may inject the packet back into a chain.
 */
#ifndef CUBENET_ABI_SLOWPATH_H
#define CUBENET_ABI_SLOWPATH_H

#include <linux/types.h>

/* Bytes of the shared ring: room for ~900 queued packets while the daemon
 * catches up. The BPF side and the loaders (which create it) both use it. */
#define CUBE_SLOWPATH_RING_BYTES (256 * 1024)

/* Enough for every header we parse plus some payload; ARP and ND need < 100. */
#define CUBE_SLOWPATH_SNAPLEN 256

enum cube_slowpath_reason {
	CUBE_SLOWPATH_NEIGH_MISS = 1, /* router: no MAC for the next hop */
	CUBE_SLOWPATH_ARP_REPLY,      /* router: an ARP reply to learn from */
	CUBE_SLOWPATH_TTL_EXCEEDED,   /* router: daemon may answer with ICMP */
	CUBE_SLOWPATH_ND_ADVERT,      /* router: an IPv6 neighbour advertisement to learn from */
};

struct cube_slowpath_hdr {
	__u32 cube_id; /* the sending instance's id (set at load) */
	__u32 reason;  /* enum cube_slowpath_reason */
	__u32 port;    /* cube port the packet was bound for, or ~0 */
	__u32 ifindex; /* ingress netdev */
	__u32 pkt_len; /* original length */
	__u32 cap_len; /* bytes that follow in data[] */
	union {
		__u8 nexthop[16]; /* NEIGH_MISS: the address to resolve */
	};
	__u8 data[CUBE_SLOWPATH_SNAPLEN];
};

#endif
