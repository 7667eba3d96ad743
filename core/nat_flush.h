/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forget the connections a nat cube translated to a removed endpoint, as
 * kube-proxy deletes the conntrack entries of a removed UDP endpoint: a
 * UDP flow pinned to an endpoint that is gone would otherwise keep being
 * translated to it for as long as its client keeps sending.
 */
#ifndef CUBENET_NAT_FLUSH_H
#define CUBENET_NAT_FLUSH_H

#include <stdint.h>
#include "lib/abi/addr.h"

/* The connections to forget: DNATed to endpoint (address, port), of one
 * protocol and family, optionally only those to one service. */
struct nat_flush_filter {
	uint8_t family;		      /* CUBE_AF_INET or CUBE_AF_INET6 */
	uint8_t proto;		      /* IPPROTO_UDP, IPPROTO_TCP, ... */
	uint16_t port;		      /* the endpoint's, host order; 0: any */
	union cube_addr addr;	      /* the endpoint's */
	uint16_t service_port;	      /* host order; 0: any */
	union cube_addr service_addr; /* the address clients sent to; all zero: any */
};

/*
 * Delete from conns_fd, a nat cube's "nat_conns", both entries of every
 * connection that matches f: its original direction (rewritten to the
 * endpoint) first, so a packet arriving meanwhile opens a new connection,
 * then its reply direction (from the endpoint), also where the LRU already
 * took the other. Connections only SNATed are never touched. The table is
 * read with batch lookups. *deleted (may be NULL) gets the number of
 * entries deleted. 0 or -errno: -EINVAL for a bad filter or a map that is
 * not a nat connection table.
 */
int nat_flush_endpoint(int conns_fd, const struct nat_flush_filter *f, uint32_t *deleted);

#endif
