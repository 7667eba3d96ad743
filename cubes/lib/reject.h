/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reject a packet instead of dropping it silently, as kube-proxy does for a
 * service with no endpoints: its iptables and nftables rules REJECT with
 * icmp-port-unreachable, TCP and UDP alike (no TCP reset). The packet is
 * turned, in place, into an ICMP destination unreachable / port unreachable
 * (ICMPv6: destination unreachable / port unreachable, type 1 code 4) from
 * the address it was sent to, back to its sender, and transmitted back out:
 *
 *   cube_reject(ctx, st, meta)   the verdict to return, counted in st
 *
 * The error quotes the original IP header and 8 bytes beyond it (IPv4,
 * RFC 792) or as much of the original as keeps the error within the IPv6
 * minimum MTU of 1280 bytes (RFC 4443 2.4(c)); TTL / hop limit 64, IPv4
 * precedence internetwork control (RFC 1812 4.3.2.5). On XDP the frame goes
 * back out with XDP_TX after its MACs are swapped; on TC ingress it is
 * redirected out of the netdev it came in on, and on TC egress (the node's
 * own traffic) into that netdev's ingress, where its sender is.
 *
 * No error answers (RFC 1122 3.2.2, RFC 4443 2.4(e)) an ICMP error or
 * redirect, a fragment other than the first, a frame to a link-layer
 * broadcast or multicast address, a packet to an IP broadcast or multicast
 * address, or from an address that names no single host (unspecified,
 * loopback, multicast, IPv4 class E). Those are dropped as
 * CUBE_DROP_REJECT_SUPPRESSED. Errors sent are bounded by a token bucket
 * per CPU and cube, cube_reject_per_sec with bursts of cube_reject_burst
 * (the figures Linux allows its own ICMP errors, there for the whole host);
 * a packet over the rate is dropped as CUBE_DROP_REJECT_RATE_LIMITED, so a
 * flood of packets cannot become a flood of errors. Packets no error may
 * answer take no token. An error sent counts as the TX verdict.
 */
#ifndef CUBENET_REJECT_H
#define CUBENET_REJECT_H

#include "chain.h"
#include "hdr.h"
#include "csum.h"

#ifndef ICMP_PORT_UNREACH
#define ICMP_PORT_UNREACH 3
#endif

#define REJECT_DEFAULT_PER_SEC 1000
#define REJECT_DEFAULT_BURST   50

/* Set before load. 0 errors per second: never send one. */
const volatile __u32 cube_reject_per_sec = REJECT_DEFAULT_PER_SEC;
const volatile __u32 cube_reject_burst = REJECT_DEFAULT_BURST;

#define REJECT_MAX_L2	  (ETH_HLEN + 2 * 4) /* Ethernet and two VLAN tags */
#define REJECT_V6_MTU	  1280
#define REJECT_V6_QUOTE	  (REJECT_V6_MTU - 40 - 8)
#define REJECT_MSG_MAX	  (8 + REJECT_V6_QUOTE) /* the longest ICMP message */
#define REJECT_ICMP_CHUNK 512			/* the most bpf_csum_diff() sums at once */
/* L2, the longest IPv6 error, room to pad to 4, and L2 once more: the
 * verifier bounds an offset and a length apart, not their sum. */
#define REJECT_BUF_LEN	  (2 * REJECT_MAX_L2 + REJECT_V6_MTU + 4)

struct reject_bucket {
	__u64 credit_ns; /* sending one error costs 1 s / cube_reject_per_sec */
	__u64 last_ns;
};

struct reject_buf {
	__u8 b[REJECT_BUF_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct reject_bucket);
} reject_bucket SEC(".maps");

/* The error is assembled here, then written over the frame in one go. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct reject_buf);
} reject_scratch SEC(".maps");

static __always_inline int reject_rate_ok(void)
{
	struct reject_bucket *b;
	__u32 zero = 0;
	__u64 now, cost, cap;

	b = bpf_map_lookup_elem(&reject_bucket, &zero);
	if (!b || !cube_reject_per_sec)
		return 0;
	now = bpf_ktime_get_ns();
	cost = 1000000000ull / cube_reject_per_sec;
	cap = cost * (cube_reject_burst ? cube_reject_burst : 1);
	b->credit_ns += now - b->last_ns; /* the first call fills the bucket */
	b->last_ns = now;
	if (b->credit_ns > cap)
		b->credit_ns = cap;
	if (b->credit_ns < cost)
		return 0;
	b->credit_ns -= cost;
	return 1;
}

/* Not 0.0.0.0, 127/8, 224/4 (multicast) or 240/4 (class E, broadcast). */
static __always_inline int reject_ip4_one_host(__be32 addr)
{
	__u32 h = bpf_ntohl(addr);

	return h && (h >> 24) != 127 && (h >> 28) < 0xe;
}

static __always_inline int reject_ip4_group(__be32 addr)
{
	return (bpf_ntohl(addr) >> 28) >= 0xe; /* multicast, class E, 255.255.255.255 */
}

static __always_inline int reject_ip6_one_host(const union cube_addr *a)
{
	if (a->bytes[0] == 0xff)
		return 0; /* multicast */
	if (a->ip6[0] || a->ip6[1] || a->ip6[2])
		return 1;
	return a->ip6[3] && a->ip6[3] != bpf_htonl(1); /* neither :: nor ::1 */
}

/* ICMP messages an error may answer: queries and their replies. */
static __always_inline int reject_icmp4_query(__u8 type)
{
	return type == ICMP_ECHOREPLY || type == ICMP_ECHO || (type >= 13 && type <= 18);
}

static __always_inline int reject_icmp6_query(__u8 type)
{
	return type >= 128 && type != 137; /* informational, but not a redirect */
}

/* The quote's length, or 0 if no error may answer this packet. */
static __always_inline __u32 reject_quote_len(CUBE_CTX *ctx, const struct cube_meta *meta)
{
	__u8 type;

	if (meta->ip_version == CUBE_AF_INET) {
		struct iphdr ip;
		__u32 len;

		if (ctx_load_bytes(ctx, meta->l3_off, &ip, sizeof(ip)))
			return 0;
		if ((ip.frag_off & bpf_htons(IPV4_FRAG_OFFSET)) || !reject_ip4_one_host(ip.saddr) ||
		    reject_ip4_group(ip.daddr))
			return 0;
		if (ip.protocol == IPPROTO_ICMP &&
		    (ctx_load_bytes(ctx, meta->l4_off, &type, 1) || !reject_icmp4_query(type)))
			return 0;
		len = ip.ihl * 4 + 8;
		return len < bpf_ntohs(ip.tot_len) ? len : bpf_ntohs(ip.tot_len);
	}
	if (meta->ip_version != CUBE_AF_INET6)
		return 0;
	struct ipv6hdr ip6;
	union cube_addr src;

	if (ctx_load_bytes(ctx, meta->l3_off, &ip6, sizeof(ip6)))
		return 0;
	__builtin_memcpy(src.bytes, &ip6.saddr, 16);
	if (!reject_ip6_one_host(&src) || ip6.daddr.in6_u.u6_addr8[0] == 0xff)
		return 0;
	if (meta->flags & CUBE_META_F_FRAGMENT) {
		struct ipv6_frag_hdr fh;

		/* The parser left l4_off just past the fragment header. */
		if (meta->l4_off < sizeof(fh) ||
		    ctx_load_bytes(ctx, meta->l4_off - sizeof(fh), &fh, sizeof(fh)) ||
		    (fh.frag_off & bpf_htons(IPV6_FRAG_OFFSET)))
			return 0;
	}
	if (meta->l4_proto == IPPROTO_ICMPV6 &&
	    (ctx_load_bytes(ctx, meta->l4_off, &type, 1) || !reject_icmp6_query(type)))
		return 0;
	return 40 + bpf_ntohs(ip6.payload_len) < REJECT_V6_QUOTE ? 40 + bpf_ntohs(ip6.payload_len)
								 : REJECT_V6_QUOTE;
}

/* The Internet checksum of len bytes at off in the scratch buffer (len a
 * multiple of 4, the message zero-padded to it), seeded with seed. */
static __always_inline __u16 reject_csum(struct reject_buf *s, __u64 off, __u64 len, __u32 seed)
{
	__s64 sum = seed;

	if (off > REJECT_MAX_L2 + sizeof(struct ipv6hdr))
		return 0;
	for (__u32 at = 0; at < REJECT_MSG_MAX; at += REJECT_ICMP_CHUNK) {
		__u64 n;

		if (at >= len)
			break;
		n = (len - at) & 0x7ff;
		barrier_var(n); /* the clamps below are for the verifier: keep them */
		if (n > REJECT_ICMP_CHUNK)
			n = REJECT_ICMP_CHUNK;
		if (n > REJECT_MSG_MAX - at)
			n = REJECT_MSG_MAX - at;
		sum = bpf_csum_diff(NULL, 0, (void *)(s->b + off + at), n, (__u32)sum);
		if (sum < 0)
			return 0;
	}
	return (__u16)~csum_fold32((__u32)sum);
}

/*
 * Assemble the error in the scratch buffer: the frame's L2 header with its
 * MACs swapped, a new IP header, the ICMP header, the quote. Returns the
 * error's length, 0 if none may be sent, or -reason.
 */
static __always_inline int reject_assemble(CUBE_CTX *ctx, const struct cube_meta *meta,
					   struct reject_buf *s)
{
	__u32 l3 = meta->l3_off, iph, icmp_off, quote_off, end;
	__u64 q; /* 64 bits: no truncation between its checks and the load */
	__u8 mac[ETH_ALEN];

	if (l3 < ETH_HLEN || l3 > REJECT_MAX_L2)
		return 0;
	l3 &= 0x1f;
	q = reject_quote_len(ctx, meta);
	if (!q || q > REJECT_V6_QUOTE || ctx_load_bytes(ctx, 0, s->b, l3))
		return 0;
	if (s->b[0] & 1)
		return 0; /* sent to a link-layer broadcast or multicast address */
	if (!reject_rate_ok())
		return -CUBE_DROP_REJECT_RATE_LIMITED;
	iph = meta->ip_version == CUBE_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	icmp_off = l3 + iph;
	quote_off = icmp_off + sizeof(struct icmphdr);
	end = quote_off + q;
	/* Two checks the compiler cannot merge, so the verifier sees both
	 * bounds on the register the load takes. */
	if (!q)
		return -CUBE_DROP_REWRITE_FAILED;
	barrier_var(q);
	if (q > REJECT_V6_QUOTE || ctx_load_bytes(ctx, l3, s->b + quote_off, q))
		return -CUBE_DROP_REWRITE_FAILED;
	for (__u32 i = 0; i < 3; i++)
		if (end + i < sizeof(s->b))
			s->b[end + i] = 0; /* padding to a multiple of 4, for the checksum */
	mac_copy(mac, s->b);
	mac_copy(s->b, s->b + ETH_ALEN);
	mac_copy(s->b + ETH_ALEN, mac);

	struct icmphdr *icmp = (void *)(s->b + icmp_off);

	icmp->checksum = 0;
	icmp->un.gateway = 0;
	if (meta->ip_version == CUBE_AF_INET) {
		struct iphdr *ip = (void *)(s->b + l3);

		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0xc0;
		ip->tot_len = bpf_htons(iph + sizeof(*icmp) + q);
		ip->id = 0;
		ip->frag_off = 0;
		ip->ttl = 64;
		ip->protocol = IPPROTO_ICMP;
		ip->check = 0;
		ip->saddr = meta->daddr.ip4; /* from the address the sender tried */
		ip->daddr = meta->saddr.ip4;
		ip->check = reject_csum(s, l3, sizeof(*ip), 0);
		icmp->type = ICMP_DEST_UNREACH;
		icmp->code = ICMP_PORT_UNREACH;
		icmp->checksum = reject_csum(s, icmp_off, (sizeof(*icmp) + q + 3) & ~3ull, 0);
	} else {
		struct ipv6hdr *ip6 = (void *)(s->b + l3);
		struct {
			__be32 len;
			__u8 zero[3];
			__u8 next;
		} pseudo = {.len = bpf_htonl(sizeof(*icmp) + q), .next = IPPROTO_ICMPV6};
		__s64 seed;

		*(__be32 *)ip6 = bpf_htonl(0x60000000); /* version 6, class 0, no flow label */
		ip6->payload_len = bpf_htons(sizeof(*icmp) + q);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = 64;
		__builtin_memcpy(&ip6->saddr, meta->daddr.bytes, 16);
		__builtin_memcpy(&ip6->daddr, meta->saddr.bytes, 16);
		icmp->type = ICMPV6_DEST_UNREACH;
		icmp->code = ICMPV6_PORT_UNREACH;
		seed = bpf_csum_diff(NULL, 0, (void *)&ip6->saddr, 32, 0);
		if (seed < 0)
			return -CUBE_DROP_REWRITE_FAILED;
		seed = bpf_csum_diff(NULL, 0, (void *)&pseudo, sizeof(pseudo), (__u32)seed);
		if (seed < 0)
			return -CUBE_DROP_REWRITE_FAILED;
		icmp->checksum =
		    reject_csum(s, icmp_off, (sizeof(*icmp) + q + 3) & ~3ull, (__u32)seed);
	}
	return (int)end;
}

/* Make the frame len bytes long and write the error over it. */
static __always_inline int reject_write(CUBE_CTX *ctx, struct reject_buf *s, __u64 l3, __u64 len)
{
#ifdef CUBE_TC
	if (bpf_skb_change_tail(ctx, len, 0))
		return CUBE_DROP_REWRITE_FAILED;
	bpf_csum_level(ctx,
		       BPF_CSUM_LEVEL_RESET); /* CHECKSUM_UNNECESSARY spoke of the old packet */
#else
	int delta = (int)len - (int)ctx_len(ctx);

	/* Grow at the head, where XDP always has room; shrink at the tail. */
	if ((delta > 0 && bpf_xdp_adjust_head(ctx, -delta)) ||
	    (delta < 0 && bpf_xdp_adjust_tail(ctx, delta)))
		return CUBE_DROP_REWRITE_FAILED;
#endif
	if (l3 < ETH_HLEN || l3 > REJECT_MAX_L2 || len <= l3 || len > sizeof(s->b))
		return CUBE_DROP_REWRITE_FAILED;
	if (ctx_store_bytes(ctx, 0, s->b, l3, 0) ||
	    ctx_store_bytes(ctx, l3, s->b + l3, len - l3,
			    BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH))
		return CUBE_DROP_REWRITE_FAILED;
	return 0;
}

static __always_inline int cube_reject(CUBE_CTX *ctx, struct cube_stats *st, struct cube_meta *meta)
{
	struct reject_buf *s;
	__u32 zero = 0;
	int len, reason, verdict;

	s = bpf_map_lookup_elem(&reject_scratch, &zero);
	if (!s)
		return cube_drop(st, CUBE_DROP_REWRITE_FAILED);
	len = reject_assemble(ctx, meta, s);
	if (len < 0)
		return cube_drop(st, -len);
	if (len == 0)
		return cube_drop(st, CUBE_DROP_REJECT_SUPPRESSED);
	reason = reject_write(ctx, s, meta->l3_off, (__u32)len);
	if (reason)
		return cube_drop(st, reason);
	verdict = cube_tx(ctx, st);
#ifdef CUBE_TC
	/* On egress the sender is this host: deliver the error to its stack. */
	if (ctx->ingress_ifindex != ctx->ifindex)
		verdict = bpf_redirect(ctx->ifindex, BPF_F_INGRESS);
#endif
	return verdict;
}

#endif
