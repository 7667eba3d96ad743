// SPDX-License-Identifier: Apache-2.0
/*
 * router: IPv4 and IPv6 forwarding. Longest-prefix match, next hop MAC from
 * the neighbour table, TTL / hop limit decrement with an incremental IPv4
 * checksum update, and ARP replies for the router's own addresses.
 *
 * Defined verdicts: no route -> drop NO_ROUTE; TTL would hit zero -> drop
 * TTL_EXCEEDED (no ICMP is generated in the datapath); unknown neighbour ->
 * slow path, where the daemon resolves it (or, with router_kernel_neigh on
 * TC, the kernel's neighbour table); ARP reply -> slow path (to learn);
 * traffic to the router's own address -> kernel stack. A route out of a
 * tunnel port (ROUTER_PORT_F_TUNNEL) needs no neighbour: its next hop goes
 * on in the metadata to the cube the port is wired to, IPv4 for an IPv6
 * packet where the route says so (ROUTER_ROUTE_F_NEXTHOP_INET).
 */
#include "lib/chain.h"
#include "lib/hdr.h"
#include "lib/csum.h"
#include "lib/abi/router.h"

/* enum router_unrouted_verdict; set before load. */
const volatile __u32 router_unrouted = ROUTER_UNROUTED_DROP;
/* Whether router_hosts is consulted: a hash lookup of ~40 ns a packet that
 * a router without attached hosts should not pay (the verifier drops the
 * code when this is 0). Set before load. */
const volatile __u32 router_with_hosts = 0;
/* Whether a next hop the router's tables lack is left to the kernel's
 * neighbour table (bpf_redirect_neigh, TC only) instead of the slow path:
 * a router beside the kernel's stack shares the kernel's neighbours, and
 * the ARP replies it passes to the kernel are the kernel's to learn. Set
 * before load. */
const volatile __u32 router_kernel_neigh = 0;

/* Keyed like neighbours: address and family. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ROUTER_MAX_HOSTS);
	__type(key, struct router_neigh_key);
	__type(value, struct router_host);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} router_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CUBE_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct router_port);
} router_ports SEC(".maps");

/* ifindex -> port, to know which interface a frame came in on. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CUBE_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} router_ifindex SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ROUTER_MAX_ROUTES);
	__type(key, struct router_lpm4_key);
	__type(value, struct router_route);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} router_routes4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ROUTER_MAX_ROUTES);
	__type(key, struct router_lpm6_key);
	__type(value, struct router_route);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} router_routes6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ROUTER_MAX_NEIGHS);
	__type(key, struct router_neigh_key);
	__type(value, struct router_neigh);
} router_neighs SEC(".maps");

/* Neighbours the daemon resolved through the slow path; LRU, so stale
 * ones age out. Configured neighbours (router_neighs) take precedence. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ROUTER_MAX_NEIGHS);
	__type(key, struct router_neigh_key);
	__type(value, struct router_neigh);
} router_neighs_learned SEC(".maps");

static __always_inline struct router_port *ingress_port(CUBE_CTX *ctx)
{
	__u32 ifindex = ctx_ingress_ifindex(ctx);
	__u32 *port = bpf_map_lookup_elem(&router_ifindex, &ifindex);

	return port ? bpf_map_lookup_elem(&router_ports, port) : NULL;
}

/* Answer "who has <our address>" on the interface it was asked on. */
static __always_inline int handle_arp(CUBE_CTX *ctx, struct cube_stats *st, struct cube_meta *meta)
{
	struct arp_eth_ipv4 *arp = ctx_hdr(ctx, meta->l3_off, sizeof(*arp));
	struct ethhdr *eth = ctx_hdr(ctx, 0, sizeof(*eth));
	struct router_port *port;
	__be32 asker;

	if (!eth || !arp)
		return cube_drop(st, CUBE_DROP_ARP_TRUNCATED);
	/* Other address sizes put the fields elsewhere than struct arp_eth_ipv4. */
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != ETH_ALEN || arp->plen != sizeof(arp->spa))
		return cube_pass(st);
	if (arp->op == bpf_htons(ARP_OP_REPLY))
		return router_unrouted == ROUTER_UNROUTED_PASS
			   ? cube_pass(st) /* the kernel asked */
			   : cube_slowpath_out(ctx, st, CUBE_SLOWPATH_ARP_REPLY, ~0u, NULL);
	port = ingress_port(ctx);
	if (arp->op != bpf_htons(ARP_OP_REQUEST) || !port || !port->plen4 || arp->tpa != port->ip4)
		return cube_pass(st);

	asker = arp->spa;
	arp->op = bpf_htons(ARP_OP_REPLY);
	mac_copy(arp->tha, arp->sha);
	arp->tpa = asker;
	mac_copy(arp->sha, port->mac);
	arp->spa = port->ip4;
	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, port->mac);
	return cube_tx(ctx, st);
}

#define ICMPV6_ND_NS		       135
#define ICMPV6_ND_NA		       136
/* NS and NA: ICMPv6 header (4), flags/reserved (4), target (16), one
 * link-layer address option (8). */
#define ND_MSG_LEN		       32
#define ND_NA_FLAGS_SOLICITED_OVERRIDE bpf_htonl(0x60000000)
#define ND_OPT_SOURCE_LL	       1
#define ND_OPT_TARGET_LL	       2
/* RFC 4861: ND is link-local; any other hop limit came from off link. */
#define ND_HOP_LIMIT		       255

/* ICMPv6 checksum of an ND message over the pseudo-header, from scratch. */
static __always_inline __u16 nd_checksum(struct ipv6hdr *ip6, void *icmp, void *end)
{
	__be32 pseudo[10];
	__s64 sum;

	if (!hdr_fits(icmp, ND_MSG_LEN, end))
		return 0;
	__builtin_memcpy(pseudo, &ip6->saddr, 16);
	__builtin_memcpy(&pseudo[4], &ip6->daddr, 16);
	pseudo[8] = bpf_htonl(ND_MSG_LEN);
	pseudo[9] = bpf_htonl(IPPROTO_ICMPV6);
	sum = bpf_csum_diff(0, 0, pseudo, sizeof(pseudo), 0);
	if (sum < 0)
		return 0;
	sum = bpf_csum_diff(0, 0, icmp, ND_MSG_LEN, (__u32)sum);
	if (sum < 0)
		return 0;
	return (__u16)~csum_fold32((__u32)sum);
}

/* Cut the frame to len bytes; a frame already that short is left alone. */
static __always_inline int frame_trim(CUBE_CTX *ctx, __u32 len)
{
	__u32 have = ctx_len(ctx);

	if (have <= len)
		return 0;
#ifdef CUBE_TC
	return bpf_skb_change_tail(ctx, len, 0);
#else
	return bpf_xdp_adjust_tail(ctx, -(int)(have - len));
#endif
}

/*
 * IPv6 neighbour discovery for the router's own address: answer a
 * solicitation with an advertisement; hand advertisements to the daemon,
 * which asked for them (to the kernel, beside the kernel's stack). *handled is 0 if the packet is
 * not ND for us. A solicitation is valid as RFC 4861 7.1.1 says (hop limit 255, code 0, 32 bytes at
 * least) and must carry the asker's link-layer address first; an advertisement needs hop limit 255
 * and code 0.
 */
static __always_inline int handle_nd(CUBE_CTX *ctx, struct cube_stats *st, struct cube_meta *meta,
				     int *handled)
{
	struct ethhdr *eth = ctx_hdr(ctx, 0, sizeof(*eth));
	struct ipv6hdr *ip6 = ctx_hdr(ctx, meta->l3_off, sizeof(*ip6));
	__u8 *ns = ctx_hdr(ctx, meta->l4_off, ND_MSG_LEN), *na;
	__u32 na_off = meta->l3_off + sizeof(struct ipv6hdr), ns_len, target[4];
	__u8 asker_mac[ETH_ALEN];
	struct router_port *port;
	const __u32 *own;

	*handled = 0;
	if (meta->l4_proto != IPPROTO_ICMPV6 || !eth || !ip6 || !ns)
		return 0;
	if (ns[0] == ICMPV6_ND_NA) {
		/* One from off link (RFC 4861 7.1.2) is not the daemon's to learn. */
		if (ns[1] != 0 || ip6->hop_limit != ND_HOP_LIMIT)
			return 0;
		*handled = 1;
		/* Beside the kernel's stack it is the kernel that asked, as
		 * for ARP replies. */
		return router_unrouted == ROUTER_UNROUTED_PASS
			   ? cube_pass(st)
			   : cube_slowpath_out(ctx, st, CUBE_SLOWPATH_ND_ADVERT, ~0u, NULL);
	}
	/* What the IPv6 payload leaves for ICMPv6 after extension headers. */
	ns_len = na_off + bpf_ntohs(ip6->payload_len) - meta->l4_off;
	if (ns[0] != ICMPV6_ND_NS || ns[1] != 0 || ip6->hop_limit != ND_HOP_LIMIT ||
	    ns_len < ND_MSG_LEN || ns[24] != ND_OPT_SOURCE_LL || ns[25] != 1)
		return 0;
	port = ingress_port(ctx);
	if (!port || !port->plen6)
		return 0;
	__builtin_memcpy(target, ns + 8, sizeof(target));
	own = (const __u32 *)port->ip6;
	if (target[0] != own[0] || target[1] != own[1] || target[2] != own[2] ||
	    target[3] != own[3])
		return 0;
	*handled = 1;
	mac_copy(asker_mac, ns + 26);

	/* The advertisement goes back to the asker, from our address and MAC,
	 * right behind the IPv6 header: extension headers the solicitation
	 * carried are not ours to send, and nothing follows the message. It
	 * may overlap the solicitation, read out above. */
	na = ctx_hdr(ctx, na_off, ND_MSG_LEN);
	if (!na)
		return cube_drop(st, CUBE_DROP_IPV6_TRUNCATED);
	mac_copy(eth->h_dest, asker_mac);
	mac_copy(eth->h_source, port->mac);
	__builtin_memcpy(&ip6->daddr, &ip6->saddr, 16);
	__builtin_memcpy(&ip6->saddr, port->ip6, 16);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = ND_HOP_LIMIT;
	ip6->payload_len = bpf_htons(ND_MSG_LEN);
	na[0] = ICMPV6_ND_NA;
	na[1] = 0;
	*(__u16 *)(na + 2) = 0;
	*(__be32 *)(na + 4) = ND_NA_FLAGS_SOLICITED_OVERRIDE;
	__builtin_memcpy(na + 8, target, sizeof(target));
	na[24] = ND_OPT_TARGET_LL;
	na[25] = 1; /* in units of 8 bytes */
	mac_copy(na + 26, port->mac);
	*(__u16 *)(na + 2) = nd_checksum(ip6, na, ctx_data_end(ctx));
	if (frame_trim(ctx, na_off + ND_MSG_LEN))
		return cube_drop(st, CUBE_DROP_REWRITE_FAILED);
	return cube_tx(ctx, st);
}

static __always_inline int is_own_address(CUBE_CTX *ctx, struct cube_meta *meta)
{
	struct router_port *port = ingress_port(ctx);

	if (!port)
		return 0;
	if (meta->ip_version == CUBE_AF_INET)
		return port->plen4 && port->ip4 == meta->daddr.ip4;
	if (!port->plen6)
		return 0;
	const __u32 *own = (const __u32 *)port->ip6;

	return own[0] == meta->daddr.ip6[0] && own[1] == meta->daddr.ip6[1] &&
	       own[2] == meta->daddr.ip6[2] && own[3] == meta->daddr.ip6[3];
}

static __always_inline struct router_route *route_lookup(struct cube_meta *meta)
{
	if (meta->ip_version == CUBE_AF_INET) {
		struct router_lpm4_key k4 = {.prefixlen = 32, .addr = meta->daddr.ip4};

		return bpf_map_lookup_elem(&router_routes4, &k4);
	}
	struct router_lpm6_key k6 = {.prefixlen = 128};

	__builtin_memcpy(k6.addr, meta->daddr.bytes, 16);
	return bpf_map_lookup_elem(&router_routes6, &k6);
}

/* TTL or hop limit of the packet, 0 if unreadable. */
static __always_inline __u8 read_ttl(CUBE_CTX *ctx, struct cube_meta *meta)
{
	if (meta->ip_version == CUBE_AF_INET) {
		struct iphdr *ip = ctx_hdr(ctx, meta->l3_off, sizeof(*ip));

		return ip ? ip->ttl : 0;
	}
	struct ipv6hdr *ip6 = ctx_hdr(ctx, meta->l3_off, sizeof(*ip6));

	return ip6 ? ip6->hop_limit : 0;
}

/* Decrement TTL / hop limit (known to be above 1). */
static __always_inline int decrement_ttl(CUBE_CTX *ctx, struct cube_meta *meta)
{
	if (meta->ip_version == CUBE_AF_INET) {
		struct iphdr *ip = ctx_hdr(ctx, meta->l3_off, sizeof(*ip));
		__u16 old_word, new_word;

		if (!ip)
			return -1;
		/* TTL shares a 16-bit checksum word with the protocol. */
		old_word = *(__u16 *)&ip->ttl;
		ip->ttl--;
		new_word = *(__u16 *)&ip->ttl;
		csum_replace2(&ip->check, old_word, new_word);
		return 0;
	}
	struct ipv6hdr *ip6 = ctx_hdr(ctx, meta->l3_off, sizeof(*ip6));

	if (!ip6)
		return -1;
	ip6->hop_limit--;
	return 0;
}

CUBE_ENTRY(cube_router)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();
	struct router_neigh_key nkey = {};
	struct router_host *host;
	struct router_route *route;
	struct router_neigh *neigh;
	struct router_port *out;
	struct ethhdr *eth;
	__u32 out_port;

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	if (meta->flags & CUBE_META_F_ARP)
		return handle_arp(ctx, st, meta);
	if (!meta->ip_version)
		return router_unrouted == ROUTER_UNROUTED_PASS ? cube_pass(st)
							       : cube_drop(st, CUBE_DROP_NOT_IP);
	if (meta->ip_version == CUBE_AF_INET6 && (meta->flags & CUBE_META_F_L4)) {
		int handled, verdict = handle_nd(ctx, st, meta, &handled);

		if (handled)
			return verdict;
	}
	if (is_own_address(ctx, meta))
		return cube_pass(st);

	/* A directly attached host: straight into its veth's other end. */
	host = NULL;
	if (router_with_hosts) {
		nkey.family = meta->ip_version;
		nkey.addr = meta->daddr;
		host = bpf_map_lookup_elem(&router_hosts, &nkey);
	}
	if (host) {
		if (read_ttl(ctx, meta) <= 1)
			return cube_drop(st, CUBE_DROP_TTL_EXCEEDED);
		if (decrement_ttl(ctx, meta))
			return cube_drop(st, CUBE_DROP_IPV4_TRUNCATED);
		eth = ctx_data(ctx);
		if (!hdr_fits(eth, sizeof(*eth), ctx_data_end(ctx)))
			return cube_drop(st, CUBE_DROP_ETH_TRUNCATED);
		mac_copy(eth->h_dest, host->dmac);
		mac_copy(eth->h_source, host->smac);
		return cube_redirect_into_veth(ctx, st, host->ifindex);
	}

	route = route_lookup(meta);
	if (!route)
		return router_unrouted == ROUTER_UNROUTED_PASS ? cube_pass(st)
							       : cube_drop(st, CUBE_DROP_NO_ROUTE);
	out_port = route->port;
	out = bpf_map_lookup_elem(&router_ports, &out_port);
	if (!out || !out->enabled)
		return cube_drop(st, CUBE_DROP_ROUTER_BAD_PORT);

	/* Checked before the neighbour, so a packet the daemon re-injects after
	 * resolving is decremented once. */
	if (read_ttl(ctx, meta) <= 1)
		return cube_drop(st, CUBE_DROP_TTL_EXCEEDED);
	nkey.family = meta->ip_version;
	nkey.addr = (route->flags & ROUTER_ROUTE_F_GATEWAY) ? route->nexthop : meta->daddr;
	if (route->flags & ROUTER_ROUTE_F_NEXTHOP_INET) {
		if (!(out->flags & ROUTER_PORT_F_TUNNEL))
			return cube_drop(st, CUBE_DROP_ROUTER_BAD_PORT);
		nkey.family = CUBE_AF_INET;
	}
	if (out->flags & ROUTER_PORT_F_TUNNEL) {
		if (decrement_ttl(ctx, meta))
			return cube_drop(st, CUBE_DROP_IPV4_TRUNCATED);
		meta->nexthop = nkey.addr;
		meta->nexthop_family = nkey.family;
		return cube_out_var(ctx, st, out_port);
	}
	neigh = bpf_map_lookup_elem(&router_neighs, &nkey);
	if (!neigh)
		neigh = bpf_map_lookup_elem(&router_neighs_learned, &nkey);
	if (!neigh && !(router_kernel_neigh && CTX_HAS_REDIRECT_NEIGH))
		return cube_slowpath_out(ctx, st, CUBE_SLOWPATH_NEIGH_MISS, out_port, &nkey.addr);

	if (decrement_ttl(ctx, meta))
		return cube_drop(st, CUBE_DROP_IPV4_TRUNCATED);
	if (!neigh)
		return cube_redirect_neigh(st, out->ifindex, nkey.family, &nkey.addr);
	eth = ctx_data(ctx);
	if (!hdr_fits(eth, sizeof(*eth), ctx_data_end(ctx)))
		return cube_drop(st, CUBE_DROP_ETH_TRUNCATED);
	mac_copy(eth->h_dest, neigh->mac);
	mac_copy(eth->h_source, out->mac);
	return cube_out_var(ctx, st, out_port);
}
