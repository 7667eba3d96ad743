/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's side of the slow path: a thread reads what cubes send
 * through the shared ring. For a router's unknown next hop it sends an ARP
 * request (IPv4) or a neighbour solicitation (IPv6) out of the route's
 * interface, keeps the packet, and when the answer comes back through the
 * router learns the neighbour and injects the kept packet into the chain it
 * came from (packet-out).
 */
#ifndef CUBENETD_SLOWPATH_H
#define CUBENETD_SLOWPATH_H

#include <pthread.h>
#include "datastore.h"
#include "runtime.h"

struct slowpath;

/* Start the reader; NULL on failure. It takes ds->lock while it uses rt. */
struct slowpath *slowpath_start(struct datastore *ds, struct runtime *rt);
void slowpath_stop(struct slowpath *sp);

#endif
