// SPDX-License-Identifier: Apache-2.0
/*
 * l2rewrite: the L2DSR step of the seed paper. The chosen backend's entry
 * gives the destination MAC (optionally a source MAC) and what to do with
 * the VLAN tag; IP headers are untouched, so the backend answers the client
 * directly. Then out of L2REWRITE_PORT_OUT, normally wired to transmit.
 */
#include "lib/chain.h"
#include "lib/hdr.h"
#include "lib/vlan.h"
#include "lib/abi/l2rewrite.h"

#define L2REWRITE_DEFAULT_BACKENDS 65536

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, L2REWRITE_DEFAULT_BACKENDS);
	__type(key, __u32);
	__type(value, struct l2rewrite_target);
} l2rewrite_targets SEC(".maps");

/* Apply the VLAN action and keep the metadata describing the frame sent:
 * the outer VID and where that tag is (TC keeps a pushed tag, and after a
 * pop the next one, out of band: the kernel's skb_vlan_push and _pop),
 * whether another tag follows, and the offsets moved by what moved in the
 * packet bytes. */
static __always_inline int apply_vlan(CUBE_CTX *ctx, struct cube_meta *meta,
				      const struct l2rewrite_target *t)
{
	__u32 len = ctx_len(ctx);
	int delta;

	switch (t->vlan_action) {
	case L2REWRITE_VLAN_SET:
		if (vlan_set_vid(ctx, t->vlan_id))
			return -1;
		meta->flags |= CUBE_META_F_VLAN;
		meta->vlan_id = t->vlan_id;
		break;
	case L2REWRITE_VLAN_POP:
		if (!vlan_has_tag(ctx))
			return 0;
		if (vlan_pop(ctx))
			return -1;
		if (meta->flags & CUBE_META_F_QINQ) {
			/* The inner tag is the outer one now. */
			meta->flags &= ~CUBE_META_F_QINQ;
			meta->vlan_id = meta->vlan_inner;
			meta->vlan_inner = 0;
		} else {
			meta->flags &= ~(CUBE_META_F_VLAN | CUBE_META_F_VLAN_HWACCEL);
			meta->vlan_id = 0;
		}
		break;
	default:
		return 0;
	}
#ifdef CUBE_TC
	if (ctx->vlan_present)
		meta->flags |= CUBE_META_F_VLAN_HWACCEL;
	else
		meta->flags &= ~CUBE_META_F_VLAN_HWACCEL;
#endif
	delta = (int)ctx_len(ctx) - (int)len;
	meta->l3_off += delta;
	meta->l4_off += delta;
	meta->pkt_len += delta;
	return 0;
}

CUBE_ENTRY(cube_l2rewrite)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();
	struct l2rewrite_target *t;
	struct ethhdr *eth;
	__u32 backend_id;

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	backend_id = meta->backend_id;
	t = bpf_map_lookup_elem(&l2rewrite_targets, &backend_id);
	if (!t || !(t->flags & L2REWRITE_F_VALID))
		return cube_drop(st, CUBE_DROP_NO_L2_TARGET);
	if (apply_vlan(ctx, meta, t))
		return cube_drop(st, CUBE_DROP_VLAN_REWRITE_FAILED);

	eth = ctx_data(ctx);
	if (!hdr_fits(eth, sizeof(*eth), ctx_data_end(ctx)))
		return cube_drop(st, CUBE_DROP_ETH_TRUNCATED);
	mac_copy(eth->h_dest, t->dmac);
	if (t->flags & L2REWRITE_F_SET_SMAC)
		mac_copy(eth->h_source, t->smac);
	return cube_out(ctx, st, L2REWRITE_PORT_OUT);
}
