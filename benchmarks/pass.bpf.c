// SPDX-License-Identifier: Apache-2.0
/*
 * Programs that pass every packet and do nothing else.
 * - The cost of an empty BPF_PROG_TEST_RUN, which cube-cost subtracts.
 * - What a cube timed alone by cube-cost jumps to, standing for the next cube.
 * - On kernel 6.18 a veth delivers frames its peer sends with native XDP_TX
 *   only if it runs an XDP program itself (GRO alone is not enough), so the
 *   demo and the benchmarks put xdp_pass on such peers.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

/* A tail-call target for cubes, which are multi-buffer XDP programs. */
SEC("xdp.frags")
int xdp_pass_frags(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int tc_pass(struct __sk_buff *ctx)
{
	(void)ctx;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
