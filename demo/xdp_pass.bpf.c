// SPDX-License-Identifier: Apache-2.0
/*
 * XDP_PASS, nothing else. On kernel 6.18 a veth delivers frames that its
 * peer sends with native XDP_TX only if it runs an XDP program itself (GRO
 * alone is not enough), so the demo puts this on the bridge side of the lb
 * node's link.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
