/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IP fragments through the NAT, without reassembly. Only a datagram's first
 * fragment carries the L4 header: it is translated like a whole packet (its
 * L4 checksum covers the whole datagram, so the incremental update is the
 * same) and leaves a record, in "nat_frags", of the addresses it got. Later
 * fragments carry no ports: they look the record up by the addresses,
 * protocol and identification they share with the first and get the same
 * L3 rewrite, and nothing else. First fragments of traffic no rule covers
 * are recorded too, so their later fragments are known to go on untouched.
 *
 * A later fragment that finds no record (it overtook the first, or the
 * record expired) cannot be placed: passed on untranslated it would reach
 * the address it was sent to, not the one its datagram was translated to.
 * It is dropped (CUBE_DROP_FRAG_UNKNOWN); the sender's retransmission, which
 * sends the first fragment first, goes through. Fragments whose fragmentable
 * part starts with another IPv6 extension header hide their protocol and are
 * dropped as CUBE_DROP_NAT_UNSUPPORTED.
 */
#ifndef CUBENET_NAT_FRAG_H
#define CUBENET_NAT_FRAG_H

#include "ctx.h"
#include "hdr.h"
#include "csum.h"
#include "abi/meta.h"
#include "abi/nat.h"
#include "abi/drop_reasons.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NAT_MAX_FRAGS);
	__type(key, struct nat_frag_key);
	__type(value, struct nat_frag);
} nat_frags SEC(".maps");

/* What the IP header says of one fragment. */
struct frag_info {
	struct nat_frag_key key;
	__u32 l4_len; /* bytes of the datagram's L3 payload this fragment holds */
	int first;    /* offset 0: the L4 header is in this fragment */
};

static __always_inline int cube_addr_eq(const union cube_addr *a, const union cube_addr *b)
{
	return !((a->ip6[0] ^ b->ip6[0]) | (a->ip6[1] ^ b->ip6[1]) | (a->ip6[2] ^ b->ip6[2]) |
		 (a->ip6[3] ^ b->ip6[3]));
}

static __always_inline int frag_next_is_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_AH;
}

/*
 * Read the fragment's identity. The parser checked the lengths; the headers
 * are loaded by copy, so no offset needs bounding here. For IPv6 the
 * parser's l4_off is just past the fragment header.
 */
static __always_inline int frag_info_read(CUBE_CTX *ctx, const struct cube_meta *meta,
					  struct frag_info *fi)
{
	fi->key.saddr = meta->saddr;
	fi->key.daddr = meta->daddr;
	fi->key.proto = meta->l4_proto;
	fi->key.family = meta->ip_version;
	fi->key.pad = 0;
	if (meta->ip_version == CUBE_AF_INET) {
		struct iphdr ip;

		if (ctx_load_bytes(ctx, meta->l3_off, &ip, sizeof(ip)))
			return CUBE_DROP_IPV4_TRUNCATED;
		fi->key.id = ip.id;
		fi->first = !(ip.frag_off & bpf_htons(IPV4_FRAG_OFFSET));
		fi->l4_len = bpf_ntohs(ip.tot_len) - ip.ihl * 4;
		return 0;
	}
	struct ipv6hdr ip6;
	struct ipv6_frag_hdr fh;

	if (ctx_load_bytes(ctx, meta->l3_off, &ip6, sizeof(ip6)))
		return CUBE_DROP_IPV6_TRUNCATED;
	if (meta->l4_off < meta->l3_off + sizeof(ip6) + sizeof(fh) ||
	    ctx_load_bytes(ctx, meta->l4_off - sizeof(fh), &fh, sizeof(fh)))
		return CUBE_DROP_IPV6_EXT_TRUNCATED;
	if (frag_next_is_ext(fh.nexthdr))
		return CUBE_DROP_NAT_UNSUPPORTED;
	fi->key.id = fh.identification;
	fi->first = !(fh.frag_off & bpf_htons(IPV6_FRAG_OFFSET));
	fi->l4_len = meta->l3_off + sizeof(ip6) + bpf_ntohs(ip6.payload_len) - meta->l4_off;
	return 0;
}

/*
 * The first fragment's tuple, read from its L4 header as the parser reads a
 * whole packet's. The header must lie within the fragment's own payload, not
 * merely within the frame: the checksum a tiny first fragment leaves to the
 * next one cannot be updated. Returns 0 with *ok set (0: not translatable,
 * an ICMP message other than echo), or a drop reason.
 */
static __always_inline int frag_first_tuple(CUBE_CTX *ctx, const struct cube_meta *meta,
					    const struct frag_info *fi, struct nat_tuple *t,
					    int *ok)
{
	struct icmphdr icmp;
	__be16 ports[2];

	*ok = 0;
	t->saddr = meta->saddr;
	t->daddr = meta->daddr;
	t->proto = meta->l4_proto;
	t->family = meta->ip_version;
	t->pad = 0;
	if (t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP) {
		if (t->proto == IPPROTO_TCP && fi->l4_len < sizeof(struct tcphdr))
			return CUBE_DROP_TCP_TRUNCATED;
		if (t->proto == IPPROTO_UDP && fi->l4_len < sizeof(struct udphdr))
			return CUBE_DROP_UDP_TRUNCATED;
		if (ctx_load_bytes(ctx, meta->l4_off, ports, sizeof(ports)))
			return t->proto == IPPROTO_TCP ? CUBE_DROP_TCP_TRUNCATED
						       : CUBE_DROP_UDP_TRUNCATED;
		t->sport = ports[0];
		t->dport = ports[1];
		*ok = 1;
		return 0;
	}
	if (fi->l4_len < sizeof(icmp) || ctx_load_bytes(ctx, meta->l4_off, &icmp, sizeof(icmp)))
		return CUBE_DROP_ICMP_TRUNCATED;
	t->sport = icmp.un.echo.id;
	t->dport = 0;
	*ok = icmp.type == ICMP_ECHO || icmp.type == ICMP_ECHOREPLY ||
	      icmp.type == ICMPV6_ECHO_REQUEST || icmp.type == ICMPV6_ECHO_REPLY;
	return 0;
}

/* Remember what the first fragment became (to NULL: nothing). */
static __always_inline void frag_record(const struct frag_info *fi, const struct nat_tuple *from,
					const struct nat_tuple *to, __u64 now)
{
	struct nat_frag v = {.first_seen_ns = now};

	if (to &&
	    !(cube_addr_eq(&from->saddr, &to->saddr) && cube_addr_eq(&from->daddr, &to->daddr))) {
		v.saddr = to->saddr;
		v.daddr = to->daddr;
		v.flags = NAT_FRAG_F_TRANSLATED;
	}
	bpf_map_update_elem(&nat_frags, &fi->key, &v, BPF_ANY);
}

/*
 * Write new addresses into a fragment that has no L4 header. IPv4: the
 * header checksum is updated incrementally, and the header's sum stays what
 * it was. IPv6 has no header checksum; on TC a CHECKSUM_COMPLETE sum is made
 * to follow the change.
 */
static __always_inline int frag_l3_rewrite(CUBE_CTX *ctx, const struct cube_meta *meta,
					   const union cube_addr *saddr,
					   const union cube_addr *daddr)
{
	if (meta->ip_version == CUBE_AF_INET) {
		struct iphdr ip;

		if (ctx_load_bytes(ctx, meta->l3_off, &ip, sizeof(ip)))
			return CUBE_DROP_IPV4_TRUNCATED;
		csum_replace4(&ip.check, ip.saddr, saddr->ip4);
		csum_replace4(&ip.check, ip.daddr, daddr->ip4);
		ip.saddr = saddr->ip4;
		ip.daddr = daddr->ip4;
		return ctx_store_bytes(ctx, meta->l3_off, &ip, sizeof(ip), 0)
			   ? CUBE_DROP_REWRITE_FAILED
			   : 0;
	}
	union cube_addr addrs[2] = {*saddr, *daddr};

	return ctx_store_bytes(ctx, meta->l3_off + offsetof(struct ipv6hdr, saddr), addrs,
			       sizeof(addrs), BPF_F_RECOMPUTE_CSUM)
		   ? CUBE_DROP_REWRITE_FAILED
		   : 0;
}

/*
 * A later fragment: the first fragment's record, or CUBE_DROP_FRAG_UNKNOWN.
 * On success the metadata carries the addresses the fragment now has.
 */
static __always_inline int frag_follow(CUBE_CTX *ctx, struct cube_meta *meta,
				       const struct frag_info *fi, __u64 timeout_ns, __u64 now)
{
	struct nat_frag *rec = bpf_map_lookup_elem(&nat_frags, &fi->key);
	union cube_addr saddr, daddr;
	int reason;

	if (!rec || now - rec->first_seen_ns > timeout_ns)
		return CUBE_DROP_FRAG_UNKNOWN;
	if (!(rec->flags & NAT_FRAG_F_TRANSLATED))
		return 0;
	saddr = rec->saddr;
	daddr = rec->daddr;
	reason = frag_l3_rewrite(ctx, meta, &saddr, &daddr);
	if (reason)
		return reason;
	meta->saddr = saddr;
	meta->daddr = daddr;
	return 0;
}

#endif
