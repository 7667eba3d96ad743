/* SPDX-License-Identifier: Apache-2.0 */
/* Tunnel cube: the tunnel key of a collect-metadata tunnel netdev (VXLAN
 * `external`), from the next hop a router left in cube_meta. */
#ifndef CUBENET_ABI_TUNNEL_H
#define CUBENET_ABI_TUNNEL_H

#include <linux/types.h>
#include "router.h"

/* Sending (tunnel_rx 0), port 0 is wired to the tunnel netdev
 * (CUBE_PORT_NETDEV); receiving (tunnel_rx 1), to the chain that takes what
 * the netdev decapsulated. */
#define TUNNEL_PORT_OUT 0

/*
 * Receiving, a decapsulated packet goes on only if its tunnel key is one
 * this node sends with (the VNI) and its inner source is one the outer
 * source may send: tunnel_sources maps each prefix a remote end owns (its
 * pod ranges, and its own address) to that end's address. Anything else
 * on the tunnel's UDP port, from a host that is no peer or from a peer
 * speaking for another's pods, is dropped. IPv6 inner sources are looked
 * up in tunnel_sources6, keyed as the router's IPv6 routes; the remote end
 * is IPv4 either way. As many prefixes as the router's routes to the
 * peers.
 */
#define TUNNEL_MAX_SOURCES ROUTER_MAX_ROUTES

/* tunnel_sources (tunnel_sources6): LPM key as the router's IPv4 (IPv6)
 * routes, prefix length then address; value the remote end's IPv4 address
 * (network order). */
struct tunnel_source {
	__be32 remote;
};

/* The VXLAN network identifier is 24 bits (RFC 7348). */
#define TUNNEL_VNI_MAX 0xffffffu

/*
 * The inner frame's MACs. Every node's tunnel netdev has TUNNEL_DEVICE_MAC,
 * so what the far end decapsulates is addressed to its own device (the
 * kernel there takes it as its own if the chain passes it on); it comes
 * from TUNNEL_PEER_MAC, never the device's own (a VXLAN device drops
 * frames from its own MAC as loops). Locally administered: "cnvx".
 */
#define TUNNEL_DEVICE_MAC                                                                          \
	{                                                                                          \
		0x02, 0x63, 0x6e, 0x76, 0x78, 0x01                                                 \
	}
#define TUNNEL_PEER_MAC                                                                            \
	{                                                                                          \
		0x02, 0x63, 0x6e, 0x76, 0x78, 0x02                                                 \
	}

#endif
