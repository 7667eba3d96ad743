/* SPDX-License-Identifier: Apache-2.0 */
/* Maglev cube: service id + flow hash -> backend id through the service's
 * lookup table ("ring"), with an optional connection table. */
#ifndef CUBENET_ABI_MAGLEV_H
#define CUBENET_ABI_MAGLEV_H

#include <linux/types.h>
#include "addr.h"
#include "meta.h"

#define MAGLEV_PORT_OUT 0

/*
 * Every service's ring ("Maglev table") is a region of the cube's one
 * maglev_slots array: ring_size backend ids from ring_offset on. The
 * service's descriptor (maglev_services, a hash map whose elements are
 * replaced whole) carries offset and size together, so one update moves a
 * service to a new ring: packets see the old one or the new one. Userspace
 * fills a new region before pointing at it and reuses an old one only after
 * a grace period (core/maglev_store.c).
 */
/* maglev_slots packs two slots in each 8-byte element (the kernel lays
 * array elements out 8 bytes apart, and userspace writes them through a
 * mapping): slot n is the low (n even) or high half of element n / 2. */
#define MAGLEV_SLOTS_PER_ENTRY 2

#define MAGLEV_RING_MIN	  3		  /* smallest prime ring size accepted */
#define MAGLEV_RING_MAX	  131071	  /* largest prime ring size accepted */
#define MAGLEV_SLOT_EMPTY CUBE_NO_BACKEND /* a slot with no backend (all drained) */

/* Default sizes, each set before load. Service and backend ids are dense
 * indexes handed out by userspace, so states and counters are arrays. */
#define MAGLEV_DEFAULT_SERVICES 4096
#define MAGLEV_DEFAULT_BACKENDS 65536
#define MAGLEV_DEFAULT_SLOTS	(1u << 20) /* slots; the map has half as many entries */
#define MAGLEV_DEFAULT_CONNS	(1u << 20)

enum maglev_service_flags {
	MAGLEV_SVC_F_CONN_TABLE = 1 << 0, /* pin flows to their backend */
	MAGLEV_SVC_F_HASH_SRC = 1 << 1,	  /* hash the source address only (client affinity) */
	/* A client address keeps its backend (maglev_affinity) until idle for
	 * affinity_timeout_s, and while the backend is usable. */
	MAGLEV_SVC_F_AFFINITY = 1 << 2,
	/* No backend: forward the packet with CUBE_META_F_BACKEND and
	 * CUBE_NO_BACKEND rather than drop it, for a nat behind to refuse a
	 * new connection (ICMP unreachable, so clients fail at once instead
	 * of timing out) and let the ones it tracks go on. */
	MAGLEV_SVC_F_MARK_NO_BACKEND = 1 << 3,
};

struct maglev_service {
	__u32 ring_offset;	  /* first slot of its ring in maglev_slots */
	__u32 ring_size;	  /* slots; 0: no ring (no backend for new flows) */
	__u32 flags;		  /* enum maglev_service_flags */
	__u32 affinity_timeout_s; /* reserved for client-address affinity */
};

enum maglev_backend_state {
	MAGLEV_BACKEND_ABSENT = 0, /* pinned flows to it are re-balanced */
	MAGLEV_BACKEND_ACTIVE,
	MAGLEV_BACKEND_DRAINING, /* keeps pinned flows, gets no new ones */
};

struct maglev_backend {
	__u32 state;	  /* enum maglev_backend_state */
	__u32 service_id; /* whose backend it is: a ring or connection that names it
			   * for another service is stale and not followed */
};

struct maglev_counters {
	__u64 packets;
	__u64 bytes;
	__u64 no_backend; /* per service: packets dropped for want of one, or (marked
			   * on instead) those of them that may open a connection */
};

/* Client-address affinity: per service and client, the backend chosen and
 * when the client was last seen. */
struct maglev_affinity_key {
	union cube_addr client;
	__u32 service_id;
	__u32 family;
};

struct maglev_affinity {
	__u32 backend_id;
	__u32 pad;
	__u64 last_seen_ns;
};

#define MAGLEV_DEFAULT_AFFINITY (1u << 16)

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
