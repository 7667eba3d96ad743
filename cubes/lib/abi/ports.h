/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cube ports. Every cube instance owns a port table (BPF_MAP_TYPE_PROG_ARRAY
 * "cube_ports") and a port configuration array ("cube_port_cfg"), both of
 * CUBE_MAX_PORTS slots. A port is wired to another cube (its program sits in
 * cube_ports), to a netdev (redirect), or to a fixed verdict.
 */
#ifndef CUBENET_ABI_PORTS_H
#define CUBENET_ABI_PORTS_H

#include <linux/types.h>

/* Eight ports cover every cube we ship (the router uses one per interface);
 * the port table is tiny, and constant indexes keep tail calls direct jumps. */
#define CUBE_MAX_PORTS 8

enum cube_port_kind {
	CUBE_PORT_UNCONNECTED = 0, /* forwarding here is a counted drop */
	CUBE_PORT_CUBE,		   /* tail call into cube_ports[port] */
	CUBE_PORT_NETDEV,	   /* redirect to ifindex */
	CUBE_PORT_TX,		   /* transmit back out of the ingress netdev */
	CUBE_PORT_PASS,		   /* hand to the kernel stack */
	CUBE_PORT_DROP,		   /* drop silently on purpose (counted as a verdict) */
};

struct cube_port_cfg {
	__u32 kind;    /* enum cube_port_kind */
	__u32 ifindex; /* for CUBE_PORT_NETDEV */
};

#endif
