// SPDX-License-Identifier: Apache-2.0
/*
 * classifier: (VIP, port, protocol[, VLAN]) -> service id, IPv4 and IPv6.
 * Most specific first: exact port and VLAN, exact port any VLAN, then the
 * VIP's all-ports entry (which is also what IP fragments match). Wider
 * lookups run only when classifier_cfg says some key could match them.
 */
#include "lib/chain.h"
#include "lib/abi/classifier.h"

/* Services one instance holds; set before load. */
#define CLASSIFIER_DEFAULT_SERVICES 4096

/* enum classifier_miss_verdict; set before load. */
const volatile __u32 classifier_miss = CLASSIFIER_MISS_PASS;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CLASSIFIER_DEFAULT_SERVICES);
	__type(key, struct classifier_key);
	__type(value, struct classifier_value);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows what is configured */
} classifier_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct classifier_cfg);
} classifier_cfg SEC(".maps");

static __always_inline struct classifier_value *lookup(struct classifier_key *key, __u32 flags,
						       __u16 vlan_id)
{
	struct classifier_value *v;

	if ((flags & CLASSIFIER_CFG_VLAN_KEYS) && vlan_id) {
		key->vlan_id = vlan_id;
		v = bpf_map_lookup_elem(&classifier_services, key);
		if (v)
			return v;
		key->vlan_id = 0;
	}
	return bpf_map_lookup_elem(&classifier_services, key);
}

static __always_inline int miss(CUBE_CTX *ctx, struct cube_stats *st)
{
	if (classifier_miss == CLASSIFIER_MISS_PORT)
		return cube_out(ctx, st, CLASSIFIER_PORT_MISS);
	if (classifier_miss == CLASSIFIER_MISS_DROP)
		return cube_drop(st, CUBE_DROP_CLASSIFIER_MISS);
	return cube_pass(st);
}

CUBE_ENTRY(cube_classifier)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();
	struct classifier_key key = {};
	struct classifier_value *v;
	struct classifier_cfg *cfg;
	__u32 zero = 0, flags;

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	if (!meta->ip_version)
		return miss(ctx, st);

	cfg = bpf_map_lookup_elem(&classifier_cfg, &zero);
	flags = cfg ? cfg->flags : 0;
	key.vip = meta->daddr;
	key.proto = meta->l4_proto;
	key.family = meta->ip_version;
	key.port = (meta->flags & CUBE_META_F_L4) ? meta->dport : 0;

	v = lookup(&key, flags, meta->vlan_id);
	if (!v && key.port && (flags & CLASSIFIER_CFG_WILDCARD_PORT)) {
		key.port = 0;
		v = lookup(&key, flags, meta->vlan_id);
	}
	if (!v)
		return miss(ctx, st);
	meta->service_id = v->service_id;
	if (v->flags & CLASSIFIER_F_EXTERNAL)
		meta->flags |= CUBE_META_F_EXTERNAL;
	return cube_out(ctx, st, CLASSIFIER_PORT_HIT);
}
