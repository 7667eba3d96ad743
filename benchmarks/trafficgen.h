/* SPDX-License-Identifier: Apache-2.0 */
/* What the traffic generator (trafficgen.bpf.c) reads from its gen_cfg map;
 * shared with xdp-bench, which fills it. */
#ifndef CUBENET_TRAFFICGEN_H
#define CUBENET_TRAFFICGEN_H

#include <linux/types.h>

struct gen_cfg {
	__u8 dmac[6];
	__u8 smac[6];
	__be32 saddr_base; /* sources cycle through saddr_base + 0..n_sources-1 */
	__u32 n_sources;
	__be32 daddr_base; /* VIPs cycle through daddr_base + 0..n_vips-1 */
	__u32 n_vips;
	__be16 dport;
	__u16 frame_len; /* on the wire, without FCS */
	__u32 ifindex;	 /* where to send */
	__u32 flags;	 /* enum gen_flags */
};

enum gen_flags {
	/* The seed's IMIX: IP packets of 40, 576 and 1500 bytes, 7:4:1, the
	 * smallest padded to the 64-byte minimum frame. The input frame must
	 * be the largest (1514 bytes); smaller ones are cut from its tail. */
	GEN_F_IMIX = 1 << 0,
};

#define GEN_IMIX_PATTERN 12 /* packets in one round of 7 + 4 + 1 */

#endif
