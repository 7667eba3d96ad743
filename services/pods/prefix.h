/* SPDX-License-Identifier: Apache-2.0 */
/* Address prefixes of either family, as the pods service holds them: the
 * address in a union cube_addr (IPv4 in its first word), the length, the
 * family (CUBE_AF_*). */
#ifndef CUBENET_PODS_PREFIX_H
#define CUBENET_PODS_PREFIX_H

#include <stdint.h>
#include <string.h>
#include "lib/abi/addr.h"

struct pods_prefix {
	union cube_addr prefix;
	uint32_t len;
	int family;
};

/* Whether the first len bits of a and b agree (of one family). */
static inline int prefix_bits_equal(const union cube_addr *a, const union cube_addr *b,
				    uint32_t len)
{
	uint32_t full = len / 8, rest = len % 8;

	if (memcmp(a->bytes, b->bytes, full))
		return 0;
	return !rest || !((a->bytes[full] ^ b->bytes[full]) & (0xff00u >> rest) & 0xff);
}

/* Whether p holds addr, an address of family. */
static inline int prefix_holds(const struct pods_prefix *p, int family, const union cube_addr *addr)
{
	return p->family == family && prefix_bits_equal(&p->prefix, addr, p->len);
}

/* Whether a and b share an address. */
static inline int prefixes_overlap(const struct pods_prefix *a, const struct pods_prefix *b)
{
	return a->family == b->family &&
	       prefix_bits_equal(&a->prefix, &b->prefix, a->len < b->len ? a->len : b->len);
}

/* Whether outer holds every address of inner. */
static inline int prefix_within(const struct pods_prefix *inner, const struct pods_prefix *outer)
{
	return outer->len <= inner->len && prefix_holds(outer, inner->family, &inner->prefix);
}

/*
 * Why a range cannot be pods' or the cluster's, or NULL: shorter than /8
 * (half the Internet), or overlapping what no pod is: this network,
 * loopback, link-local, multicast and reserved (IPv4 0/8, 127/8,
 * 169.254/16, 224/3; IPv6 ::/96 with the unspecified and loopback
 * addresses, IPv4-mapped ::ffff:0:0/96, fe80::/10, ff00::/8). A route to
 * such a range would take the pods' own link-local or multicast traffic
 * (neighbour discovery) into the chain's routes.
 */
static inline const char *prefix_unusable(const struct pods_prefix *p)
{
	static const struct {
		uint8_t family, len, bytes[16];
	} special[] = {
	    {CUBE_AF_INET, 8, {0}},
	    {CUBE_AF_INET, 8, {127}},
	    {CUBE_AF_INET, 16, {169, 254}},
	    {CUBE_AF_INET, 3, {224}},
	    {CUBE_AF_INET6, 96, {0}},
	    {CUBE_AF_INET6, 96, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}},
	    {CUBE_AF_INET6, 10, {0xfe, 0x80}},
	    {CUBE_AF_INET6, 8, {0xff}},
	};

	if (p->len < 8)
		return "is shorter than /8";
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		struct pods_prefix s = {.len = special[i].len, .family = special[i].family};

		memcpy(s.prefix.bytes, special[i].bytes, sizeof(s.prefix.bytes));
		if (prefixes_overlap(p, &s))
			return "overlaps addresses no pod has (this network, loopback, link-local, "
			       "multicast, reserved or IPv4-mapped)";
	}
	return NULL;
}

#endif
