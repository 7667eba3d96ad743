/* SPDX-License-Identifier: Apache-2.0 */
/* Tunnel cube: the tunnel key of a collect-metadata tunnel netdev (VXLAN
 * `external`), from the next hop a router left in cube_meta. */
#ifndef CUBENET_ABI_TUNNEL_H
#define CUBENET_ABI_TUNNEL_H

#define TUNNEL_PORT_OUT 0 /* wired to the tunnel netdev (CUBE_PORT_NETDEV) */

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
