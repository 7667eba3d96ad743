/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bob Jenkins' lookup3 hash (jhash, public domain), in the form the kernel
 * uses. Built into cubes and userspace alike, so a test or the daemon can
 * compute the exact flow hash a cube saw.
 */
#ifndef CUBENET_HASH_H
#define CUBENET_HASH_H

#include <linux/types.h>
#include "abi/addr.h"

#ifdef __bpf__
#define CUBE_HASH_INLINE static __always_inline
#else
#define CUBE_HASH_INLINE static inline
#endif

#define JHASH_INITVAL 0xdeadbeef

/* Flow hashes are seeded so they differ from any other jhash use; all nodes
 * must agree on it, so it is a constant rather than random per boot. */
#define CUBE_FLOW_HASH_SEED 0x63756265u /* "cube" */

#define cube_rol32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

#define __jhash_mix(a, b, c)                                                                       \
	{                                                                                          \
		a -= c;                                                                            \
		a ^= cube_rol32(c, 4);                                                             \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= cube_rol32(a, 6);                                                             \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= cube_rol32(b, 8);                                                             \
		b += a;                                                                            \
		a -= c;                                                                            \
		a ^= cube_rol32(c, 16);                                                            \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= cube_rol32(a, 19);                                                            \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= cube_rol32(b, 4);                                                             \
		b += a;                                                                            \
	}

#define __jhash_final(a, b, c)                                                                     \
	{                                                                                          \
		c ^= b;                                                                            \
		c -= cube_rol32(b, 14);                                                            \
		a ^= c;                                                                            \
		a -= cube_rol32(c, 11);                                                            \
		b ^= a;                                                                            \
		b -= cube_rol32(a, 25);                                                            \
		c ^= b;                                                                            \
		c -= cube_rol32(b, 16);                                                            \
		a ^= c;                                                                            \
		a -= cube_rol32(c, 4);                                                             \
		b ^= a;                                                                            \
		b -= cube_rol32(a, 14);                                                            \
		c ^= b;                                                                            \
		c -= cube_rol32(b, 24);                                                            \
	}

CUBE_HASH_INLINE __u32 jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	a += JHASH_INITVAL;
	b += JHASH_INITVAL;
	c += initval;
	__jhash_final(a, b, c);
	return c;
}

/* Hash an array of 32-bit words; length is a constant at every call site,
 * so the compiler unrolls it for BPF. */
CUBE_HASH_INLINE __u32 jhash2(const __u32 *k, __u32 length, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = JHASH_INITVAL + (length << 2) + initval;
	while (length > 3) {
		a += k[0];
		b += k[1];
		c += k[2];
		__jhash_mix(a, b, c);
		length -= 3;
		k += 3;
	}
	switch (length) {
	case 3:
		c += k[2];
		/* fallthrough */
	case 2:
		b += k[1];
		/* fallthrough */
	case 1:
		a += k[0];
		__jhash_final(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

/*
 * The flow hash: 5-tuple and VLAN ID, as the seed's second hash function.
 * Ports are in network order as on the wire; vlan_id in host order.
 */
CUBE_HASH_INLINE __u32 cube_flow_hash(__u8 family, const union cube_addr *saddr,
				      const union cube_addr *daddr, __be16 sport, __be16 dport,
				      __u8 proto, __u16 vlan_id)
{
	__u32 ports = ((__u32)sport << 16) | dport;
	__u32 extra = ((__u32)proto << 16) | vlan_id;

	if (family == CUBE_AF_INET)
		return jhash_3words(saddr->ip4, daddr->ip4, ports, CUBE_FLOW_HASH_SEED ^ extra);

	__u32 words[10] = {
	    saddr->ip6[0], saddr->ip6[1], saddr->ip6[2], saddr->ip6[3], daddr->ip6[0],
	    daddr->ip6[1], daddr->ip6[2], daddr->ip6[3], ports,		extra,
	};
	return jhash2(words, 10, CUBE_FLOW_HASH_SEED);
}

/* Source address only: every flow of one client lands on one backend. */
CUBE_HASH_INLINE __u32 cube_source_hash(__u8 family, const union cube_addr *saddr)
{
	if (family == CUBE_AF_INET)
		return jhash_3words(saddr->ip4, 0, 0, CUBE_FLOW_HASH_SEED);
	return jhash2(saddr->ip6, 4, CUBE_FLOW_HASH_SEED);
}

#endif
