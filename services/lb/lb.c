// SPDX-License-Identifier: Apache-2.0
/*
 * The lb service: each /cubenet-lb:lbs/lb becomes its own chain,
 *
 *   NAME:parser -> NAME:classifier -> NAME:maglev -> NAME:l2rewrite -> tx
 *
 * attached to the lb's netdev in XDP; unmatched packets pass to the stack.
 * VIPs and backends get stable ids (lb_ids.c), the maps are sized for the
 * ids in use, and each apply programs, in this order: new backends' L2
 * targets and states, then the Maglev tables that changed (each swapped in
 * whole), then clears what is gone - so a packet never reaches a backend
 * that has no target yet, nor one that is no longer in any table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "service.h"
#include "common.h"
#include "lb_ids.h"
#include "maglev.h"
#include "maglev_map.h"
#include "map_sync.h"
#include "netdev.h"
#include "lib/abi/classifier.h"
#include "lib/abi/l2rewrite.h"
#include "lib/abi/maglev.h"
#include "lib/abi/meta.h"

/* Map sizes grow in powers of two from these, with the largest id in use,
 * so an lb with a few VIPs costs kilobytes, not the seed's maximum. */
#define LB_MIN_VIPS	64
#define LB_MIN_BACKENDS 256
#define LB_MAX_VIPS	16384 /* the seed asks for 4,096; 10,000 are benchmarked */
#define LB_MAX_BACKENDS 65536 /* over all VIPs of one lb */

#define LB_PATH	    "/cubenet-lb:lbs"
#define LB_IDS_FILE "lb-ids.json"

static struct lb_ids ids;
static int ids_loaded;

static const char *const stages[] = {"parser", "classifier", "maglev", "l2rewrite"};

static void stage_name(char *out, size_t size, const char *lb, const char *stage)
{
	snprintf(out, size, "%s:%s", lb, stage);
}

static uint32_t pow2_at_least(uint32_t floor, int64_t max_id)
{
	uint32_t n = floor;

	while ((int64_t)n <= max_id)
		n *= 2;
	return n;
}

/* "address port protocol", the VIP's identity for ids and errors. */
static void vip_key(const struct lyd_node *vip, char *out, size_t size)
{
	snprintf(out, size, "%s %s %s", svc_leaf(vip, "address"), svc_leaf(vip, "port"),
		 svc_leaf(vip, "protocol"));
}

static int ids_path(char *out, size_t size)
{
	return snprintf(out, size, "%s/%s", service_state_dir, LB_IDS_FILE) < (int)size ? 0 : -1;
}

static int load_ids(struct cn_error *err)
{
	char path[512];
	int e;

	if (ids_loaded)
		return 0;
	ids_path(path, sizeof(path));
	e = lb_ids_load(&ids, path);
	if (e)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, LB_PATH, "cannot read %s: %s", path,
			       strerror(-e));
	ids_loaded = 1;
	return 0;
}

struct lb_caps {
	uint32_t vips, backends, conns;
};

/* Give every VIP and backend of one lb its id; the map sizes that follow. */
static int assign_ids(const struct lyd_node *lb, struct lb_caps *caps, struct cn_error *err)
{
	const char *name = svc_leaf(lb, "name");
	char ns_vip[48], ns_be[48], key[256], bkey[340], where[96];
	struct ly_set *vips = NULL;
	size_t n_backends = 0;
	int rc = 0;

	snprintf(ns_vip, sizeof(ns_vip), "%s/vip", name);
	snprintf(ns_be, sizeof(ns_be), "%s/backend", name);
	snprintf(where, sizeof(where), LB_PATH "/lb[name='%s']", name);
	if (lyd_find_xpath(lb, "vip", &vips))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot read the VIPs");
	if (vips->count > LB_MAX_VIPS)
		rc = cn_fail(err, CN_ERR_TOO_BIG, where, "at most %d VIPs per lb", LB_MAX_VIPS);
	for (uint32_t i = 0; i < vips->count && !rc; i++) {
		const struct lyd_node *vip = vips->dnodes[i];
		const char *size = svc_leaf(vip, "table-size");
		struct ly_set *bes = NULL;
		uint32_t id;
		int is_new;

		vip_key(vip, key, sizeof(key));
		if (!maglev_is_prime((uint32_t)strtoul(size, NULL, 10))) {
			rc = cn_fail(err, CN_ERR_INVALID_VALUE, where,
				     "vip %s: table-size %s is not a prime", key, size);
			break;
		}
		if (lb_ids_get(&ids, ns_vip, key, &id, &is_new) ||
		    lyd_find_xpath(vip, "backend", &bes)) {
			rc = cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
			break;
		}
		n_backends += bes->count;
		for (uint32_t b = 0; b < bes->count && !rc; b++) {
			snprintf(bkey, sizeof(bkey), "%s|%s", key,
				 svc_leaf(bes->dnodes[b], "name"));
			if (lb_ids_get(&ids, ns_be, bkey, &id, &is_new))
				rc = cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
		}
		ly_set_free(bes, NULL);
	}
	ly_set_free(vips, NULL);
	if (!rc && n_backends > LB_MAX_BACKENDS)
		rc = cn_fail(err, CN_ERR_TOO_BIG, where, "at most %d backends per lb",
			     LB_MAX_BACKENDS);
	caps->vips = pow2_at_least(LB_MIN_VIPS, lb_ids_max(&ids, ns_vip));
	caps->backends = pow2_at_least(LB_MIN_BACKENDS, lb_ids_max(&ids, ns_be));
	caps->conns = (uint32_t)strtoul(svc_leaf(lb, "connection-table-size"), NULL, 10);
	return rc;
}

static int declare_chain(const struct lyd_node *lb, const struct lb_caps *caps,
			 const struct service_builder *b, struct cn_error *err)
{
	const char *name = svc_leaf(lb, "name");
	const char *mode = svc_leaf(lb, "attach-mode");
	char cube[4][32];
	const struct service_map_size classifier[] = {{"classifier_services", caps->vips}};
	const struct service_map_size maglev[] = {
	    {"maglev_rings", caps->vips},
	    {"maglev_services", caps->vips},
	    {"maglev_service_stats", caps->vips},
	    {"maglev_backends", caps->backends},
	    {"maglev_backend_stats", caps->backends},
	    {"maglev_conns", caps->conns},
	};
	const struct service_map_size l2rewrite[] = {{"l2rewrite_targets", caps->backends}};

	for (int i = 0; i < 4; i++)
		stage_name(cube[i], sizeof(cube[i]), name, stages[i]);
	if (b->cube(b->arg, cube[0], "parser", CUBE_HOOK_XDP, NULL, 0, err) ||
	    b->cube(b->arg, cube[1], "classifier", CUBE_HOOK_XDP, classifier, 1, err) ||
	    b->cube(b->arg, cube[2], "maglev", CUBE_HOOK_XDP, maglev, 6, err) ||
	    b->cube(b->arg, cube[3], "l2rewrite", CUBE_HOOK_XDP, l2rewrite, 1, err))
		return -1;
	/* The classifier's miss verdict is its default, pass: what is not for a
	 * VIP reaches the kernel stack untouched. */
	if (b->wire(b->arg, cube[0], 0, CUBE_PORT_CUBE, cube[1], err) ||
	    b->wire(b->arg, cube[1], CLASSIFIER_PORT_HIT, CUBE_PORT_CUBE, cube[2], err) ||
	    b->wire(b->arg, cube[2], MAGLEV_PORT_OUT, CUBE_PORT_CUBE, cube[3], err) ||
	    b->wire(b->arg, cube[3], L2REWRITE_PORT_OUT, CUBE_PORT_TX, NULL, err))
		return -1;
	return b->attach(b->arg, cube[0], svc_leaf(lb, "netdev"),
			 strcmp(mode, "xdp-generic") == 0 ? ATTACH_XDP_GENERIC : ATTACH_XDP_NATIVE,
			 0, err);
}

static int lb_compose(const struct lyd_node *config, const struct service_builder *b,
		      struct cn_error *err)
{
	struct ly_set *lbs = NULL;
	char path[512];
	int rc = 0, e;

	if (load_ids(err))
		return -1;
	if (lyd_find_xpath(config, LB_PATH "/lb", &lbs))
		return 0;
	lb_ids_begin(&ids);
	for (uint32_t i = 0; i < lbs->count && !rc; i++) {
		struct lb_caps caps = {0};

		rc = assign_ids(lbs->dnodes[i], &caps, err) ||
		     declare_chain(lbs->dnodes[i], &caps, b, err);
	}
	ly_set_free(lbs, NULL);
	if (rc)
		return -1; /* the ids stay as they were: nothing is forgotten */
	lb_ids_end(&ids);
	ids_path(path, sizeof(path));
	e = lb_ids_save(&ids, path);
	if (e)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, LB_PATH, "cannot save %s: %s", path,
			       strerror(-e));
	return 0;
}

/* The cubes of one lb, as the runtime loaded them. */
struct lb_cubes {
	struct cube *parser, *classifier, *maglev, *l2rewrite;
};

static int find_cubes(const char *name, service_find_cube find, void *arg, struct lb_cubes *c)
{
	struct cube **slot[4] = {&c->parser, &c->classifier, &c->maglev, &c->l2rewrite};
	char cube[32];

	for (int i = 0; i < 4; i++) {
		stage_name(cube, sizeof(cube), name, stages[i]);
		*slot[i] = find(arg, cube);
		if (!*slot[i])
			return -1;
	}
	return 0;
}

/* What one apply writes, built from the config before anything is. */
struct lb_plan {
	struct classifier_key *vip_keys;
	struct classifier_value *vip_vals;
	uint32_t n_vips, vip_cap;
	struct maglev_service *services;  /* [vip_cap] */
	uint8_t *vip_present;		  /* [vip_cap] */
	struct maglev_backend *states;	  /* [backend_cap] */
	struct l2rewrite_target *targets; /* [backend_cap] */
	uint8_t *backend_present;	  /* [backend_cap] */
	uint32_t backend_cap;
	uint32_t classifier_flags;
};

static void plan_free(struct lb_plan *p)
{
	free(p->vip_keys);
	free(p->vip_vals);
	free(p->services);
	free(p->vip_present);
	free(p->states);
	free(p->targets);
	free(p->backend_present);
}

static int plan_alloc(struct lb_plan *p, uint32_t n_vips, uint32_t vip_cap, uint32_t backend_cap)
{
	p->vip_cap = vip_cap;
	p->backend_cap = backend_cap;
	p->vip_keys = calloc(n_vips + 1, sizeof(*p->vip_keys));
	p->vip_vals = calloc(n_vips + 1, sizeof(*p->vip_vals));
	p->services = calloc(vip_cap, sizeof(*p->services));
	p->vip_present = calloc(vip_cap, 1);
	p->states = calloc(backend_cap, sizeof(*p->states));
	p->targets = calloc(backend_cap, sizeof(*p->targets));
	p->backend_present = calloc(backend_cap, 1);
	return p->vip_keys && p->vip_vals && p->services && p->vip_present && p->states &&
		       p->targets && p->backend_present
		   ? 0
		   : -ENOMEM;
}

static int map_capacity(int fd)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : (int)info.max_entries;
}

/* Order-independent digest of what a Maglev table depends on. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t name_digest(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

/* A new ring's fd, or -errno. */
static int build_ring(uint32_t size, const struct maglev_backend_spec *specs, size_t n)
{
	uint32_t *table = malloc(size * sizeof(*table));
	int e;

	if (!table)
		return -ENOMEM;
	/* With no backend for new flows, every slot says MAGLEV_EMPTY. */
	e = maglev_build(specs, n, size, table);
	if (!e)
		e = maglev_ring_create(table, size);
	free(table);
	return e;
}

/* Rings waiting to be swapped in together; bounded so the fds they hold
 * stay well under the process limit. */
#define RING_BATCH 256

struct ring_batch {
	uint32_t ids[RING_BATCH];
	int fds[RING_BATCH];
	uint64_t *installed[RING_BATCH], digests[RING_BATCH];
	uint32_t n;
};

static int ring_batch_flush(struct ring_batch *rb, int rings_fd)
{
	int e = maglev_rings_swap(rings_fd, rb->ids, rb->fds, rb->n);

	for (uint32_t i = 0; i < rb->n; i++) {
		close(rb->fds[i]); /* the outer map holds its own reference */
		if (!e && rb->installed[i])
			*rb->installed[i] = rb->digests[i];
	}
	rb->n = 0;
	return e;
}

struct vip_work {
	uint32_t id, size;
	uint64_t digest;
	struct maglev_backend_spec *specs;
	size_t n_specs;
	char ns[48], vkey[256]; /* its entry in the id table */
};

static int read_vip(const struct lyd_node *vip, const char *lb, const uint8_t smac[6],
		    struct lb_plan *p, struct vip_work *w, struct cn_error *err)
{
	char key[256], bkey[340], ns_be[48], where[400];
	struct classifier_key *ck = &p->vip_keys[p->n_vips];
	const char *v;
	struct ly_set *bes = NULL;
	union cube_addr addr;
	int fam = 0;

	vip_key(vip, key, sizeof(key));
	snprintf(ns_be, sizeof(ns_be), "%s/backend", lb);
	snprintf(where, sizeof(where), LB_PATH "/lb[name='%s']", lb);
	snprintf(w->ns, sizeof(w->ns), "%s/vip", lb);
	snprintf(w->vkey, sizeof(w->vkey), "%s", key);
	if (lb_ids_find(&ids, w->ns, key, &w->id) || w->id >= p->vip_cap)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "vip %s has no id", key);
	svc_parse_addr(svc_leaf(vip, "address"), &fam, &addr);
	ck->vip = addr;
	ck->family = (uint8_t)fam;
	ck->port = htons((uint16_t)atoi(svc_leaf(vip, "port")));
	ck->proto = strcmp(svc_leaf(vip, "protocol"), "udp") == 0 ? 17 : 6;
	if ((v = svc_leaf(vip, "vlan-id"))) {
		ck->vlan_id = (uint16_t)atoi(v);
		p->classifier_flags |= CLASSIFIER_CFG_VLAN_KEYS;
	}
	if (!ck->port)
		p->classifier_flags |= CLASSIFIER_CFG_WILDCARD_PORT;
	p->vip_vals[p->n_vips++].service_id = w->id;
	p->vip_present[w->id] = 1;
	if (strcmp(svc_leaf(vip, "connection-table"), "true") == 0)
		p->services[w->id].flags |= MAGLEV_SVC_F_CONN_TABLE;
	if (strcmp(svc_leaf(vip, "hash"), "source-address") == 0)
		p->services[w->id].flags |= MAGLEV_SVC_F_HASH_SRC;
	w->size = (uint32_t)strtoul(svc_leaf(vip, "table-size"), NULL, 10);
	w->digest = mix(w->size);

	if (lyd_find_xpath(vip, "backend", &bes))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot read backends");
	w->specs = calloc(bes->count + 1, sizeof(*w->specs));
	if (!w->specs) {
		ly_set_free(bes, NULL);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
	}
	for (uint32_t b = 0; b < bes->count; b++) {
		const struct lyd_node *be = bes->dnodes[b];
		const char *name = svc_leaf(be, "name");
		struct l2rewrite_target *t;
		uint32_t id;

		snprintf(bkey, sizeof(bkey), "%s|%s", key, name);
		if (lb_ids_find(&ids, ns_be, bkey, &id) || id >= p->backend_cap) {
			ly_set_free(bes, NULL);
			return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "backend %s has no id",
				       bkey);
		}
		p->backend_present[id] = 1;
		t = &p->targets[id];
		svc_parse_mac(svc_leaf(be, "mac"), t->dmac);
		memcpy(t->smac, smac, 6);
		t->flags = L2REWRITE_F_VALID | L2REWRITE_F_SET_SMAC;
		if ((v = svc_leaf(be, "vlan-id"))) {
			t->vlan_action = L2REWRITE_VLAN_SET;
			t->vlan_id = (uint16_t)atoi(v);
		} else if (svc_leaf(be, "untagged")) {
			t->vlan_action = L2REWRITE_VLAN_POP;
		}
		if (strcmp(svc_leaf(be, "state"), "draining") == 0) {
			p->states[id].state = MAGLEV_BACKEND_DRAINING;
			continue; /* keeps its flows, is in no table */
		}
		p->states[id].state = MAGLEV_BACKEND_ACTIVE;
		struct maglev_backend_spec *s = &w->specs[w->n_specs++];

		s->id = id;
		s->weight = (uint32_t)atoi(svc_leaf(be, "weight"));
		/* The name, not the id, places a backend in the table: the
		 * same set of names gives the same table on every node. */
		s->key_len = (size_t)snprintf((char *)s->key, MAGLEV_KEY_MAX, "%s", name);
		w->digest += mix(name_digest(name) ^ ((uint64_t)id << 20) ^ s->weight);
	}
	ly_set_free(bes, NULL);
	return 0;
}

/* Write the entries [0, cap) of an array map whose mask byte is `which`
 * in one batch; values NULL writes zeros (per-CPU maps take ncpu values). */
static int write_where(int fd, const void *values, size_t value_size, const uint8_t *mask,
		       uint32_t cap, uint8_t which, int ncpu)
{
	uint32_t *keys = malloc(cap * sizeof(*keys)), count = 0;
	size_t slot = value_size * (size_t)ncpu;
	uint8_t *vals = calloc(cap ? cap : 1, slot);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int e = 0;

	if (!keys || !vals) {
		e = -ENOMEM;
		goto cleanup;
	}
	for (uint32_t i = 0; i < cap; i++) {
		if (mask[i] != which)
			continue;
		if (values)
			memcpy(vals + count * slot, (const uint8_t *)values + i * value_size,
			       value_size);
		keys[count++] = i;
	}
	if (count && bpf_map_update_batch(fd, keys, vals, &count, &opts))
		e = -errno;
cleanup:
	free(keys);
	free(vals);
	return e;
}

static int remove_rings(int rings_fd, const uint8_t *present, uint32_t cap)
{
	uint32_t *gone = malloc(cap * sizeof(*gone)), n = 0, inner_id;
	int e = 0;

	if (!gone)
		return -ENOMEM;
	for (uint32_t id = 0; id < cap; id++)
		if (!present[id] && !bpf_map_lookup_elem(rings_fd, &id, &inner_id))
			gone[n++] = id;
	if (n && maglev_rings_remove(rings_fd, gone, n))
		for (uint32_t i = 0; i < n && !e; i++) /* no batch delete here */
			e = maglev_ring_remove(rings_fd, gone[i]);
	free(gone);
	return e;
}

static int program_lb(const struct lyd_node *lb, const struct lb_cubes *c, struct cn_error *err)
{
	const char *name = svc_leaf(lb, "name"), *v;
	struct lb_plan p = {0};
	struct vip_work *work = NULL;
	struct ring_batch rings = {0};
	struct ly_set *vips = NULL;
	char where[96];
	uint8_t smac[6];
	int ncpu = libbpf_num_possible_cpus();
	int rings_fd = cube_map_fd(c->maglev, "maglev_rings");
	int states_fd = cube_map_fd(c->maglev, "maglev_backends");
	int targets_fd = cube_map_fd(c->l2rewrite, "l2rewrite_targets");
	int svc_fd = cube_map_fd(c->maglev, "maglev_services");
	int e = 0;

	snprintf(where, sizeof(where), LB_PATH "/lb[name='%s']", name);
	if ((v = svc_leaf(lb, "source-mac")) ? svc_parse_mac(v, smac)
					     : netdev_mac(svc_leaf(lb, "netdev"), smac))
		return cn_fail(err, CN_ERR_INVALID_VALUE, where, "no MAC for netdev '%s'",
			       svc_leaf(lb, "netdev"));
	if (lyd_find_xpath(lb, "vip", &vips))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot read the VIPs");
	if (plan_alloc(&p, vips->count, (uint32_t)map_capacity(svc_fd),
		       (uint32_t)map_capacity(states_fd)) ||
	    !(work = calloc(vips->count + 1, sizeof(*work)))) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, where, "out of memory");
		goto cleanup;
	}
	for (uint32_t i = 0; i < vips->count; i++)
		if (read_vip(vips->dnodes[i], name, smac, &p, &work[i], err))
			goto cleanup;

	/* 1. What new tables may point to: targets and states of present
	 * backends (absent ones keep theirs until step 3). */
	e = write_where(targets_fd, p.targets, sizeof(*p.targets), p.backend_present, p.backend_cap,
			1, 1);
	if (!e)
		e = write_where(states_fd, p.states, sizeof(*p.states), p.backend_present,
				p.backend_cap, 1, 1);
	if (!e)
		e = write_where(svc_fd, p.services, sizeof(*p.services), p.vip_present, p.vip_cap,
				1, 1);
	/* 2. Tables, each swapped in whole, then the classifier. */
	for (uint32_t i = 0; i < vips->count && !e; i++) {
		/* What this daemon last installed for the VIP. */
		uint64_t *installed = lb_ids_note(&ids, work[i].ns, work[i].vkey);
		uint32_t inner_id;
		int fd;

		/* Ask the kernel too: a ring removed by a restart or resize is
		 * not what the digest remembers. */
		if (installed && *installed == work[i].digest &&
		    !bpf_map_lookup_elem(rings_fd, &work[i].id, &inner_id))
			continue;
		fd = build_ring(work[i].size, work[i].specs, work[i].n_specs);
		if (fd < 0) {
			e = fd;
			break;
		}
		rings.ids[rings.n] = work[i].id;
		rings.fds[rings.n] = fd;
		rings.installed[rings.n] = installed;
		rings.digests[rings.n++] = work[i].digest;
		if (rings.n == RING_BATCH)
			e = ring_batch_flush(&rings, rings_fd);
	}
	if (rings.n) {
		int flushed = ring_batch_flush(&rings, rings_fd);

		e = e ? e : flushed;
	}
	if (!e)
		e = map_sync(cube_map_fd(c->classifier, "classifier_services"), p.vip_keys,
			     p.vip_vals, p.n_vips, sizeof(*p.vip_keys), sizeof(*p.vip_vals));
	if (!e) {
		struct classifier_cfg cfg = {.flags = p.classifier_flags};
		uint32_t zero = 0;

		if (bpf_map_update_elem(cube_map_fd(c->classifier, "classifier_cfg"), &zero, &cfg,
					BPF_ANY))
			e = -errno;
	}
	/* 3. What is gone: rings, then service flags, backend states, targets. */
	if (!e)
		e = remove_rings(rings_fd, p.vip_present, p.vip_cap);
	/* Absent ids are all zero in the plan; their counters restart at zero
	 * for whoever gets the id next. */
	if (!e)
		e = write_where(svc_fd, NULL, sizeof(*p.services), p.vip_present, p.vip_cap, 0, 1);
	if (!e)
		e = write_where(states_fd, NULL, sizeof(*p.states), p.backend_present,
				p.backend_cap, 0, 1);
	if (!e)
		e = write_where(targets_fd, NULL, sizeof(*p.targets), p.backend_present,
				p.backend_cap, 0, 1);
	if (!e)
		e = write_where(cube_map_fd(c->maglev, "maglev_service_stats"), NULL,
				sizeof(struct maglev_counters), p.vip_present, p.vip_cap, 0, ncpu);
	if (!e)
		e = write_where(cube_map_fd(c->maglev, "maglev_backend_stats"), NULL,
				sizeof(struct maglev_counters), p.backend_present, p.backend_cap, 0,
				ncpu);
	if (e)
		cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot program lb '%s': %s", name,
			strerror(-e));
cleanup:
	for (uint32_t i = 0; work && i < vips->count; i++)
		free(work[i].specs);
	free(work);
	ly_set_free(vips, NULL);
	plan_free(&p);
	return err->tag == CN_OK ? 0 : -1;
}

static int lb_apply(const struct lyd_node *config, service_find_cube find, void *arg,
		    struct cn_error *err)
{
	struct ly_set *lbs = NULL;
	int rc = 0;

	if (!config || lyd_find_xpath(config, LB_PATH "/lb", &lbs))
		return 0;
	for (uint32_t i = 0; i < lbs->count && !rc; i++) {
		const char *name = svc_leaf(lbs->dnodes[i], "name");
		struct lb_cubes c;

		if (find_cubes(name, find, arg, &c)) {
			rc = cn_fail(err, CN_ERR_OPERATION_FAILED, LB_PATH,
				     "lb '%s': its cubes are not loaded", name);
			break;
		}
		rc = program_lb(lbs->dnodes[i], &c, err);
	}
	ly_set_free(lbs, NULL);
	return rc;
}

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

static void lb_chain_state(struct lyd_node *lb, const struct lb_cubes *c)
{
	struct cube *all[4] = {c->parser, c->classifier, c->maglev, c->l2rewrite};
	uint64_t drops[CUBE_DROP_MAX] = {0};
	struct cube_stats st;
	char path[96];

	if (!cube_read_stats(c->parser, &st))
		put_u64(lb, "statistics/rx-packets", st.rx_packets);
	if (!cube_read_stats(c->classifier, &st))
		put_u64(lb, "statistics/not-for-a-vip", st.verdict[CUBE_VERDICT_PASS]);
	if (!cube_read_stats(c->l2rewrite, &st))
		put_u64(lb, "statistics/forwarded", st.verdict[CUBE_VERDICT_TX]);
	for (int i = 0; i < 4; i++)
		if (!cube_read_stats(all[i], &st))
			for (int r = 1; r < CUBE_DROP_MAX; r++)
				drops[r] += st.drop[r];
	for (int r = 1; r < CUBE_DROP_MAX; r++) {
		if (!drops[r])
			continue;
		snprintf(path, sizeof(path), "statistics/drop[reason='%s']/packets",
			 cube_drop_reason_name((unsigned int)r));
		put_u64(lb, path, drops[r]);
	}
}

static void lb_state(struct lyd_node *tree, service_find_cube find, void *arg)
{
	struct ly_set *lbs = NULL;

	if (!tree || lyd_find_xpath(tree, LB_PATH "/lb", &lbs))
		return;
	for (uint32_t i = 0; i < lbs->count; i++) {
		struct lyd_node *lb = lbs->dnodes[i];
		const char *name = svc_leaf(lb, "name");
		char ns_vip[48], ns_be[48], key[256], bkey[340];
		struct ly_set *vips = NULL;
		struct lb_cubes c;

		if (find_cubes(name, find, arg, &c) || lyd_find_xpath(lb, "vip", &vips))
			continue;
		lb_chain_state(lb, &c);
		snprintf(ns_vip, sizeof(ns_vip), "%s/vip", name);
		snprintf(ns_be, sizeof(ns_be), "%s/backend", name);
		for (uint32_t v = 0; v < vips->count; v++) {
			struct ly_set *bes = NULL;
			uint32_t id;

			vip_key(vips->dnodes[v], key, sizeof(key));
			if (lb_ids_find(&ids, ns_vip, key, &id))
				continue;
			put_counters(vips->dnodes[v], cube_map_fd(c.maglev, "maglev_service_stats"),
				     id);
			if (lyd_find_xpath(vips->dnodes[v], "backend", &bes))
				continue;
			for (uint32_t b = 0; b < bes->count; b++) {
				snprintf(bkey, sizeof(bkey), "%s|%s", key,
					 svc_leaf(bes->dnodes[b], "name"));
				if (!lb_ids_find(&ids, ns_be, bkey, &id))
					put_counters(bes->dnodes[b],
						     cube_map_fd(c.maglev, "maglev_backend_stats"),
						     id);
			}
			ly_set_free(bes, NULL);
		}
		ly_set_free(vips, NULL);
	}
	ly_set_free(lbs, NULL);
}

const struct service lb_service = {
    .module = "cubenet-lb",
    .compose = lb_compose,
    .apply_composed = lb_apply,
    .state = lb_state,
};
