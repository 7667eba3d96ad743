// SPDX-License-Identifier: Apache-2.0
/*
 * tunnel: hands a packet to a tunnel netdev in collect-metadata mode (a
 * VXLAN device made `external`): the tunnel key's remote end is the next
 * hop the router left in the metadata, its VNI tunnel_vni; the inner
 * frame's MACs are the tunnel's (abi/tunnel.h); then out of
 * TUNNEL_PORT_OUT, wired to that netdev, which encapsulates.
 *
 * Defined verdicts: no next hop in the metadata -> drop TUNNEL_NO_REMOTE;
 * the kernel refuses the key -> drop TUNNEL_KEY_FAILED (always on XDP,
 * which has no tunnel metadata: the cube is for TC).
 */
#include "lib/chain.h"
#include "lib/hdr.h"
#include "lib/abi/tunnel.h"

/* The VNI every packet is sent with; set before load. */
const volatile __u32 tunnel_vni = 0;

CUBE_ENTRY(cube_tunnel)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();
	__u8 device_mac[ETH_ALEN] = TUNNEL_DEVICE_MAC, peer_mac[ETH_ALEN] = TUNNEL_PEER_MAC;
	union cube_addr remote;
	struct ethhdr *eth;
	__u32 family;

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	family = meta->nexthop_family;
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
