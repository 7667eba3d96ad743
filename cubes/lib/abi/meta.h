/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-packet metadata: written once by the parser, read by every later cube,
 * so no cube parses twice. Lives in a one-slot per-CPU array ("cube_meta")
 * shared by all cubes: a packet's whole chain runs on one CPU without
 * preemption, so the slot belongs to that packet until the chain ends.
 *
 * Valid from the parser's write to the chain's verdict: every verdict other
 * than forwarding into another cube (drop, pass, transmit, redirect, slow
 * path) sets version back to 0. Only a parser may head a chain (the
 * attachment's YANG `must`); a cube that still runs without one before it
 * finds no metadata and drops the packet (CUBE_DROP_NO_META) instead of
 * acting on the previous packet's.
 *
 * Versioned: a cube refuses metadata of another version (CUBE_DROP_NO_META)
 * rather than misreading it. Bump CUBE_META_VERSION on any layout change.
 */
#ifndef CUBENET_ABI_META_H
#define CUBENET_ABI_META_H

#include <linux/types.h>
#include "addr.h"

#define CUBE_META_VERSION 2

/*
 * The deepest header offset cubes read at. The parser drops a frame whose
 * L4 header starts deeper (CUBE_DROP_HDR_TOO_DEEP), so the offsets it
 * records are at most this; 2047 holds any header chain that fits a
 * 1280-byte first fragment (RFC 7112) behind two VLAN tags. A cube reads at
 * an offset through ctx_hdr() (cubes/lib/hdr.h), which refuses one beyond it
 * (a pushed VLAN tag moves offsets on) and masks with it only to bound the
 * pointer for the verifier: an offset is never silently wrapped.
 */
#define CUBE_HDR_OFF_MASK 0x7ff

/* No backend chosen yet; also the empty Maglev slot. */
#define CUBE_NO_BACKEND 0xffffffffu
#define CUBE_NO_SERVICE 0u

enum cube_meta_flags {
	CUBE_META_F_VLAN = 1 << 0,	   /* vlan_id is valid (outer tag) */
	CUBE_META_F_QINQ = 1 << 1,	   /* two tags; vlan_inner is valid */
	CUBE_META_F_FRAGMENT = 1 << 2,	   /* IP fragment: no L4 ports, hashed on L3 only */
	CUBE_META_F_L4 = 1 << 3,	   /* l4_off, sport and dport are valid */
	CUBE_META_F_IPV4_OPTS = 1 << 4,	   /* IPv4 header carries options */
	CUBE_META_F_IPV6_EXT = 1 << 5,	   /* IPv6 extension headers were walked */
	CUBE_META_F_VLAN_HWACCEL = 1 << 6, /* (TC) outer tag is in skb->vlan_tci, not in data */
	CUBE_META_F_BACKEND = 1 << 7,	   /* backend_id was chosen by a load balancer */
	CUBE_META_F_ARP = 1 << 8,	   /* ARP frame; l3_off points at it */
	CUBE_META_F_EXTERNAL = 1 << 9,	   /* service_id came from an external frontend */
};

struct cube_meta {
	__u16 version; /* CUBE_META_VERSION while valid, 0 once the chain ended */
	__u16 flags;   /* enum cube_meta_flags */
	__u32 ingress_ifindex;
	__u32 pkt_len;	  /* whole frame, all fragments of an XDP multi-buffer */
	__u16 l3_off;	  /* from the start of the frame */
	__u16 l4_off;	  /* see CUBE_HDR_OFF_MASK */
	__be16 l3_proto;  /* ethertype after any VLAN tags */
	__u8 l4_proto;	  /* IPPROTO_*, after IPv6 extension headers */
	__u8 ip_version;  /* CUBE_AF_INET, CUBE_AF_INET6 or 0 */
	__u16 vlan_id;	  /* outer VID, host order */
	__u16 vlan_inner; /* inner VID for QinQ, host order */
	__be16 sport;	  /* ICMP echo: identifier; otherwise L4 source port */
	__be16 dport;	  /* ICMP echo: 0 */
	union cube_addr saddr;
	union cube_addr daddr;
	__u32 flow_hash;  /* jhash of the 5-tuple and VLAN ID (cubes/lib/hash.h) */
	__u32 service_id; /* set by the classifier, CUBE_NO_SERVICE if none */
	__u32 backend_id; /* set by maglev, CUBE_NO_BACKEND if none */
	/* Set by a router forwarding out of a tunnel port: the route's next
	 * hop (the tunnel's remote end), of nexthop_family; 0: none. */
	union cube_addr nexthop;
	__u32 nexthop_family;
	__u32 reserved; /* keeps the size a multiple of 8, as per-CPU values are */
};

_Static_assert(sizeof(struct cube_meta) == 96, "cube_meta layout changed: bump CUBE_META_VERSION");

#endif
