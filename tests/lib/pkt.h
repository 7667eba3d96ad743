/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crafting test frames, and checking checksums by computing them from
 * scratch (independently of the incremental updates the cubes do).
 */
#ifndef CUBENET_TEST_PKT_H
#define CUBENET_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/abi/addr.h"

#define PKT_MAX 16384

struct pkt_spec {
	uint8_t dmac[6];
	uint8_t smac[6];
	int nvlan;	       /* 0, 1 or 2 (or more for negative tests) */
	uint16_t vlan_tpid[3]; /* 0: 0x8100 */
	uint16_t vlan_tci[3];
	int family;	    /* 4, 6, or 0 for a raw ethertype */
	uint16_t ethertype; /* family 0 */
	union cube_addr saddr, daddr;
	uint8_t proto;	       /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, other */
	uint16_t sport, dport; /* host order */
	uint8_t ttl;	       /* 0: 64 */
	uint8_t tcp_flags;     /* 0: ACK */
	uint8_t icmp_type;
	uint16_t icmp_id;	  /* host order */
	uint8_t ipv4_opt_words;	  /* IHL beyond 5 */
	uint16_t ipv4_frag;	  /* host order frag_off field (MF | offset) */
	int ipv6_ext;		  /* hop-by-hop and destination options headers to add */
	uint16_t ipv6_ext_len[8]; /* bytes of each (a multiple of 8); 0: 8 */
	bool ipv6_frag;		  /* add a fragment header */
	uint16_t ipv6_frag_off;	  /* host order, offset << 3 | M */
	bool udp_no_csum;	  /* IPv4 UDP with checksum 0 */
	size_t payload_len;
};

/* Fills buf, returns the frame length. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf);
/* A 20-byte TCP header at p, as pkt_build writes one (checksum 0). */
void pkt_put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags);

union cube_addr pkt_ip4(const char *text);
union cube_addr pkt_ip6(const char *text);
void pkt_mac(uint8_t mac[6], const char *text);

/* Offsets of the IP and L4 headers after the tags; -1 if absent. */
int pkt_l3_off(const uint8_t *frame, size_t len);
int pkt_l4_off(const uint8_t *frame, size_t len, uint8_t *proto);

/* Recompute and compare checksums of a frame as it is. */
bool pkt_ipv4_csum_ok(const uint8_t *frame, size_t len);
bool pkt_l4_csum_ok(const uint8_t *frame, size_t len);
/* Rewrite every checksum after a test edits a header on purpose. */
void pkt_fix_csums(uint8_t *frame, size_t len);

/* The ICMP (IPv4) or ICMPv6 port unreachable that answers frame f, built
 * from RFC 792 / RFC 4443: MACs swapped, from the address f was sent to,
 * TTL 64, quoting f's IP header and 8 bytes (IPv4) or as much of f as fits
 * in 1280 bytes (IPv6), checksums computed in full. Returns its length. */
size_t pkt_port_unreachable(const uint8_t *f, size_t len, uint8_t *out);

#endif
