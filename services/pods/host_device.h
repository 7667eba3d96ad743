/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's way into its own datapath: a netdev (one end of a veth pair,
 * the kernel here has no dummy) the kernel routes
 * pod addresses to, whose TC egress hands the node's own packets to the
 * node chain. Functions return 0 or a negative errno.
 */
#ifndef CUBENET_HOST_DEVICE_H
#define CUBENET_HOST_DEVICE_H

#include <stddef.h>
#include "lib/abi/router.h"

/* Create it if there is none, and set it up. */
int host_device_ensure(const char *name);
/* (netdev_delete() removes it, and so its routes.) */
/* Make the /32 (/128) routes through it exactly these addresses (as the
 * router's host keys hold them: address and family). */
int host_device_routes(const char *name, const struct router_neigh_key *hosts, size_t n);
/* One such route, added (replacing the plugin's through the pod's veth)
 * or deleted. */
int host_device_route(const char *name, const struct router_neigh_key *host, int add);
/* A route of a prefix (of family, CUBE_AF_*; plen < 0: the address
 * alone) through it, added or deleted: another node's pod range. */
int host_device_prefix_route(const char *name, const union cube_addr *prefix, int family, int plen,
			     int add);

#endif
