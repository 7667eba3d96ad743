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

/* IMIX frame and IP lengths for packet seq: 7 x 40, 4 x 576, 1 x 1500 in
 * every 12, interleaved so that the mix holds over short runs too. */
static __always_inline void imix_lengths(__u32 seq, __u16 *frame, __u16 *ip_len)
{
	__u32 i = seq % GEN_IMIX_PATTERN;

	if (i == 11) {
		*frame = 1514;
		*ip_len = 1500;
	} else if (i % 3 == 1) { /* 1, 4, 7, 10 */
		*frame = 590;
		*ip_len = 576;
	} else {
		*frame = 60; /* 40 bytes of IP, padded to the minimum frame */
		*ip_len = 40;
	}
}

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 zero = 0, seq, sum = 0;
	struct gen_cfg *cfg = bpf_map_lookup_elem(&gen_cfg, &zero);
	__u64 *n = bpf_map_lookup_elem(&counter, &zero);
	__u16 frame_len, ip_len, *w;
	void *data, *end;

	if (!cfg || !n)
		return XDP_ABORTED;
	seq = (__u32)(*n)++;
	frame_len = cfg->frame_len;
	ip_len = frame_len - sizeof(struct ethhdr);
	if (cfg->flags & GEN_F_IMIX) {
		imix_lengths(seq, &frame_len, &ip_len);
		if (bpf_xdp_adjust_tail(ctx, (int)frame_len - (int)cfg->frame_len))
			return XDP_ABORTED;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	ip = data + sizeof(*eth);
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(eth->h_dest, cfg->dmac, 6);
	__builtin_memcpy(eth->h_source, cfg->smac, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(ip_len);
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
	udp->len = bpf_htons(ip_len - sizeof(*ip));
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
