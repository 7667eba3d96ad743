// SPDX-License-Identifier: Apache-2.0
/*
 * tunnel: the two sides of a tunnel netdev in collect-metadata mode (a
 * VXLAN device made `external`).
 *
 * Sending (tunnel_rx 0): the tunnel key's remote end is the next hop the
 * router left in the metadata, its VNI tunnel_vni; the inner frame's MACs
 * are the tunnel's (abi/tunnel.h); then out of TUNNEL_PORT_OUT, wired to
 * that netdev, which encapsulates.
 *
 * Receiving (tunnel_rx 1), behind the parser of the netdev's ingress: the
 * packet goes on out of TUNNEL_PORT_OUT only if the netdev left an IPv4
 * key of tunnel_vni and tunnel_sources (tunnel_sources6, for an IPv6
 * packet) gives the inner source to that remote end. The netdev takes any VNI from any host; this
 * is where a packet from a host that is no peer, or a peer speaking for another's pods, stops.
 *
 * Defined verdicts: no next hop in the metadata -> drop TUNNEL_NO_REMOTE;
 * the kernel refuses the key -> drop TUNNEL_KEY_FAILED (always on XDP,
 * which has no tunnel metadata: the cube is for TC); received without a
 * key of this VNI -> drop TUNNEL_FOREIGN_KEY; a packet that is not IP, or
 * whose inner source is not the remote end's -> drop TUNNEL_SPOOFED.
 */
#include "lib/chain.h"
#include "lib/hdr.h"
#include "lib/abi/tunnel.h"

/* The VNI every packet is sent and taken with; set before load. */
const volatile __u32 tunnel_vni = 0;
/* Which side this instance is; set before load. */
const volatile __u32 tunnel_rx = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TUNNEL_MAX_SOURCES);
	__type(key, struct router_lpm4_key);
	__type(value, struct tunnel_source);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} tunnel_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TUNNEL_MAX_SOURCES);
	__type(key, struct router_lpm6_key);
	__type(value, struct tunnel_source);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} tunnel_sources6 SEC(".maps");

/* Which remote end may send from the packet's source; NULL: none. */
static __always_inline struct tunnel_source *source_owner(const struct cube_meta *meta)
{
	if (meta->ip_version == CUBE_AF_INET) {
		struct router_lpm4_key k4 = {.prefixlen = 32, .addr = meta->saddr.ip4};

		return bpf_map_lookup_elem(&tunnel_sources, &k4);
	}
	if (meta->ip_version == CUBE_AF_INET6) {
		struct router_lpm6_key k6 = {.prefixlen = 128};

		__builtin_memcpy(k6.addr, meta->saddr.bytes, 16);
		return bpf_map_lookup_elem(&tunnel_sources6, &k6);
	}
	return NULL;
}

static __always_inline int tunnel_send(CUBE_CTX *ctx, struct cube_stats *st,
				       const struct cube_meta *meta)
{
	__u8 device_mac[ETH_ALEN] = TUNNEL_DEVICE_MAC, peer_mac[ETH_ALEN] = TUNNEL_PEER_MAC;
	__u32 family = meta->nexthop_family;
	union cube_addr remote;
	struct ethhdr *eth;

	if (family != CUBE_AF_INET && family != CUBE_AF_INET6)
		return cube_drop(st, CUBE_DROP_TUNNEL_NO_REMOTE);
	remote = meta->nexthop;
	eth = ctx_data(ctx);
	if (!hdr_fits(eth, sizeof(*eth), ctx_data_end(ctx)))
		return cube_drop(st, CUBE_DROP_ETH_TRUNCATED);
	mac_copy(eth->h_dest, device_mac);
	mac_copy(eth->h_source, peer_mac);
	if (ctx_set_tunnel_key(ctx, family, &remote, tunnel_vni & TUNNEL_VNI_MAX))
		return cube_drop(st, CUBE_DROP_TUNNEL_KEY_FAILED);
	return cube_out(ctx, st, TUNNEL_PORT_OUT);
}

static __always_inline int tunnel_receive(CUBE_CTX *ctx, struct cube_stats *st,
					  const struct cube_meta *meta)
{
	struct tunnel_source *src;
	__be32 remote;
	__u32 vni;

	if (ctx_get_tunnel_key4(ctx, &remote, &vni) || vni != (tunnel_vni & TUNNEL_VNI_MAX))
		return cube_drop(st, CUBE_DROP_TUNNEL_FOREIGN_KEY);
	src = source_owner(meta);
	if (!src || src->remote != remote)
		return cube_drop(st, CUBE_DROP_TUNNEL_SPOOFED);
	return cube_out(ctx, st, TUNNEL_PORT_OUT);
}

CUBE_ENTRY(cube_tunnel)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	if (tunnel_rx)
		return tunnel_receive(ctx, st, meta);
	return tunnel_send(ctx, st, meta);
}
