// SPDX-License-Identifier: Apache-2.0
/*
 * Traffic generator and sink for the benchmarks.
 *
 * gen: run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES; writes a
 * whole Ethernet/IPv4/UDP header into every frame (live frames come back
 * recycled with whatever the receiver wrote into them), varies the source
 * address and port per packet, and redirects the frame into a veth.
 * sink: counts what arrives and drops it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "trafficgen.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_cfg);
} gen_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps"); /* frames generated */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} received SEC(".maps"); /* frames the sink saw */

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 zero = 0, seq, sum = 0;
	struct gen_cfg *cfg = bpf_map_lookup_elem(&gen_cfg, &zero);
	__u64 *n = bpf_map_lookup_elem(&counter, &zero);
	__u16 *w;

	if (!cfg || !n || (void *)(udp + 1) > end)
		return XDP_ABORTED;
	seq = (__u32)(*n)++;
	__builtin_memcpy(eth->h_dest, cfg->dmac, 6);
	__builtin_memcpy(eth->h_source, cfg->smac, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(cfg->frame_len - sizeof(*eth));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = bpf_htonl(bpf_ntohl(cfg->saddr_base) + seq % (cfg->n_sources ?: 1));
	ip->daddr = bpf_htonl(bpf_ntohl(cfg->daddr_base) + (seq / 7) % (cfg->n_vips ?: 1));
	w = (__u16 *)ip;
	for (int i = 0; i < 10; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
	udp->source = bpf_htons(1024 + (__u16)(seq % 60000));
	udp->dest = cfg->dport;
	udp->len = bpf_htons(cfg->frame_len - sizeof(*eth) - sizeof(*ip));
	udp->check = 0;
	return bpf_redirect(cfg->ifindex, 0);
}

SEC("xdp")
int sink(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&received, &zero);

	(void)ctx;
	if (n)
		(*n)++;
	return XDP_DROP;
}

/* Hands frames to the stack (the iptables scenario's way in). */
SEC("xdp")
int pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

/* The wire ceiling: the DUT only bounces frames back. */
SEC("xdp")
int bounce(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
