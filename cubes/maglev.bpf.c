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
#include "lib/maglev_pick.h"
#include "lib/abi/maglev.h"

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
		if (conn && maglev_backend_usable(conn->backend_id, svc_id)) {
			backend_id = conn->backend_id;
			goto chosen;
		}
	}

	struct maglev_affinity_key akey = {};
	__u64 now = 0;

	if (flags & MAGLEV_SVC_F_AFFINITY) {
		akey.client = meta->saddr;
		akey.service_id = svc_id;
		akey.family = meta->ip_version;
		backend_id = maglev_affinity_get(&akey, svc, &now);
		if (backend_id != CUBE_NO_BACKEND)
			goto chosen;
	}
	if (flags & MAGLEV_SVC_F_HASH_SRC)
		hash = cube_source_hash(meta->ip_version, &meta->saddr);
	else
		hash = meta->flow_hash;
	backend_id = maglev_ring_pick(svc, hash);
	if (backend_id == CUBE_NO_BACKEND)
		return no_backend(ctx, st, svc_id, flags, meta);
	if (!maglev_backend_usable(backend_id, svc_id))
		return cube_drop(st, CUBE_DROP_STALE_BACKEND);
	if (flags & MAGLEV_SVC_F_AFFINITY)
		maglev_affinity_put(&akey, backend_id, now);

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
