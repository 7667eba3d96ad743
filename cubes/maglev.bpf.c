// SPDX-License-Identifier: Apache-2.0
/*
 * maglev: service id + flow hash -> backend id through the service's Maglev
 * ring (built in userspace by core/maglev.c). With the connection table on,
 * a flow keeps its backend while the ring changes, unless that backend is
 * removed; a draining backend keeps its flows and gets no new ones (it is
 * simply not in the ring).
 */
#include "lib/chain.h"
#include "lib/hash.h"
#include "lib/abi/maglev.h"

/* Sizes, all set before load. Service and backend ids are dense indexes
 * handed out by userspace, so state and counters are arrays. */
#define MAGLEV_DEFAULT_SERVICES 4096
#define MAGLEV_DEFAULT_BACKENDS 65536
#define MAGLEV_DEFAULT_CONNS	(1 << 20)

/* The template for every service's ring; real rings are made by userspace
 * with their own size (BPF_F_INNER_MAP lets sizes differ). */
struct maglev_ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLEV_RING_HDR_SLOTS + 251);
	__type(key, __u32);
	__type(value, __u32);
	__uint(map_flags, BPF_F_INNER_MAP);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, MAGLEV_DEFAULT_SERVICES);
	__type(key, __u32);
	__array(values, struct maglev_ring);
} maglev_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLEV_DEFAULT_SERVICES);
	__type(key, __u32);
	__type(value, struct maglev_service);
} maglev_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLEV_DEFAULT_BACKENDS);
	__type(key, __u32);
	__type(value, struct maglev_backend);
} maglev_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAGLEV_DEFAULT_SERVICES);
	__type(key, __u32);
	__type(value, struct maglev_counters);
} maglev_service_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAGLEV_DEFAULT_BACKENDS);
	__type(key, __u32);
	__type(value, struct maglev_counters);
} maglev_backend_stats SEC(".maps");

/* Shared table, per-CPU LRU lists: no cross-CPU lock on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAGLEV_DEFAULT_CONNS);
	__type(key, struct maglev_conn_key);
	__type(value, struct maglev_conn);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} maglev_conns SEC(".maps");

static __always_inline void count(void *map, __u32 id, __u32 bytes)
{
	struct maglev_counters *c = bpf_map_lookup_elem(map, &id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline int backend_usable(__u32 backend_id)
{
	struct maglev_backend *b = bpf_map_lookup_elem(&maglev_backends, &backend_id);

	return b && b->state != MAGLEV_BACKEND_ABSENT;
}

static __always_inline __u32 ring_pick(void *ring, __u32 hash)
{
	__u32 slot = 0, *size, *backend;

	size = bpf_map_lookup_elem(ring, &slot);
	if (!size || *size == 0)
		return CUBE_NO_BACKEND;
	slot = MAGLEV_RING_HDR_SLOTS + hash % *size;
	backend = bpf_map_lookup_elem(ring, &slot);
	return backend ? *backend : CUBE_NO_BACKEND;
}

CUBE_ENTRY(cube_maglev)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();
	struct maglev_conn_key ckey = {};
	struct maglev_service *svc;
	struct maglev_conn *conn = NULL;
	__u32 svc_id, flags, hash, backend_id;
	void *ring;

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	svc_id = meta->service_id;
	svc = bpf_map_lookup_elem(&maglev_services, &svc_id);
	flags = svc ? svc->flags : 0;

	if (flags & MAGLEV_SVC_F_CONN_TABLE) {
		ckey.saddr = meta->saddr;
		ckey.daddr = meta->daddr;
		ckey.sport = meta->sport;
		ckey.dport = meta->dport;
		ckey.service_id = svc_id;
		ckey.proto = meta->l4_proto;
		ckey.family = meta->ip_version;
		ckey.vlan_id = meta->vlan_id;
		conn = bpf_map_lookup_elem(&maglev_conns, &ckey);
		if (conn && backend_usable(conn->backend_id)) {
			backend_id = conn->backend_id;
			goto chosen;
		}
	}

	ring = bpf_map_lookup_elem(&maglev_rings, &svc_id);
	if (!ring)
		return cube_drop(st, CUBE_DROP_NO_SERVICE);
	if (flags & MAGLEV_SVC_F_HASH_SRC)
		hash = cube_source_hash(meta->ip_version, &meta->saddr);
	else
		hash = meta->flow_hash;
	backend_id = ring_pick(ring, hash);
	if (backend_id == CUBE_NO_BACKEND)
		return cube_drop(st, CUBE_DROP_NO_BACKEND);

	if (flags & MAGLEV_SVC_F_CONN_TABLE) {
		struct maglev_conn fresh = {
		    .backend_id = backend_id,
		    .last_seen_ns = bpf_ktime_get_coarse_ns(),
		};

		bpf_map_update_elem(&maglev_conns, &ckey, &fresh, BPF_ANY);
	}

chosen:
	meta->backend_id = backend_id;
	meta->flags |= CUBE_META_F_BACKEND;
	count(&maglev_service_stats, svc_id, meta->pkt_len);
	count(&maglev_backend_stats, backend_id, meta->pkt_len);
	return cube_out(ctx, st, MAGLEV_PORT_OUT);
}
