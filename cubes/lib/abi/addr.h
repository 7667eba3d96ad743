/* SPDX-License-Identifier: Apache-2.0 */
/* An IPv4 or IPv6 address in 16 bytes; IPv4 lives in the first word and the
 * rest is zero, so one key layout serves both families in every map. */
#ifndef CUBENET_ABI_ADDR_H
#define CUBENET_ABI_ADDR_H

#include <linux/types.h>

union cube_addr {
	__be32 ip4;
	__be32 ip6[4];
	__u8 bytes[16];
};

/* Address families as stored in keys; values of the IP protocol version. */
#define CUBE_AF_INET  4
#define CUBE_AF_INET6 6

#endif
