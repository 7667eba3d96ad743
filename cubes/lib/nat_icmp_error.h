/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ICMP errors about translated connections (RFC 5508 REQ-3, RFC 5382 REQ-9).
 *
 * A router's "fragmentation needed" or a backend's "port unreachable" quotes
 * the start of the packet that caused it, as that packet was on the wire:
 * after translation. The error goes back toward that packet's source, the
 * way a reply would, and meets the NAT there; to mean anything to the host
 * it reaches, the quote must show the packet as that host sent it. So the
 * quoted tuple, reversed, is looked up as the connection entry a reply
 * would match, and the error is rewritten with that entry's tuple: the
 * quote becomes its reverse, the outer destination its destination, and an
 * outer source that was the quoted packet's destination (the peer itself
 * reports) its source. Without this, path MTU discovery fails through
 * masquerade and a UDP client of a service never hears "refused".
 *
 * Only the quote's fixed IP header and first L4 bytes are read: a quote's
 * IPv4 options are skipped, as is the fragment header of an IPv6 first
 * fragment (IPv6 routers do not fragment: a sender's own fragments are
 * what a narrower link refuses); other IPv6 extension headers, and later
 * fragments, end the attempt (the error goes on as it is). The quote's own
 * checksums are kept right where the quote holds them, so the outer
 * checksum stays right too.
 */
#ifndef CUBENET_NAT_ICMP_ERROR_H
#define CUBENET_NAT_ICMP_ERROR_H

#include "ctx.h"
#include "hdr.h"
#include "csum.h"
#include "abi/meta.h"
#include "abi/nat.h"

#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

/* Bytes every ICMP error quotes past the IP header (RFC 792), which hold
 * the ports, and TCP's checksum, a quote holds only when it is longer. */
#define ICMP_QUOTE_L4_MIN 8
#define ICMP_QUOTE_L4_TCP 20

static __always_inline int icmp_is_error(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

/* Where the IP packet ends in the frame (the parser checked it fits). */
static __always_inline __u32 ip_packet_end(CUBE_CTX *ctx, const struct cube_meta *meta)
{
	__be16 len;

	if (meta->ip_version == CUBE_AF_INET) {
		if (ctx_load_bytes(ctx, meta->l3_off + offsetof(struct iphdr, tot_len), &len, 2))
			return 0;
		return meta->l3_off + bpf_ntohs(len);
	}
	if (ctx_load_bytes(ctx, meta->l3_off + offsetof(struct ipv6hdr, payload_len), &len, 2))
		return 0;
	return meta->l3_off + sizeof(struct ipv6hdr) + bpf_ntohs(len);
}

/* The quoted packet's headers, copied out of the frame. */
struct icmp_quote {
	union {
		struct iphdr ip4;
		struct ipv6hdr ip6;
	};
	__u8 l4[ICMP_QUOTE_L4_TCP];
	__u32 ip_off;	 /* frame offset of the quoted IP header */
	__u32 l4_off;	 /* and of its L4 header */
	__u32 l4_len;	 /* bytes of l4[] copied: ICMP_QUOTE_L4_MIN or _TCP */
	__u16 *l4_check; /* the quote's L4 checksum, if it holds one, in l4[] */
	int pseudo;	 /* that checksum covers the IP addresses */
};

/*
 * Read the quote of the ICMP error at meta->l4_off into q and its tuple, as
 * the quoted packet carried it, into *t. 1: read; 0: nothing the NAT
 * translates (another protocol, an ICMP error or an unknown ICMP type, an
 * extension header other than a first fragment's, a short quote).
 */
static __always_inline int icmp_quote_read(CUBE_CTX *ctx, const struct cube_meta *meta,
					   struct icmp_quote *q, struct nat_tuple *t)
{
	__u32 end = ip_packet_end(ctx, meta);
	__u8 proto;

	q->ip_off = meta->l4_off + sizeof(struct icmphdr);
	__builtin_memset(t, 0, sizeof(*t));
	t->family = meta->ip_version;
	if (meta->ip_version == CUBE_AF_INET) {
		if (ctx_load_bytes(ctx, q->ip_off, &q->ip4, sizeof(q->ip4)) ||
		    q->ip4.version != 4 || q->ip4.ihl < 5)
			return 0;
		/* A later fragment quotes no ports. */
		if (q->ip4.frag_off & bpf_htons(0x1fff))
			return 0;
		q->l4_off = q->ip_off + q->ip4.ihl * 4;
		proto = q->ip4.protocol;
		t->saddr.ip4 = q->ip4.saddr;
		t->daddr.ip4 = q->ip4.daddr;
	} else {
		if (ctx_load_bytes(ctx, q->ip_off, &q->ip6, sizeof(q->ip6)) || q->ip6.version != 6)
			return 0;
		q->l4_off = q->ip_off + sizeof(q->ip6);
		proto = q->ip6.nexthdr;
		/* A first fragment the sender made: its ports follow. */
		if (proto == IPPROTO_FRAGMENT) {
			struct ipv6_frag_hdr fh;

			if (ctx_load_bytes(ctx, q->l4_off, &fh, sizeof(fh)) ||
			    (fh.frag_off & bpf_htons(IPV6_FRAG_OFFSET)))
				return 0;
			q->l4_off += sizeof(fh);
			proto = fh.nexthdr;
		}
		__builtin_memcpy(t->saddr.bytes, &q->ip6.saddr, 16);
		__builtin_memcpy(t->daddr.bytes, &q->ip6.daddr, 16);
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && !icmp_of_family(t->family, proto))
		return 0;
	/* Within the outer IP packet: link-layer padding is not quote. */
	q->l4_len = ICMP_QUOTE_L4_TCP;
	if (proto != IPPROTO_TCP || q->l4_off + ICMP_QUOTE_L4_TCP > end ||
	    ctx_load_bytes(ctx, q->l4_off, q->l4, ICMP_QUOTE_L4_TCP)) {
		q->l4_len = ICMP_QUOTE_L4_MIN;
		if (q->l4_off + ICMP_QUOTE_L4_MIN > end ||
		    ctx_load_bytes(ctx, q->l4_off, q->l4, ICMP_QUOTE_L4_MIN))
			return 0;
	}
	t->proto = proto;
	q->l4_check = NULL;
	q->pseudo = 1;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)q->l4;

		t->sport = tcp->source;
		t->dport = tcp->dest;
		if (q->l4_len == ICMP_QUOTE_L4_TCP)
			q->l4_check = &tcp->check;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = (void *)q->l4;

		t->sport = udp->source;
		t->dport = udp->dest;
		/* 0: sent without one, which only IPv4 allows. */
		if (udp->check || t->family == CUBE_AF_INET6)
			q->l4_check = &udp->check;
	} else {
		struct icmphdr *icmp = (void *)q->l4;

		/* An error about an error is never sent; a quoted echo is ours. */
		if (!icmp_is_echo(proto, icmp->type))
			return 0;
		t->sport = icmp->un.echo.id;
		q->l4_check = &icmp->checksum;
		q->pseudo = proto == IPPROTO_ICMPV6;
	}
	return 1;
}

/* Set a 16-bit word of the quote, keeping the quote's L4 checksum and the
 * outer ICMP checksum right. */
static __always_inline void quote_set2(__be16 *field, __be16 to, __u16 *l4_check,
				       __u16 *outer_check)
{
	if (*field == to)
		return;
	if (l4_check)
		csum_replace2(l4_check, *field, to);
	csum_replace2(outer_check, *field, to);
	*field = to;
}

/* Set an address of the quote; the IPv4 header checksum too. */
static __always_inline void quote_set_addr(struct icmp_quote *q, __u8 family, void *field,
					   const union cube_addr *to, __u16 *outer_check)
{
	__u16 *l4_check = q->pseudo ? q->l4_check : NULL;

	if (family == CUBE_AF_INET) {
		__be32 from = *(__be32 *)field;

		if (from == to->ip4)
			return;
		if (l4_check)
			csum_replace4(l4_check, from, to->ip4);
		csum_replace4(&q->ip4.check, from, to->ip4);
		csum_replace4(outer_check, from, to->ip4);
		__builtin_memcpy(field, &to->ip4, 4);
		return;
	}
	union cube_addr from;

	__builtin_memcpy(from.bytes, field, 16);
	if (l4_check)
		csum_replace16(l4_check, from.ip6, to->ip6);
	csum_replace16(outer_check, from.ip6, to->ip6);
	__builtin_memcpy(field, to->bytes, 16);
}

/*
 * Rewrite the error so it quotes `inner` and travels from *saddr to *daddr,
 * checksums included, and follow it in meta. A drop reason or 0.
 */
static __always_inline int icmp_quote_write(CUBE_CTX *ctx, struct cube_meta *meta,
					    struct icmp_quote *q, const struct nat_tuple *inner,
					    const union cube_addr *saddr,
					    const union cube_addr *daddr)
{
	__u32 icmp_check_off = meta->l4_off + offsetof(struct icmphdr, checksum);
	__u16 icmp_check, ip_check_was = q->ip4.check, l4_check_was = 0;
	__u8 family = meta->ip_version;
	__be16 *sport = (void *)q->l4, *dport = (void *)(q->l4 + 2);

	if (ctx_load_bytes(ctx, icmp_check_off, &icmp_check, sizeof(icmp_check)))
		return CUBE_DROP_ICMP_TRUNCATED;
	if (q->l4_check)
		l4_check_was = *q->l4_check;
	if (family == CUBE_AF_INET) {
		quote_set_addr(q, family, &q->ip4.saddr, &inner->saddr, &icmp_check);
		quote_set_addr(q, family, &q->ip4.daddr, &inner->daddr, &icmp_check);
		csum_replace2(&icmp_check, ip_check_was, q->ip4.check);
	} else {
		quote_set_addr(q, family, &q->ip6.saddr, &inner->saddr, &icmp_check);
		quote_set_addr(q, family, &q->ip6.daddr, &inner->daddr, &icmp_check);
	}
	if (icmp_of_family(family, inner->proto)) {
		struct icmphdr *echo = (void *)q->l4;

		quote_set2(&echo->un.echo.id, inner->sport, q->l4_check, &icmp_check);
	} else {
		quote_set2(sport, inner->sport, q->l4_check, &icmp_check);
		quote_set2(dport, inner->dport, q->l4_check, &icmp_check);
	}
	if (q->l4_check) {
		/* A UDP checksum that comes to 0 is sent as all ones. */
		if (inner->proto == IPPROTO_UDP && *q->l4_check == 0)
			*q->l4_check = 0xffff;
		csum_replace2(&icmp_check, l4_check_was, *q->l4_check);
	}

	if (family == CUBE_AF_INET) {
		struct iphdr *ip = ctx_hdr(ctx, meta->l3_off, sizeof(*ip));

		if (!ip)
			return CUBE_DROP_IPV4_TRUNCATED;
		csum_replace4(&ip->check, ip->saddr, saddr->ip4);
		csum_replace4(&ip->check, ip->daddr, daddr->ip4);
		ip->saddr = saddr->ip4;
		ip->daddr = daddr->ip4;
	} else {
		struct ipv6hdr *ip6 = ctx_hdr(ctx, meta->l3_off, sizeof(*ip6));

		if (!ip6)
			return CUBE_DROP_IPV6_TRUNCATED;
		/* ICMPv6's checksum covers the outer addresses. */
		csum_replace16(&icmp_check, ip6->saddr.in6_u.u6_addr32, saddr->ip6);
		csum_replace16(&icmp_check, ip6->daddr.in6_u.u6_addr32, daddr->ip6);
		__builtin_memcpy(&ip6->saddr, saddr->bytes, 16);
		__builtin_memcpy(&ip6->daddr, daddr->bytes, 16);
	}
	/* Constant lengths, one per branch, for the verifier. */
	if (ctx_store_bytes(ctx, icmp_check_off, &icmp_check, sizeof(icmp_check), 0) ||
	    (family == CUBE_AF_INET
		 ? ctx_store_bytes(ctx, q->ip_off, &q->ip4, sizeof(q->ip4), 0)
		 : ctx_store_bytes(ctx, q->ip_off, &q->ip6, sizeof(q->ip6), 0)) ||
	    (q->l4_len == ICMP_QUOTE_L4_TCP
		 ? ctx_store_bytes(ctx, q->l4_off, q->l4, ICMP_QUOTE_L4_TCP, 0)
		 : ctx_store_bytes(ctx, q->l4_off, q->l4, ICMP_QUOTE_L4_MIN, 0)))
		return CUBE_DROP_REWRITE_FAILED;
	meta->saddr = *saddr;
	meta->daddr = *daddr;
	return 0;
}

#endif
