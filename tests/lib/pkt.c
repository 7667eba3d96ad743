// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pkt.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

union cube_addr pkt_ip4(const char *text)
{
	union cube_addr a = {0};

	if (inet_pton(AF_INET, text, &a.ip4) != 1)
		abort();
	return a;
}

union cube_addr pkt_ip6(const char *text)
{
	union cube_addr a = {0};

	if (inet_pton(AF_INET6, text, a.bytes) != 1)
		abort();
	return a;
}

void pkt_mac(uint8_t mac[6], const char *text)
{
	unsigned int b[6];

	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		abort();
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

/* RFC 1071 sum of 16-bit big-endian words, not yet folded or inverted. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int pkt_l3_off(const uint8_t *f, size_t len)
{
	size_t off = 12;

	while (off + 2 <= len) {
		uint16_t type = get16(f + off);

		if (type == 0x8100 || type == 0x88a8) {
			off += 4;
			continue;
		}
		return (int)(off + 2);
	}
	return -1;
}

static uint16_t l3_type(const uint8_t *f, int l3)
{
	return get16(f + l3 - 2);
}

int pkt_l4_off(const uint8_t *f, size_t len, uint8_t *proto)
{
	int l3 = pkt_l3_off(f, len);

	if (l3 < 0)
		return -1;
	if (l3_type(f, l3) == 0x0800) {
		*proto = f[l3 + 9];
		return l3 + (f[l3] & 0xf) * 4;
	}
	if (l3_type(f, l3) == 0x86dd) {
		uint8_t next = f[l3 + 6];
		int off = l3 + 40;

		while (next == 0 || next == 60 || next == 43 || next == 44) {
			uint8_t n2 = f[off];

			off += next == 44 ? 8 : (f[off + 1] + 1) * 8;
			next = n2;
		}
		*proto = next;
		return off;
	}
	return -1;
}

bool pkt_ipv4_csum_ok(const uint8_t *f, size_t len)
{
	int l3 = pkt_l3_off(f, len);

	if (l3 < 0 || l3_type(f, l3) != 0x0800)
		return false;
	return fold(sum16(f + l3, (f[l3] & 0xf) * 4, 0)) == 0;
}

static uint32_t pseudo_sum(const uint8_t *f, int l3, uint8_t proto, size_t l4_len)
{
	uint32_t sum = 0;

	if (l3_type(f, l3) == 0x0800)
		sum = sum16(f + l3 + 12, 8, 0);
	else
		sum = sum16(f + l3 + 8, 32, 0);
	sum += proto;
	sum += (uint32_t)l4_len;
	return sum;
}

static size_t l4_length(const uint8_t *f, int l3, int l4)
{
	if (l3_type(f, l3) == 0x0800)
		return get16(f + l3 + 2) - (size_t)(l4 - l3);
	return get16(f + l3 + 4) + 40 - (size_t)(l4 - l3);
}

static int csum_field(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	default:
		return -1;
	}
}

static uint16_t l4_csum(const uint8_t *f, int l3, int l4, uint8_t proto)
{
	size_t l4_len = l4_length(f, l3, l4);
	uint32_t sum = 0;

	if (proto != IPPROTO_ICMP)
		sum = pseudo_sum(f, l3, proto, l4_len);
	return fold(sum16(f + l4, l4_len, sum));
}

bool pkt_l4_csum_ok(const uint8_t *f, size_t len)
{
	int l3 = pkt_l3_off(f, len);
	uint8_t proto = 0;
	int l4 = pkt_l4_off(f, len, &proto);
	int field = csum_field(proto);

	if (l3 < 0 || l4 < 0 || field < 0)
		return false;
	if (proto == IPPROTO_UDP && l3_type(f, l3) == 0x0800 && get16(f + l4 + 6) == 0)
		return true; /* not checksummed, which IPv4 allows */
	return l4_csum(f, l3, l4, proto) == 0;
}

void pkt_fix_csums(uint8_t *f, size_t len)
{
	int l3 = pkt_l3_off(f, len);
	uint8_t proto = 0;
	int l4, field;

	if (l3 < 0)
		return;
	if (l3_type(f, l3) == 0x0800) {
		put16(f + l3 + 10, 0);
		put16(f + l3 + 10, fold(sum16(f + l3, (f[l3] & 0xf) * 4, 0)));
	}
	l4 = pkt_l4_off(f, len, &proto);
	field = csum_field(proto);
	if (l4 < 0 || field < 0)
		return;
	put16(f + l4 + field, 0);
	uint16_t c = l4_csum(f, l3, l4, proto);

	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(f + l4 + field, c);
}

void pkt_put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(p, 0, 20);
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, 0x0102);
	p[12] = 5 << 4;
	p[13] = flags;
	put16(p + 14, 65535);
}

/* An options header's body: options of the experimental type RFC 4727
 * gives both headers (0x1e, skipped by a node that does not know it), 255
 * data bytes at most each, as many as it takes. */
static void fill_options(uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t rem = len - i, n;

		if (rem == 1) {
			opt[i] = 0; /* Pad1 */
			break;
		}
		n = rem - 2 > 255 ? 255 : rem - 2;
		if (rem - 2 - n == 1)
			n--; /* leave room for one more option, not a lone byte */
		opt[i] = 0x1e;
		opt[i + 1] = (uint8_t)n;
		for (size_t k = 0; k < n; k++)
			opt[i + 2 + k] = (uint8_t)(k * 13 + 5);
		i += 2 + n;
	}
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	size_t off = 0, l3, l4, l4_hdr = 0, ip_hdr;
	uint8_t proto = s->proto;

	memset(buf, 0, PKT_MAX);
	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	off = 12;
	for (int i = 0; i < s->nvlan; i++) {
		put16(buf + off, s->vlan_tpid[i] ? s->vlan_tpid[i] : 0x8100);
		put16(buf + off + 2, s->vlan_tci[i]);
		off += 4;
	}
	if (s->family == 4)
		put16(buf + off, 0x0800);
	else if (s->family == 6)
		put16(buf + off, 0x86dd);
	else
		put16(buf + off, s->ethertype);
	off += 2;
	l3 = off;
	if (s->family == 0) {
		for (size_t i = 0; i < s->payload_len; i++)
			buf[off + i] = (uint8_t)i;
		return off + s->payload_len;
	}

	if (s->family == 4) {
		ip_hdr = 20 + 4u * s->ipv4_opt_words;
		buf[l3] = 0x40 | (uint8_t)(ip_hdr / 4);
		put16(buf + l3 + 4, 0x1234);
		put16(buf + l3 + 6, s->ipv4_frag);
		buf[l3 + 8] = s->ttl ? s->ttl : 64;
		buf[l3 + 9] = proto;
		memcpy(buf + l3 + 12, &s->saddr.ip4, 4);
		memcpy(buf + l3 + 16, &s->daddr.ip4, 4);
		for (size_t i = 20; i < ip_hdr; i++)
			buf[l3 + i] = 1; /* NOP options */
	} else {
		ip_hdr = 40;
		buf[l3] = 0x60;
		buf[l3 + 7] = s->ttl ? s->ttl : 64;
		memcpy(buf + l3 + 8, s->saddr.bytes, 16);
		memcpy(buf + l3 + 24, s->daddr.bytes, 16);
		/* Chain: [hop-by-hop] [dest opts]... [fragment] L4 */
		uint8_t *next = buf + l3 + 6;

		for (int i = 0; i < s->ipv6_ext; i++) {
			size_t ext_len = i < 8 && s->ipv6_ext_len[i] ? s->ipv6_ext_len[i] : 8;

			*next = i == 0 ? 0 : 60;
			next = buf + l3 + ip_hdr;
			buf[l3 + ip_hdr + 1] = (uint8_t)(ext_len / 8 - 1);
			if (ext_len == 8) {
				buf[l3 + ip_hdr + 2] = 1; /* PadN */
				buf[l3 + ip_hdr + 3] = 4;
			} else {
				fill_options(buf + l3 + ip_hdr + 2, ext_len - 2);
			}
			ip_hdr += ext_len;
		}
		if (s->ipv6_frag) {
			*next = 44;
			next = buf + l3 + ip_hdr;
			put16(buf + l3 + ip_hdr + 2, s->ipv6_frag_off);
			put16(buf + l3 + ip_hdr + 6, 0x4242);
			ip_hdr += 8;
		}
		*next = proto;
	}
	l4 = l3 + ip_hdr;
	switch (proto) {
	case IPPROTO_TCP:
		l4_hdr = 20;
		pkt_put_tcp(buf + l4, s->sport, s->dport, s->tcp_flags ? s->tcp_flags : 0x10);
		break;
	case IPPROTO_UDP:
		l4_hdr = 8;
		put16(buf + l4, s->sport);
		put16(buf + l4 + 2, s->dport);
		put16(buf + l4 + 4, (uint16_t)(8 + s->payload_len));
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4_hdr = 8;
		buf[l4] = s->icmp_type;
		put16(buf + l4 + 4, s->icmp_id);
		put16(buf + l4 + 6, 1);
		break;
	default:
		break;
	}
	for (size_t i = 0; i < s->payload_len; i++)
		buf[l4 + l4_hdr + i] = (uint8_t)(i * 7 + 3);
	off = l4 + l4_hdr + s->payload_len;
	if (s->family == 4)
		put16(buf + l3 + 2, (uint16_t)(off - l3));
	else
		put16(buf + l3 + 4, (uint16_t)(off - l3 - 40));
	if (s->ipv4_frag || s->ipv6_frag) {
		/* Fragments carry no checksum we can verify; fix the IPv4 header only. */
		if (s->family == 4) {
			put16(buf + l3 + 10, fold(sum16(buf + l3, (buf[l3] & 0xf) * 4, 0)));
		}
		return off;
	}
	pkt_fix_csums(buf, off);
	if (proto == IPPROTO_UDP && s->udp_no_csum && s->family == 4)
		put16(buf + l4 + 6, 0);
	return off;
}

size_t pkt_port_unreachable(const uint8_t *f, size_t len, uint8_t *out)
{
	int l3 = pkt_l3_off(f, len);
	size_t quote, hdr;

	memset(out, 0, PKT_MAX);
	memcpy(out, f + 6, 6); /* back to the sender's MAC */
	memcpy(out + 6, f, 6);
	memcpy(out + 12, f + 12, (size_t)l3 - 12); /* tags and ethertype as they were */
	uint8_t *ip = out + l3;

	if (get16(f + l3 - 2) == 0x0800) {
		size_t ihl = (f[l3] & 0xf) * 4u, tot = get16(f + l3 + 2);

		quote = ihl + 8 < tot ? ihl + 8 : tot; /* RFC 792: header + 64 bits */
		hdr = 20;
		ip[0] = 0x45;
		ip[1] = 0xc0; /* RFC 1812 4.3.2.5: internetwork control */
		put16(ip + 2, (uint16_t)(hdr + 8 + quote));
		ip[8] = 64;
		ip[9] = IPPROTO_ICMP;
		memcpy(ip + 12, f + l3 + 16, 4); /* from the address it was sent to */
		memcpy(ip + 16, f + l3 + 12, 4);
		ip[hdr] = 3;	 /* destination unreachable */
		ip[hdr + 1] = 3; /* port unreachable */
	} else {
		size_t all = 40 + get16(f + l3 + 4);

		quote = all < 1280 - 48 ? all : 1280 - 48; /* RFC 4443 2.4(c) */
		hdr = 40;
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(8 + quote));
		ip[6] = IPPROTO_ICMPV6;
		ip[7] = 64;
		memcpy(ip + 8, f + l3 + 24, 16);
		memcpy(ip + 24, f + l3 + 8, 16);
		ip[hdr] = 1;	 /* destination unreachable */
		ip[hdr + 1] = 4; /* port unreachable */
	}
	memcpy(ip + hdr + 8, f + l3, quote);
	pkt_fix_csums(out, (size_t)l3 + hdr + 8 + quote);
	return (size_t)l3 + hdr + 8 + quote;
}
