// SPDX-License-Identifier: Apache-2.0
/*
 * The nat service: cubenet-nat config -> a nat cube's maps (nat_snat4/6,
 * nat_dnat, nat_cfg). Connection state (nat_conns) is the cube's own and
 * survives config changes. SNAT and DNAT rules are independent entries:
 * one rule changed is one map update.
 */
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "config_read.h"
#include "map_sync.h"
#include "map_txn.h"
#include "netdev.h"
#include "runtime.h"
#include "service.h"
#include "lib/abi/nat.h"

#define NATS "/cubenet-nat:nats"

static struct map_txn txn;

static uint32_t u32_leaf(const struct lyd_node *n, const char *path, uint32_t dflt)
{
	const char *v = n ? cfg_leaf(n, path) : NULL;

	return v ? (uint32_t)strtoul(v, NULL, 10) : dflt;
}

/* One SNAT rule: its LPM key (4 or 6) and target. */
struct snat_entry {
	int fam;
	struct nat_snat_lpm4_key k4;
	struct nat_snat_lpm6_key k6;
	struct nat_snat_target t;
};

static int snat_entry(const struct lyd_node *s, const char *where, struct snat_entry *e,
		      struct cn_error *err)
{
	const char *src = cfg_leaf(s, "source"), *to = cfg_leaf(s, "to-address");
	const char *masq = cfg_leaf(s, "masquerade");
	union cube_addr prefix;
	uint32_t plen = 0;
	int to_fam = 0;

	memset(e, 0, sizeof(*e));
	cfg_parse_prefix(src, &e->fam, &prefix, &plen);
	if (masq) {
		if (netdev_addr(masq, e->fam, &e->t.addr))
			return cn_fail(err, CN_ERR_INVALID_VALUE, where,
				       "snat %s: netdev '%s' has no IPv%d address to masquerade to",
				       src, masq, e->fam);
		e->t.flags = NAT_SNAT_F_MASQUERADE;
	} else if (cfg_parse_addr(to, &to_fam, &e->t.addr) || to_fam != e->fam) {
		return cn_fail(err, CN_ERR_INVALID_VALUE, where,
			       "snat %s: %s is not an address of the same family", src, to);
	}
	if (e->fam == CUBE_AF_INET) {
		e->k4 = (struct nat_snat_lpm4_key){plen, prefix.ip4};
	} else {
		e->k6.prefixlen = plen;
		memcpy(e->k6.saddr, prefix.bytes, 16);
	}
	return 0;
}

static int dnat_entry(const struct lyd_node *d, const char *where, struct nat_dnat_key *k,
		      struct nat_dnat_target *t, struct cn_error *err)
{
	int fam = 0, to_fam = 0;

	memset(k, 0, sizeof(*k));
	memset(t, 0, sizeof(*t));
	cfg_parse_addr(cfg_leaf(d, "address"), &fam, &k->daddr);
	cfg_parse_addr(cfg_leaf(d, "to-address"), &to_fam, &t->addr);
	if (fam != to_fam)
		return cn_fail(err, CN_ERR_INVALID_VALUE, where,
			       "dnat %s: to-address %s is of another family",
			       cfg_leaf(d, "address"), cfg_leaf(d, "to-address"));
	k->family = (uint8_t)fam;
	k->dport = htons((uint16_t)u32_leaf(d, "port", 0));
	k->proto = strcmp(cfg_leaf(d, "protocol"), "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	t->port = htons((uint16_t)u32_leaf(d, "to-port", 0));
	t->flags = NAT_DNAT_F_VALID;
	return 0;
}

static struct nat_cfg cfg_entry(const struct lyd_node *nat)
{
	return (struct nat_cfg){
	    .port_min = (uint16_t)u32_leaf(nat, "port-range/min", 0),
	    .port_max = (uint16_t)u32_leaf(nat, "port-range/max", 0),
	    .timeout_tcp_established_s = u32_leaf(nat, "timeouts/tcp-established", 0),
	    .timeout_tcp_transitory_s = u32_leaf(nat, "timeouts/tcp-transitory", 0),
	    .timeout_udp_s = u32_leaf(nat, "timeouts/udp", 0),
	    .timeout_icmp_s = u32_leaf(nat, "timeouts/icmp", 0),
	};
}

struct write_ctx {
	struct cube *cube;
	const char *where;
	int validate_only;
};

static int write_snat(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		      struct cn_error *err)
{
	struct write_ctx *x = arg;
	struct snat_entry e;
	const struct lyd_node *entry = now ? now : was;
	int rc;

	if (now && snat_entry(now, x->where, &e, err))
		return -1;
	if (x->validate_only)
		return 0;
	if (!now && snat_entry(was, x->where, &e, err)) {
		/* A masquerade netdev gone since: the key is all delete needs. */
		union cube_addr prefix;
		uint32_t plen = 0;

		*err = (struct cn_error){0};
		cfg_parse_prefix(cfg_leaf(was, "source"), &e.fam, &prefix, &plen);
		e.k4 = (struct nat_snat_lpm4_key){plen, prefix.ip4};
		e.k6.prefixlen = plen;
		memcpy(e.k6.saddr, prefix.bytes, 16);
	}
	int fd = cube_map_fd(x->cube, e.fam == CUBE_AF_INET ? "nat_snat4" : "nat_snat6");
	const void *key = e.fam == CUBE_AF_INET ? (const void *)&e.k4 : (const void *)&e.k6;
	size_t key_size = e.fam == CUBE_AF_INET ? sizeof(e.k4) : sizeof(e.k6);

	rc = now ? map_txn_update(&txn, fd, key, key_size, &e.t, sizeof(e.t))
		 : map_txn_delete(&txn, fd, key, key_size, sizeof(e.t));
	return rc ? cn_fail(err, CN_ERR_OPERATION_FAILED, x->where, "snat %s: %s",
			    cfg_leaf(entry, "source"), strerror(-rc))
		  : 0;
}

static int write_dnat(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		      struct cn_error *err)
{
	struct write_ctx *x = arg;
	struct nat_dnat_key k;
	struct nat_dnat_target t;
	const struct lyd_node *entry = now ? now : was;
	int rc, fd;

	if (dnat_entry(entry, x->where, &k, &t, err))
		return now ? -1 : (*err = (struct cn_error){0}, 0);
	if (x->validate_only)
		return 0;
	fd = cube_map_fd(x->cube, "nat_dnat");
	rc = now ? map_txn_update(&txn, fd, &k, sizeof(k), &t, sizeof(t))
		 : map_txn_delete(&txn, fd, &k, sizeof(k), sizeof(t));
	return rc ? cn_fail(err, CN_ERR_OPERATION_FAILED, x->where, "dnat %s: %s",
			    cfg_leaf(entry, "address"), strerror(-rc))
		  : 0;
}

/* Everything from one full entry into a cube's own maps (a fresh one, or
 * the restore). */
static int write_all(struct cube *cube, const struct lyd_node *nat, const char *where,
		     struct cn_error *err)
{
	struct ly_set *snats = NULL, *dnats = NULL;
	size_t ns = 0, nd = 0, n4 = 0, n6 = 0;
	struct nat_snat_lpm4_key *k4 = NULL;
	struct nat_snat_lpm6_key *k6 = NULL;
	struct nat_snat_target *t4 = NULL, *t6 = NULL;
	struct nat_dnat_key *dk = NULL;
	struct nat_dnat_target *dt = NULL;
	int e = -ENOMEM, rc = -1;

	if (nat && (lyd_find_xpath(nat, "snat", &snats) || lyd_find_xpath(nat, "dnat", &dnats)))
		goto out;
	ns = snats ? snats->count : 0;
	nd = dnats ? dnats->count : 0;
	k4 = calloc(ns + 1, sizeof(*k4));
	k6 = calloc(ns + 1, sizeof(*k6));
	t4 = calloc(ns + 1, sizeof(*t4));
	t6 = calloc(ns + 1, sizeof(*t6));
	dk = calloc(nd + 1, sizeof(*dk));
	dt = calloc(nd + 1, sizeof(*dt));
	if (!k4 || !k6 || !t4 || !t6 || !dk || !dt)
		goto fail;
	for (size_t i = 0; i < ns; i++) {
		struct snat_entry s;

		if (snat_entry(snats->dnodes[i], where, &s, err))
			goto out;
		if (s.fam == CUBE_AF_INET)
			k4[n4] = s.k4, t4[n4++] = s.t;
		else
			k6[n6] = s.k6, t6[n6++] = s.t;
	}
	for (size_t i = 0; i < nd; i++)
		if (dnat_entry(dnats->dnodes[i], where, &dk[i], &dt[i], err))
			goto out;
	struct nat_cfg cfg = cfg_entry(nat);
	uint32_t zero = 0;

	e = bpf_map_update_elem(cube_map_fd(cube, "nat_cfg"), &zero, &cfg, BPF_ANY) ? -errno : 0;
	if (!e)
		e = map_sync(cube_map_fd(cube, "nat_snat4"), k4, t4, n4, sizeof(*k4), sizeof(*t4));
	if (!e)
		e = map_sync(cube_map_fd(cube, "nat_snat6"), k6, t6, n6, sizeof(*k6), sizeof(*t6));
	if (!e)
		e = map_sync(cube_map_fd(cube, "nat_dnat"), dk, dt, nd, sizeof(*dk), sizeof(*dt));
fail:
	if (e)
		cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot program the nat maps: %s",
			strerror(-e));
	else
		rc = 0;
out:
	ly_set_free(snats, NULL);
	ly_set_free(dnats, NULL);
	free(k4);
	free(k6);
	free(t4);
	free(t6);
	free(dk);
	free(dt);
	return rc;
}

static int each_nat(struct runtime *rt, const struct ds_change *c, int validate_only,
		    struct cn_error *err)
{
	const struct lyd_node *top = cfg_find(c->config, NATS);

	for (const struct lyd_node *nat = top ? lyd_child(top) : NULL; nat; nat = nat->next) {
		const char *name = cfg_leaf(nat, "name");
		char where[160], xpath[200];
		struct cube *cube = rt_cube(rt, name);
		struct write_ctx x = {cube, where, validate_only};
		int fresh = !validate_only && rt_cube_fresh(rt, name);

		snprintf(where, sizeof(where), NATS "/nat[name='%s']", name);
		if (!c->restore && !fresh && !(c->diff && cfg_at(c->diff, where)))
			continue;
		if (!validate_only && !cube)
			continue;
		if (!validate_only && c->restore) {
			if (write_all(cube, nat, where, err))
				return -1;
			continue;
		}
		if (fresh && write_all(cube, cfg_at(c->running, where), where, err))
			return -1;
		snprintf(xpath, sizeof(xpath), "%s/snat", where);
		if (cfg_each_change(c, xpath, write_snat, &x, err))
			return -1;
		snprintf(xpath, sizeof(xpath), "%s/dnat", where);
		if (cfg_each_change(c, xpath, write_dnat, &x, err))
			return -1;
		if (!validate_only) {
			struct nat_cfg cfg = cfg_entry(nat);
			uint32_t zero = 0;
			int e = map_txn_update(&txn, cube_map_fd(cube, "nat_cfg"), &zero,
					       sizeof(zero), &cfg, sizeof(cfg));

			if (e)
				return cn_fail(err, CN_ERR_OPERATION_FAILED, where,
					       "cannot program the nat maps: %s", strerror(-e));
		}
	}
	return 0;
}

static int nat_validate(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	return each_nat(rt, c, 1, err);
}

static int nat_apply(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	return each_nat(rt, c, 0, err);
}

static void nat_commit(struct runtime *rt, const struct ds_change *c)
{
	(void)rt;
	(void)c;
	map_txn_commit(&txn);
}

static void nat_abort(struct runtime *rt, const struct ds_change *c)
{
	(void)rt;
	(void)c;
	map_txn_abort(&txn);
}

static const char *const independent[] = {
    NATS "/nat/snat",
    NATS "/nat/dnat",
    NULL,
};

static const struct service nat_service = {
    .name = "nat",
    .module = "cubenet-nat",
    .independent = independent,
    .cube_type = "nat",
    .validate = nat_validate,
    .apply = nat_apply,
    .commit = nat_commit,
    .abort = nat_abort,
};
CUBENET_SERVICE(nat_service);
