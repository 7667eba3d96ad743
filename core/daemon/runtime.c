// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime.h"
#include "netdev.h"
#include "cube_pin.h"
#include <dirent.h>
#include <unistd.h>
#include "service.h"
#include "common.h"

/* What the config asks for, read out of a data tree. */
struct want {
	struct want_cube {
		char name[32];
		char type[16];
		enum cube_hook hook;
		struct rt_port ports[CUBE_MAX_PORTS];
		struct service_map_size sizes[SERVICE_MAX_SIZES];
		size_t n_sizes;
		struct service_const consts[SERVICE_MAX_CONSTS];
		size_t n_consts;
		int composed;	   /* made by a service, not in cubenet-core */
		struct cube *cube; /* the instance it will be: kept or newly loaded */
		int fresh;	   /* newly loaded by this apply */
		int new_pins;	   /* and its pin directory is new too */
	} cubes[RT_MAX_CUBES];
	size_t n_cubes;
	struct rt_attachment attachments[RT_MAX_ATTACHMENTS];
	size_t n_attachments;
};

static struct want_cube *want_find(struct want *w, const char *name);

static int build_cube(void *arg, const char *name, const char *type, enum cube_hook hook,
		      const struct service_map_size *sizes, size_t n_sizes, struct cn_error *err)
{
	struct want *w = arg;
	struct want_cube *wc;

	if (w->n_cubes == RT_MAX_CUBES)
		return cn_fail(err, CN_ERR_TOO_BIG, "", "at most %d cubes", RT_MAX_CUBES);
	if (n_sizes > SERVICE_MAX_SIZES)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cube %s: too many sizes", name);
	wc = &w->cubes[w->n_cubes++];
	snprintf(wc->name, sizeof(wc->name), "%s", name);
	snprintf(wc->type, sizeof(wc->type), "%s", type);
	wc->hook = hook;
	wc->composed = 1;
	if (n_sizes)
		memcpy(wc->sizes, sizes, n_sizes * sizeof(*sizes));
	wc->n_sizes = n_sizes;
	return 0;
}

static int build_const(void *arg, const char *cube, const char *name, uint32_t value,
		       struct cn_error *err)
{
	struct want_cube *wc = want_find(arg, cube);

	if (!wc || wc->n_consts == SERVICE_MAX_CONSTS)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cube %s: no room for %s", cube,
			       name);
	wc->consts[wc->n_consts++] = (struct service_const){name, value};
	return 0;
}

static int build_wire(void *arg, const char *cube, uint32_t port, enum cube_port_kind kind,
		      const char *peer, struct cn_error *err)
{
	struct want_cube *wc = want_find(arg, cube);

	if (!wc || port >= CUBE_MAX_PORTS)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "no port %u on cube %s", port,
			       cube);
	wc->ports[port].kind = (uint8_t)kind;
	snprintf(wc->ports[port].peer, sizeof(wc->ports[port].peer), "%s", peer ? peer : "");
	return 0;
}

static int build_attach(void *arg, const char *cube, const char *netdev, enum attach_mode mode,
			int optional, struct cn_error *err)
{
	struct want *w = arg;
	struct rt_attachment *at;

	if (w->n_attachments == RT_MAX_ATTACHMENTS)
		return cn_fail(err, CN_ERR_TOO_BIG, "", "at most %d attachments",
			       RT_MAX_ATTACHMENTS);
	at = &w->attachments[w->n_attachments++];
	snprintf(at->netdev, sizeof(at->netdev), "%s", netdev);
	snprintf(at->cube, sizeof(at->cube), "%s", cube);
	at->mode = mode;
	at->optional = optional;
	return 0;
}

/* The cubes, wiring and attachments composing services declare. */
static int read_composed(const struct lyd_node *tree, struct want *w, struct cn_error *err)
{
	const struct service_builder b = {w, build_cube, build_const, build_wire, build_attach};

	for (const struct service *const *s = services; *s; s++)
		if ((*s)->compose && tree && (*s)->compose(tree, &b, err))
			return -1;
	return 0;
}

static int read_want(const struct lyd_node *tree, struct want *w, struct cn_error *err)
{
	struct ly_set *set = NULL;

	memset(w, 0, sizeof(*w));
	if (tree && !lyd_find_xpath(tree, "/cubenet-core:cubes/cube", &set)) {
		for (uint32_t i = 0; i < set->count; i++) {
			const struct lyd_node *c = set->dnodes[i];
			struct want_cube *wc;
			struct ly_set *ports = NULL;

			if (w->n_cubes == RT_MAX_CUBES) {
				ly_set_free(set, NULL);
				return cn_fail(err, CN_ERR_TOO_BIG, "/cubenet-core:cubes",
					       "at most %d cubes", RT_MAX_CUBES);
			}
			wc = &w->cubes[w->n_cubes++];
			snprintf(wc->name, sizeof(wc->name), "%s", svc_leaf(c, "name"));
			snprintf(wc->type, sizeof(wc->type), "%s", svc_leaf(c, "type"));
			wc->hook = strcmp(svc_leaf(c, "hook") ?: "xdp", "tc") == 0 ? CUBE_HOOK_TC
										   : CUBE_HOOK_XDP;
			if (lyd_find_xpath(c, "port", &ports))
				continue;
			for (uint32_t p = 0; p < ports->count; p++) {
				const struct lyd_node *pn = ports->dnodes[p];
				struct rt_port *port =
				    &wc->ports[atoi(svc_leaf(pn, "id")) % CUBE_MAX_PORTS];
				const char *v;

				if ((v = svc_leaf(pn, "cube"))) {
					port->kind = CUBE_PORT_CUBE;
				} else if ((v = svc_leaf(pn, "netdev"))) {
					port->kind = CUBE_PORT_NETDEV;
				} else if ((v = svc_leaf(pn, "verdict"))) {
					port->kind = strcmp(v, "tx") == 0     ? CUBE_PORT_TX
						     : strcmp(v, "pass") == 0 ? CUBE_PORT_PASS
									      : CUBE_PORT_DROP;
				}
				snprintf(port->peer, sizeof(port->peer), "%s", v ? v : "");
			}
			ly_set_free(ports, NULL);
		}
		ly_set_free(set, NULL);
	}
	if (tree && !lyd_find_xpath(tree, "/cubenet-core:attachments/attachment", &set)) {
		for (uint32_t i = 0; i < set->count && w->n_attachments < RT_MAX_ATTACHMENTS; i++) {
			const struct lyd_node *a = set->dnodes[i];
			struct rt_attachment *at = &w->attachments[w->n_attachments++];
			const char *mode = svc_leaf(a, "mode");

			snprintf(at->netdev, sizeof(at->netdev), "%s", svc_leaf(a, "netdev"));
			snprintf(at->cube, sizeof(at->cube), "%s", svc_leaf(a, "cube"));
			at->mode = strcmp(mode, "xdp-generic") == 0  ? ATTACH_XDP_GENERIC
				   : strcmp(mode, "tc-ingress") == 0 ? ATTACH_TC_INGRESS
				   : strcmp(mode, "tc-egress") == 0  ? ATTACH_TC_EGRESS
								     : ATTACH_XDP_NATIVE;
		}
		ly_set_free(set, NULL);
	}
	return read_composed(tree, w, err);
}

static struct rt_cube *rt_find(struct runtime *rt, const char *name)
{
	for (size_t i = 0; i < rt->n_cubes; i++)
		if (strcmp(rt->cubes[i].name, name) == 0)
			return &rt->cubes[i];
	return NULL;
}

static struct want_cube *want_find(struct want *w, const char *name)
{
	for (size_t i = 0; i < w->n_cubes; i++)
		if (strcmp(w->cubes[i].name, name) == 0)
			return &w->cubes[i];
	return NULL;
}

static void instance_pin_dir(struct runtime *rt, const struct cube *c, const char *name, char *dir,
			     size_t size)
{
	cube_pin_dir(dir, size, rt->bpffs, name, c->type->name, c->hook);
}

/* Forget instances loaded for an apply that failed; pins that were there
 * before (a previous daemon's live datapath) stay. */
static void drop_fresh(struct runtime *rt, struct want *w)
{
	char dir[512];

	for (size_t i = 0; i < w->n_cubes; i++) {
		if (!w->cubes[i].fresh || !w->cubes[i].cube)
			continue;
		instance_pin_dir(rt, w->cubes[i].cube, w->cubes[i].name, dir, sizeof(dir));
		cube_destroy(w->cubes[i].cube);
		if (w->cubes[i].new_pins)
			cube_unpin_dir(dir);
		w->cubes[i].cube = NULL;
	}
}

static char cube_path[128];

static const char *path_of(const char *name)
{
	snprintf(cube_path, sizeof(cube_path), "/cubenet-core:cubes/cube[name='%s']", name);
	return cube_path;
}

/* Same map sizes and constants: the loaded instance can stay. */
static int same_shape(const struct rt_cube *have, const struct want_cube *wc)
{
	if (have->n_sizes != wc->n_sizes || have->n_consts != wc->n_consts)
		return 0;
	for (size_t i = 0; i < wc->n_consts; i++)
		if (strcmp(have->consts[i].name, wc->consts[i].name) ||
		    have->consts[i].value != wc->consts[i].value)
			return 0;
	for (size_t i = 0; i < wc->n_sizes; i++)
		if (strcmp(have->sizes[i].map, wc->sizes[i].map) ||
		    have->sizes[i].max_entries != wc->sizes[i].max_entries)
			return 0;
	return 1;
}

/* Load what is new or changed type/hook/map sizes; check every reference. Nothing
 * live is touched here. */
static int prepare(struct runtime *rt, struct want *w, struct cn_error *err)
{
	for (size_t i = 0; i < w->n_cubes; i++) {
		struct want_cube *wc = &w->cubes[i];
		struct rt_cube *have = rt_find(rt, wc->name);
		int e;

		if (have && strcmp(have->cube->type->name, wc->type) == 0 &&
		    have->cube->hook == wc->hook && same_shape(have, wc)) {
			wc->cube = have->cube;
			continue;
		}
		char dir[512];

		/* Maps pinned by an earlier daemon for this instance are adopted. */
		cube_pin_dir(dir, sizeof(dir), rt->bpffs, wc->name, wc->type, wc->hook);
		wc->new_pins = access(dir, F_OK) != 0;
		e = cube_open(&wc->cube, wc->type, wc->hook, ++rt->next_id);
		for (size_t k = 0; k < wc->n_sizes && !e; k++)
			e = cube_set_map_size(wc->cube, wc->sizes[k].map, wc->sizes[k].max_entries);
		for (size_t k = 0; k < wc->n_consts && !e; k++)
			e = cube_set_const(wc->cube, wc->consts[k].name, &wc->consts[k].value,
					   sizeof(wc->consts[k].value));
		if (!e)
			e = cube_load_pinned(wc->cube, &rt->shared, dir);
		if (e) {
			cube_destroy(wc->cube);
			wc->cube = NULL;
			if (wc->new_pins)
				cube_unpin_dir(dir);
			return cn_fail(err, CN_ERR_OPERATION_FAILED, path_of(wc->name),
				       "cannot load a %s cube: %s", wc->type, strerror(-e));
		}
		wc->fresh = 1;
	}
	for (size_t i = 0; i < w->n_cubes; i++) {
		struct want_cube *wc = &w->cubes[i];

		for (int p = 0; p < CUBE_MAX_PORTS; p++) {
			struct rt_port *port = &wc->ports[p];

			if (port->kind == CUBE_PORT_CUBE) {
				struct want_cube *peer = want_find(w, port->peer);

				if (!peer || peer->hook != wc->hook)
					return cn_fail(err, CN_ERR_INVALID_VALUE, path_of(wc->name),
						       "port %d: cube '%s' is not a %s cube", p,
						       port->peer,
						       wc->hook == CUBE_HOOK_TC ? "tc" : "xdp");
			} else if (port->kind == CUBE_PORT_NETDEV && !netdev_index(port->peer)) {
				return cn_fail(err, CN_ERR_INVALID_VALUE, path_of(wc->name),
					       "port %d: no netdev '%s'", p, port->peer);
			}
		}
	}
	for (size_t i = 0; i < w->n_attachments; i++) {
		struct rt_attachment *at = &w->attachments[i];
		struct want_cube *head = want_find(w, at->cube);
		int xdp = attach_is_xdp(at->mode);

		at->ifindex = netdev_index(at->netdev);
		if (!at->ifindex && at->optional) {
			/* Gone already: drop it from what is wanted. */
			w->attachments[i--] = w->attachments[--w->n_attachments];
			continue;
		}
		if (!at->ifindex)
			return cn_fail(err, CN_ERR_INVALID_VALUE, "/cubenet-core:attachments",
				       "no netdev '%s'", at->netdev);
		for (size_t j = 0; j < i; j++)
			if (w->attachments[j].ifindex == at->ifindex &&
			    attach_is_xdp(w->attachments[j].mode) == attach_is_xdp(at->mode) &&
			    (attach_is_xdp(at->mode) || w->attachments[j].mode == at->mode))
				return cn_fail(err, CN_ERR_INVALID_VALUE,
					       "/cubenet-core:attachments",
					       "netdev '%s' would get two chains on one hook: '%s' "
					       "and '%s'",
					       at->netdev, w->attachments[j].cube, at->cube);
		if (!head || (head->hook == CUBE_HOOK_XDP) != xdp)
			return cn_fail(err, CN_ERR_INVALID_VALUE, "/cubenet-core:attachments",
				       "cube '%s' cannot attach in %s mode", at->cube,
				       attach_mode_name(at->mode));
	}
	return 0;
}

static int wire(struct want *w, struct cn_error *err)
{
	for (size_t i = 0; i < w->n_cubes; i++) {
		struct want_cube *wc = &w->cubes[i];

		for (uint32_t p = 0; p < CUBE_MAX_PORTS; p++) {
			struct rt_port *port = &wc->ports[p];
			int e;

			if (port->kind == CUBE_PORT_CUBE)
				e = cube_connect_cube(wc->cube, p, want_find(w, port->peer)->cube);
			else if (port->kind == CUBE_PORT_NETDEV)
				e = cube_connect_port(wc->cube, p, CUBE_PORT_NETDEV,
						      netdev_index(port->peer));
			else
				e = cube_connect_port(wc->cube, p, port->kind, 0);
			if (e)
				return cn_fail(err, CN_ERR_OPERATION_FAILED, path_of(wc->name),
					       "cannot wire port %u: %s", p, strerror(-e));
		}
	}
	return 0;
}

static struct cube *want_cube_of(void *arg, const char *name)
{
	struct want_cube *wc = want_find(arg, name);

	return wc ? wc->cube : NULL;
}

/* Each service programs the maps of its cubes from the candidate config. */
static int configure(const struct lyd_node *config, struct want *w, struct cn_error *err)
{
	for (size_t i = 0; i < w->n_cubes; i++)
		for (const struct service *const *s = services; *s; s++)
			if (!w->cubes[i].composed && (*s)->cube_type &&
			    strcmp(w->cubes[i].type, (*s)->cube_type) == 0 &&
			    (*s)->apply(config, w->cubes[i].name, w->cubes[i].cube, err))
				return -1;
	for (const struct service *const *s = services; *s; s++)
		if ((*s)->apply_composed && (*s)->apply_composed(config, want_cube_of, w, err))
			return -1;
	return 0;
}

static int attach(struct runtime *rt, struct want *w, struct cn_error *err)
{
	for (size_t i = 0; i < w->n_attachments; i++) {
		struct rt_attachment *at = &w->attachments[i];
		int e = netdev_attach(want_find(w, at->cube)->cube, at->ifindex, at->mode);

		if (e && at->optional && !netdev_index(at->netdev)) {
			/* It went between prepare and now. */
			w->attachments[i--] = w->attachments[--w->n_attachments];
			continue;
		}
		if (e)
			return cn_fail(err, CN_ERR_INVALID_VALUE, "/cubenet-core:attachments",
				       "cannot attach '%s' to %s in %s mode: %s", at->cube,
				       at->netdev, attach_mode_name(at->mode), strerror(-e));
	}
	/* Attachments that are gone. */
	for (size_t i = 0; i < rt->n_attachments; i++) {
		struct rt_attachment *old = &rt->attachments[i];
		int kept = 0;

		for (size_t j = 0; j < w->n_attachments; j++)
			kept |= old->ifindex == w->attachments[j].ifindex &&
				old->mode == w->attachments[j].mode;
		if (!kept)
			netdev_detach(old->ifindex, old->mode);
	}
	return 0;
}

/* Everything is wired to the new instances: unload what nothing uses. */
static void commit_runtime(struct runtime *rt, struct want *w)
{
	for (size_t i = 0; i < rt->n_cubes; i++) {
		struct want_cube *wc = want_find(w, rt->cubes[i].name);
		char dir[512];

		if (wc && wc->cube == rt->cubes[i].cube)
			continue;
		/* Replaced by the same name, type and hook: the pins are the new one's. */
		int pins_taken_over = wc && strcmp(wc->type, rt->cubes[i].cube->type->name) == 0 &&
				      wc->hook == rt->cubes[i].cube->hook;

		instance_pin_dir(rt, rt->cubes[i].cube, rt->cubes[i].name, dir, sizeof(dir));
		cube_destroy(rt->cubes[i].cube);
		if (!pins_taken_over)
			cube_unpin_dir(dir);
	}
	rt->n_cubes = w->n_cubes;
	for (size_t i = 0; i < w->n_cubes; i++) {
		struct rt_cube *c = &rt->cubes[i];

		snprintf(c->name, sizeof(c->name), "%s", w->cubes[i].name);
		c->cube = w->cubes[i].cube;
		c->composed = w->cubes[i].composed;
		memcpy(c->ports, w->cubes[i].ports, sizeof(c->ports));
		memcpy(c->sizes, w->cubes[i].sizes, sizeof(c->sizes));
		c->n_sizes = w->cubes[i].n_sizes;
		memcpy(c->consts, w->cubes[i].consts, sizeof(c->consts));
		c->n_consts = w->cubes[i].n_consts;
	}
	rt->n_attachments = w->n_attachments;
	if (w->n_attachments)
		memcpy(rt->attachments, w->attachments,
		       w->n_attachments * sizeof(w->attachments[0]));
}

int runtime_apply(void *arg, const struct lyd_node *running, const struct lyd_node *candidate,
		  struct cn_error *err)
{
	struct runtime *rt = arg;
	struct want *w = calloc(1, sizeof(*w));
	int rc = -1;

	if (!w)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
	if (read_want(candidate, w, err) || prepare(rt, w, err)) {
		drop_fresh(rt, w);
		goto out;
	}
	if (wire(w, err) || configure(candidate, w, err) || attach(rt, w, err)) {
		/* Put the old wiring back, then forget what was loaded for this. */
		struct want *old = calloc(1, sizeof(*old));
		struct cn_error ignored = {0};

		if (old && !read_want(running, old, &ignored) && !prepare(rt, old, &ignored)) {
			wire(old, &ignored);
			configure(running, old, &ignored);
			attach(rt, old, &ignored);
		}
		free(old);
		drop_fresh(rt, w);
		goto out;
	}
	commit_runtime(rt, w);
	rc = 0;
out:
	free(w);
	return rc;
}

static void add_u64(struct lyd_node *tree, const char *base, const char *leaf_path, uint64_t v)
{
	char path[256], value[32];

	snprintf(path, sizeof(path), "%s/statistics/%s", base, leaf_path);
	snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
	lyd_new_path(tree, NULL, path, value, LYD_NEW_PATH_UPDATE, NULL);
}

static struct cube *rt_cube_of(void *arg, const char *name)
{
	struct rt_cube *c = rt_find(arg, name);

	return c ? c->cube : NULL;
}

void runtime_state(void *arg, struct lyd_node *tree)
{
	struct runtime *rt = arg;

	for (const struct service *const *s = services; *s; s++)
		if ((*s)->state)
			(*s)->state(tree, rt_cube_of, rt);
	for (size_t i = 0; i < rt->n_cubes; i++) {
		struct cube_stats st;
		char base[128], lp[96];

		/* A service's own cubes report through its module. */
		if (rt->cubes[i].composed || cube_read_stats(rt->cubes[i].cube, &st))
			continue;
		snprintf(base, sizeof(base), "/cubenet-core:cubes/cube[name='%s']",
			 rt->cubes[i].name);
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

	for (size_t i = 0; i < rt->n_cubes; i++) {
		instance_pin_dir(rt, rt->cubes[i].cube, rt->cubes[i].name, mine, sizeof(mine));
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
	for (size_t i = 0; i < rt->n_cubes; i++)
		cube_destroy(rt->cubes[i].cube);
	cube_shared_close(&rt->shared);
}
