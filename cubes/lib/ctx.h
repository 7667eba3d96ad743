/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One cube source, two hooks: this header maps the little a cube needs from
 * its context onto XDP (struct xdp_md) or TC clsact (struct __sk_buff).
 * Build with -DCUBE_TC for TC; XDP is the default.
 */
#ifndef CUBENET_CTX_H
#define CUBENET_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "abi/addr.h"

#ifdef CUBE_TC
#define CUBE_CTX      struct __sk_buff
#define CUBE_SECTION  "tc"
#define CUBE_RET_PASS TC_ACT_OK
#define CUBE_RET_DROP TC_ACT_SHOT
#else
#define CUBE_CTX      struct xdp_md
/* Multi-buffer aware: a cube reads only headers, which sit in the first
 * buffer, so jumbo frames on a veth with XDP need no special case. */
#define CUBE_SECTION  "xdp.frags"
#define CUBE_RET_PASS XDP_PASS
#define CUBE_RET_DROP XDP_DROP
#endif

/* How many header bytes a TC cube makes linear before reading them. */
#define CUBE_TC_PULL_LEN 256

#define CUBE_ENTRY(name) SEC(CUBE_SECTION) int name(CUBE_CTX *ctx)

static __always_inline void *ctx_data(CUBE_CTX *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ctx_data_end(CUBE_CTX *ctx)
{
	return (void *)(long)ctx->data_end;
}

/* Length of the whole frame, all buffers included. */
static __always_inline __u32 ctx_len(CUBE_CTX *ctx)
{
#ifdef CUBE_TC
	return ctx->len;
#else
	return bpf_xdp_get_buff_len(ctx);
#endif
}

static __always_inline __u32 ctx_ingress_ifindex(CUBE_CTX *ctx)
{
#ifdef CUBE_TC
	return ctx->ingress_ifindex ? ctx->ingress_ifindex : ctx->ifindex;
#else
	return ctx->ingress_ifindex;
#endif
}

/* Make the headers readable through direct packet access. */
static __always_inline void ctx_pull_headers(CUBE_CTX *ctx)
{
#ifdef CUBE_TC
	__u32 len = ctx->len < CUBE_TC_PULL_LEN ? ctx->len : CUBE_TC_PULL_LEN;

	if (ctx_data_end(ctx) - ctx_data(ctx) < len)
		bpf_skb_pull_data(ctx, len);
#else
	(void)ctx;
#endif
}

static __always_inline int ctx_load_bytes(CUBE_CTX *ctx, __u32 off, void *to, __u32 len)
{
#ifdef CUBE_TC
	return bpf_skb_load_bytes(ctx, off, to, len);
#else
	return bpf_xdp_load_bytes(ctx, off, to, len);
#endif
}

/*
 * Overwrite len bytes at off, in any buffer of the frame. tc_flags go to
 * bpf_skb_store_bytes: BPF_F_RECOMPUTE_CSUM keeps a CHECKSUM_COMPLETE sum
 * right, and since that sum starts at the network header, only bytes there
 * or later may be stored with it.
 */
static __always_inline int ctx_store_bytes(CUBE_CTX *ctx, __u32 off, const void *from, __u32 len,
					   __u64 tc_flags)
{
#ifdef CUBE_TC
	return bpf_skb_store_bytes(ctx, off, from, len, tc_flags);
#else
	(void)tc_flags;
	return bpf_xdp_store_bytes(ctx, off, (void *)from, len);
#endif
}

/* Transmit back out of the netdev the frame came in on. */
static __always_inline int ctx_tx_verdict(CUBE_CTX *ctx)
{
#ifdef CUBE_TC
	return bpf_redirect(ctx->ifindex, 0);
#else
	(void)ctx;
	return XDP_TX;
#endif
}

/*
 * Send the frame to whatever is behind the veth ifindex: on TC ingress
 * straight into the ingress of the veth's peer in its own namespace
 * (bpf_redirect_peer), with no transmit on ifindex and no second pass
 * through the backlog; elsewhere (TC egress, XDP) out of ifindex. At TC
 * ingress the packet's input device is the one the hook runs on.
 */
static __always_inline int ctx_redirect_into_veth(CUBE_CTX *ctx, __u32 ifindex)
{
#ifdef CUBE_TC
	if (ctx->ingress_ifindex == ctx->ifindex)
		return (int)bpf_redirect_peer(ifindex, 0);
#else
	(void)ctx;
#endif
	return (int)bpf_redirect(ifindex, 0);
}

/*
 * Redirect out of ifindex with the kernel's neighbour table choosing the
 * MACs for next hop nh (of family, CUBE_AF_*): it resolves one it does not
 * know, holding the packet meanwhile. TC only (bpf_redirect_neigh);
 * CTX_HAS_REDIRECT_NEIGH says whether this build has it.
 */
#ifdef CUBE_TC
#define CTX_HAS_REDIRECT_NEIGH 1
static __always_inline int ctx_redirect_neigh(__u32 ifindex, __u32 family,
					      const union cube_addr *nh)
{
	struct bpf_redir_neigh p = {};

	if (family == CUBE_AF_INET) {
		p.nh_family = 2; /* AF_INET */
		p.ipv4_nh = nh->ip4;
	} else {
		p.nh_family = 10; /* AF_INET6 */
		__builtin_memcpy(p.ipv6_nh, nh->bytes, sizeof(p.ipv6_nh));
	}
	return (int)bpf_redirect_neigh(ifindex, &p, sizeof(p), 0);
}
#else
#define CTX_HAS_REDIRECT_NEIGH 0
static __always_inline int ctx_redirect_neigh(__u32 ifindex, __u32 family,
					      const union cube_addr *nh)
{
	(void)ifindex, (void)family, (void)nh;
	return XDP_DROP;
}
#endif

/*
 * The tunnel metadata a collect-metadata tunnel netdev left on a packet it
 * decapsulated: the IPv4 remote end (network order) and the VNI. 0, or a
 * negative errno (no metadata, an IPv6 remote end; XDP has none).
 */
static __always_inline int ctx_get_tunnel_key4(CUBE_CTX *ctx, __be32 *remote, __u32 *vni)
{
#ifdef CUBE_TC
	struct bpf_tunnel_key key = {};
	int e = (int)bpf_skb_get_tunnel_key(ctx, &key, sizeof(key), 0);

	if (e)
		return e;
	*remote = bpf_htonl(key.remote_ipv4); /* the helper gives it in host order */
	*vni = key.tunnel_id;
	return 0;
#else
	(void)ctx, (void)remote, (void)vni;
	return -95; /* EOPNOTSUPP */
#endif
}

/*
 * Give the packet the tunnel metadata a collect-metadata tunnel netdev
 * (VXLAN `external`) encapsulates it with: remote end (of family,
 * CUBE_AF_*), VNI, and the kernel's defaults for TTL, TOS and the outer UDP
 * checksum (on). 0, or a negative errno; XDP has no tunnel metadata.
 */
static __always_inline int ctx_set_tunnel_key(CUBE_CTX *ctx, __u32 family,
					      const union cube_addr *remote, __u32 vni)
{
#ifdef CUBE_TC
	struct bpf_tunnel_key key = {.tunnel_id = vni};
	__u64 flags = 0;

	if (family == CUBE_AF_INET) {
		key.remote_ipv4 = bpf_ntohl(remote->ip4); /* the helper takes it in host order */
	} else {
		__builtin_memcpy(key.remote_ipv6, remote->bytes, 16); /* and this as it is */
		flags = BPF_F_TUNINFO_IPV6;
	}
	return (int)bpf_skb_set_tunnel_key(ctx, &key, sizeof(key), flags);
#else
	(void)ctx, (void)family, (void)remote, (void)vni;
	return -95; /* EOPNOTSUPP */
#endif
}

#endif
