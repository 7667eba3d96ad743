/* SPDX-License-Identifier: Apache-2.0 */
/* Maglev cube: service id + flow hash -> backend id through the service's
 * lookup table ("ring"), with an optional connection table. */
#ifndef CUBENET_ABI_MAGLEV_H
#define CUBENET_ABI_MAGLEV_H

#include <linux/types.h>
#include "addr.h"

#define MAGLEV_PORT_OUT 0

/*
 * A service's ring is an inner BPF array of ring_size + 1 u32 slots:
 * slot 0 holds ring_size, slots 1..ring_size hold backend ids. Size and
 * table travel together, so one update of the outer map swaps both.
 */
#define MAGLEV_RING_HDR_SLOTS 1
#define MAGLEV_RING_MAX	      131071 /* largest prime size we accept */

enum maglev_service_flags {
	MAGLEV_SVC_F_CONN_TABLE = 1 << 0, /* pin flows to their backend */
	MAGLEV_SVC_F_HASH_SRC = 1 << 1,	  /* hash the source address only (client affinity) */
};

struct maglev_service {
	__u32 flags; /* enum maglev_service_flags; 0 with no entry = defaults */
};

enum maglev_backend_state {
	MAGLEV_BACKEND_ABSENT = 0, /* pinned flows to it are re-balanced */
	MAGLEV_BACKEND_ACTIVE,
	MAGLEV_BACKEND_DRAINING, /* keeps pinned flows, gets no new ones */
};

struct maglev_backend {
	__u32 state; /* enum maglev_backend_state */
};

struct maglev_counters {
	__u64 packets;
	__u64 bytes;
};

struct maglev_conn_key {
	union cube_addr saddr;
	union cube_addr daddr;
	__be16 sport;
	__be16 dport;
	__u32 service_id;
	__u8 proto;
	__u8 family;
	__u16 vlan_id;
};

struct maglev_conn {
	__u32 backend_id;
	__u32 pad;
	__u64 last_seen_ns;
};

#endif
