// SPDX-License-Identifier: Apache-2.0
/*
 * Where should per-packet metadata live? Chains of four programs (three
 * tail calls) doing the same work on the metadata: in a per-CPU array (what
 * the cubes do, with the real struct cube_meta), and in the XDP
 * metadata area in front of the packet. The kernel caps that area at 32
 * bytes (bpf_xdp_adjust_meta answers -EACCES beyond), so the comparison of
 * the two mechanisms is made on a 32-byte struct in both. meta-bench times
 * them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "lib/abi/meta.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cube_meta);
} meta_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} percpu_chain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} area_chain SEC(".maps");

/* The most a metadata area holds: what cubes need without the addresses. */
struct meta32 {
	__u16 version;
	__u16 flags;
	__u32 pkt_len;
	__u16 l3_off;
	__u16 l4_off;
	__u32 flow_hash;
	__u32 service_id;
	__u32 backend_id;
	__u16 sport;
	__u16 dport;
	__u32 pad;
};

_Static_assert(sizeof(struct meta32) == 32, "the XDP metadata area holds 32 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct meta32);
} meta32_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} percpu32_chain SEC(".maps");

/* The work each hop does on the metadata: read what earlier hops wrote,
 * write something for later ones. */
#define hop_work(m, hop)                                                                           \
	({                                                                                         \
		int _bad = (m)->version != CUBE_META_VERSION;                                      \
		(m)->service_id += (m)->flow_hash & 0xff;                                          \
		(m)->backend_id = (hop) + (m)->sport;                                              \
		_bad;                                                                              \
	})

#define head_work(m, ctx)                                                                          \
	do {                                                                                       \
		__builtin_memset((m), 0, sizeof(*(m)));                                            \
		(m)->version = CUBE_META_VERSION;                                                  \
		(m)->pkt_len = (ctx)->data_end - (ctx)->data;                                      \
		(m)->l3_off = 14;                                                                  \
		(m)->flow_hash = 0x12345678;                                                       \
		(m)->sport = 80;                                                                   \
	} while (0)

/* Per-CPU array. */
SEC("xdp")
int percpu_head(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct cube_meta *m = bpf_map_lookup_elem(&meta_slot, &zero);

	if (!m)
		return XDP_ABORTED;
	head_work(m, ctx);
	bpf_tail_call_static(ctx, &percpu_chain, 1);
	return XDP_ABORTED;
}

#define PERCPU_HOP(n, next)                                                                        \
	SEC("xdp") int percpu_hop##n(struct xdp_md *ctx)                                           \
	{                                                                                          \
		__u32 zero = 0;                                                                    \
		struct cube_meta *m = bpf_map_lookup_elem(&meta_slot, &zero);                      \
                                                                                                   \
		if (!m || hop_work(m, n))                                                          \
			return XDP_ABORTED;                                                        \
		if (next)                                                                          \
			bpf_tail_call_static(ctx, &percpu_chain, next);                            \
		return XDP_PASS;                                                                   \
	}

PERCPU_HOP(1, 2)
PERCPU_HOP(2, 3)
PERCPU_HOP(3, 0)

/* Per-CPU array, 32 bytes. */
SEC("xdp")
int percpu32_head(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct meta32 *m = bpf_map_lookup_elem(&meta32_slot, &zero);

	if (!m)
		return XDP_ABORTED;
	head_work(m, ctx);
	bpf_tail_call_static(ctx, &percpu32_chain, 1);
	return XDP_ABORTED;
}

#define PERCPU32_HOP(n, next)                                                                      \
	SEC("xdp") int percpu32_hop##n(struct xdp_md *ctx)                                         \
	{                                                                                          \
		__u32 zero = 0;                                                                    \
		struct meta32 *m = bpf_map_lookup_elem(&meta32_slot, &zero);                       \
                                                                                                   \
		if (!m || hop_work(m, n))                                                          \
			return XDP_ABORTED;                                                        \
		if (next)                                                                          \
			bpf_tail_call_static(ctx, &percpu32_chain, next);                          \
		return XDP_PASS;                                                                   \
	}

PERCPU32_HOP(1, 2)
PERCPU32_HOP(2, 3)
PERCPU32_HOP(3, 0)

/* XDP metadata area, 32 bytes. */
SEC("xdp")
int area_head(struct xdp_md *ctx)
{
	struct meta32 *m;
	/* A repeated test run hands the same buffer back, metadata included;
	 * a real packet arrives with none. Grow the area to exactly 32 bytes. */
	int have = (int)((long)ctx->data - (long)ctx->data_meta);

	if (bpf_xdp_adjust_meta(ctx, have - (int)sizeof(*m)))
		return XDP_ABORTED;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return XDP_ABORTED;
	head_work(m, ctx);
	bpf_tail_call_static(ctx, &area_chain, 1);
	return XDP_ABORTED;
}

#define AREA_HOP(n, next)                                                                          \
	SEC("xdp") int area_hop##n(struct xdp_md *ctx)                                             \
	{                                                                                          \
		struct meta32 *m = (void *)(long)ctx->data_meta;                                   \
                                                                                                   \
		if ((void *)(m + 1) > (void *)(long)ctx->data || hop_work(m, n))                   \
			return XDP_ABORTED;                                                        \
		if (next)                                                                          \
			bpf_tail_call_static(ctx, &area_chain, next);                              \
		return XDP_PASS;                                                                   \
	}

AREA_HOP(1, 2)
AREA_HOP(2, 3)
AREA_HOP(3, 0)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
