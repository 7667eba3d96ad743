// SPDX-License-Identifier: Apache-2.0
/*
 * The router service: cubenet-router config -> a router cube's maps
 * (router_ports, router_ifindex, router_routes4/6, router_neighs), and the
 * interface ports wired to their netdevs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "service.h"
#include "netdev.h"
#include "map_sync.h"
#include "lib/abi/router.h"
#include "common.h"

#define ROUTER_MAX_ENTRIES 16384 /* as the router cube's maps are sized */

struct router_maps {
	struct router_port ports[CUBE_MAX_PORTS];
	uint32_t ifindex_keys[CUBE_MAX_PORTS], ifindex_ports[CUBE_MAX_PORTS];
	size_t n_ifindex;
	struct router_lpm4_key *r4_keys;
	struct router_route *r4_vals;
	size_t n_r4;
	struct router_lpm6_key *r6_keys;
	struct router_route *r6_vals;
	size_t n_r6;
	struct router_neigh_key *n_keys;
	struct router_neigh *n_vals;
	size_t n_neigh;
};

static void maps_free(struct router_maps *m)
{
	free(m->r4_keys);
	free(m->r4_vals);
	free(m->r6_keys);
	free(m->r6_vals);
	free(m->n_keys);
	free(m->n_vals);
}

static int read_config(const struct lyd_node *cfg, const char *name, struct router_maps *m,
		       struct cn_error *err)
{
	char xpath[160], where[200];
	struct ly_set *set = NULL;

	snprintf(xpath, sizeof(xpath), "/cubenet-router:routers/router[name='%s']", name);
	snprintf(where, sizeof(where), "%s", xpath);
	char q_interface[200], q_route[200], q_neighbor[200];

	snprintf(q_interface, sizeof(q_interface), "%s/interface", xpath);
	snprintf(q_route, sizeof(q_route), "%s/route", xpath);
	snprintf(q_neighbor, sizeof(q_neighbor), "%s/neighbor", xpath);

	/* Interfaces. */
	if (cfg && !lyd_find_xpath(cfg, q_interface, &set)) {
		for (uint32_t i = 0; i < set->count; i++) {
			const struct lyd_node *itf = set->dnodes[i];
			uint32_t port = (uint32_t)atoi(svc_leaf(itf, "port"));
			struct router_port *p = &m->ports[port % CUBE_MAX_PORTS];
			const char *dev = svc_leaf(itf, "netdev"), *v;

			p->ifindex = netdev_index(dev);
			if (!p->ifindex) {
				ly_set_free(set, NULL);
				return cn_fail(err, CN_ERR_INVALID_VALUE, where,
					       "interface %u: no netdev '%s'", port, dev);
			}
			if ((v = svc_leaf(itf, "mac")) ? svc_parse_mac(v, p->mac)
						       : netdev_mac(dev, p->mac)) {
				ly_set_free(set, NULL);
				return cn_fail(err, CN_ERR_INVALID_VALUE, where,
					       "interface %u: no MAC for '%s'", port, dev);
			}
			if ((v = svc_leaf(itf, "ipv4/address"))) {
				inet_pton(AF_INET, v, &p->ip4);
				p->plen4 = (uint8_t)atoi(svc_leaf(itf, "ipv4/prefix-length"));
			}
			if ((v = svc_leaf(itf, "ipv6/address"))) {
				inet_pton(AF_INET6, v, p->ip6);
				p->plen6 = (uint8_t)atoi(svc_leaf(itf, "ipv6/prefix-length"));
			}
			p->enabled = 1;
			for (size_t k = 0; k < m->n_ifindex; k++)
				if (m->ifindex_keys[k] == p->ifindex) {
					ly_set_free(set, NULL);
					return cn_fail(err, CN_ERR_INVALID_VALUE, where,
						       "netdev '%s' is on two interfaces", dev);
				}
			m->ifindex_keys[m->n_ifindex] = p->ifindex;
			m->ifindex_ports[m->n_ifindex++] = port;
		}
		ly_set_free(set, NULL);
	}

	/* Routes. */
	if (cfg && !lyd_find_xpath(cfg, q_route, &set)) {
		m->r4_keys = calloc(set->count + 1, sizeof(*m->r4_keys));
		m->r4_vals = calloc(set->count + 1, sizeof(*m->r4_vals));
		m->r6_keys = calloc(set->count + 1, sizeof(*m->r6_keys));
		m->r6_vals = calloc(set->count + 1, sizeof(*m->r6_vals));
		if (set->count > ROUTER_MAX_ENTRIES)
			goto too_many;
		for (uint32_t i = 0; i < set->count; i++) {
			const struct lyd_node *r = set->dnodes[i];
			struct router_route route = {.port = (uint32_t)atoi(svc_leaf(r, "port"))};
			const char *nh = svc_leaf(r, "nexthop");
			union cube_addr addr;
			uint32_t plen = 0;
			int fam = 0, nh_fam = 0;

			/* YANG has checked the syntax; this cannot fail. */
			svc_parse_prefix(svc_leaf(r, "prefix"), &fam, &addr, &plen);
			if (nh) {
				svc_parse_addr(nh, &nh_fam, &route.nexthop);
				if (nh_fam != fam) {
					ly_set_free(set, NULL);
					return cn_fail(err, CN_ERR_INVALID_VALUE, where,
						       "route %s: next hop %s is of another family",
						       svc_leaf(r, "prefix"), nh);
				}
				route.flags = ROUTER_ROUTE_F_GATEWAY;
			}
			if (fam == CUBE_AF_INET) {
				m->r4_keys[m->n_r4] =
				    (struct router_lpm4_key){.prefixlen = plen, .addr = addr.ip4};
				m->r4_vals[m->n_r4++] = route;
			} else {
				m->r6_keys[m->n_r6].prefixlen = plen;
				memcpy(m->r6_keys[m->n_r6].addr, addr.bytes, 16);
				m->r6_vals[m->n_r6++] = route;
			}
		}
		ly_set_free(set, NULL);
	}

	/* Neighbours. */
	if (cfg && !lyd_find_xpath(cfg, q_neighbor, &set)) {
		m->n_keys = calloc(set->count + 1, sizeof(*m->n_keys));
		m->n_vals = calloc(set->count + 1, sizeof(*m->n_vals));
		if (set->count > ROUTER_MAX_ENTRIES)
			goto too_many;
		for (uint32_t i = 0; i < set->count; i++) {
			const struct lyd_node *nb = set->dnodes[i];
			int fam = 0;

			svc_parse_addr(svc_leaf(nb, "address"), &fam, &m->n_keys[m->n_neigh].addr);
			m->n_keys[m->n_neigh].family = (uint32_t)fam;
			svc_parse_mac(svc_leaf(nb, "mac"), m->n_vals[m->n_neigh].mac);
			m->n_neigh++;
		}
		ly_set_free(set, NULL);
	}
	return 0;
too_many:
	ly_set_free(set, NULL);
	return cn_fail(err, CN_ERR_TOO_BIG, where, "at most %d routes and %d neighbours",
		       ROUTER_MAX_ENTRIES, ROUTER_MAX_ENTRIES);
}

static int router_apply(const struct lyd_node *cfg, const char *name, struct cube *cube,
			struct cn_error *err)
{
	struct router_maps m = {0};
	char core_port[200];
	int e = 0, ports_fd = cube_map_fd(cube, "router_ports");

	if (read_config(cfg, name, &m, err))
		goto out;
	for (uint32_t p = 0; p < CUBE_MAX_PORTS && !e; p++) {
		e = bpf_map_update_elem(ports_fd, &p, &m.ports[p], BPF_ANY) ? -errno : 0;
		/* An interface sends to its netdev unless the core config wires
		 * the port elsewhere. */
		snprintf(core_port, sizeof(core_port),
			 "/cubenet-core:cubes/cube[name='%s']/port[id='%u']", name, p);
		if (!e && m.ports[p].enabled && !svc_find(cfg, core_port))
			e = cube_connect_port(cube, p, CUBE_PORT_NETDEV, m.ports[p].ifindex);
	}
	if (!e)
		e = map_sync(cube_map_fd(cube, "router_ifindex"), m.ifindex_keys, m.ifindex_ports,
			     m.n_ifindex, sizeof(uint32_t), sizeof(uint32_t));
	if (!e)
		e = map_sync(cube_map_fd(cube, "router_routes4"), m.r4_keys, m.r4_vals, m.n_r4,
			     sizeof(*m.r4_keys), sizeof(*m.r4_vals));
	if (!e)
		e = map_sync(cube_map_fd(cube, "router_routes6"), m.r6_keys, m.r6_vals, m.n_r6,
			     sizeof(*m.r6_keys), sizeof(*m.r6_vals));
	if (!e)
		e = map_sync(cube_map_fd(cube, "router_neighs"), m.n_keys, m.n_vals, m.n_neigh,
			     sizeof(*m.n_keys), sizeof(*m.n_vals));
	if (e)
		cn_fail(err, CN_ERR_OPERATION_FAILED, "/cubenet-router:routers",
			"router '%s': cannot program its maps: %s", name, strerror(-e));
out:
	maps_free(&m);
	return err->tag == CN_OK ? 0 : -1;
}

const struct service router_service = {
    .module = "cubenet-router",
    .cube_type = "router",
    .apply = router_apply,
};
