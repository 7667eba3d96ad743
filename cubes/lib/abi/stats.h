/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-cube counters, one struct per CPU in a one-slot BPF_MAP_TYPE_PERCPU_ARRAY
 * named "cube_stats". Userspace sums the CPUs. One lookup per packet serves
 * every counter a cube bumps.
 */
#ifndef CUBENET_ABI_STATS_H
#define CUBENET_ABI_STATS_H

#include <linux/types.h>
#include "drop_reasons.h"
#include "ports.h"

/* What a cube did with a packet. */
enum cube_verdict {
	CUBE_VERDICT_FORWARD = 0, /* out of one of its ports, into another cube */
	CUBE_VERDICT_REDIRECT,	  /* out of a port wired to a netdev */
	CUBE_VERDICT_TX,	  /* transmitted back out of the ingress netdev */
	CUBE_VERDICT_PASS,	  /* handed to the kernel stack */
	CUBE_VERDICT_DROP,	  /* dropped; the reason is counted in drop[] */
	CUBE_VERDICT_SLOWPATH,	  /* queued to the daemon */
	CUBE_VERDICT_MAX,
};

/* Room for drop reasons beyond those named today: a new reason keeps the
 * counters' layout, so a pinned cube_stats map stays usable by the next
 * version of its cube. */
#define CUBE_DROP_SLOTS 64
_Static_assert(CUBE_DROP_MAX <= CUBE_DROP_SLOTS, "more drop reasons than CUBE_DROP_SLOTS");

struct cube_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 verdict[CUBE_VERDICT_MAX];
	__u64 port_out[CUBE_MAX_PORTS];
	__u64 drop[CUBE_DROP_SLOTS]; /* by enum cube_drop_reason; the rest stay 0 */
};

#endif
