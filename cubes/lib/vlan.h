/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outer VLAN tag: rewrite the VID, push a tag, pop a tag. XDP moves bytes
 * itself; TC asks the kernel (bpf_skb_vlan_*), which also handles a tag held
 * out of band in skb->vlan_tci. All return 0 on success, negative on error.
 * Packet pointers are invalid after a push or pop.
 */
#ifndef CUBENET_VLAN_H
#define CUBENET_VLAN_H

#include "ctx.h"
#include "hdr.h"

static __always_inline int vlan_is_tpid(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Rewrite the VID of a tag that sits in the packet, keeping PCP and DEI. */
static __always_inline int vlan_set_vid_inline(CUBE_CTX *ctx, __u16 vid)
{
	void *data = ctx_data(ctx), *end = ctx_data_end(ctx);
	struct ethhdr *eth = data;
	struct vlan_tag *tag = data + sizeof(*eth);

	if (!hdr_fits(tag, sizeof(*tag), end) || !vlan_is_tpid(eth->h_proto))
		return -1;
	tag->tci = bpf_htons((bpf_ntohs(tag->tci) & ~VLAN_VID_MASK) | (vid & VLAN_VID_MASK));
	return 0;
}

#ifdef CUBE_TC

static __always_inline int vlan_push(CUBE_CTX *ctx, __u16 vid)
{
	return bpf_skb_vlan_push(ctx, bpf_htons(ETH_P_8021Q), vid & VLAN_VID_MASK);
}

static __always_inline int vlan_pop(CUBE_CTX *ctx)
{
	return bpf_skb_vlan_pop(ctx);
}

static __always_inline int vlan_has_tag(CUBE_CTX *ctx)
{
	struct ethhdr *eth = ctx_data(ctx);

	if (ctx->vlan_present)
		return 1;
	return hdr_fits(eth, sizeof(*eth), ctx_data_end(ctx)) && vlan_is_tpid(eth->h_proto);
}

static __always_inline int vlan_set_vid(CUBE_CTX *ctx, __u16 vid)
{
	if (ctx->vlan_present) {
		/* Out of band: replace the tag, keeping its priority bits. */
		__u16 tci = (ctx->vlan_tci & ~VLAN_VID_MASK) | (vid & VLAN_VID_MASK);

		if (bpf_skb_vlan_pop(ctx))
			return -1;
		return bpf_skb_vlan_push(ctx, bpf_htons(ETH_P_8021Q), tci);
	}
	if (vlan_set_vid_inline(ctx, vid) == 0)
		return 0;
	return vlan_push(ctx, vid);
}

#else /* XDP */

static __always_inline int vlan_has_tag(CUBE_CTX *ctx)
{
	struct ethhdr *eth = ctx_data(ctx);

	return hdr_fits(eth, sizeof(*eth), ctx_data_end(ctx)) && vlan_is_tpid(eth->h_proto);
}

static __always_inline int vlan_push(CUBE_CTX *ctx, __u16 vid)
{
	__u8 macs[2 * ETH_ALEN];
	void *data, *end;
	struct vlan_tag *tag;
	__be16 *tpid;

	data = ctx_data(ctx);
	end = ctx_data_end(ctx);
	if (!hdr_fits(data, 2 * ETH_ALEN, end))
		return -1;
	__builtin_memcpy(macs, data, sizeof(macs));
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct vlan_tag)))
		return -1;
	data = ctx_data(ctx);
	end = ctx_data_end(ctx);
	/* MACs, then the new TPID and TCI; the old ethertype follows as encap. */
	if (!hdr_fits(data, sizeof(struct ethhdr) + sizeof(*tag), end))
		return -1;
	__builtin_memcpy(data, macs, sizeof(macs));
	tpid = data + 2 * ETH_ALEN;
	*tpid = bpf_htons(ETH_P_8021Q);
	tag = data + 2 * ETH_ALEN;
	((__be16 *)tag)[1] = bpf_htons(vid & VLAN_VID_MASK);
	return 0;
}

static __always_inline int vlan_pop(CUBE_CTX *ctx)
{
	__u8 macs[2 * ETH_ALEN];
	void *data = ctx_data(ctx), *end = ctx_data_end(ctx);

	if (!hdr_fits(data, sizeof(struct ethhdr) + sizeof(struct vlan_tag), end))
		return -1;
	if (!vlan_is_tpid(((struct ethhdr *)data)->h_proto))
		return 0;
	__builtin_memcpy(macs, data, sizeof(macs));
	/* Slide the MACs over the tag; the encapsulated type becomes h_proto. */
	__builtin_memcpy(data + sizeof(struct vlan_tag), macs, sizeof(macs));
	return bpf_xdp_adjust_head(ctx, (int)sizeof(struct vlan_tag));
}

static __always_inline int vlan_set_vid(CUBE_CTX *ctx, __u16 vid)
{
	if (vlan_set_vid_inline(ctx, vid) == 0)
		return 0;
	return vlan_push(ctx, vid);
}

#endif

#endif
