/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Maglev decision over the maps a node's maglev cube owns, for every
 * program that must choose exactly as it does: the maglev cube itself and
 * the socket-level balancer (sock_lb.bpf.c), which is loaded onto the
 * cube's maps. The maps are declared here once; their sizes are set before
 * load (or the maps reused from the cube by fd).
 *
 *   maglev_backend_usable(backend, svc)   present and the service's own
 *   maglev_ring_pick(svc, hash)           the ring's slot for a hash
 *   maglev_affinity_get / _put            client-address affinity
 */
#ifndef CUBENET_MAGLEV_PICK_H
#define CUBENET_MAGLEV_PICK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "abi/maglev.h"

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

/* Mappable: a restarted daemon reads every backend's state at memory
 * speed to adopt what the maps hold. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLEV_DEFAULT_BACKENDS);
	__type(key, __u32);
	__type(value, struct maglev_backend);
	__uint(map_flags, BPF_F_MMAPABLE);
} maglev_backends SEC(".maps");

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
#define MAGLEV_AFFINITY_REFRESH_NS 1000000000ull

/* A backend that may take the flow: present, and the service's own (an id
 * a stale ring or connection names may belong to another service now). */
static __always_inline int maglev_backend_usable(__u32 backend_id, __u32 svc_id)
{
	struct maglev_backend *b = bpf_map_lookup_elem(&maglev_backends, &backend_id);

	return b && b->state != MAGLEV_BACKEND_ABSENT && b->service_id == svc_id;
}

static __always_inline __u32 maglev_ring_pick(const struct maglev_service *svc, __u32 hash)
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

/* The backend key's client had within the service's timeout, if still
 * usable (CUBE_NO_BACKEND if none); now is the time to pass to _put. */
static __always_inline __u32 maglev_affinity_get(const struct maglev_affinity_key *key,
						 const struct maglev_service *svc, __u64 *now)
{
	struct maglev_affinity *aff = bpf_map_lookup_elem(&maglev_affinity, key);

	*now = bpf_ktime_get_coarse_ns();
	if (!aff || *now - aff->last_seen_ns >= (__u64)svc->affinity_timeout_s * 1000000000ull ||
	    !maglev_backend_usable(aff->backend_id, key->service_id))
		return CUBE_NO_BACKEND;
	if (*now - aff->last_seen_ns > MAGLEV_AFFINITY_REFRESH_NS)
		aff->last_seen_ns = *now;
	return aff->backend_id;
}

static __always_inline void maglev_affinity_put(const struct maglev_affinity_key *key,
						__u32 backend_id, __u64 now)
{
	struct maglev_affinity fresh = {.backend_id = backend_id, .last_seen_ns = now};

	bpf_map_update_elem(&maglev_affinity, key, &fresh, BPF_ANY);
}

#endif
