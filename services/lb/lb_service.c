// SPDX-License-Identifier: Apache-2.0
/*
 * The lb service: each /cubenet-lb:lbs/lb becomes its own chain,
 *
 *   NAME:parser -> NAME:classifier -> NAME:maglev -> NAME:l2rewrite -> tx
 *
 * attached to the lb's netdev in XDP; unmatched packets pass to the stack.
 * VIPs are independent entries: a change to one VIP (a backend added,
 * drained, reweighted) writes that VIP's entries only. VIPs and backends
 * keep their ids for their life, and at a restart take back the ids the
 * adopted maps hold (a backend is known by its VIP, MAC and VLAN), so the
 * connection table stays right. Each change writes, in order: new
 * backends' L2 targets and states, the VIP's ring (into a fresh region,
 * then one descriptor update), its classifier entry, then what is gone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "config_read.h"
#include "id_pool.h"
#include "lb_maps.h"
#include "maglev_store.h"
#include "map_txn.h"
#include "netdev.h"
#include "runtime.h"
#include "service.h"
#include "str_map.h"
#include "lib/abi/classifier.h"
#include "lib/abi/l2rewrite.h"
#include "lib/abi/maglev.h"

#define LBS "/cubenet-lb:lbs"

/* Map sizes grow in powers of two from these, with the ids in use, so an
 * lb with a few VIPs costs kilobytes, not the seed's maximum. */
#define LB_MIN_VIPS	64
#define LB_MIN_BACKENDS 256
#define LB_MIN_SLOTS	(1u << 16)
#define LB_MAX_VIPS	16384 /* the seed asks for 4,096; 10,000 are benchmarked */
#define LB_MAX_BACKENDS 65536 /* over all VIPs of one lb */

enum { S_PARSER, S_CLASSIFIER, S_MAGLEV, S_L2REWRITE, N_STAGES };
static const char *const stages[N_STAGES] = {"parser", "classifier", "maglev", "l2rewrite"};

struct lb_backend {
	char name[64];
	uint32_t id;
	struct l2rewrite_target target;
	uint32_t state, weight;
};

struct lb_vip {
	char key[128]; /* address|port|protocol */
	struct classifier_key ck;
	uint32_t flags, table_size; /* table_size 0: follows the backends */
	struct lb_backend *bes;
	uint32_t n_bes;
};

struct lb_vip_change {
	uint32_t id;
	struct lb_vip *now; /* NULL: it goes */
};

struct lb {
	char name[64];
	struct lb_vip **vips; /* by id */
	struct str_map vip_index;
	struct id_pool vip_ids, backend_ids;
	struct maglev_store store;
	struct cube *store_cube;
	struct lb_vip_change *changes;
	size_t n_changes, cap_changes;
	uint64_t next_slots;
	uint32_t sizes_vips, sizes_backends, sizes_slots; /* only grow while it lives */
	int gone;
	/* Adopted at a restart: "vip key" -> id, "vip id|mac|vlan" -> backend id. */
	struct str_map adopted_vips, adopted_backends;
};

static struct lb **lbs;
static size_t n_lbs;
static struct map_txn txn;

static void stage_name(char *out, size_t size, const char *lb, int stage)
{
	snprintf(out, size, "%s:%s", lb, stages[stage]);
}

static struct cube *stage_cube(struct runtime *rt, const struct lb *lb, int stage)
{
	char name[96];

	stage_name(name, sizeof(name), lb->name, stage);
	return rt_cube(rt, name);
}

static void vip_free(struct lb_vip *v)
{
	if (v)
		free(v->bes);
	free(v);
}

static void lb_free(struct lb *lb)
{
	for (uint32_t i = 0; lb->vips && i < LB_MAX_VIPS; i++)
		vip_free(lb->vips[i]);
	free(lb->vips);
	str_map_free(&lb->vip_index);
	str_map_free(&lb->adopted_vips);
	str_map_free(&lb->adopted_backends);
	id_pool_free_all(&lb->vip_ids);
	id_pool_free_all(&lb->backend_ids);
	if (lb->store_cube)
		maglev_store_close(&lb->store);
	for (size_t i = 0; i < lb->n_changes; i++)
		vip_free(lb->changes[i].now);
	free(lb->changes);
	free(lb);
}

static struct lb *lb_find(const char *name, int create)
{
	struct lb *lb, **grown;

	for (size_t i = 0; i < n_lbs; i++)
		if (!strcmp(lbs[i]->name, name))
			return lbs[i];
	if (!create || !(lb = calloc(1, sizeof(*lb))))
		return NULL;
	snprintf(lb->name, sizeof(lb->name), "%s", name);
	lb->vips = calloc(LB_MAX_VIPS, sizeof(*lb->vips));
	grown = realloc(lbs, (n_lbs + 1) * sizeof(*grown));
	if (!lb->vips || !grown || id_pool_init(&lb->vip_ids, LB_MAX_VIPS) ||
	    id_pool_init(&lb->backend_ids, LB_MAX_BACKENDS)) {
		free(grown == lbs ? NULL : grown);
		lb_free(lb);
		return NULL;
	}
	lbs = grown;
	lbs[n_lbs++] = lb;
	return lb;
}

static void where_of(const char *lb, char *out, size_t size)
{
	snprintf(out, size, LBS "/lb[name='%s']", lb);
}

/* ---- config -> VIPs ---- */

static int vip_from(const struct lyd_node *vip, const uint8_t smac[6], const char *where,
		    struct lb_vip **out, struct cn_error *err)
{
	struct lb_vip *v = calloc(1, sizeof(*v));
	const char *addr = cfg_leaf(vip, "address"), *size = cfg_leaf(vip, "table-size"), *x;
	union cube_addr a;
	size_t n = 0;
	int fam = 0;

	*out = NULL;
	if (!v)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
	snprintf(v->key, sizeof(v->key), "%s|%s|%s", addr, cfg_leaf(vip, "port"),
		 cfg_leaf(vip, "protocol"));
	cfg_parse_addr(addr, &fam, &a);
	v->ck = lb_vip_key(&a, (uint8_t)fam, (uint16_t)atoi(cfg_leaf(vip, "port")),
			   strcmp(cfg_leaf(vip, "protocol"), "udp") == 0 ? 17 : 6,
			   (x = cfg_leaf(vip, "vlan-id")) ? (uint16_t)atoi(x) : 0);
	if (strcmp(cfg_leaf(vip, "connection-table") ?: "true", "true") == 0)
		v->flags |= MAGLEV_SVC_F_CONN_TABLE;
	if (strcmp(cfg_leaf(vip, "hash") ?: "", "source-address") == 0)
		v->flags |= MAGLEV_SVC_F_HASH_SRC;
	v->table_size = size ? (uint32_t)strtoul(size, NULL, 10) : 0;
	if (v->table_size && !maglev_is_prime(v->table_size)) {
		vip_free(v);
		return cn_fail(err, CN_ERR_INVALID_VALUE, where,
			       "vip %s: table-size %s is not a prime", addr, size);
	}
	for (const struct lyd_node *b = lyd_child(vip); b; b = b->next)
		n += strcmp(b->schema->name, "backend") == 0;
	v->bes = calloc(n + 1, sizeof(*v->bes));
	if (!v->bes) {
		vip_free(v);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
	}
	for (const struct lyd_node *b = lyd_child(vip); b; b = b->next) {
		struct lb_backend *be = &v->bes[v->n_bes];
		uint8_t mac[6], action = L2REWRITE_VLAN_KEEP;
		uint16_t vid = 0;

		if (strcmp(b->schema->name, "backend"))
			continue;
		snprintf(be->name, sizeof(be->name), "%s", cfg_leaf(b, "name"));
		cfg_parse_mac(cfg_leaf(b, "mac"), mac);
		if ((x = cfg_leaf(b, "vlan-id")))
			action = L2REWRITE_VLAN_SET, vid = (uint16_t)atoi(x);
		else if (cfg_at(b, "untagged"))
			action = L2REWRITE_VLAN_POP;
		be->target = lb_backend_target(mac, smac, action, vid);
		be->weight = (uint32_t)atoi(cfg_leaf(b, "weight") ?: "1");
		be->state = strcmp(cfg_leaf(b, "state") ?: "active", "draining") == 0
				? MAGLEV_BACKEND_DRAINING
				: MAGLEV_BACKEND_ACTIVE;
		be->id = UINT32_MAX;
		/* A backend is where its frames go: two with one MAC and VLAN are one. */
		for (uint32_t o = 0; o < v->n_bes; o++)
			if (!memcmp(&v->bes[o].target, &be->target, sizeof(be->target))) {
				cn_fail(err, CN_ERR_INVALID_VALUE, where,
					"vip %s: backends %s and %s have the same MAC and VLAN",
					addr, v->bes[o].name, be->name);
				vip_free(v);
				return -1;
			}
		v->n_bes++;
	}
	*out = v;
	return 0;
}

/* ---- the change in flight ---- */

static struct lb_vip_change *change_of(struct lb *lb, uint32_t id)
{
	for (size_t i = 0; i < lb->n_changes; i++)
		if (lb->changes[i].id == id)
			return &lb->changes[i];
	return NULL;
}

static int add_change(struct lb *lb, uint32_t id, struct lb_vip *now)
{
	if (lb->n_changes == lb->cap_changes) {
		size_t cap = lb->cap_changes ? 2 * lb->cap_changes : 16;
		struct lb_vip_change *grown = realloc(lb->changes, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		lb->changes = grown;
		lb->cap_changes = cap;
	}
	lb->changes[lb->n_changes++] = (struct lb_vip_change){id, now};
	return 0;
}

static void drop_changes(struct lb *lb)
{
	for (size_t i = 0; i < lb->n_changes; i++)
		vip_free(lb->changes[i].now);
	lb->n_changes = 0;
}

static void backend_text(uint32_t vip, const struct l2rewrite_target *t, char *out, size_t size)
{
	snprintf(out, size, "%u|%02x%02x%02x%02x%02x%02x|%u|%u", vip, t->dmac[0], t->dmac[1],
		 t->dmac[2], t->dmac[3], t->dmac[4], t->dmac[5], t->vlan_action, t->vlan_id);
}

struct plan_ctx {
	struct lb *lb;
	const struct ds_change *c;
	const char *where;
	uint8_t smac[6];
};

static int plan_vip(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		    struct cn_error *err)
{
	struct plan_ctx *x = arg;
	struct lb *lb = x->lb;
	struct lb_vip *v = NULL;
	char key[128];
	uint32_t id;
	const struct lyd_node *entry = now ? now : was;

	snprintf(key, sizeof(key), "%s|%s|%s", cfg_leaf(entry, "address"), cfg_leaf(entry, "port"),
		 cfg_leaf(entry, "protocol"));
	if (!now) {
		if (!str_map_get(&lb->vip_index, key, &id) && add_change(lb, id, NULL))
			return cn_fail(err, CN_ERR_OPERATION_FAILED, x->where, "out of memory");
		return 0;
	}
	if (vip_from(now, x->smac, x->where, &v, err))
		return -1;
	if (str_map_get(&lb->vip_index, key, &id) &&
	    (str_map_get(&lb->adopted_vips, key, &id) || id_pool_reserve(&lb->vip_ids, id)) &&
	    id_pool_alloc(&lb->vip_ids, &id)) {
		vip_free(v);
		return cn_fail(err, CN_ERR_TOO_BIG, x->where, "at most %d VIPs per lb",
			       LB_MAX_VIPS);
	}
	const struct lb_vip *old = lb->vips[id];

	for (uint32_t b = 0; b < v->n_bes; b++) {
		struct lb_backend *be = &v->bes[b];
		char text[64];
		uint32_t bid;

		for (uint32_t o = 0; old && o < old->n_bes; o++)
			if (!strcmp(old->bes[o].name, be->name))
				be->id = old->bes[o].id;
		backend_text(id, &be->target, text, sizeof(text));
		if (be->id == UINT32_MAX && !str_map_get(&lb->adopted_backends, text, &bid) &&
		    !id_pool_reserve(&lb->backend_ids, bid))
			be->id = bid;
		if (be->id == UINT32_MAX && id_pool_alloc(&lb->backend_ids, &be->id)) {
			vip_free(v);
			return cn_fail(err, CN_ERR_TOO_BIG, x->where, "at most %d backends per lb",
				       LB_MAX_BACKENDS);
		}
	}
	lb->next_slots += v->table_size ? v->table_size : maglev_auto_size(v->n_bes);
	if (add_change(lb, id, v)) {
		vip_free(v);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, x->where, "out of memory");
	}
	return 0;
}

static int plan_lb(struct runtime *rt, const struct ds_change *c, const struct lyd_node *entry,
		   struct cn_error *err)
{
	const char *name = cfg_leaf(entry, "name"), *v;
	struct lb *lb = lb_find(name, 1);
	char where[160], xpath[200];
	struct plan_ctx x = {lb, c, where, {0}};
	const struct lyd_node *now;

	(void)rt;
	where_of(name, where, sizeof(where));
	if (!lb)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
	drop_changes(lb);
	now = cfg_at(c->config, where);
	lb->gone = !now;
	if (lb->gone)
		return 0;
	if ((v = cfg_leaf(now, "source-mac")) ? cfg_parse_mac(v, x.smac)
					      : netdev_mac(cfg_leaf(now, "netdev"), x.smac))
		return cn_fail(err, CN_ERR_INVALID_VALUE, where, "no MAC for netdev '%s'",
			       cfg_leaf(now, "netdev"));
	lb->next_slots = lb->store_cube ? maglev_store_slots_spanned(&lb->store) : 0;
	snprintf(xpath, sizeof(xpath), "%s/vip", where);
	if (cfg_each_change(c, xpath, plan_vip, &x, err))
		return -1;
	/* A new source MAC is in every backend's target. */
	for (uint32_t id = 0; id < LB_MAX_VIPS && lb->vips; id++) {
		struct lb_vip *old = lb->vips[id], *copy;

		if (!old || change_of(lb, id) || !old->n_bes ||
		    !memcmp(old->bes[0].target.smac, x.smac, 6))
			continue;
		if (!(copy = malloc(sizeof(*copy))) ||
		    !(*copy = *old, copy->bes = malloc(old->n_bes * sizeof(*old->bes)))) {
			free(copy);
			return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
		}
		memcpy(copy->bes, old->bes, old->n_bes * sizeof(*old->bes));
		for (uint32_t b = 0; b < copy->n_bes; b++)
			memcpy(copy->bes[b].target.smac, x.smac, 6);
		if (add_change(lb, id, copy))
			return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
	}
	return 0;
}

static int lb_validate(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	const struct lyd_node *top = cfg_find(c->diff, LBS);

	for (const struct lyd_node *n = top ? lyd_child(top) : NULL; n; n = n->next)
		if (!strcmp(n->schema->name, "lb") && plan_lb(rt, c, n, err))
			return -1;
	return 0;
}

/* ---- compose ---- */

static uint32_t pow2_at_least(uint64_t floor, uint64_t need)
{
	uint64_t n = floor;

	while (n < need)
		n *= 2;
	return (uint32_t)n;
}

static uint32_t grow_to(uint32_t have, uint32_t want)
{
	return want > have ? want : have;
}

static int lb_compose(struct runtime *rt, const struct lyd_node *config,
		      const struct service_builder *b, struct cn_error *err)
{
	const struct lyd_node *top = cfg_find(config, LBS);

	(void)rt;
	for (const struct lyd_node *n = top ? lyd_child(top) : NULL; n; n = n->next) {
		const char *name = cfg_leaf(n, "name"), *mode = cfg_leaf(n, "attach-mode") ?: "xdp";
		struct lb *lb = lb_find(name, 1);
		char cube[N_STAGES][96];

		if (!lb)
			return cn_fail(err, CN_ERR_OPERATION_FAILED, LBS, "out of memory");
		lb->sizes_vips =
		    grow_to(lb->sizes_vips, pow2_at_least(LB_MIN_VIPS, lb->vip_ids.top));
		lb->sizes_backends = grow_to(lb->sizes_backends,
					     pow2_at_least(LB_MIN_BACKENDS, lb->backend_ids.top));
		lb->sizes_slots =
		    grow_to(lb->sizes_slots,
			    pow2_at_least(LB_MIN_SLOTS, lb->next_slots + lb->next_slots / 4));
		const struct service_map_size classifier[] = {
		    {"classifier_services", lb->sizes_vips}};
		const struct service_map_size maglev[] = {
		    {"maglev_services", lb->sizes_vips},
		    {"maglev_service_stats", lb->sizes_vips},
		    {"maglev_backends", lb->sizes_backends},
		    {"maglev_backend_stats", lb->sizes_backends},
		    {"maglev_slots", lb->sizes_slots / MAGLEV_SLOTS_PER_ENTRY},
		    {"maglev_conns",
		     (uint32_t)strtoul(cfg_leaf(n, "connection-table-size") ?: "65536", NULL, 10)},
		};
		const struct service_map_size l2rewrite[] = {
		    {"l2rewrite_targets", lb->sizes_backends}};

		for (int i = 0; i < N_STAGES; i++)
			stage_name(cube[i], sizeof(cube[i]), name, i);
		if (b->cube(b->arg, cube[S_PARSER], "parser", CUBE_HOOK_XDP, NULL, 0, err) ||
		    b->cube(b->arg, cube[S_CLASSIFIER], "classifier", CUBE_HOOK_XDP, classifier, 1,
			    err) ||
		    b->cube(b->arg, cube[S_MAGLEV], "maglev", CUBE_HOOK_XDP, maglev, 6, err) ||
		    b->cube(b->arg, cube[S_L2REWRITE], "l2rewrite", CUBE_HOOK_XDP, l2rewrite, 1,
			    err))
			return -1;
		/* The classifier's miss verdict is its default, pass: what is not
		 * for a VIP reaches the kernel stack untouched. */
		if (b->wire(b->arg, cube[S_PARSER], 0, CUBE_PORT_CUBE, cube[S_CLASSIFIER], err) ||
		    b->wire(b->arg, cube[S_CLASSIFIER], CLASSIFIER_PORT_HIT, CUBE_PORT_CUBE,
			    cube[S_MAGLEV], err) ||
		    b->wire(b->arg, cube[S_MAGLEV], MAGLEV_PORT_OUT, CUBE_PORT_CUBE,
			    cube[S_L2REWRITE], err) ||
		    b->wire(b->arg, cube[S_L2REWRITE], L2REWRITE_PORT_OUT, CUBE_PORT_TX, NULL,
			    err) ||
		    b->attach(b->arg, cube[S_PARSER], cfg_leaf(n, "netdev"),
			      strcmp(mode, "xdp-generic") == 0 ? ATTACH_XDP_GENERIC
							       : ATTACH_XDP_NATIVE,
			      0, err))
			return -1;
	}
	return 0;
}

/* ---- writing ---- */

static int open_store(struct runtime *rt, struct lb *lb)
{
	struct cube *maglev = stage_cube(rt, lb, S_MAGLEV);
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	int fd, e;

	if (!maglev)
		return -ENOENT;
	if (maglev == lb->store_cube)
		return 0;
	if (lb->store_cube)
		maglev_store_close(&lb->store);
	lb->store_cube = NULL;
	fd = cube_map_fd(maglev, "maglev_slots");
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	e = maglev_store_open(&lb->store, cube_map_fd(maglev, "maglev_services"), fd,
			      cube_map_fd(maglev, "maglev_backends"),
			      info.max_entries * MAGLEV_SLOTS_PER_ENTRY, LB_MAX_VIPS);
	if (!e)
		lb->store_cube = maglev;
	return e;
}

static const struct lb_backend *backend_named(const struct lb_vip *v, const char *name)
{
	for (uint32_t i = 0; v && i < v->n_bes; i++)
		if (!strcmp(v->bes[i].name, name))
			return &v->bes[i];
	return NULL;
}

static int has_backend_id(const struct lb_vip *v, uint32_t id)
{
	for (uint32_t i = 0; v && i < v->n_bes; i++)
		if (v->bes[i].id == id)
			return 1;
	return 0;
}

static int write_vip(struct runtime *rt, struct lb *lb, uint32_t id, const struct lb_vip *v,
		     const struct lb_vip *old, int full, int restore)
{
	int targets = cube_map_fd(stage_cube(rt, lb, S_L2REWRITE), "l2rewrite_targets");
	int stats = cube_map_fd(stage_cube(rt, lb, S_MAGLEV), "maglev_backend_stats");
	int classifier = cube_map_fd(stage_cube(rt, lb, S_CLASSIFIER), "classifier_services");
	int ncpu = libbpf_num_possible_cpus();
	struct maglev_counters *zero = calloc((size_t)ncpu, sizeof(*zero));
	struct maglev_backend_spec *specs = calloc(v->n_bes + 1, sizeof(*specs));
	struct maglev_service desc = {.flags = v->flags};
	uint32_t *table = NULL, size = v->table_size, n = 0;
	int e = zero && specs ? 0 : -ENOMEM;

	/* 1. What the new ring may point to. */
	for (uint32_t i = 0; i < v->n_bes && !e; i++) {
		const struct lb_backend *be = &v->bes[i], *was = backend_named(old, be->name);
		int known = was && was->id == be->id;

		if (!full && known && !memcmp(&was->target, &be->target, sizeof(be->target)) &&
		    was->state == be->state)
			continue;
		if (!known && !restore && bpf_map_update_elem(stats, &be->id, zero, BPF_ANY))
			e = -errno;
		if (!e)
			e = known || restore
				? map_txn_update(&txn, targets, &be->id, sizeof(be->id),
						 &be->target, sizeof(be->target))
				: (bpf_map_update_elem(targets, &be->id, &be->target, BPF_ANY)
				       ? -errno
				       : 0);
		if (!e)
			e = maglev_store_set_backend(&lb->store, &txn, be->id, id, be->state);
	}
	/* 2. The ring, swapped in whole: draining backends keep their flows and
	 * get no new ones (they are in no table). */
	for (uint32_t i = 0; i < v->n_bes && !e; i++)
		if (v->bes[i].state == MAGLEV_BACKEND_ACTIVE)
			lb_backend_spec(&specs[n++], v->bes[i].id, v->bes[i].name,
					v->bes[i].weight);
	if (!e)
		e = maglev_store_build(specs, n, &size, &table);
	if (!e && maglev_store_ring_is(&lb->store, id, table, size)) {
		if (full || !old || old->flags != v->flags)
			e = maglev_store_set_flags(&lb->store, &txn, id, v->flags, 0);
	} else if (!e) {
		e = maglev_store_set_table(&lb->store, &txn, id, &desc, table, size);
	}
	/* 3. The VIP itself. */
	struct classifier_value val = {.service_id = id};

	if (!e && (full || !old || memcmp(&old->ck, &v->ck, sizeof(v->ck))))
		e = map_txn_update(&txn, classifier, &v->ck, sizeof(v->ck), &val, sizeof(val));
	if (!e && old && memcmp(&old->ck, &v->ck, sizeof(v->ck)))
		e = map_txn_delete(&txn, classifier, &old->ck, sizeof(old->ck), sizeof(val));
	/* 4. Backends that left: their pinned flows are re-balanced. */
	for (uint32_t i = 0; old && i < old->n_bes && !e; i++)
		if (!has_backend_id(v, old->bes[i].id))
			e = maglev_store_set_backend(&lb->store, &txn, old->bes[i].id, id,
						     MAGLEV_BACKEND_ABSENT);
	free(zero);
	free(specs);
	free(table);
	return e;
}

static int write_gone(struct runtime *rt, struct lb *lb, uint32_t id, const struct lb_vip *old)
{
	int classifier = cube_map_fd(stage_cube(rt, lb, S_CLASSIFIER), "classifier_services");
	int e = map_txn_delete(&txn, classifier, &old->ck, sizeof(old->ck),
			       sizeof(struct classifier_value));

	if (!e)
		e = maglev_store_remove(&lb->store, &txn, id);
	for (uint32_t i = 0; i < old->n_bes && !e; i++)
		e = maglev_store_set_backend(&lb->store, &txn, old->bes[i].id, id,
					     MAGLEV_BACKEND_ABSENT);
	return e;
}

/* Which wider lookups the classifier must try, for the VIPs that stay. */
static int write_classifier_cfg(struct runtime *rt, struct lb *lb)
{
	struct classifier_cfg cfg = {0};
	uint32_t zero = 0;

	for (uint32_t id = 0; id < lb->vip_ids.top; id++) {
		struct lb_vip_change *ch = change_of(lb, id);
		const struct lb_vip *v = ch ? ch->now : lb->vips[id];

		if (!v)
			continue;
		if (v->ck.vlan_id)
			cfg.flags |= CLASSIFIER_CFG_VLAN_KEYS;
		if (!v->ck.port)
			cfg.flags |= CLASSIFIER_CFG_WILDCARD_PORT;
	}
	return map_txn_update(&txn, cube_map_fd(stage_cube(rt, lb, S_CLASSIFIER), "classifier_cfg"),
			      &zero, sizeof(zero), &cfg, sizeof(cfg));
}

/* At a restart: the ids the adopted maps hold. */
static void adopt(struct runtime *rt, struct lb *lb)
{
	int classifier = cube_map_fd(stage_cube(rt, lb, S_CLASSIFIER), "classifier_services");
	int targets = cube_map_fd(stage_cube(rt, lb, S_L2REWRITE), "l2rewrite_targets");
	int states = cube_map_fd(stage_cube(rt, lb, S_MAGLEV), "maglev_backends");
	struct classifier_key key, next;
	struct classifier_value v;
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	char text[128], addr[INET6_ADDRSTRLEN];
	int rc;

	for (rc = bpf_map_get_next_key(classifier, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(classifier, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(classifier, &key, &v))
			continue;
		inet_ntop(key.family == CUBE_AF_INET6 ? AF_INET6 : AF_INET, key.vip.bytes, addr,
			  sizeof(addr));
		snprintf(text, sizeof(text), "%s|%u|%s", addr, ntohs(key.port),
			 key.proto == 17 ? "udp" : "tcp");
		str_map_set(&lb->adopted_vips, text, v.service_id);
	}
	if (bpf_obj_get_info_by_fd(states, &info, &len))
		return;
	for (uint32_t bid = 0; bid < info.max_entries; bid++) {
		struct maglev_backend b;
		struct l2rewrite_target t;

		if (bpf_map_lookup_elem(states, &bid, &b) || b.state == MAGLEV_BACKEND_ABSENT ||
		    bpf_map_lookup_elem(targets, &bid, &t) || !(t.flags & L2REWRITE_F_VALID))
			continue;
		backend_text(b.service_id, &t, text, sizeof(text));
		str_map_set(&lb->adopted_backends, text, bid);
	}
}

static int apply_lb(struct runtime *rt, const struct ds_change *c, struct lb *lb,
		    const struct lyd_node *entry, struct cn_error *err)
{
	char where[160];
	int full = c->restore, e = 0;

	where_of(lb->name, where, sizeof(where));
	for (int s = 0; s < N_STAGES; s++) {
		char name[96];

		stage_name(name, sizeof(name), lb->name, s);
		full |= rt_cube_empty(rt, name); /* one reloaded bigger has its maps copied */
	}
	if (open_store(rt, lb))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot open its maglev");
	if (c->restore) {
		/* The maps are adopted now: plan again, taking back their ids. */
		struct plan_ctx x = {lb, c, where, {0}};
		char xpath[200];
		const char *v = cfg_leaf(entry, "source-mac");

		drop_changes(lb);
		id_pool_abort(&lb->vip_ids);
		id_pool_abort(&lb->backend_ids);
		adopt(rt, lb);
		if (v ? cfg_parse_mac(v, x.smac) : netdev_mac(cfg_leaf(entry, "netdev"), x.smac))
			return cn_fail(err, CN_ERR_INVALID_VALUE, where, "no MAC for netdev '%s'",
				       cfg_leaf(entry, "netdev"));
		snprintf(xpath, sizeof(xpath), "%s/vip", where);
		if (cfg_each_change(c, xpath, plan_vip, &x, err))
			return -1;
	}
	for (uint32_t id = 0; full && !e && id < lb->vip_ids.top; id++)
		if (lb->vips[id] && !change_of(lb, id))
			e = write_vip(rt, lb, id, lb->vips[id], NULL, 1, c->restore);
	for (size_t i = 0; i < lb->n_changes && !e; i++) {
		const struct lb_vip_change *ch = &lb->changes[i];
		const struct lb_vip *old = lb->vips[ch->id];

		e = ch->now ? write_vip(rt, lb, ch->id, ch->now, old, full, c->restore)
		    : old   ? write_gone(rt, lb, ch->id, old)
			    : 0;
	}
	if (!e)
		e = write_classifier_cfg(rt, lb);
	if (e)
		return cn_fail(err, e == -ENOSPC ? CN_ERR_TOO_BIG : CN_ERR_OPERATION_FAILED, where,
			       "cannot program lb '%s': %s", lb->name, strerror(-e));
	return 0;
}

static int lb_apply(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	const struct lyd_node *top = cfg_find(c->config, LBS);

	for (const struct lyd_node *n = top ? lyd_child(top) : NULL; n; n = n->next) {
		const char *name = cfg_leaf(n, "name");
		struct lb *lb = lb_find(name, 1);
		char where[160], cube[96];
		int fresh = 0;

		where_of(name, where, sizeof(where));
		for (int s = 0; s < N_STAGES; s++) {
			stage_name(cube, sizeof(cube), name, s);
			fresh |= rt_cube_fresh(rt, cube);
		}
		if (!lb)
			return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
		if (!c->restore && !fresh && !cfg_at(c->diff, where))
			continue;
		if (apply_lb(rt, c, lb, n, err))
			return -1;
	}
	return 0;
}

static void lb_commit(struct runtime *rt, const struct ds_change *c)
{
	(void)rt;
	(void)c;
	map_txn_commit(&txn);
	for (size_t l = 0; l < n_lbs;) {
		struct lb *lb = lbs[l];

		if (lb->gone) {
			lbs[l] = lbs[--n_lbs];
			lb_free(lb);
			continue;
		}
		for (size_t i = 0; i < lb->n_changes; i++) {
			struct lb_vip_change *ch = &lb->changes[i];
			struct lb_vip *old = lb->vips[ch->id];

			for (uint32_t b = 0; old && b < old->n_bes; b++)
				if (!has_backend_id(ch->now, old->bes[b].id))
					id_pool_release(&lb->backend_ids, old->bes[b].id);
			if (old)
				str_map_del(&lb->vip_index, old->key);
			if (ch->now)
				str_map_set(&lb->vip_index, ch->now->key, ch->id);
			else
				id_pool_release(&lb->vip_ids, ch->id);
			vip_free(old);
			lb->vips[ch->id] = ch->now;
			ch->now = NULL;
		}
		lb->n_changes = 0;
		id_pool_commit(&lb->vip_ids);
		id_pool_commit(&lb->backend_ids);
		if (lb->store_cube)
			maglev_store_commit(&lb->store);
		str_map_free(&lb->adopted_vips);
		str_map_free(&lb->adopted_backends);
		l++;
	}
}

static void lb_abort(struct runtime *rt, const struct ds_change *c)
{
	(void)rt;
	(void)c;
	map_txn_abort(&txn);
	for (size_t l = 0; l < n_lbs; l++) {
		struct lb *lb = lbs[l];

		drop_changes(lb);
		lb->gone = 0;
		id_pool_abort(&lb->vip_ids);
		id_pool_abort(&lb->backend_ids);
		if (lb->store_cube) {
			maglev_store_abort(&lb->store);
			maglev_store_close(&lb->store); /* reopened on the live cube when used */
			lb->store_cube = NULL;
		}
	}
}

/* ---- state ---- */

static void put_u64(struct lyd_node *parent, const char *path, uint64_t v)
{
	char value[24];

	snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
	lyd_new_path(parent, NULL, path, value, LYD_NEW_PATH_UPDATE, NULL);
}

static void put_counters(struct lyd_node *parent, int fd, uint32_t id)
{
	struct maglev_counters c = {0};

	if (cube_percpu_sum(fd, id, &c, sizeof(c)))
		return;
	put_u64(parent, "statistics/packets", c.packets);
	put_u64(parent, "statistics/bytes", c.bytes);
}

static void chain_state(struct runtime *rt, struct lyd_node *node, const struct lb *lb)
{
	uint64_t drops[CUBE_DROP_MAX] = {0};
	struct cube_stats st;
	char path[96];

	if (!cube_read_stats(stage_cube(rt, lb, S_PARSER), &st))
		put_u64(node, "statistics/rx-packets", st.rx_packets);
	if (!cube_read_stats(stage_cube(rt, lb, S_CLASSIFIER), &st))
		put_u64(node, "statistics/not-for-a-vip", st.verdict[CUBE_VERDICT_PASS]);
	if (!cube_read_stats(stage_cube(rt, lb, S_L2REWRITE), &st))
		put_u64(node, "statistics/forwarded", st.verdict[CUBE_VERDICT_TX]);
	for (int s = 0; s < N_STAGES; s++)
		if (!cube_read_stats(stage_cube(rt, lb, s), &st))
			for (int r = 1; r < CUBE_DROP_MAX; r++)
				drops[r] += st.drop[r];
	for (int r = 1; r < CUBE_DROP_MAX; r++) {
		if (!drops[r])
			continue;
		snprintf(path, sizeof(path), "statistics/drop[reason='%s']/packets",
			 cube_drop_reason_name((unsigned int)r));
		put_u64(node, path, drops[r]);
	}
}

static void lb_state(struct runtime *rt, struct lyd_node *tree)
{
	const struct lyd_node *top = cfg_find(tree, LBS);

	for (struct lyd_node *n = top ? lyd_child(top) : NULL; n; n = n->next) {
		const struct lb *lb = lb_find(cfg_leaf(n, "name"), 0);
		struct cube *maglev = lb ? stage_cube(rt, lb, S_MAGLEV) : NULL;

		if (!maglev)
			continue;
		chain_state(rt, n, lb);
		/* Only the VIPs the tree holds: a GET of one VIP costs one. */
		for (struct lyd_node *v = lyd_child(n); v; v = v->next) {
			char key[128];
			uint32_t id;
			const struct lb_vip *vip;

			if (strcmp(v->schema->name, "vip"))
				continue;
			snprintf(key, sizeof(key), "%s|%s|%s", cfg_leaf(v, "address"),
				 cfg_leaf(v, "port"), cfg_leaf(v, "protocol"));
			if (str_map_get(&lb->vip_index, key, &id) || !(vip = lb->vips[id]))
				continue;
			put_counters(v, cube_map_fd(maglev, "maglev_service_stats"), id);
			/* From the datapath's descriptor: the store is closed
			 * after a write that failed, until the next one. */
			struct maglev_service desc = {0};

			bpf_map_lookup_elem(cube_map_fd(maglev, "maglev_services"), &id, &desc);
			put_u64(v, "statistics/table-size", desc.ring_size);
			put_u64(v, "statistics/memory-bytes",
				(uint64_t)desc.ring_size * sizeof(uint32_t) +
				    sizeof(struct maglev_service) +
				    vip->n_bes * (sizeof(struct maglev_backend) +
						  sizeof(struct l2rewrite_target) +
						  2 * sizeof(struct maglev_counters) *
						      (uint64_t)libbpf_num_possible_cpus()));
			for (struct lyd_node *b = lyd_child(v); b; b = b->next) {
				const struct lb_backend *be;

				if (strcmp(b->schema->name, "backend") ||
				    !(be = backend_named(vip, cfg_leaf(b, "name"))))
					continue;
				put_counters(b, cube_map_fd(maglev, "maglev_backend_stats"),
					     be->id);
			}
		}
	}
}

static const char *const independent[] = {
    LBS "/lb/vip",
    NULL,
};

static const struct service lb_service = {
    .name = "lb",
    .module = "cubenet-lb",
    .independent = independent,
    .validate = lb_validate,
    .compose = lb_compose,
    .apply = lb_apply,
    .commit = lb_commit,
    .abort = lb_abort,
    .state = lb_state,
};
CUBENET_SERVICE(lb_service);
