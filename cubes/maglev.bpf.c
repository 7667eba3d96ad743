// SPDX-License-Identifier: Apache-2.0
/*
 * maglev: service id + flow hash -> backend id through the service's Maglev
 * ring (built in userspace by core/maglev_table.c, placed by core/maglev_store.c). With the
 * connection table on, a flow keeps its backend while the ring changes, unless that backend is
 * removed; a draining backend keeps its flows and gets no new ones (it is
 * simply not in the ring).
 */
#include "lib/chain.h"
#include "lib/hash.h"
#include "lib/hdr.h"
#include "lib/abi/maglev.h"

/* Every service's ring, side by side (see abi/maglev.h). Userspace writes
 * rings through a mapping of the array: millions of slots cost a memcpy,
 * not a syscall each. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLEV_DEFAULT_SLOTS / MAGLEV_SLOTS_PER_ENTRY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_MMAPABLE);
} maglev_slots SEC(".maps");

/* Descriptors are replaced whole, and freed only after readers are done
 * (no preallocation: a preallocated element is reused at once). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLEV_DEFAULT_SERVICES);
	__type(key, __u32);
	__type(value, struct maglev_service);
	__uint(map_flags, BPF_F_NO_PREALLOC);
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

/* Client-address affinity (MAGLEV_SVC_F_AFFINITY): shared LRU, per-CPU
 * lists as for connections. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAGLEV_DEFAULT_AFFINITY);
	__type(key, struct maglev_affinity_key);
	__type(value, struct maglev_affinity);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} maglev_affinity SEC(".maps");

/* A client seen again within this much keeps its entry as it is: no write
 * (and no shared cache line) per packet. */
#define AFFINITY_REFRESH_NS 1000000000ull

/* A backend that may take the flow: present, and the service's own (an id
 * a stale ring or connection names may belong to another service now). */
static __always_inline int backend_usable(__u32 backend_id, __u32 svc_id)
{
	struct maglev_backend *b = bpf_map_lookup_elem(&maglev_backends, &backend_id);

	return b && b->state != MAGLEV_BACKEND_ABSENT && b->service_id == svc_id;
}

static __always_inline __u32 ring_pick(const struct maglev_service *svc, __u32 hash)
{
	__u32 slot, pair;
	__u64 *two;

	if (!svc->ring_size)
		return CUBE_NO_BACKEND;
	slot = svc->ring_offset + hash % svc->ring_size;
	pair = slot / MAGLEV_SLOTS_PER_ENTRY;
	two = bpf_map_lookup_elem(&maglev_slots, &pair);
	return two ? (__u32)(*two >> (32 * (slot % MAGLEV_SLOTS_PER_ENTRY))) : CUBE_NO_BACKEND;
}

/* Whether the packet may open a connection: a TCP SYN, or any packet of
 * another protocol (a fragment included). */
static __always_inline int opens_flow(CUBE_CTX *ctx, const struct cube_meta *meta)
{
	struct tcphdr *tcp;

	if (meta->l4_proto != IPPROTO_TCP || !(meta->flags & CUBE_META_F_L4))
		return 1;
	tcp = ctx_hdr(ctx, meta->l4_off, sizeof(*tcp));
	return !tcp || (tcp->syn && !tcp->ack);
}

/*
 * No backend for the flow. With MAGLEV_SVC_F_MARK_NO_BACKEND the packet
 * goes on marked so, for a nat behind to refuse a new connection (as
 * kube-proxy rejects: an ICMP port unreachable, at once) while one it
 * tracks goes on; counted per service when it may open a connection.
 * Otherwise dropped, and counted.
 */
static __always_inline int no_backend(CUBE_CTX *ctx, struct cube_stats *st, __u32 svc_id,
				      __u32 flags, struct cube_meta *meta)
{
	struct maglev_counters *c = bpf_map_lookup_elem(&maglev_service_stats, &svc_id);

	if (flags & MAGLEV_SVC_F_MARK_NO_BACKEND) {
		if (c && opens_flow(ctx, meta))
			c->no_backend++;
		meta->backend_id = CUBE_NO_BACKEND;
		meta->flags |= CUBE_META_F_BACKEND;
		return cube_out(ctx, st, MAGLEV_PORT_OUT);
	}
	if (c)
		c->no_backend++;
	return cube_drop(st, CUBE_DROP_NO_BACKEND);
}

CUBE_ENTRY(cube_maglev)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();
	struct maglev_conn_key ckey = {};
	struct maglev_service *svc;
	struct maglev_conn *conn = NULL;
	__u32 svc_id, flags, hash, backend_id;

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	svc_id = meta->service_id;
	svc = bpf_map_lookup_elem(&maglev_services, &svc_id);
	if (!svc)
		return cube_drop(st, CUBE_DROP_NO_SERVICE);
	flags = svc->flags;

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
		if (conn && backend_usable(conn->backend_id, svc_id)) {
			backend_id = conn->backend_id;
			goto chosen;
		}
	}

	struct maglev_affinity_key akey = {};
	__u64 now = 0;

	if (flags & MAGLEV_SVC_F_AFFINITY) {
		struct maglev_affinity *aff;

		akey.client = meta->saddr;
		akey.service_id = svc_id;
		akey.family = meta->ip_version;
		aff = bpf_map_lookup_elem(&maglev_affinity, &akey);
		now = bpf_ktime_get_coarse_ns();
		if (aff &&
		    now - aff->last_seen_ns < (__u64)svc->affinity_timeout_s * 1000000000ull &&
		    backend_usable(aff->backend_id, svc_id)) {
			backend_id = aff->backend_id;
			if (now - aff->last_seen_ns > AFFINITY_REFRESH_NS)
				aff->last_seen_ns = now;
			goto chosen;
		}
	}
	if (flags & MAGLEV_SVC_F_HASH_SRC)
		hash = cube_source_hash(meta->ip_version, &meta->saddr);
	else
		hash = meta->flow_hash;
	backend_id = ring_pick(svc, hash);
	if (backend_id == CUBE_NO_BACKEND)
		return no_backend(ctx, st, svc_id, flags, meta);
	if (!backend_usable(backend_id, svc_id))
		return cube_drop(st, CUBE_DROP_STALE_BACKEND);
	if (flags & MAGLEV_SVC_F_AFFINITY) {
		struct maglev_affinity fresh = {.backend_id = backend_id, .last_seen_ns = now};

		bpf_map_update_elem(&maglev_affinity, &akey, &fresh, BPF_ANY);
	}

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
