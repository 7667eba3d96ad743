/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Header parsing for the parser cube: each step validates one header,
 * fills struct cube_meta, and returns 0 or a drop reason. Checks follow the
 * header's own length fields, never just the frame's end.
 */
#ifndef CUBENET_PARSE_H
#define CUBENET_PARSE_H

#include "ctx.h"
#include "hdr.h"
#include "vlan.h"
#include "abi/meta.h"
#include "abi/drop_reasons.h"

/* Extension headers walked before giving up; real traffic rarely has more
 * than two, and the bound keeps the verifier's loop small. */
#define PARSE_IPV6_MAX_EXT 6

struct parse_cursor {
	void *data;
	void *end;
	__u32 off; /* of the next header */
	__u32 len; /* whole frame */
};

/*
 * len bytes at the cursor, or NULL if they are not directly readable.
 * Ethernet, VLAN, IPv4 and the fixed IPv6 header sit at offsets far below
 * CUBE_HDR_OFF_MASK; deeper headers are checked against it before this.
 */
static __always_inline void *cursor_at(struct parse_cursor *c, __u32 len)
{
	void *p = c->data + (c->off & CUBE_HDR_OFF_MASK);

	return hdr_fits(p, len, c->end) ? p : NULL;
}

/*
 * On TC, make the L4 header at the cursor linear if the frame holds it past
 * the linear part: only long IPv6 extension headers reach past
 * CUBE_TC_PULL_LEN. Packet pointers are reloaded; older ones are invalid.
 * On XDP the L4 header must lie in the first buffer.
 */
static __always_inline void cursor_pull_l4(CUBE_CTX *ctx, struct parse_cursor *c)
{
#ifdef CUBE_TC
	__u32 need = c->off + sizeof(struct tcphdr); /* the longest L4 header read */

	if (need > c->len)
		need = c->len;
	if (c->end - c->data < need) {
		bpf_skb_pull_data(ctx, need); /* on failure, the L4 header stays unreadable */
		c->data = ctx_data(ctx);
		c->end = ctx_data_end(ctx);
	}
#else
	(void)ctx;
	(void)c;
#endif
}

/* TCP, UDP, ICMP; l4_len is what the IP header says is left for L4. */
static __always_inline int parse_l4(struct parse_cursor *c, struct cube_meta *meta, __u32 l4_len)
{
	if (c->off > CUBE_HDR_OFF_MASK)
		return CUBE_DROP_HDR_TOO_DEEP;
	meta->l4_off = c->off;
	switch (meta->l4_proto) {
	case IPPROTO_TCP: {
		struct tcphdr *tcp = l4_len < sizeof(*tcp) ? NULL : cursor_at(c, sizeof(*tcp));

		if (!tcp)
			return CUBE_DROP_TCP_TRUNCATED;
		if (tcp->doff < 5 || tcp->doff * 4 > l4_len)
			return CUBE_DROP_TCP_BAD_DOFF;
		meta->sport = tcp->source;
		meta->dport = tcp->dest;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *udp = l4_len < sizeof(*udp) ? NULL : cursor_at(c, sizeof(*udp));

		if (!udp)
			return CUBE_DROP_UDP_TRUNCATED;
		if (bpf_ntohs(udp->len) < sizeof(*udp) || bpf_ntohs(udp->len) > l4_len)
			return CUBE_DROP_UDP_BAD_LEN;
		meta->sport = udp->source;
		meta->dport = udp->dest;
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* type, code, checksum, id, sequence: the same for v6 */
		struct icmphdr *icmp;

		if (!icmp_of_family(meta->ip_version, meta->l4_proto))
			return 0; /* the other family's ICMP: another protocol */
		icmp = l4_len < sizeof(*icmp) ? NULL : cursor_at(c, sizeof(*icmp));
		if (!icmp)
			return CUBE_DROP_ICMP_TRUNCATED;
		if (icmp_is_echo(meta->l4_proto, icmp->type))
			meta->sport = icmp->un.echo.id;
		break;
	}
	default:
		/* Another protocol: forwarded, hashed without ports. */
		return 0;
	}
	meta->flags |= CUBE_META_F_L4;
	return 0;
}

static __always_inline int parse_ipv4(struct parse_cursor *c, struct cube_meta *meta)
{
	struct iphdr *ip = cursor_at(c, sizeof(*ip));
	__u32 hlen, tot_len;

	if (!ip)
		return CUBE_DROP_IPV4_TRUNCATED;
	if (ip->version != 4)
		return CUBE_DROP_IPV4_BAD_VERSION;
	if (ip->ihl < 5)
		return CUBE_DROP_IPV4_BAD_IHL;
	hlen = ip->ihl * 4;
	if (!hdr_fits(ip, hlen, c->end))
		return CUBE_DROP_IPV4_TRUNCATED;
	tot_len = bpf_ntohs(ip->tot_len);
	/* Trailing Ethernet padding is fine; a claim past the frame is not. */
	if (tot_len < hlen || c->off + tot_len > c->len)
		return CUBE_DROP_IPV4_BAD_LEN;

	meta->ip_version = CUBE_AF_INET;
	meta->l4_proto = ip->protocol;
	meta->saddr.ip4 = ip->saddr;
	meta->daddr.ip4 = ip->daddr;
	if (hlen > sizeof(*ip))
		meta->flags |= CUBE_META_F_IPV4_OPTS;
	if (ip->frag_off & bpf_htons(IPV4_FRAG_MF | IPV4_FRAG_OFFSET)) {
		/* Every fragment, the first too, hashes on L3 only, so all pieces of
		 * one datagram take the same path. */
		meta->flags |= CUBE_META_F_FRAGMENT;
		meta->l4_off = c->off + hlen;
		return 0;
	}
	c->off += hlen;
	return parse_l4(c, meta, tot_len - hlen);
}

static __always_inline int ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_AH;
}

/*
 * Extension headers are read with ctx_load_bytes(), not through a pointer:
 * one may be up to 2048 bytes long and lie past the linear part (TC) or the
 * first buffer (XDP), and no offset needs bounding for the verifier. Only
 * the L4 header is read in place, and must start within CUBE_HDR_OFF_MASK.
 */
static __always_inline int parse_ipv6(CUBE_CTX *ctx, struct parse_cursor *c, struct cube_meta *meta)
{
	struct ipv6hdr *ip6 = cursor_at(c, sizeof(*ip6));
	__u32 payload_len, l3_end;
	__u8 nexthdr;
	int i;

	if (!ip6)
		return CUBE_DROP_IPV6_TRUNCATED;
	if (ip6->version != 6)
		return CUBE_DROP_IPV6_BAD_VERSION;
	payload_len = bpf_ntohs(ip6->payload_len);
	l3_end = c->off + sizeof(*ip6) + payload_len;
	if (l3_end > c->len)
		return CUBE_DROP_IPV6_BAD_LEN;

	meta->ip_version = CUBE_AF_INET6;
	__builtin_memcpy(meta->saddr.bytes, &ip6->saddr, 16);
	__builtin_memcpy(meta->daddr.bytes, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	c->off += sizeof(*ip6);

	for (i = 0; i < PARSE_IPV6_MAX_EXT; i++) {
		union {
			struct ipv6_opt_hdr_min opt;
			struct ipv6_frag_hdr frag;
		} ext; /* 8 bytes, the shortest any of them is */
		__u32 ext_len;

		if (!ipv6_is_ext(nexthdr))
			break;
		meta->flags |= CUBE_META_F_IPV6_EXT;
		if (c->off + sizeof(ext) > l3_end || ctx_load_bytes(ctx, c->off, &ext, sizeof(ext)))
			return CUBE_DROP_IPV6_EXT_TRUNCATED;
		if (nexthdr == IPPROTO_FRAGMENT) {
			if (ext.frag.frag_off & bpf_htons(IPV6_FRAG_MF | IPV6_FRAG_OFFSET)) {
				meta->flags |= CUBE_META_F_FRAGMENT;
				meta->l4_proto = ext.frag.nexthdr;
				meta->l4_off = c->off + sizeof(ext);
				return meta->l4_off > CUBE_HDR_OFF_MASK ? CUBE_DROP_HDR_TOO_DEEP
									: 0;
			}
			ext_len = sizeof(ext); /* an atomic fragment: carry on */
		} else if (nexthdr == IPPROTO_AH) {
			ext_len = (ext.opt.hdrlen + 2) * 4;
		} else {
			ext_len = (ext.opt.hdrlen + 1) * 8;
		}
		nexthdr = ext.opt.nexthdr;
		c->off += ext_len;
		if (c->off > l3_end)
			return CUBE_DROP_IPV6_EXT_TRUNCATED;
	}
	if (ipv6_is_ext(nexthdr))
		return CUBE_DROP_IPV6_EXT_TOO_MANY;
	meta->l4_proto = nexthdr;
	if (meta->flags & CUBE_META_F_IPV6_EXT)
		cursor_pull_l4(ctx, c);
	return parse_l4(c, meta, l3_end - c->off);
}

static __always_inline int parse_arp(struct parse_cursor *c, struct cube_meta *meta)
{
	struct arp_eth_ipv4 *arp = cursor_at(c, sizeof(*arp));

	if (!arp)
		return CUBE_DROP_ARP_TRUNCATED;
	meta->flags |= CUBE_META_F_ARP;
	return 0;
}

/* Ethernet and up to two VLAN tags (one may be out of band on TC). */
static __always_inline int parse_l2(CUBE_CTX *ctx, struct parse_cursor *c, struct cube_meta *meta)
{
	struct ethhdr *eth = c->data;
	__be16 proto;
	int depth = 0, i;

	if (!hdr_fits(eth, sizeof(*eth), c->end))
		return CUBE_DROP_ETH_TRUNCATED;
	proto = eth->h_proto;
	c->off = sizeof(*eth);
#ifdef CUBE_TC
	if (ctx->vlan_present) {
		meta->flags |= CUBE_META_F_VLAN | CUBE_META_F_VLAN_HWACCEL;
		meta->vlan_id = ctx->vlan_tci & VLAN_VID_MASK;
		depth = 1;
	}
#else
	(void)ctx;
#endif
	for (i = 0; i < 3; i++) {
		struct vlan_tag *tag = cursor_at(c, sizeof(*tag));

		if (!vlan_is_tpid(proto))
			break;
		if (depth == 2)
			return CUBE_DROP_VLAN_TOO_DEEP;
		if (!tag)
			return CUBE_DROP_VLAN_TRUNCATED;
		if (depth == 0) {
			meta->flags |= CUBE_META_F_VLAN;
			meta->vlan_id = bpf_ntohs(tag->tci) & VLAN_VID_MASK;
		} else {
			meta->flags |= CUBE_META_F_QINQ;
			meta->vlan_inner = bpf_ntohs(tag->tci) & VLAN_VID_MASK;
		}
		depth++;
		proto = tag->encap_proto;
		c->off += sizeof(*tag);
	}
	meta->l3_proto = proto;
	meta->l3_off = c->off;
	return 0;
}

#endif
