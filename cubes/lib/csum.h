/* SPDX-License-Identifier: Apache-2.0 */
/* Internet checksum updates (RFC 1624: HC' = ~(~HC + ~m + m')). One's
 * complement sums do not care about byte order, so values go in as they sit
 * in the packet. */
#ifndef CUBENET_CSUM_H
#define CUBENET_CSUM_H

#include <linux/types.h>

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static __always_inline void csum_replace2(__u16 *check, __u16 from, __u16 to)
{
	__u32 sum = (__u16) ~*check;

	sum += (__u16)~from;
	sum += to;
	*check = (__u16)~csum_fold32(sum);
}

static __always_inline void csum_replace4(__u16 *check, __u32 from, __u32 to)
{
	csum_replace2(check, (__u16)from, (__u16)to);
	csum_replace2(check, (__u16)(from >> 16), (__u16)(to >> 16));
}

static __always_inline void csum_replace16(__u16 *check, const __u32 *from, const __u32 *to)
{
	csum_replace4(check, from[0], to[0]);
	csum_replace4(check, from[1], to[1]);
	csum_replace4(check, from[2], to[2]);
	csum_replace4(check, from[3], to[3]);
}

#endif
