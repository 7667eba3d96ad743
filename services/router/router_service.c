// SPDX-License-Identifier: Apache-2.0
/*
 * The router service: cubenet-router config -> a router cube's maps
 * (router_ports, router_ifindex, router_routes4/6, router_neighs), its
 * interface ports wired to their netdevs, and neighbour resolution through
 * the slow path (router_neigh.c).
 *
 * Routes and neighbours are independent entries: a route added among ten
 * thousand is one LPM update. What YANG cannot check within one change (a
 * route left on an interface that goes, the maps' sizes) is checked here
 * against per-router counts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "config_read.h"
#include "log.h"
#include "map_sync.h"
#include "map_txn.h"
#include "netdev.h"
#include "router_neigh.h"
#include "runtime.h"
#include "service.h"
#include "lib/abi/router.h"

#define ROUTERS "/cubenet-router:routers"

/* What this service counts per router, committed and for the change. */
struct counts {
	uint32_t on_port[CUBE_MAX_PORTS];
	uint32_t routes4, routes6, neighs;
};

struct router_ix {
	char name[64];
	struct counts now, next;
	int gone; /* deleted by the change in flight */
};

static struct router_ix *routers;
static size_t n_routers;
static struct map_txn txn;

static struct router_ix *ix_find(const char *name, int create)
{
	for (size_t i = 0; i < n_routers; i++)
		if (!strcmp(routers[i].name, name))
			return &routers[i];
	if (!create)
		return NULL;
	struct router_ix *grown = realloc(routers, (n_routers + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	routers = grown;
	memset(&routers[n_routers], 0, sizeof(routers[0]));
	snprintf(routers[n_routers].name, sizeof(routers[0].name), "%s", name);
	return &routers[n_routers++];
}

static void where_of(const char *name, char *out, size_t size)
{
	snprintf(out, size, ROUTERS "/router[name='%s']", name);
}

/* ---- config -> map entries ---- */

static int route_entry(const struct lyd_node *r, int *fam, struct router_lpm4_key *k4,
		       struct router_lpm6_key *k6, struct router_route *route)
{
	union cube_addr addr;
	uint32_t plen = 0;
	int nh_fam = 0;
	const char *nh = cfg_leaf(r, "nexthop");

	memset(route, 0, sizeof(*route));
	if (cfg_parse_prefix(cfg_leaf(r, "prefix"), fam, &addr, &plen))
		return -1;
	route->port = (uint32_t)strtoul(cfg_leaf(r, "port") ?: "0", NULL, 10);
	if (nh) {
		if (cfg_parse_addr(nh, &nh_fam, &route->nexthop) || nh_fam != *fam)
			return -1;
		route->flags = ROUTER_ROUTE_F_GATEWAY;
	}
	if (*fam == CUBE_AF_INET) {
		*k4 = (struct router_lpm4_key){.prefixlen = plen, .addr = addr.ip4};
	} else {
		memset(k6, 0, sizeof(*k6));
		k6->prefixlen = plen;
		memcpy(k6->addr, addr.bytes, 16);
	}
	return 0;
}

static int neigh_entry(const struct lyd_node *n, struct router_neigh_key *k, struct router_neigh *v)
{
	int fam = 0;

	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	if (cfg_parse_addr(cfg_leaf(n, "address"), &fam, &k->addr) ||
	    cfg_parse_mac(cfg_leaf(n, "mac"), v->mac))
		return -1;
	k->family = (uint32_t)fam;
	return 0;
}

static int port_entry(const struct lyd_node *itf, struct router_port *p, const char *where,
		      struct cn_error *err)
{
	const char *dev = cfg_leaf(itf, "netdev"), *v;
	uint32_t port = (uint32_t)strtoul(cfg_leaf(itf, "port"), NULL, 10);

	memset(p, 0, sizeof(*p));
	p->ifindex = netdev_index(dev);
	if (!p->ifindex)
		return cn_fail(err, CN_ERR_INVALID_VALUE, where, "interface %u: no netdev '%s'",
			       port, dev);
	if ((v = cfg_leaf(itf, "mac")) ? cfg_parse_mac(v, p->mac) : netdev_mac(dev, p->mac))
		return cn_fail(err, CN_ERR_INVALID_VALUE, where, "interface %u: no MAC for '%s'",
			       port, dev);
	if ((v = cfg_leaf(itf, "ipv4/address"))) {
		inet_pton(AF_INET, v, &p->ip4);
		p->plen4 = (uint8_t)atoi(cfg_leaf(itf, "ipv4/prefix-length"));
	}
	if ((v = cfg_leaf(itf, "ipv6/address"))) {
		inet_pton(AF_INET6, v, p->ip6);
		p->plen6 = (uint8_t)atoi(cfg_leaf(itf, "ipv6/prefix-length"));
	}
	p->enabled = 1;
	return 0;
}

/* ---- validate ---- */

struct count_ctx {
	struct counts *c;
	const char *where;
};

static int count_route(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		       struct cn_error *err)
{
	struct count_ctx *x = arg;
	struct router_lpm4_key k4;
	struct router_lpm6_key k6;
	struct router_route r;
	int fam = 0;

	if (was && !route_entry(was, &fam, &k4, &k6, &r)) {
		x->c->on_port[r.port % CUBE_MAX_PORTS]--;
		*(fam == CUBE_AF_INET ? &x->c->routes4 : &x->c->routes6) -= 1;
	}
	if (now) {
		if (route_entry(now, &fam, &k4, &k6, &r))
			return cn_fail(err, CN_ERR_INVALID_VALUE, x->where,
				       "route %s: next hop %s is of another family",
				       cfg_leaf(now, "prefix"), cfg_leaf(now, "nexthop"));
		x->c->on_port[r.port % CUBE_MAX_PORTS]++;
		*(fam == CUBE_AF_INET ? &x->c->routes4 : &x->c->routes6) += 1;
	}
	return 0;
}

static int count_neigh(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		       struct cn_error *err)
{
	(void)err;
	struct counts *c = arg;

	c->neighs += (now ? 1 : 0) - (was ? 1 : 0);
	return 0;
}

static int validate_router(const struct ds_change *c, const struct lyd_node *r,
			   struct cn_error *err)
{
	const char *name = cfg_leaf(r, "name");
	struct router_ix *ix = ix_find(name, 1);
	char where[160], xpath[200];
	struct count_ctx x = {NULL, where};
	uint32_t netdevs[CUBE_MAX_PORTS] = {0};

	if (!ix)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "out of memory");
	where_of(name, where, sizeof(where));
	if (!cfg_at(c->config, where)) {
		ix->gone = 1; /* everything below goes with it */
		return 0;
	}
	ix->gone = 0;
	ix->next = c->restore ? (struct counts){0} : ix->now;
	x.c = &ix->next;
	snprintf(xpath, sizeof(xpath), "%s/route", where);
	if (cfg_each_change(c, xpath, count_route, &x, err))
		return -1;
	snprintf(xpath, sizeof(xpath), "%s/neighbor", where);
	if (cfg_each_change(c, xpath, count_neigh, &ix->next, err))
		return -1;
	if (ix->next.routes4 > ROUTER_MAX_ROUTES || ix->next.routes6 > ROUTER_MAX_ROUTES)
		return cn_fail(err, CN_ERR_TOO_BIG, where, "at most %d routes of each family",
			       ROUTER_MAX_ROUTES);
	/* Interfaces: every port a route uses has one; a netdev is on one. */
	const struct lyd_node *now = cfg_at(c->config, where);

	for (const struct lyd_node *n = lyd_child(now); n; n = n->next) {
		struct router_port p;
		uint32_t port;

		if (strcmp(n->schema->name, "interface"))
			continue;
		if (port_entry(n, &p, where, err)) {
			if (!c->restore)
				return -1;
			/* At a restart its netdev may be gone: the interface is down
			 * until the config names one that is there. */
			cn_log(CN_LOG_WARNING, "%s", err->message);
			*err = (struct cn_error){0};
			continue;
		}
		port = (uint32_t)strtoul(cfg_leaf(n, "port"), NULL, 10);
		for (uint32_t q = 0; q < CUBE_MAX_PORTS; q++)
			if (netdevs[q] == p.ifindex)
				return cn_fail(err, CN_ERR_INVALID_VALUE, where,
					       "netdev '%s' is on two interfaces",
					       cfg_leaf(n, "netdev"));
		netdevs[port % CUBE_MAX_PORTS] = p.ifindex;
	}
	for (uint32_t port = 0; port < CUBE_MAX_PORTS; port++)
		if (ix->next.on_port[port] && !netdevs[port])
			return cn_fail(err, CN_ERR_INVALID_VALUE, where,
				       "interface %u is the port of %u routes", port,
				       ix->next.on_port[port]);
	return 0;
}

static int router_validate(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	struct ly_set *set = NULL;
	int rc = 0;

	(void)rt;
	if (lyd_find_xpath(c->diff, ROUTERS "/router", &set))
		return 0;
	for (uint32_t i = 0; i < set->count && !rc; i++)
		rc = validate_router(c, set->dnodes[i], err);
	ly_set_free(set, NULL);
	return rc;
}

/* ---- compose: interface ports to their netdevs ---- */

static int router_compose(struct runtime *rt, const struct lyd_node *config,
			  const struct service_builder *b, struct cn_error *err)
{
	const struct lyd_node *routers_node = cfg_find(config, ROUTERS);

	(void)rt;
	for (const struct lyd_node *r = routers_node ? lyd_child(routers_node) : NULL; r;
	     r = r->next) {
		const char *name = cfg_leaf(r, "name");

		for (const struct lyd_node *n = lyd_child(r); n; n = n->next) {
			char core_port[200];
			const char *port;

			if (strcmp(n->schema->name, "interface"))
				continue;
			port = cfg_leaf(n, "port");
			/* The core config may wire the port elsewhere; that wins. */
			snprintf(core_port, sizeof(core_port),
				 "/cubenet-core:cubes/cube[name='%s']/port[id='%s']", name, port);
			if (cfg_at(config, core_port))
				continue;
			if (b->wire(b->arg, name, (uint32_t)strtoul(port, NULL, 10),
				    CUBE_PORT_NETDEV, cfg_leaf(n, "netdev"), err))
				return -1;
		}
	}
	return 0;
}

/* ---- apply ---- */

struct write_ctx {
	struct cube *cube;
	const char *where;
};

static int write_route(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		       struct cn_error *err)
{
	struct write_ctx *x = arg;
	struct router_lpm4_key k4;
	struct router_lpm6_key k6;
	struct router_route r;
	int fam = 0, e;
	const struct lyd_node *entry = now ? now : was;

	if (!entry || route_entry(entry, &fam, &k4, &k6, &r))
		return 0; /* validate refused what does not parse */
	const char *map = fam == CUBE_AF_INET ? "router_routes4" : "router_routes6";
	const void *key = fam == CUBE_AF_INET ? (const void *)&k4 : (const void *)&k6;
	size_t key_size = fam == CUBE_AF_INET ? sizeof(k4) : sizeof(k6);

	e = now ? map_txn_update(&txn, cube_map_fd(x->cube, map), key, key_size, &r, sizeof(r))
		: map_txn_delete(&txn, cube_map_fd(x->cube, map), key, key_size, sizeof(r));
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, x->where, "route %s: %s",
			   cfg_leaf(entry, "prefix"), strerror(-e))
		 : 0;
}

static int write_neigh(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		       struct cn_error *err)
{
	struct write_ctx *x = arg;
	struct router_neigh_key k;
	struct router_neigh v;
	int fd = cube_map_fd(x->cube, "router_neighs"), e;
	const struct lyd_node *entry = now ? now : was;

	if (!entry || neigh_entry(entry, &k, &v))
		return 0;
	e = now ? map_txn_update(&txn, fd, &k, sizeof(k), &v, sizeof(v))
		: map_txn_delete(&txn, fd, &k, sizeof(k), sizeof(v));
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, x->where, "neighbour %s: %s",
			   cfg_leaf(entry, "address"), strerror(-e))
		 : 0;
}

/* Interfaces are few: written whole whenever the router changes. */
static int write_ports(struct cube *cube, const struct lyd_node *r, const char *where, int restore,
		       struct cn_error *err)
{
	struct router_port ports[CUBE_MAX_PORTS] = {0};
	int ports_fd = cube_map_fd(cube, "router_ports"),
	    ifx_fd = cube_map_fd(cube, "router_ifindex");
	uint32_t key, next;
	int e = 0, rc;

	for (const struct lyd_node *n = lyd_child(r); n; n = n->next) {
		uint32_t port;

		if (strcmp(n->schema->name, "interface"))
			continue;
		port = (uint32_t)strtoul(cfg_leaf(n, "port"), NULL, 10) % CUBE_MAX_PORTS;
		if (port_entry(n, &ports[port], where, err)) {
			if (!restore)
				return -1;
			*err =
			    (struct cn_error){0}; /* its netdev is gone: down (validate said so) */
			memset(&ports[port], 0, sizeof(ports[port]));
		}
	}
	for (uint32_t p = 0; p < CUBE_MAX_PORTS && !e; p++) {
		e = map_txn_update(&txn, ports_fd, &p, sizeof(p), &ports[p], sizeof(ports[p]));
		if (!e && ports[p].enabled)
			e = map_txn_update(&txn, ifx_fd, &ports[p].ifindex, sizeof(uint32_t), &p,
					   sizeof(p));
	}
	/* ifindexes no interface has any more */
	for (rc = bpf_map_get_next_key(ifx_fd, NULL, &next); !rc && !e;
	     rc = bpf_map_get_next_key(ifx_fd, &key, &next)) {
		int wanted = 0;

		key = next;
		for (uint32_t p = 0; p < CUBE_MAX_PORTS; p++)
			wanted |= ports[p].enabled && ports[p].ifindex == key;
		if (!wanted)
			e = map_txn_delete(&txn, ifx_fd, &key, sizeof(key), sizeof(uint32_t));
	}
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot program its ports: %s",
			   strerror(-e))
		 : 0;
}

/* Everything from one full entry: a cube loaded afresh, or the restore.
 * Its own maps, before it is live: no transaction to undo. */
static int write_all(struct cube *cube, const struct lyd_node *r, const char *where,
		     struct cn_error *err)
{
	struct ly_set *routes = NULL, *neighs = NULL;
	struct router_lpm4_key *k4 = NULL;
	struct router_lpm6_key *k6 = NULL;
	struct router_route *v4 = NULL, *v6 = NULL;
	struct router_neigh_key *nk = NULL;
	struct router_neigh *nv = NULL;
	size_t n4 = 0, n6 = 0, nn = 0;
	int e = -ENOMEM;

	if (r && (lyd_find_xpath(r, "route", &routes) || lyd_find_xpath(r, "neighbor", &neighs)))
		goto out;
	size_t nr = routes ? routes->count : 0, nb = neighs ? neighs->count : 0;

	k4 = calloc(nr + 1, sizeof(*k4));
	k6 = calloc(nr + 1, sizeof(*k6));
	v4 = calloc(nr + 1, sizeof(*v4));
	v6 = calloc(nr + 1, sizeof(*v6));
	nk = calloc(nb + 1, sizeof(*nk));
	nv = calloc(nb + 1, sizeof(*nv));
	if (!k4 || !k6 || !v4 || !v6 || !nk || !nv)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		int fam = 0;
		struct router_route route;
		struct router_lpm4_key a;
		struct router_lpm6_key b;

		if (route_entry(routes->dnodes[i], &fam, &a, &b, &route))
			continue;
		if (fam == CUBE_AF_INET)
			k4[n4] = a, v4[n4++] = route;
		else
			k6[n6] = b, v6[n6++] = route;
	}
	for (size_t i = 0; i < nb; i++)
		if (!neigh_entry(neighs->dnodes[i], &nk[nn], &nv[nn]))
			nn++;
	e = map_sync(cube_map_fd(cube, "router_routes4"), k4, v4, n4, sizeof(*k4), sizeof(*v4));
	if (!e)
		e = map_sync(cube_map_fd(cube, "router_routes6"), k6, v6, n6, sizeof(*k6),
			     sizeof(*v6));
	if (!e)
		e = map_sync(cube_map_fd(cube, "router_neighs"), nk, nv, nn, sizeof(*nk),
			     sizeof(*nv));
out:
	ly_set_free(routes, NULL);
	ly_set_free(neighs, NULL);
	free(k4);
	free(k6);
	free(v4);
	free(v6);
	free(nk);
	free(nv);
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, where, "cannot program its maps: %s",
			   strerror(-e))
		 : 0;
}

static int apply_router(struct runtime *rt, const struct ds_change *c, const struct lyd_node *r,
			struct cn_error *err)
{
	const char *name = cfg_leaf(r, "name");
	struct cube *cube = rt_cube(rt, name);
	char where[160], xpath[200];
	struct write_ctx x = {cube, where};
	int fresh = rt_cube_fresh(rt, name);

	where_of(name, where, sizeof(where));
	if (!cube)
		return 0;
	if (c->restore)
		return write_all(cube, r, where, err) || write_ports(cube, r, where, 1, err) ? -1
											     : 0;
	/* A fresh instance starts from the whole entry as it was, then takes
	 * the change like any other. */
	if (fresh && write_all(cube, cfg_at(c->running, where), where, err))
		return -1;
	snprintf(xpath, sizeof(xpath), "%s/route", where);
	if (cfg_each_change(c, xpath, write_route, &x, err))
		return -1;
	snprintf(xpath, sizeof(xpath), "%s/neighbor", where);
	if (cfg_each_change(c, xpath, write_neigh, &x, err))
		return -1;
	return write_ports(cube, r, where, 0, err);
}

static int router_apply(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	const struct lyd_node *top = cfg_find(c->config, ROUTERS);

	for (const struct lyd_node *r = top ? lyd_child(top) : NULL; r; r = r->next) {
		const char *name = cfg_leaf(r, "name");
		char where[160];

		where_of(name, where, sizeof(where));
		/* Only routers the change touches, or whose cube it reloads. */
		if (!c->restore && !rt_cube_fresh(rt, name) && !(c->diff && cfg_at(c->diff, where)))
			continue;
		if (apply_router(rt, c, r, err))
			return -1;
	}
	return 0;
}

static void router_commit(struct runtime *rt, const struct ds_change *c)
{
	(void)rt;
	(void)c;
	map_txn_commit(&txn);
	for (size_t i = 0; i < n_routers;) {
		if (routers[i].gone) {
			routers[i] = routers[--n_routers];
			continue;
		}
		routers[i].now = routers[i].next;
		i++;
	}
}

static void router_abort(struct runtime *rt, const struct ds_change *c)
{
	(void)rt;
	(void)c;
	map_txn_abort(&txn);
	for (size_t i = 0; i < n_routers; i++) {
		routers[i].next = routers[i].now;
		routers[i].gone = 0;
	}
}

static const char *const independent[] = {
    ROUTERS "/router/route",
    ROUTERS "/router/neighbor",
    NULL,
};

static const struct service router_service = {
    .name = "router",
    .module = "cubenet-router",
    .independent = independent,
    .cube_type = "router",
    .validate = router_validate,
    .compose = router_compose,
    .apply = router_apply,
    .commit = router_commit,
    .abort = router_abort,
    .packet_in = router_packet_in,
    .start = router_neigh_start,
    .stop = router_neigh_stop,
};
CUBENET_SERVICE(router_service);
