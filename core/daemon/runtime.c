// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "runtime.h"
#include "log.h"
#include "config_read.h"
#include "cube_pin.h"
#include "netdev.h"

/* ---- sets of cubes and attachments ---- */

static const char *cube_name_at(const void *arg, size_t pos)
{
	return ((const struct rt_set *)arg)->cubes[pos].name;
}

static const char *attachment_key_at(const void *arg, size_t pos)
{
	return ((const struct rt_set *)arg)->attachments[pos].key;
}

static struct rt_cube *set_cube(const struct rt_set *s, const char *name)
{
	long at = name_index_find(&s->cube_index, cube_name_at, s, name);

	return at < 0 ? NULL : &s->cubes[at];
}

static struct rt_attachment *set_attachment(const struct rt_set *s, const char *key)
{
	long at = name_index_find(&s->attachment_index, attachment_key_at, s, key);

	return at < 0 ? NULL : &s->attachments[at];
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : 16;

	while (c < need)
		c *= 2;
	void *grown = realloc(*arr, c * elem);

	if (!grown)
		return -ENOMEM;
	memset((char *)grown + *cap * elem, 0, (c - *cap) * elem);
	*arr = grown;
	*cap = c;
	return 0;
}

static struct rt_cube *set_add_cube(struct rt_set *s, const char *name, struct cn_error *err)
{
	struct rt_cube *c;

	if (strlen(name) >= sizeof(c->name)) {
		cn_fail(err, CN_ERR_INVALID_VALUE, "", "cube name '%s' is too long", name);
		return NULL;
	}
	if (set_cube(s, name)) {
		cn_fail(err, CN_ERR_INVALID_VALUE, "", "two cubes named '%s'", name);
		return NULL;
	}
	if (grow((void **)&s->cubes, &s->cap_cubes, s->n_cubes + 1, sizeof(*s->cubes))) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
		return NULL;
	}
	c = &s->cubes[s->n_cubes];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (name_index_add(&s->cube_index, cube_name_at, s, s->n_cubes)) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
		return NULL;
	}
	s->n_cubes++;
	return c;
}

static const char *hook_class(enum attach_mode mode)
{
	return attach_is_xdp(mode) ? "xdp" : mode == ATTACH_TC_INGRESS ? "tc-in" : "tc-out";
}

static int set_add_attachment(struct rt_set *s, const struct rt_attachment *a, struct cn_error *err)
{
	struct rt_attachment *at, *dup;
	char key[sizeof(at->key)];

	snprintf(key, sizeof(key), "%s/%s", a->netdev, hook_class(a->mode));
	if ((dup = set_attachment(s, key)))
		return cn_fail(err, CN_ERR_INVALID_VALUE, "/cubenet-core:attachments",
			       "netdev '%s' would get two chains on one hook: '%s' and '%s'",
			       a->netdev, dup->cube, a->cube);
	if (grow((void **)&s->attachments, &s->cap_attachments, s->n_attachments + 1,
		 sizeof(*s->attachments)))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
	at = &s->attachments[s->n_attachments];
	*at = *a;
	snprintf(at->key, sizeof(at->key), "%s", key);
	if (name_index_add(&s->attachment_index, attachment_key_at, s, s->n_attachments))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
	s->n_attachments++;
	return 0;
}

static void set_free(struct rt_set *s)
{
	free(s->cubes);
	free(s->attachments);
	name_index_free(&s->cube_index);
	name_index_free(&s->attachment_index);
	memset(s, 0, sizeof(*s));
}

/* ---- what the config wants ---- */

static const char *path_of(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "/cubenet-core:cubes/cube[name='%s']", name);
	return buf;
}

static int build_cube(void *arg, const char *name, const char *type, enum cube_hook hook,
		      const struct service_map_size *sizes, size_t n_sizes, struct cn_error *err)
{
	struct rt_cube *c;

	if (n_sizes > SERVICE_MAX_SIZES)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cube %s: too many sizes", name);
	if (!(c = set_add_cube(arg, name, err)))
		return -1;
	snprintf(c->type, sizeof(c->type), "%s", type);
	c->hook = hook;
	c->composed = 1;
	if (n_sizes)
		memcpy(c->sizes, sizes, n_sizes * sizeof(*sizes));
	c->n_sizes = n_sizes;
	return 0;
}

static int build_const(void *arg, const char *cube, const char *name, uint32_t value,
		       struct cn_error *err)
{
	struct rt_cube *c = set_cube(arg, cube);

	if (!c || c->n_consts == SERVICE_MAX_CONSTS)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cube %s: no room for %s", cube,
			       name);
	c->consts[c->n_consts++] = (struct service_const){name, value};
	return 0;
}

static int build_wire(void *arg, const char *cube, uint32_t port, enum cube_port_kind kind,
		      const char *peer, struct cn_error *err)
{
	struct rt_cube *c = set_cube(arg, cube);

	if (!c || port >= CUBE_MAX_PORTS)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "no port %u on cube %s", port,
			       cube);
	c->ports[port].kind = (uint8_t)kind;
	snprintf(c->ports[port].peer, sizeof(c->ports[port].peer), "%s", peer ? peer : "");
	return 0;
}

static int build_attach(void *arg, const char *cube, const char *netdev, enum attach_mode mode,
			int optional, struct cn_error *err)
{
	struct rt_attachment a = {.mode = mode, .optional = optional};

	snprintf(a.netdev, sizeof(a.netdev), "%s", netdev);
	snprintf(a.cube, sizeof(a.cube), "%s", cube);
	return set_add_attachment(arg, &a, err);
}

static enum attach_mode mode_of(const char *mode)
{
	return strcmp(mode, "xdp-generic") == 0	 ? ATTACH_XDP_GENERIC
	       : strcmp(mode, "tc-ingress") == 0 ? ATTACH_TC_INGRESS
	       : strcmp(mode, "tc-egress") == 0	 ? ATTACH_TC_EGRESS
						 : ATTACH_XDP_NATIVE;
}

static int read_port(struct rt_cube *c, const struct lyd_node *pn, struct cn_error *err)
{
	char where[128];
	unsigned long id = strtoul(cfg_leaf(pn, "id"), NULL, 10);
	struct rt_port *port;
	const char *v;

	if (id >= CUBE_MAX_PORTS) /* the model's range says so too */
		return cn_fail(err, CN_ERR_INVALID_VALUE, path_of(c->name, where, sizeof(where)),
			       "port %lu: a cube has ports 0..%d", id, CUBE_MAX_PORTS - 1);
	port = &c->ports[id];
	if ((v = cfg_leaf(pn, "cube"))) {
		port->kind = CUBE_PORT_CUBE;
	} else if ((v = cfg_leaf(pn, "netdev"))) {
		port->kind = CUBE_PORT_NETDEV;
	} else if ((v = cfg_leaf(pn, "verdict"))) {
		port->kind = strcmp(v, "tx") == 0     ? CUBE_PORT_TX
			     : strcmp(v, "pass") == 0 ? CUBE_PORT_PASS
						      : CUBE_PORT_DROP;
	}
	snprintf(port->peer, sizeof(port->peer), "%s", v ? v : "");
	return 0;
}

static int read_core(const struct lyd_node *config, struct rt_set *w, struct cn_error *err)
{
	const struct lyd_node *cubes = cfg_find(config, "/cubenet-core:cubes");
	const struct lyd_node *atts = cfg_find(config, "/cubenet-core:attachments");

	for (const struct lyd_node *c = cubes ? lyd_child(cubes) : NULL; c; c = c->next) {
		struct rt_cube *rc;

		if (strcmp(c->schema->name, "cube"))
			continue;
		if (!(rc = set_add_cube(w, cfg_leaf(c, "name"), err)))
			return -1;
		snprintf(rc->type, sizeof(rc->type), "%s", cfg_leaf(c, "type"));
		rc->hook =
		    strcmp(cfg_leaf(c, "hook") ?: "xdp", "tc") == 0 ? CUBE_HOOK_TC : CUBE_HOOK_XDP;
		for (const struct lyd_node *pn = lyd_child(c); pn; pn = pn->next)
			if (!strcmp(pn->schema->name, "port") && read_port(rc, pn, err))
				return -1;
	}
	for (const struct lyd_node *a = atts ? lyd_child(atts) : NULL; a; a = a->next) {
		struct rt_attachment at = {.mode = mode_of(cfg_leaf(a, "mode"))};

		if (strcmp(a->schema->name, "attachment"))
			continue;
		snprintf(at.netdev, sizeof(at.netdev), "%s", cfg_leaf(a, "netdev"));
		snprintf(at.cube, sizeof(at.cube), "%s", cfg_leaf(a, "cube"));
		if (set_add_attachment(w, &at, err))
			return -1;
	}
	return 0;
}

/* Check every reference of what is wanted; no instance is needed for it. */
static int check_want(struct runtime *rt, struct rt_set *w, struct cn_error *err)
{
	char where[128];

	for (size_t i = 0; i < w->n_cubes; i++) {
		struct rt_cube *c = &w->cubes[i];

		if (!cube_type_find(c->type))
			return cn_fail(err, CN_ERR_INVALID_VALUE,
				       path_of(c->name, where, sizeof(where)), "no cube type '%s'",
				       c->type);
		for (int p = 0; p < CUBE_MAX_PORTS; p++) {
			struct rt_port *port = &c->ports[p];

			if (port->kind == CUBE_PORT_CUBE) {
				struct rt_cube *peer = set_cube(w, port->peer);

				if (!peer || peer->hook != c->hook)
					return cn_fail(err, CN_ERR_INVALID_VALUE,
						       path_of(c->name, where, sizeof(where)),
						       "port %d: cube '%s' is not a %s cube", p,
						       port->peer,
						       c->hook == CUBE_HOOK_TC ? "tc" : "xdp");
			} else if (port->kind == CUBE_PORT_NETDEV && !netdev_index(port->peer) &&
				   !rt->restoring) {
				/* At a restart a netdev may be gone: the port drops until
				 * the config names another. */
				return cn_fail(err, CN_ERR_INVALID_VALUE,
					       path_of(c->name, where, sizeof(where)),
					       "port %d: no netdev '%s'", p, port->peer);
			}
		}
	}
	for (size_t i = 0; i < w->n_attachments; i++) {
		struct rt_attachment *at = &w->attachments[i];
		struct rt_cube *head = set_cube(w, at->cube);
		struct rt_attachment *have = set_attachment(&rt->live, at->key);

		if (!head || (head->hook == CUBE_HOOK_XDP) != attach_is_xdp(at->mode))
			return cn_fail(err, CN_ERR_INVALID_VALUE, "/cubenet-core:attachments",
				       "cube '%s' cannot attach in %s mode", at->cube,
				       attach_mode_name(at->mode));
		/* Known already: no lookup (a node has a thousand pod veths). */
		at->ifindex = have && have->applied && !strcmp(have->netdev, at->netdev)
				  ? have->ifindex
				  : netdev_index(at->netdev);
		at->applied = 0;
		if (!at->ifindex && !at->optional && !rt->restoring)
			return cn_fail(err, CN_ERR_INVALID_VALUE, "/cubenet-core:attachments",
				       "no netdev '%s'", at->netdev);
	}
	return 0;
}

int runtime_begin(struct runtime *rt, const struct lyd_node *config, struct cn_error *err)
{
	struct rt_set *w = calloc(1, sizeof(*w));
	const struct service_builder b = {w, build_cube, build_const, build_wire, build_attach};

	if (!w)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
	rt->want = w;
	if (read_core(config, w, err))
		return -1;
	for (size_t i = 0; i < service_count(); i++) {
		const struct service *s = service_at(i);

		if (s->compose && s->compose(rt, config, &b, err))
			return -1;
	}
	return check_want(rt, w, err);
}

/* ---- loading and wiring ---- */

/* Same type, hook, map sizes and constants: the loaded instance can stay. */
static int same_shape(const struct rt_cube *have, const struct rt_cube *c)
{
	if (strcmp(have->type, c->type) || have->hook != c->hook || have->n_sizes != c->n_sizes ||
	    have->n_consts != c->n_consts)
		return 0;
	for (size_t i = 0; i < c->n_consts; i++)
		if (strcmp(have->consts[i].name, c->consts[i].name) ||
		    have->consts[i].value != c->consts[i].value)
			return 0;
	for (size_t i = 0; i < c->n_sizes; i++)
		if (strcmp(have->sizes[i].map, c->sizes[i].map) ||
		    have->sizes[i].max_entries != c->sizes[i].max_entries)
			return 0;
	return 1;
}

static void pin_dir_of(struct runtime *rt, const struct rt_cube *c, char *dir, size_t size)
{
	cube_pin_dir(dir, size, rt->bpffs, c->name, c->type, c->hook);
}

static int load_one(struct runtime *rt, struct rt_cube *c, struct cn_error *err)
{
	char dir[512], where[128];
	int e;

	/* Maps pinned by an earlier daemon (or instance) are adopted. */
	pin_dir_of(rt, c, dir, sizeof(dir));
	c->new_pins = access(dir, F_OK) != 0;
	e = cube_open(&c->cube, c->type, c->hook, ++rt->next_id);
	for (size_t k = 0; k < c->n_sizes && !e; k++)
		e = cube_set_map_size(c->cube, c->sizes[k].map, c->sizes[k].max_entries);
	for (size_t k = 0; k < c->n_consts && !e; k++)
		e = cube_set_const(c->cube, c->consts[k].name, &c->consts[k].value,
				   sizeof(c->consts[k].value));
	if (!e)
		e = cube_load_pinned(c->cube, &rt->shared, dir);
	if (e) {
		cube_destroy(c->cube);
		c->cube = NULL;
		if (c->new_pins)
			cube_unpin_dir(dir);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, path_of(c->name, where, sizeof(where)),
			       "cannot load a %s cube: %s", c->type, strerror(-e));
	}
	c->fresh = 1;
	return 0;
}

static int same_port(const struct rt_port *a, const struct rt_port *b)
{
	return a->kind == b->kind && strcmp(a->peer, b->peer) == 0;
}

/* Write port p of c in set s (peers resolved in s). */
static int wire_port(struct rt_set *s, struct rt_cube *c, uint32_t p)
{
	const struct rt_port *port = &c->ports[p];

	if (port->kind == CUBE_PORT_CUBE)
		return cube_connect_cube(c->cube, p, set_cube(s, port->peer)->cube);
	if (port->kind == CUBE_PORT_NETDEV)
		return cube_connect_port(c->cube, p, CUBE_PORT_NETDEV, netdev_index(port->peer));
	return cube_connect_port(c->cube, p, port->kind, 0);
}

/* Whether port p of c must be written to go from set `from` to set `to`. */
static int port_changes(struct rt_set *from, struct rt_set *to, const struct rt_cube *c, uint32_t p)
{
	const struct rt_cube *was = set_cube(from, c->name);
	const struct rt_port *port = &c->ports[p];

	if (c->fresh || !was || was->cube != c->cube || !same_port(&was->ports[p], port))
		return 1;
	if (port->kind == CUBE_PORT_CUBE) {
		const struct rt_cube *peer_was = set_cube(from, port->peer);
		const struct rt_cube *peer_now = set_cube(to, port->peer);

		return !peer_was || !peer_now || peer_was->cube != peer_now->cube;
	}
	return 0;
}

int runtime_load(struct runtime *rt, struct cn_error *err)
{
	struct rt_set *w = rt->want;
	char where[128];

	for (size_t i = 0; i < w->n_cubes; i++) {
		struct rt_cube *c = &w->cubes[i];
		const struct rt_cube *have = set_cube(&rt->live, c->name);

		if (have && same_shape(have, c)) {
			c->cube = have->cube;
			continue;
		}
		if (load_one(rt, c, err))
			return -1;
	}
	for (size_t i = 0; i < w->n_cubes; i++) {
		struct rt_cube *c = &w->cubes[i];

		for (uint32_t p = 0; p < CUBE_MAX_PORTS; p++) {
			int e;

			if (!port_changes(&rt->live, w, c, p))
				continue;
			if ((e = wire_port(w, c, p)))
				return cn_fail(err, CN_ERR_OPERATION_FAILED,
					       path_of(c->name, where, sizeof(where)),
					       "cannot wire port %u: %s", p, strerror(-e));
		}
	}
	return 0;
}

int runtime_attach(struct runtime *rt, struct cn_error *err)
{
	struct rt_set *w = rt->want;

	for (size_t i = 0; i < w->n_attachments; i++) {
		struct rt_attachment *at = &w->attachments[i];
		const struct rt_attachment *have = set_attachment(&rt->live, at->key);
		struct cube *head = set_cube(w, at->cube)->cube;
		int e;

		if (!at->ifindex)
			continue; /* pending (restore) or gone (optional) */
		if (have && have->applied && have->head == head && have->ifindex == at->ifindex &&
		    have->mode == at->mode) {
			at->applied = 1;
			at->head = head;
			continue;
		}
		e = netdev_attach(head, at->ifindex, at->mode);
		if (e && (at->optional || rt->restoring) && !netdev_index(at->netdev))
			continue; /* it went between begin and now */
		if (e)
			return cn_fail(err, CN_ERR_INVALID_VALUE, "/cubenet-core:attachments",
				       "cannot attach '%s' to %s in %s mode: %s", at->cube,
				       at->netdev, attach_mode_name(at->mode), strerror(-e));
		at->applied = 1;
		at->head = head;
	}
	/* Attachments that are gone. */
	for (size_t i = 0; i < rt->live.n_attachments; i++) {
		const struct rt_attachment *old = &rt->live.attachments[i];
		const struct rt_attachment *now = set_attachment(w, old->key);

		if (old->applied && (!now || !now->applied || now->ifindex != old->ifindex))
			netdev_detach(old->ifindex, old->mode);
	}
	return 0;
}

/* ---- the end of a change ---- */

static void use_live(struct runtime *rt)
{
	rt->cubes = rt->live.cubes;
	rt->n_cubes = rt->live.n_cubes;
}

void runtime_commit(struct runtime *rt)
{
	struct rt_set *w = rt->want;
	char dir[512];

	if (!w)
		return;
	for (size_t i = 0; i < rt->live.n_cubes; i++) {
		struct rt_cube *old = &rt->live.cubes[i];
		const struct rt_cube *now = set_cube(w, old->name);

		if (now && now->cube == old->cube)
			continue;
		/* Replaced by the same name, type and hook: the pins are the new one's. */
		int pins_taken_over =
		    now && strcmp(now->type, old->type) == 0 && now->hook == old->hook;

		pin_dir_of(rt, old, dir, sizeof(dir));
		cube_destroy(old->cube);
		if (!pins_taken_over)
			cube_unpin_dir(dir);
	}
	for (size_t i = 0; i < w->n_cubes; i++)
		w->cubes[i].fresh = w->cubes[i].new_pins = 0;
	set_free(&rt->live);
	rt->live = *w;
	free(w);
	rt->want = NULL;
	use_live(rt);
}

void runtime_abort(struct runtime *rt)
{
	struct rt_set *w = rt->want;
	char dir[512];

	if (!w)
		return;
	/* Wiring back as it was, where the change touched it. */
	for (size_t i = 0; i < rt->live.n_cubes; i++) {
		struct rt_cube *c = &rt->live.cubes[i];

		for (uint32_t p = 0; p < CUBE_MAX_PORTS; p++)
			if (port_changes(w, &rt->live, c, p))
				wire_port(&rt->live, c, p);
	}
	/* Attachments back as they were. */
	for (size_t i = 0; i < w->n_attachments; i++) {
		const struct rt_attachment *at = &w->attachments[i];
		const struct rt_attachment *old = set_attachment(&rt->live, at->key);

		if (at->applied && (!old || !old->applied))
			netdev_detach(at->ifindex, at->mode);
	}
	for (size_t i = 0; i < rt->live.n_attachments; i++) {
		const struct rt_attachment *old = &rt->live.attachments[i];
		const struct rt_attachment *now = set_attachment(w, old->key);

		if (old->applied && (!now || now->head != old->head || !now->applied))
			netdev_attach(old->head, old->ifindex, old->mode);
	}
	for (size_t i = 0; i < w->n_cubes; i++) {
		struct rt_cube *c = &w->cubes[i];

		if (!c->fresh || !c->cube)
			continue;
		pin_dir_of(rt, c, dir, sizeof(dir));
		cube_destroy(c->cube);
		if (c->new_pins)
			cube_unpin_dir(dir);
	}
	set_free(w);
	free(w);
	rt->want = NULL;
}

/* ---- for services ---- */

struct cube *rt_cube(struct runtime *rt, const char *name)
{
	const struct rt_cube *c = set_cube(rt->want ? rt->want : &rt->live, name);

	return c ? c->cube : NULL;
}

int rt_cube_fresh(struct runtime *rt, const char *name)
{
	const struct rt_cube *c = rt->want ? set_cube(rt->want, name) : NULL;

	return c && c->fresh;
}

int rt_cube_empty(struct runtime *rt, const char *name)
{
	const struct rt_cube *c = rt->want ? set_cube(rt->want, name) : NULL;

	return c && c->fresh && c->new_pins;
}

struct cube *rt_cube_by_id(struct runtime *rt, uint32_t id)
{
	for (size_t i = 0; i < rt->live.n_cubes; i++)
		if (rt->live.cubes[i].cube && rt->live.cubes[i].cube->id == id)
			return rt->live.cubes[i].cube;
	return NULL;
}

struct cube *rt_head_on(struct runtime *rt, uint32_t ifindex)
{
	const struct rt_attachment *tc = NULL;

	for (size_t i = 0; i < rt->live.n_attachments; i++) {
		const struct rt_attachment *a = &rt->live.attachments[i];

		if (a->ifindex != ifindex || !a->applied)
			continue;
		if (attach_is_xdp(a->mode))
			return a->head;
		if (a->mode == ATTACH_TC_INGRESS)
			tc = a;
	}
	return tc ? tc->head : NULL;
}

void runtime_retry_pending(struct runtime *rt)
{
	for (size_t i = 0; i < rt->live.n_attachments; i++) {
		struct rt_attachment *a = &rt->live.attachments[i];
		const struct rt_cube *head;
		uint32_t ifindex;

		if (a->applied || a->optional || !(ifindex = netdev_index(a->netdev)))
			continue;
		head = set_cube(&rt->live, a->cube);
		if (head && head->cube && !netdev_attach(head->cube, ifindex, a->mode)) {
			a->ifindex = ifindex;
			a->head = head->cube;
			a->applied = 1;
			cn_log(CN_LOG_INFO, "%s appeared: '%s' attached in %s mode", a->netdev,
			       a->cube, attach_mode_name(a->mode));
		}
	}
}

/* ---- state ---- */

static void add_u64(struct lyd_node *tree, const char *base, const char *leaf_path, uint64_t v)
{
	char path[256], value[32];

	snprintf(path, sizeof(path), "%s/statistics/%s", base, leaf_path);
	snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
	lyd_new_path(tree, NULL, path, value, LYD_NEW_PATH_UPDATE, NULL);
}

static void cube_state(struct runtime *rt, struct lyd_node *tree)
{
	const struct lyd_node *cubes = cfg_find(tree, "/cubenet-core:cubes");

	/* Only the cubes the tree holds: a GET of one costs one. */
	for (const struct lyd_node *n = cubes ? lyd_child(cubes) : NULL; n; n = n->next) {
		const struct rt_cube *c;
		struct cube_stats st;
		char base[128], lp[96];

		if (strcmp(n->schema->name, "cube") ||
		    !(c = set_cube(&rt->live, cfg_leaf(n, "name"))) || c->composed ||
		    cube_read_stats(c->cube, &st))
			continue;
		snprintf(base, sizeof(base), "/cubenet-core:cubes/cube[name='%s']", c->name);
		add_u64(tree, base, "rx-packets", st.rx_packets);
		add_u64(tree, base, "rx-bytes", st.rx_bytes);
		for (int v = 0; v < CUBE_VERDICT_MAX; v++) {
			snprintf(lp, sizeof(lp), "verdict[name='%s']/packets",
				 cube_verdict_name(v));
			add_u64(tree, base, lp, st.verdict[v]);
		}
		for (int r = 1; r < CUBE_DROP_MAX; r++) {
			if (!st.drop[r])
				continue;
			snprintf(lp, sizeof(lp), "drop[reason='%s']/packets",
				 cube_drop_reason_name(r));
			add_u64(tree, base, lp, st.drop[r]);
		}
	}
}

static void attachment_state(struct runtime *rt, struct lyd_node *tree)
{
	const struct lyd_node *atts = cfg_find(tree, "/cubenet-core:attachments");

	for (const struct lyd_node *n = atts ? lyd_child(atts) : NULL; n; n = n->next) {
		char key[24], path[160];
		const struct rt_attachment *a;
		const char *netdev = cfg_leaf(n, "netdev");

		if (strcmp(n->schema->name, "attachment") || !netdev)
			continue;
		snprintf(key, sizeof(key), "%s/%s", netdev,
			 hook_class(mode_of(cfg_leaf(n, "mode"))));
		a = set_attachment(&rt->live, key);
		snprintf(path, sizeof(path),
			 "/cubenet-core:attachments/attachment[netdev='%s'][mode='%s']/applied",
			 netdev, cfg_leaf(n, "mode"));
		lyd_new_path(tree, NULL, path, a && a->applied ? "true" : "false",
			     LYD_NEW_PATH_UPDATE, NULL);
	}
}

void runtime_state(void *arg, struct lyd_node *tree)
{
	struct runtime *rt = arg;

	for (size_t i = 0; i < service_count(); i++)
		if (service_at(i)->state)
			service_at(i)->state(rt, tree);
	cube_state(rt, tree);
	attachment_state(rt, tree);
}

/* ---- pins ---- */

int runtime_init(struct runtime *rt, const char *bpffs, struct cn_error *err)
{
	int e;

	memset(rt, 0, sizeof(*rt));
	snprintf(rt->bpffs, sizeof(rt->bpffs), "%s", bpffs);
	e = cube_shared_open_pinned(&rt->shared, bpffs);
	if (e)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "",
			       "cannot set up BPF maps under %s: %s", bpffs, strerror(-e));
	return 0;
}

static int pins_in_use(struct runtime *rt, const char *dir)
{
	char mine[512];

	for (size_t i = 0; i < rt->live.n_cubes; i++) {
		pin_dir_of(rt, &rt->live.cubes[i], mine, sizeof(mine));
		if (strcmp(mine, dir) == 0)
			return 1;
	}
	return 0;
}

/* Walk ROOT/cubes/HOOK/TYPE/NAME and unpin instances nothing uses. */
static void gc_level(struct runtime *rt, const char *dir, int depth)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	char sub[768];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (depth < 2)
			gc_level(rt, sub, depth + 1);
		else if (!pins_in_use(rt, sub))
			cube_unpin_dir(sub);
	}
	closedir(d);
	if (depth > 0)
		rmdir(dir); /* only succeeds once empty */
}

void runtime_gc_pins(struct runtime *rt)
{
	char dir[300];

	snprintf(dir, sizeof(dir), "%s/cubes", rt->bpffs);
	gc_level(rt, dir, 0);
}

void runtime_destroy(struct runtime *rt)
{
	/* No detach, no unpin: the datapath keeps forwarding until a daemon
	 * adopts it again or the config removes it. */
	runtime_abort(rt);
	for (size_t i = 0; i < rt->live.n_cubes; i++)
		cube_destroy(rt->live.cubes[i].cube);
	set_free(&rt->live);
	use_live(rt);
	cube_shared_close(&rt->shared);
}
