// SPDX-License-Identifier: Apache-2.0
/*
 * The nat service: cubenet-nat config -> a nat cube's maps (nat_snat4/6,
 * nat_dnat, nat_cfg). Connection state (nat_conns) is the cube's own and
 * survives config changes.
 */
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "service.h"
#include "map_sync.h"
#include "common.h"
#include "netdev.h"
#include "lib/abi/nat.h"

#define NAT_MAX_RULES 4096 /* as the nat cube's rule maps are sized */

struct nat_rules {
	struct nat_snat_lpm4_key *s4_keys;
	struct nat_snat_lpm6_key *s6_keys;
	struct nat_snat_target *s4_vals, *s6_vals;
	size_t n_s4, n_s6;
	struct nat_dnat_key *d_keys;
	struct nat_dnat_target *d_vals;
	size_t n_d;
	struct nat_cfg cfg;
};

static void rules_free(struct nat_rules *r)
{
	free(r->s4_keys);
	free(r->s6_keys);
	free(r->s4_vals);
	free(r->s6_vals);
	free(r->d_keys);
	free(r->d_vals);
}

static uint32_t u32_leaf(const struct lyd_node *n, const char *path, uint32_t dflt)
{
	const char *v = svc_leaf(n, path);

	return v ? (uint32_t)strtoul(v, NULL, 10) : dflt;
}

static int read_snat(const struct lyd_node *nat, const char *where, struct nat_rules *r,
		     struct cn_error *err)
{
	struct ly_set *set = NULL;
	int rc = 0;

	if (lyd_find_xpath(nat, "snat", &set))
		return 0;
	r->s4_keys = calloc(set->count + 1, sizeof(*r->s4_keys));
	r->s6_keys = calloc(set->count + 1, sizeof(*r->s6_keys));
	r->s4_vals = calloc(set->count + 1, sizeof(*r->s4_vals));
	r->s6_vals = calloc(set->count + 1, sizeof(*r->s6_vals));
	if (set->count > NAT_MAX_RULES)
		rc = cn_fail(err, CN_ERR_TOO_BIG, where, "at most %d snat rules", NAT_MAX_RULES);
	for (uint32_t i = 0; i < set->count && !rc; i++) {
		const struct lyd_node *s = set->dnodes[i];
		const char *src = svc_leaf(s, "source"), *to = svc_leaf(s, "to-address");
		const char *masq = svc_leaf(s, "masquerade");
		struct nat_snat_target t = {0};
		union cube_addr prefix;
		uint32_t plen = 0;
		int fam = 0, to_fam = 0;

		svc_parse_prefix(src, &fam, &prefix, &plen);
		if (masq) {
			if (netdev_addr(masq, fam, &t.addr)) {
				rc = cn_fail(
				    err, CN_ERR_INVALID_VALUE, where,
				    "snat %s: netdev '%s' has no IPv%d address to masquerade "
				    "to",
				    src, masq, fam);
				break;
			}
			t.flags = NAT_SNAT_F_MASQUERADE;
		} else if (svc_parse_addr(to, &to_fam, &t.addr) || to_fam != fam) {
			rc = cn_fail(err, CN_ERR_INVALID_VALUE, where,
				     "snat %s: %s is not an address of the same family", src, to);
			break;
		}
		if (fam == CUBE_AF_INET) {
			r->s4_keys[r->n_s4] = (struct nat_snat_lpm4_key){plen, prefix.ip4};
			r->s4_vals[r->n_s4++] = t;
		} else {
			r->s6_keys[r->n_s6].prefixlen = plen;
			memcpy(r->s6_keys[r->n_s6].saddr, prefix.bytes, 16);
			r->s6_vals[r->n_s6++] = t;
		}
	}
	ly_set_free(set, NULL);
	return rc;
}

static int read_dnat(const struct lyd_node *nat, const char *where, struct nat_rules *r,
		     struct cn_error *err)
{
	struct ly_set *set = NULL;
	int rc = 0;

	if (lyd_find_xpath(nat, "dnat", &set))
		return 0;
	r->d_keys = calloc(set->count + 1, sizeof(*r->d_keys));
	r->d_vals = calloc(set->count + 1, sizeof(*r->d_vals));
	if (set->count > NAT_MAX_RULES)
		rc = cn_fail(err, CN_ERR_TOO_BIG, where, "at most %d dnat rules", NAT_MAX_RULES);
	for (uint32_t i = 0; i < set->count && !rc; i++) {
		const struct lyd_node *d = set->dnodes[i];
		struct nat_dnat_key *k = &r->d_keys[r->n_d];
		struct nat_dnat_target *t = &r->d_vals[r->n_d];
		int fam = 0, to_fam = 0;

		svc_parse_addr(svc_leaf(d, "address"), &fam, &k->daddr);
		svc_parse_addr(svc_leaf(d, "to-address"), &to_fam, &t->addr);
		if (fam != to_fam) {
			rc = cn_fail(err, CN_ERR_INVALID_VALUE, where,
				     "dnat %s: to-address %s is of another family",
				     svc_leaf(d, "address"), svc_leaf(d, "to-address"));
			break;
		}
		k->family = (uint8_t)fam;
		k->dport = htons((uint16_t)u32_leaf(d, "port", 0));
		k->proto = strcmp(svc_leaf(d, "protocol"), "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
		t->port = htons((uint16_t)u32_leaf(d, "to-port", 0));
		t->flags = NAT_DNAT_F_VALID;
		r->n_d++;
	}
	ly_set_free(set, NULL);
	return rc;
}

static int nat_apply(const struct lyd_node *config, const char *name, struct cube *cube,
		     struct cn_error *err)
{
	struct nat_rules r = {0};
	const struct lyd_node *nat;
	char where[160];
	uint32_t zero = 0;
	int e = 0;

	snprintf(where, sizeof(where), "/cubenet-nat:nats/nat[name='%s']", name);
	nat = svc_find(config, where);
	if (nat && (read_snat(nat, where, &r, err) || read_dnat(nat, where, &r, err)))
		goto out;
	r.cfg.port_min = (uint16_t)u32_leaf(nat, "port-range/min", 0);
	r.cfg.port_max = (uint16_t)u32_leaf(nat, "port-range/max", 0);
	r.cfg.timeout_tcp_established_s = u32_leaf(nat, "timeouts/tcp-established", 0);
	r.cfg.timeout_tcp_transitory_s = u32_leaf(nat, "timeouts/tcp-transitory", 0);
	r.cfg.timeout_udp_s = u32_leaf(nat, "timeouts/udp", 0);
	r.cfg.timeout_icmp_s = u32_leaf(nat, "timeouts/icmp", 0);

	e = bpf_map_update_elem(cube_map_fd(cube, "nat_cfg"), &zero, &r.cfg, BPF_ANY) ? -errno : 0;
	if (!e)
		e = map_sync(cube_map_fd(cube, "nat_snat4"), r.s4_keys, r.s4_vals, r.n_s4,
			     sizeof(*r.s4_keys), sizeof(*r.s4_vals));
	if (!e)
		e = map_sync(cube_map_fd(cube, "nat_snat6"), r.s6_keys, r.s6_vals, r.n_s6,
			     sizeof(*r.s6_keys), sizeof(*r.s6_vals));
	if (!e)
		e = map_sync(cube_map_fd(cube, "nat_dnat"), r.d_keys, r.d_vals, r.n_d,
			     sizeof(*r.d_keys), sizeof(*r.d_vals));
	if (e)
		cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot program the nat maps: %s",
			strerror(-e));
out:
	rules_free(&r);
	return err->tag == CN_OK ? 0 : -1;
}

const struct service nat_service = {
    .module = "cubenet-nat",
    .cube_type = "nat",
    .apply = nat_apply,
};
