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

#endif
