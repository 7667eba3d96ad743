/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chaining contract: the maps every cube has, and the only ways a cube
 * may finish with a packet. Each way is counted in the cube's cube_stats.
 *
 * Per instance: cube_ports (PROG_ARRAY), cube_port_cfg, cube_stats.
 * Shared by every cube of the node (the loader reuses one map for all):
 * cube_meta (per-packet metadata) and cube_slowpath (ring to the daemon).
 */
#ifndef CUBENET_CHAIN_H
#define CUBENET_CHAIN_H

#include "ctx.h"
#include "abi/ports.h"
#include "abi/stats.h"
#include "abi/meta.h"
#include "abi/slowpath.h"

/* Set by the loader before load: this instance's id, reported in the slow path. */
const volatile __u32 cube_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, CUBE_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} cube_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CUBE_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct cube_port_cfg);
} cube_port_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cube_stats);
} cube_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cube_meta);
} cube_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CUBE_SLOWPATH_RING_BYTES);
} cube_slowpath SEC(".maps");

static __always_inline struct cube_stats *cube_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cube_stats, &zero);
}

static __always_inline struct cube_meta *cube_meta_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cube_meta, &zero);
}

/* The metadata a parser left for this packet, or NULL if there is none. */
static __always_inline struct cube_meta *cube_meta_get(void)
{
	struct cube_meta *meta = cube_meta_slot();

	if (!meta || meta->version != CUBE_META_VERSION)
		return NULL;
	return meta;
}

static __always_inline void cube_count_rx(struct cube_stats *st, __u32 len)
{
	if (st) {
		st->rx_packets++;
		st->rx_bytes += len;
	}
}

static __always_inline void cube_count_verdict(struct cube_stats *st, enum cube_verdict v)
{
	if (st)
		st->verdict[v]++;
}

/* The chain's verdict ends the packet's metadata (see abi/meta.h). */
static __always_inline void cube_meta_close(void)
{
	struct cube_meta *meta = cube_meta_slot();

	if (meta)
		meta->version = 0;
}

static __always_inline int cube_drop(struct cube_stats *st, enum cube_drop_reason reason)
{
	cube_meta_close();
	if (st) {
		st->verdict[CUBE_VERDICT_DROP]++;
		st->drop[reason < CUBE_DROP_MAX ? reason : 0]++;
	}
	return CUBE_RET_DROP;
}

/* A cube that found no metadata: received all the same, and dropped. */
static __always_inline int cube_drop_no_meta(CUBE_CTX *ctx, struct cube_stats *st)
{
	cube_count_rx(st, ctx_len(ctx));
	return cube_drop(st, CUBE_DROP_NO_META);
}

static __always_inline int cube_pass(struct cube_stats *st)
{
	cube_meta_close();
	cube_count_verdict(st, CUBE_VERDICT_PASS);
	return CUBE_RET_PASS;
}

static __always_inline int cube_tx(CUBE_CTX *ctx, struct cube_stats *st)
{
	cube_meta_close();
	cube_count_verdict(st, CUBE_VERDICT_TX);
	return ctx_tx_verdict(ctx);
}

static __always_inline int cube_redirect(struct cube_stats *st, __u32 ifindex)
{
	cube_meta_close();
	cube_count_verdict(st, CUBE_VERDICT_REDIRECT);
	return bpf_redirect(ifindex, 0);
}

/* Redirect to what is behind the veth ifindex (ctx_redirect_into_veth). */
static __always_inline int cube_redirect_into_veth(CUBE_CTX *ctx, struct cube_stats *st,
						   __u32 ifindex)
{
	cube_meta_close();
	cube_count_verdict(st, CUBE_VERDICT_REDIRECT);
	return ctx_redirect_into_veth(ctx, ifindex);
}

/* Redirect out of ifindex, the kernel's neighbour table giving the MACs for
 * next hop nh (ctx_redirect_neigh; TC only). */
static __always_inline int cube_redirect_neigh(struct cube_stats *st, __u32 ifindex, __u32 family,
					       const union cube_addr *nh)
{
	cube_meta_close();
	cube_count_verdict(st, CUBE_VERDICT_REDIRECT);
	return ctx_redirect_neigh(ifindex, family, nh);
}

/* A port whose tail call did not jump: act on its configuration. */
static __always_inline int cube_port_fallback(CUBE_CTX *ctx, struct cube_stats *st, __u32 port)
{
	struct cube_port_cfg *cfg = bpf_map_lookup_elem(&cube_port_cfg, &port);
	__u32 kind = cfg ? cfg->kind : CUBE_PORT_UNCONNECTED;

	if (st)
		st->verdict[CUBE_VERDICT_FORWARD]--; /* counted optimistically before the jump */
	switch (kind) {
	case CUBE_PORT_NETDEV:
		return cube_redirect(st, cfg->ifindex);
	case CUBE_PORT_TX:
		return cube_tx(ctx, st);
	case CUBE_PORT_PASS:
		return cube_pass(st);
	case CUBE_PORT_DROP:
		return cube_drop(st, CUBE_DROP_NONE);
	case CUBE_PORT_CUBE:
		return cube_drop(st, CUBE_DROP_TAIL_CALL_FAILED);
	default:
		return cube_drop(st, CUBE_DROP_PORT_UNCONNECTED);
	}
}

/*
 * Forward out of a port. The port must be a compile-time constant: the tail
 * call is then emitted with a constant index, which the JIT turns into a
 * direct jump. A successful jump never returns; counters are bumped first.
 */
#define cube_out(ctx, st, port)                                                                    \
	({                                                                                         \
		_Static_assert((port) < CUBE_MAX_PORTS, "port out of range");                      \
		if (st) {                                                                          \
			(st)->verdict[CUBE_VERDICT_FORWARD]++;                                     \
			(st)->port_out[(port)]++;                                                  \
		}                                                                                  \
		bpf_tail_call_static(ctx, &cube_ports, (port));                                    \
		cube_port_fallback(ctx, st, (port));                                               \
	})

/* Forward out of a port chosen at run time (the router's output interface):
 * a switch keeps every tail call constant. */
static __always_inline int cube_out_var(CUBE_CTX *ctx, struct cube_stats *st, __u32 port)
{
	switch (port) {
	case 0:
		return cube_out(ctx, st, 0);
	case 1:
		return cube_out(ctx, st, 1);
	case 2:
		return cube_out(ctx, st, 2);
	case 3:
		return cube_out(ctx, st, 3);
	case 4:
		return cube_out(ctx, st, 4);
	case 5:
		return cube_out(ctx, st, 5);
	case 6:
		return cube_out(ctx, st, 6);
	case 7:
		return cube_out(ctx, st, 7);
	default:
		return cube_drop(st, CUBE_DROP_PORT_UNCONNECTED);
	}
}

/*
 * Hand the packet to the daemon: its head goes into the ring with who sent
 * it and why; the daemon owns it from here (it may re-inject it).
 */
static __always_inline int cube_slowpath_out(CUBE_CTX *ctx, struct cube_stats *st, __u32 reason,
					     __u32 port, const union cube_addr *nexthop)
{
	struct cube_slowpath_hdr *rec;
	__u32 len = ctx_len(ctx);
	__u64 cap = len; /* 64-bit, so the verifier keeps the bounds below */

	rec = bpf_ringbuf_reserve(&cube_slowpath, sizeof(*rec), 0);
	if (!rec)
		return cube_drop(st, CUBE_DROP_SLOWPATH_FULL);
	rec->cube_id = cube_id;
	rec->reason = reason;
	rec->port = port;
	rec->ifindex = ctx_ingress_ifindex(ctx);
	rec->pkt_len = len;
	rec->cap_len = 0;
	__builtin_memset(rec->nexthop, 0, sizeof(rec->nexthop));
	if (nexthop)
		__builtin_memcpy(rec->nexthop, nexthop->bytes, sizeof(rec->nexthop));
	if (cap > CUBE_SLOWPATH_SNAPLEN)
		cap = CUBE_SLOWPATH_SNAPLEN;
	if (cap > 0 && ctx_load_bytes(ctx, 0, rec->data, cap) == 0)
		rec->cap_len = (__u32)cap;
	bpf_ringbuf_submit(rec, 0);
	cube_meta_close();
	cube_count_verdict(st, CUBE_VERDICT_SLOWPATH);
	return CUBE_RET_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#endif
