// SPDX-License-Identifier: Apache-2.0
/*
 * The parser's rules, one header at a time, as byte offsets into the frame:
 *
 *  Ethernet: 14 bytes. Then up to two 802.1Q / 802.1ad tags (the outer VID
 *  in vlan_id, the inner in vlan_inner); a third is too deep.
 *  IPv4: 20 bytes, version 4, IHL >= 5, the whole header in the frame, a
 *  total length from the header's length to what the frame holds (padding
 *  after it is fine). Options are flagged. A fragment (MF or an offset) is
 *  hashed on L3 alone: no L4, its offset noted.
 *  IPv6: 40 bytes, version 6, payload length within the frame. Extension
 *  headers (hop-by-hop, routing, destination options, fragment, AH) are
 *  walked, at most PARSE_IPV6_MAX_EXT of them, each within the payload; a
 *  non-atomic fragment ends the walk as an IPv4 fragment does.
 *  L4 (an IP packet's, where its header starts at most CUBE_HDR_OFF_MASK
 *  into the frame): TCP 20 bytes within the IP payload and a data offset
 *  from 5 words to the payload's end; UDP 8 bytes and a length from 8 to
 *  the payload's end; ICMP (IPv4) and ICMPv6 (IPv6) 8 bytes, the echo
 *  identifier as the source port. Another protocol goes on without ports.
 *  ARP: 28 bytes (Ethernet / IPv4), flagged. Another ethertype goes on.
 *
 * The flow hash covers addresses, ports, protocol and outer VID; it is the
 * one function cubes/lib/hash.h gives userspace and BPF alike.
 */
#include <string.h>
#include "ref_parse.h"
#include "lib/hash.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_IPV6 0x86dd
#define TPID_8021Q     0x8100
#define TPID_8021AD    0x88a8

#define PROTO_HOPOPTS  0
#define PROTO_ICMP     1
#define PROTO_TCP      6
#define PROTO_UDP      17
#define PROTO_ROUTING  43
#define PROTO_FRAGMENT 44
#define PROTO_AH       51
#define PROTO_ICMPV6   58
#define PROTO_DSTOPTS  60

#define IPV6_MAX_EXT 6 /* PARSE_IPV6_MAX_EXT */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Network-order copy of a 16-bit field, as the metadata keeps ports. */
static uint16_t net16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

struct walk {
	const uint8_t *f;
	size_t len;
	struct cube_meta *m;
};

static int has(const struct walk *w, size_t off, size_t n)
{
	return off + n <= w->len;
}

static int is_echo(uint8_t proto, uint8_t type)
{
	if (proto == PROTO_ICMP)
		return type == 8 || type == 0; /* echo request, reply (RFC 792) */
	return type == 128 || type == 129;     /* ICMPv6 echo request, reply (RFC 4443) */
}

/* The L4 header at off, with room bytes left of the IP payload. */
static enum cube_drop_reason l4(struct walk *w, size_t off, size_t room, int family)
{
	const uint8_t *p = w->f + off;
	uint8_t proto = w->m->l4_proto;

	if (off > CUBE_HDR_OFF_MASK)
		return CUBE_DROP_HDR_TOO_DEEP;
	w->m->l4_off = (uint16_t)off;
	if (proto == PROTO_TCP) {
		if (room < 20 || !has(w, off, 20))
			return CUBE_DROP_TCP_TRUNCATED;
		if ((p[12] >> 4) < 5 || (size_t)(p[12] >> 4) * 4 > room)
			return CUBE_DROP_TCP_BAD_DOFF;
	} else if (proto == PROTO_UDP) {
		if (room < 8 || !has(w, off, 8))
			return CUBE_DROP_UDP_TRUNCATED;
		if (rd16(p + 4) < 8 || rd16(p + 4) > room)
			return CUBE_DROP_UDP_BAD_LEN;
	} else if ((family == 4 && proto == PROTO_ICMP) || (family == 6 && proto == PROTO_ICMPV6)) {
		if (room < 8 || !has(w, off, 8))
			return CUBE_DROP_ICMP_TRUNCATED;
		if (is_echo(proto, p[0]))
			w->m->sport = net16(p + 4);
		w->m->flags |= CUBE_META_F_L4;
		return 0;
	} else {
		return 0;
	}
	w->m->sport = net16(p);
	w->m->dport = net16(p + 2);
	w->m->flags |= CUBE_META_F_L4;
	return 0;
}

static enum cube_drop_reason ipv4(struct walk *w, size_t off)
{
	const uint8_t *ip = w->f + off;
	size_t ihl, total;

	if (!has(w, off, 20))
		return CUBE_DROP_IPV4_TRUNCATED;
	if (ip[0] >> 4 != 4)
		return CUBE_DROP_IPV4_BAD_VERSION;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ihl < 20)
		return CUBE_DROP_IPV4_BAD_IHL;
	if (!has(w, off, ihl))
		return CUBE_DROP_IPV4_TRUNCATED;
	total = rd16(ip + 2);
	if (total < ihl || off + total > w->len)
		return CUBE_DROP_IPV4_BAD_LEN;
	w->m->ip_version = CUBE_AF_INET;
	w->m->l4_proto = ip[9];
	memcpy(&w->m->saddr.ip4, ip + 12, 4);
	memcpy(&w->m->daddr.ip4, ip + 16, 4);
	if (ihl > 20)
		w->m->flags |= CUBE_META_F_IPV4_OPTS;
	if (rd16(ip + 6) & 0x3fff) { /* MF, or a fragment offset */
		w->m->flags |= CUBE_META_F_FRAGMENT;
		w->m->l4_off = (uint16_t)(off + ihl);
		return 0;
	}
	return l4(w, off + ihl, total - ihl, 4);
}

static int ipv6_ext(uint8_t next)
{
	return next == PROTO_HOPOPTS || next == PROTO_ROUTING || next == PROTO_DSTOPTS ||
	       next == PROTO_FRAGMENT || next == PROTO_AH;
}

static enum cube_drop_reason ipv6(struct walk *w, size_t off)
{
	const uint8_t *ip = w->f + off;
	size_t end;
	uint8_t next;
	int walked;

	if (!has(w, off, 40))
		return CUBE_DROP_IPV6_TRUNCATED;
	if (ip[0] >> 4 != 6)
		return CUBE_DROP_IPV6_BAD_VERSION;
	end = off + 40 + rd16(ip + 4);
	if (end > w->len)
		return CUBE_DROP_IPV6_BAD_LEN;
	w->m->ip_version = CUBE_AF_INET6;
	memcpy(w->m->saddr.bytes, ip + 8, 16);
	memcpy(w->m->daddr.bytes, ip + 24, 16);
	next = ip[6];
	off += 40;
	for (walked = 0; ipv6_ext(next); walked++) {
		const uint8_t *h = w->f + off;
		size_t hlen;

		if (walked == IPV6_MAX_EXT)
			return CUBE_DROP_IPV6_EXT_TOO_MANY;
		w->m->flags |= CUBE_META_F_IPV6_EXT;
		if (off + 8 > end)
			return CUBE_DROP_IPV6_EXT_TRUNCATED;
		if (next == PROTO_FRAGMENT && (rd16(h + 2) & 0xfff9)) {
			/* An offset or M: a piece of a datagram (RFC 8200 4.5). */
			w->m->flags |= CUBE_META_F_FRAGMENT;
			w->m->l4_proto = h[0];
			if (off + 8 > CUBE_HDR_OFF_MASK)
				return CUBE_DROP_HDR_TOO_DEEP;
			w->m->l4_off = (uint16_t)(off + 8);
			return 0;
		}
		/* An atomic fragment is 8 bytes; AH counts 4-byte words less 2
		 * (RFC 4302), the others 8-byte units less 1 (RFC 8200). */
		hlen = next == PROTO_FRAGMENT ? 8
		       : next == PROTO_AH     ? ((size_t)h[1] + 2) * 4
					      : ((size_t)h[1] + 1) * 8;
		next = h[0];
		off += hlen;
		if (off > end)
			return CUBE_DROP_IPV6_EXT_TRUNCATED;
	}
	w->m->l4_proto = next;
	return l4(w, off, end - off, 6);
}

static enum cube_drop_reason l2_and_up(struct walk *w)
{
	size_t off = 14;
	uint16_t type;
	int tags = 0;

	if (!has(w, 0, 14))
		return CUBE_DROP_ETH_TRUNCATED;
	type = rd16(w->f + 12);
	while (type == TPID_8021Q || type == TPID_8021AD) {
		if (tags == 2)
			return CUBE_DROP_VLAN_TOO_DEEP;
		if (!has(w, off, 4))
			return CUBE_DROP_VLAN_TRUNCATED;
		if (tags == 0) {
			w->m->flags |= CUBE_META_F_VLAN;
			w->m->vlan_id = rd16(w->f + off) & 0x0fff;
		} else {
			w->m->flags |= CUBE_META_F_QINQ;
			w->m->vlan_inner = rd16(w->f + off) & 0x0fff;
		}
		type = rd16(w->f + off + 2);
		off += 4;
		tags++;
	}
	w->m->l3_proto = net16(w->f + off - 2);
	w->m->l3_off = (uint16_t)off;
	switch (type) {
	case ETHERTYPE_IPV4:
		return ipv4(w, off);
	case ETHERTYPE_IPV6:
		return ipv6(w, off);
	case ETHERTYPE_ARP:
		if (!has(w, off, 28))
			return CUBE_DROP_ARP_TRUNCATED;
		w->m->flags |= CUBE_META_F_ARP;
		return 0;
	default:
		return 0;
	}
}

enum cube_drop_reason ref_parse(const uint8_t *frame, size_t len, uint32_t ifindex,
				struct cube_meta *meta)
{
	struct walk w = {frame, len, meta};
	enum cube_drop_reason reason;

	memset(meta, 0, sizeof(*meta));
	meta->ingress_ifindex = ifindex;
	meta->pkt_len = (uint32_t)len;
	meta->service_id = CUBE_NO_SERVICE;
	meta->backend_id = CUBE_NO_BACKEND;
	reason = l2_and_up(&w);
	if (!reason && meta->ip_version)
		meta->flow_hash =
		    cube_flow_hash(meta->ip_version, &meta->saddr, &meta->daddr, meta->sport,
				   meta->dport, meta->l4_proto, meta->vlan_id);
	return reason;
}
