/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packets cubes send to the daemon (the shared slow-path ring): a thread
 * reads them and hands each to the service that configures the sending
 * cube's type. Once a second it also retries what waits for a netdev.
 */
#ifndef CUBENETD_PACKET_IN_H
#define CUBENETD_PACKET_IN_H

#include <stddef.h>
#include <stdint.h>
#include "datastore.h"
#include "runtime.h"

struct packet_in;

/* Start the reader; NULL on failure. It takes ds->lock while it uses rt. */
struct packet_in *packet_in_start(struct datastore *ds, struct runtime *rt);
void packet_in_stop(struct packet_in *pi);

/* Packet-out: run the chain heading ifindex on frame as a live frame, so
 * its verdict (a redirect, a transmit) really happens. 0 or -errno. */
int packet_in_inject(struct runtime *rt, uint32_t ifindex, const void *frame, size_t len);

#endif
