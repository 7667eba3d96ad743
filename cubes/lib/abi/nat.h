/* SPDX-License-Identifier: Apache-2.0 */
/* NAT cube: SNAT, masquerade and DNAT with connection tracking. */
#ifndef CUBENET_ABI_NAT_H
#define CUBENET_ABI_NAT_H

#include <linux/types.h>
#include "addr.h"

/* Default map sizes: the cube's, the service's limits and the YANG
 * model's max-elements. (Composed nat cubes size theirs from the config.) */
#define NAT_MAX_CONNS	 (1u << 17) /* connections tracked, both directions */
#define NAT_MAX_RULES	 4096	    /* SNAT rules per family, DNAT rules */
#define NAT_MAX_BACKENDS 65536	    /* DNAT targets by backend id */
#define NAT_MAX_FRAGS	 8192	    /* datagrams whose first fragment is remembered */

#define NAT_PORT_OUT 0

/* A tuple as seen on the wire; the connection-table key. */
struct nat_tuple {
	union cube_addr saddr;
	union cube_addr daddr;
	__be16 sport; /* ICMP echo: identifier */
	__be16 dport; /* ICMP echo: 0 */
	__u8 proto;
	__u8 family;
	__u16 pad;
};

enum nat_conn_flags {
	NAT_CONN_F_REPLY = 1 << 0, /* this entry matches the reply direction */
	NAT_CONN_F_SEEN_REPLY = 1 << 1,
	NAT_CONN_F_CLOSING = 1 << 2, /* FIN or RST seen: short timeout */
};

/* What to write into a packet matching the key; twin is the other
 * direction's key, refreshed with this one. */
struct nat_conn {
	struct nat_tuple rewrite;
	struct nat_tuple twin;
	__u64 last_seen_ns;
	__u32 flags;
	__u32 pad;
};

struct nat_dnat_key {
	union cube_addr daddr;
	__be16 dport;
	__u8 proto;
	__u8 family;
};

enum nat_dnat_flags {
	NAT_DNAT_F_VALID = 1 << 0, /* an empty array slot has no flags */
	/* A connection to this target through an external frontend
	 * (CUBE_META_F_EXTERNAL) is masqueraded too: its source becomes
	 * nat_cfg's hairpin address (the node's), so the reply comes back
	 * through this nat (the target is on another node). */
	NAT_DNAT_F_MASQUERADE_EXTERNAL = 1 << 1,
};

struct nat_dnat_target {
	union cube_addr addr;
	__be16 port; /* 0: keep the destination port */
	__u16 flags; /* enum nat_dnat_flags */
};

struct nat_snat_lpm4_key {
	__u32 prefixlen;
	__be32 saddr;
};

struct nat_snat_lpm6_key {
	__u32 prefixlen;
	__u8 saddr[16];
};

/* Destinations SNAT never applies to (the cluster's own ranges when
 * masquerading pod traffic); "nat_snat_skip4/6", value unused. */
struct nat_dst_lpm4_key {
	__u32 prefixlen;
	__be32 daddr;
};

struct nat_dst_lpm6_key {
	__u32 prefixlen;
	__u8 daddr[16];
};

enum nat_snat_flags {
	NAT_SNAT_F_MASQUERADE = 1 << 0, /* address follows the outside interface */
};

struct nat_snat_target {
	union cube_addr addr;
	__u32 flags;
};

/* Slot 0 of "nat_cfg". A zero field takes the default in nat_consts.h. */
struct nat_cfg {
	__u16 port_min;
	__u16 port_max;
	__u32 timeout_tcp_established_s;
	__u32 timeout_tcp_transitory_s;
	__u32 timeout_udp_s;
	__u32 timeout_icmp_s;
	__u32 timeout_frag_s; /* how long a datagram's first fragment is remembered */
	/*
	 * Hairpin: a connection DNATed to its own source (a pod reaching its
	 * own service), or through an external frontend to a target on another
	 * node (NAT_DNAT_F_MASQUERADE_EXTERNAL), also has its source translated
	 * to this address, so the reply comes back through the NAT. All zero:
	 * no such translation.
	 */
	union cube_addr hairpin4;
	union cube_addr hairpin6;
};

/*
 * "nat_frags", an LRU hash: the first fragment of every TCP, UDP or ICMP
 * datagram the NAT saw, by the addresses, protocol and identification its
 * later fragments carry, and the addresses those fragments are rewritten to.
 */
struct nat_frag_key {
	union cube_addr saddr;
	union cube_addr daddr;
	__be32 id; /* IPv6: the fragment header's; IPv4: iph->id widened (id = iph->id) */
	__u8 proto;
	__u8 family;
	__u16 pad;
};

enum nat_frag_flags {
	NAT_FRAG_F_TRANSLATED = 1 << 0, /* unset: later fragments go on untouched */
};

struct nat_frag {
	union cube_addr saddr;
	union cube_addr daddr;
	__u64 first_seen_ns;
	__u32 flags; /* enum nat_frag_flags */
	__u32 pad;
};

/* "nat_backend_stats", a per-CPU array indexed and sized like nat_backends. */
struct nat_backend_stats {
	__u64 new_conns; /* connections opened to this backend */
};

#endif
