// SPDX-License-Identifier: Apache-2.0
/*
 * parser: the head of every chain. Validates Ethernet, 802.1Q/QinQ, IPv4,
 * IPv6, TCP, UDP, ICMP and ARP, writes struct cube_meta and the flow hash,
 * and forwards out of PARSER_PORT_OUT. A malformed frame is a counted drop;
 * a well-formed frame it does not understand (another ethertype or L4
 * protocol) goes on with what was found, for later cubes to decide.
 */
#include "lib/chain.h"
#include "lib/parse.h"
#include "lib/hash.h"

#define PARSER_PORT_OUT 0

CUBE_ENTRY(cube_parser)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_slot();
	struct parse_cursor c = {};
	int reason;

	ctx_pull_headers(ctx);
	c.data = ctx_data(ctx);
	c.end = ctx_data_end(ctx);
	c.len = ctx_len(ctx);
	cube_count_rx(st, c.len);
	if (!meta)
		return cube_drop(st, CUBE_DROP_NO_META);

	__builtin_memset(meta, 0, sizeof(*meta));
	meta->ingress_ifindex = ctx_ingress_ifindex(ctx);
	meta->pkt_len = c.len;
	meta->service_id = CUBE_NO_SERVICE;
	meta->backend_id = CUBE_NO_BACKEND;

	reason = parse_l2(ctx, &c, meta);
	if (reason)
		return cube_drop(st, reason);
	if (meta->l3_proto == bpf_htons(ETH_P_IP))
		reason = parse_ipv4(&c, meta);
	else if (meta->l3_proto == bpf_htons(ETH_P_IPV6))
		reason = parse_ipv6(ctx, &c, meta);
	else if (meta->l3_proto == bpf_htons(ETH_P_ARP))
		reason = parse_arp(&c, meta);
	if (reason)
		return cube_drop(st, reason);

	if (meta->ip_version)
		meta->flow_hash =
		    cube_flow_hash(meta->ip_version, &meta->saddr, &meta->daddr, meta->sport,
				   meta->dport, meta->l4_proto, meta->vlan_id);
	/* Valid only now: a frame dropped above leaves no metadata behind. */
	meta->version = CUBE_META_VERSION;
	return cube_out(ctx, st, PARSER_PORT_OUT);
}
