// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster's other nodes (cubenet-pods:peers). Each peer's pod ranges,
 * IPv4 and IPv6, are routes in the node chain's router: out of the uplink
 * with the peer's address of the range's family as next hop (native
 * routing), or out of the router's tunnel port into node:tunnel, which
 * gives the packet the tunnel key (the peer's IPv4 address whatever the
 * packet's family, the VNI) and sends it to the VXLAN device; in vxlan
 * mode the peer's addresses are routed there too, so no pod address
 * crosses the underlay bare. What the device decapsulates enters the node
 * chain on its TC ingress. The node's own traffic to a peer's pods takes
 * the same way, through the host device. Pod traffic to a peer's address
 * is not masqueraded (the reply to a node's own connection to a pod comes
 * from the pod's address).
 *
 * Peers are independent entries: a peer added or removed writes its own
 * routes; a change of the node's settings (mode, address) writes every
 * peer's again. What YANG cannot check across entries is checked here: no
 * two peers share an address or overlapping pod ranges, and no pod range
 * holds a node's address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_read.h"
#include "host_device.h"
#include "ipv6_forwarding.h"
#include "net_sysctl.h"
#include "netdev.h"
#include "pods_state.h"
#include "runtime.h"
#include "tunnel_device.h"
#include "lib/abi/nat.h"
#include "lib/abi/router.h"
#include "lib/abi/tunnel.h"

struct peer {
	char name[254];
	union cube_addr addr;  /* IPv4 */
	union cube_addr addr6; /* IPv6, if have_addr6 */
	int have_addr6;
	struct pods_prefix cidrs[PODS_PEER_CIDRS];
	uint32_t n_cidrs;
	int changing; /* the change in flight replaces or removes it */
};

struct peer_change {
	struct peer *was, *now; /* either may be NULL */
};

static struct {
	/* Committed. */
	struct peer **all;
	size_t n, cap;
	struct str_map index; /* name -> position in all */
	int overlay;	      /* the tunnel port is programmed */

	/* The change in flight. */
	struct peer_change *changes;
	size_t n_changes, cap_changes;
	size_t next_n;
	int next_ipv6; /* some peer of the change's result has an IPv6 range */
} peers;

/* ---- config -> peers ---- */

static struct peer *committed(const char *name)
{
	uint32_t at;

	return str_map_get(&peers.index, name, &at) ? NULL : peers.all[at];
}

static struct peer *peer_from(const struct lyd_node *n)
{
	struct peer *p = calloc(1, sizeof(*p));
	const char *v;
	int fam = 0;

	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", cfg_child(n, "name"));
	cfg_parse_addr(cfg_child(n, "address"), &fam, &p->addr);
	if ((v = cfg_child(n, "address6")))
		p->have_addr6 = !cfg_parse_addr(v, &fam, &p->addr6);
	for (const struct lyd_node *c = lyd_child(n); c; c = c->next) {
		struct pods_prefix *cidr = &p->cidrs[p->n_cidrs];

		if (strcmp(c->schema->name, "pod-cidr") || p->n_cidrs == PODS_PEER_CIDRS)
			continue;
		if (!cfg_parse_prefix(lyd_get_value(c), &cidr->family, &cidr->prefix, &cidr->len))
			p->n_cidrs++;
	}
	return p;
}

/* ---- plan ---- */

static const char *text_of(int family, const union cube_addr *a, char *out)
{
	return inet_ntop(family == CUBE_AF_INET6 ? AF_INET6 : AF_INET, a->bytes, out,
			 INET6_ADDRSTRLEN);
}

/* The peer's address of family, or NULL. */
static const union cube_addr *addr_of(const struct peer *p, int family)
{
	return family == CUBE_AF_INET ? &p->addr : p->have_addr6 ? &p->addr6 : NULL;
}

#define PEER_PATH "peers/peer[name='%s']"

/* One route a peer takes in the router: a pod range (the host device
 * routes it too) or, in vxlan mode, one of the peer's own addresses. */
struct peer_route {
	struct pods_prefix dst;
	struct router_route val;
	int pod_range;
};

#define PEER_ROUTES (PODS_PEER_CIDRS + 2)

/* The routes p takes under node; n of them. IPv4 goes to the peer's
 * address, natively or through the tunnel; IPv6 natively to its IPv6
 * address, or through the tunnel to its IPv4 one. */
static uint32_t route_entries(const struct peer *p, const struct pods_node *node,
			      struct peer_route *out)
{
	uint32_t port = node->tunnel.native ? PODS_ROUTER_PORT_UPLINK : PODS_ROUTER_PORT_TUNNEL;
	struct router_route via4 = {
	    .nexthop = p->addr, .port = port, .flags = ROUTER_ROUTE_F_GATEWAY};
	struct router_route via6 = via4;
	uint32_t n = 0;

	if (node->tunnel.native)
		via6.nexthop = p->addr6;
	else
		via6.flags |= ROUTER_ROUTE_F_NEXTHOP_INET;
	for (uint32_t i = 0; i < p->n_cidrs; i++)
		out[n++] = (struct peer_route){p->cidrs[i],
					       p->cidrs[i].family == CUBE_AF_INET ? via4 : via6, 1};
	if (!node->tunnel.native) {
		out[n++] = (struct peer_route){{p->addr, 32, CUBE_AF_INET}, via4, 0};
		if (p->have_addr6)
			out[n++] = (struct peer_route){{p->addr6, 128, CUBE_AF_INET6}, via6, 0};
	}
	return n;
}

/* p against the node and against q, another peer of the change's result. */
static int check_pair(const struct peer *p, const struct peer *q, struct cn_error *err)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (p->addr.ip4 == q->addr.ip4)
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address %s is peer %s's already", p->name,
			       text_of(CUBE_AF_INET, &p->addr, a), q->name);
	if (p->have_addr6 && q->have_addr6 && !memcmp(&p->addr6, &q->addr6, sizeof(p->addr6)))
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address6 %s is peer %s's already", p->name,
			       text_of(CUBE_AF_INET6, &p->addr6, a), q->name);
	for (uint32_t i = 0; i < p->n_cidrs; i++) {
		const struct pods_prefix *pc = &p->cidrs[i];
		const union cube_addr *qa = addr_of(q, pc->family);

		if (qa && prefix_holds(pc, pc->family, qa))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u holds peer %s's address %s",
				       p->name, text_of(pc->family, &pc->prefix, a), pc->len,
				       q->name, text_of(pc->family, qa, b));
		for (uint32_t j = 0; j < q->n_cidrs; j++)
			if (prefixes_overlap(pc, &q->cidrs[j]))
				return cn_fail(
				    err, CN_ERR_INVALID_VALUE, PEERS,
				    PEER_PATH ": pod-cidr %s/%u overlaps peer %s's pod-cidr %s/%u",
				    p->name, text_of(pc->family, &pc->prefix, a), pc->len, q->name,
				    text_of(pc->family, &q->cidrs[j].prefix, b), q->cidrs[j].len);
	}
	for (uint32_t j = 0; j < q->n_cidrs; j++) {
		const struct pods_prefix *qc = &q->cidrs[j];
		const union cube_addr *pa = addr_of(p, qc->family);

		if (pa && prefix_holds(qc, qc->family, pa))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": address %s is in peer %s's pod-cidr %s/%u",
				       p->name, text_of(qc->family, pa, a), q->name,
				       text_of(qc->family, &qc->prefix, b), qc->len);
	}
	return 0;
}

/* An address a node can be reached at over the underlay: not "this
 * network" (0/8), loopback (127/8), multicast or reserved (224/3). */
static int unicast4(uint32_t addr)
{
	uint32_t a = ntohl(addr);

	return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 29) != 7;
}

/* The same for IPv6: none of what prefix_unusable() names (unspecified,
 * loopback, IPv4-mapped, link-local: a next hop of no interface,
 * multicast). */
static int unicast6(const union cube_addr *a)
{
	struct pods_prefix host = {*a, 128, CUBE_AF_INET6};

	return !prefix_unusable(&host);
}

/* Whether the prefix lies inside one of the node's cluster ranges. */
static int in_cluster(const struct pods_prefix *p, const struct pods_node *node)
{
	for (uint32_t i = 0; i < node->n_cidrs; i++)
		if (prefix_within(p, &node->cidrs[i]))
			return 1;
	return 0;
}

/* p on its own, and against the node. */
static int check_node(const struct peer *p, const struct pods_node *node, struct cn_error *err)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	/* Such an address would have this node encapsulate to itself, or to
	 * everyone. */
	if (!unicast4(p->addr.ip4))
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address %s is not a unicast address of another host",
			       p->name, text_of(CUBE_AF_INET, &p->addr, a));
	if (p->have_addr6 && !unicast6(&p->addr6))
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address6 %s is not a global unicast address of "
					 "another host",
			       p->name, text_of(CUBE_AF_INET6, &p->addr6, a));
	for (uint32_t i = 0; i < p->n_cidrs; i++) {
		const struct pods_prefix *pc = &p->cidrs[i];
		const union cube_addr *own = addr_of(p, pc->family);

		const char *unusable;

		/* Its own address routed to it: packets to it would loop. */
		if (own && prefix_holds(pc, pc->family, own))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u holds the peer's own address",
				       p->name, text_of(pc->family, &pc->prefix, a), pc->len);
		/* With the cluster's ranges known, a peer claims pods only
		 * there, never a range of the outside world. */
		if (node->n_cidrs && !in_cluster(pc, node))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u is outside the cluster's ranges "
						 "(node/masquerade/cluster-cidr)",
				       p->name, text_of(pc->family, &pc->prefix, a), pc->len);
		if ((unusable = prefix_unusable(pc)))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u %s", p->name,
				       text_of(pc->family, &pc->prefix, a), pc->len, unusable);
		/* Natively routed, an IPv6 packet needs an IPv6 next hop. */
		if (node->tunnel.native && pc->family == CUBE_AF_INET6 && !p->have_addr6)
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": native routing of pod-cidr %s/%u needs the "
						 "peer's IPv6 address (address6)",
				       p->name, text_of(pc->family, &pc->prefix, a), pc->len);
	}

	if (!node->have_addr)
		return cn_fail(err, CN_ERR_INVALID_VALUE, NODE,
			       "peer %s: peers need the node's address (node/address or "
			       "node/uplink)",
			       p->name);
	if (node->tunnel.native && !node->uplink[0])
		return cn_fail(err, CN_ERR_INVALID_VALUE, NODE,
			       "peer %s: native routing needs node/uplink", p->name);
	if (p->addr.ip4 == node->addr.ip4)
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address %s is this node's", p->name,
			       text_of(CUBE_AF_INET, &p->addr, a));
	if (p->have_addr6 && node->have_addr6 && !memcmp(&p->addr6, &node->addr6, sizeof(p->addr6)))
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address6 %s is this node's", p->name,
			       text_of(CUBE_AF_INET6, &p->addr6, a));
	for (uint32_t i = 0; i < p->n_cidrs; i++) {
		const struct pods_prefix *pc = &p->cidrs[i];
		const union cube_addr *mine = pc->family == CUBE_AF_INET ? &node->addr
					      : node->have_addr6	 ? &node->addr6
									 : NULL;

		if (mine && prefix_holds(pc, pc->family, mine))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u holds this node's address %s",
				       p->name, text_of(pc->family, &pc->prefix, a), pc->len,
				       text_of(pc->family, mine, b));
	}
	return 0;
}

static int add_change(struct peer *was, struct peer *now)
{
	if (peers.n_changes == peers.cap_changes) {
		size_t cap = peers.cap_changes ? 2 * peers.cap_changes : 16;
		struct peer_change *grown = realloc(peers.changes, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		peers.changes = grown;
		peers.cap_changes = cap;
	}
	peers.changes[peers.n_changes++] = (struct peer_change){was, now};
	return 0;
}

static int plan_peer(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		     struct cn_error *err)
{
	const struct lyd_node *entry = now ? now : was;
	struct peer *old = committed(cfg_child(entry, "name")), *p = NULL;

	(void)arg;
	if (now && !(p = peer_from(now)))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, PEERS, "out of memory");
	if (add_change(old, p)) {
		free(p);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, PEERS, "out of memory");
	}
	if (old)
		old->changing = 1;
	peers.next_n += (p ? 1 : 0) - (old ? 1 : 0);
	return 0;
}

static void drop_changes(void)
{
	for (size_t i = 0; i < peers.n_changes; i++) {
		if (peers.changes[i].was)
			peers.changes[i].was->changing = 0;
		free(peers.changes[i].now);
	}
	peers.n_changes = 0;
	peers.next_n = peers.n;
}

/* Calls fn for every peer the change leaves; stops at its first error. */
static int each_next(int (*fn)(void *arg, const struct peer *p), void *arg)
{
	int e = 0;

	for (size_t i = 0; i < peers.n && !e; i++)
		if (!peers.all[i]->changing)
			e = fn(arg, peers.all[i]);
	for (size_t i = 0; i < peers.n_changes && !e; i++)
		if (peers.changes[i].now)
			e = fn(arg, peers.changes[i].now);
	return e;
}

struct pair_ctx {
	const struct peer *p;
	struct cn_error *err;
};

static int check_against(void *arg, const struct peer *q)
{
	struct pair_ctx *x = arg;

	return q == x->p ? 0 : check_pair(x->p, q, x->err);
}

struct node_ctx {
	const struct pods_node *node;
	struct cn_error *err;
	uint32_t routes[2]; /* IPv4, IPv6 */
};

static int check_one_node(void *arg, const struct peer *p)
{
	struct node_ctx *x = arg;
	struct peer_route r[PEER_ROUTES];
	uint32_t n = route_entries(p, x->node, r);

	for (uint32_t i = 0; i < n; i++)
		x->routes[r[i].dst.family == CUBE_AF_INET6]++;
	return check_node(p, x->node, x->err);
}

static int overlay_next(void);

int pods_peers_plan(const struct ds_change *c, struct cn_error *err)
{
	const struct pods_node *node = pods_next_node();
	struct node_ctx all = {node, err, {0, 0}};

	drop_changes();
	if (cfg_each_change(c, PEERS "/peer", plan_peer, NULL, err))
		return -1;
	/* Each peer against the node and every other: the node's settings
	 * bear on all of them; a peer that changed, on every other. The
	 * pairs among unchanged peers were checked when they were written. */
	if (each_next(check_one_node, &all))
		return -1;
	for (size_t i = 0; i < peers.n_changes; i++) {
		struct pair_ctx x = {peers.changes[i].now, err};

		if (x.p && each_next(check_against, &x))
			return -1;
	}
	/* The device's port is fixed when it is made: making it anew under
	 * the live chain would leave the chain's attachment and redirect on
	 * the device that is gone. */
	if (peers.overlay && overlay_next() && node->tunnel.port != pods.node.tunnel.port)
		return cn_fail(err, CN_ERR_INVALID_VALUE, NODE "/tunnel/port",
			       "the VXLAN port cannot change while peers use the overlay: remove "
			       "the peers first");
	for (int v6 = 0; v6 <= 1; v6++)
		if (all.routes[v6] > ROUTER_MAX_ROUTES)
			return cn_fail(err, CN_ERR_TOO_BIG, PEERS,
				       "peers need %u IPv%d routes; the node chain's router holds "
				       "%u",
				       all.routes[v6], v6 ? 6 : 4, ROUTER_MAX_ROUTES);
	peers.next_ipv6 = all.routes[1] > 0;
	return 0;
}

size_t pods_peers_next_count(void)
{
	return peers.next_n;
}

/* ---- compose ---- */

/* Whether the change leaves an overlay to build: vxlan mode, with peers. */
static int overlay_next(void)
{
	return !pods_next_node()->tunnel.native && peers.next_n > 0;
}

int pods_peers_compose(const struct service_builder *b, struct cn_error *err)
{
	const struct pods_node *node = pods_next_node();
	const char *router = pods_stage_names[STAGE_ROUTER];
	int e;

	if (b->set_const(b->arg, router, "router_kernel_neigh", 1, err))
		return -1;
	if (node->uplink[0] &&
	    b->wire(b->arg, router, PODS_ROUTER_PORT_UPLINK, CUBE_PORT_NETDEV, node->uplink, err))
		return -1;
	if (!overlay_next())
		return 0;
	/* Made here, where the chain that takes what it decapsulates is
	 * declared, so the attachment has its netdev. */
	e = tunnel_device_ensure(TUNNEL_DEVICE, node->tunnel.port);
	if (e)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, NODE,
			       "cannot create the VXLAN device " TUNNEL_DEVICE ": %s",
			       strerror(-e));
	if (b->cube(b->arg, PODS_TUNNEL_CUBE, "tunnel", CUBE_HOOK_TC, NULL, 0, err) ||
	    b->set_const(b->arg, PODS_TUNNEL_CUBE, "tunnel_vni", node->tunnel.vni, err) ||
	    b->wire(b->arg, PODS_TUNNEL_CUBE, TUNNEL_PORT_OUT, CUBE_PORT_NETDEV, TUNNEL_DEVICE,
		    err) ||
	    b->wire(b->arg, router, PODS_ROUTER_PORT_TUNNEL, CUBE_PORT_CUBE, PODS_TUNNEL_CUBE, err))
		return -1;
	/* Decapsulated: parsed, checked against the peers, then the node
	 * chain as from any other netdev. */
	if (b->cube(b->arg, PODS_DECAP_PARSER, "parser", CUBE_HOOK_TC, NULL, 0, err) ||
	    b->cube(b->arg, PODS_DECAP_CHECK, "tunnel", CUBE_HOOK_TC, NULL, 0, err) ||
	    b->set_const(b->arg, PODS_DECAP_CHECK, "tunnel_vni", node->tunnel.vni, err) ||
	    b->set_const(b->arg, PODS_DECAP_CHECK, "tunnel_rx", 1, err) ||
	    b->wire(b->arg, PODS_DECAP_PARSER, 0, CUBE_PORT_CUBE, PODS_DECAP_CHECK, err) ||
	    b->wire(b->arg, PODS_DECAP_CHECK, TUNNEL_PORT_OUT, CUBE_PORT_CUBE,
		    pods_stage_names[STAGE_CLASSIFIER], err) ||
	    b->attach(b->arg, PODS_DECAP_PARSER, TUNNEL_DEVICE, ATTACH_TC_INGRESS, 0, err))
		return -1;
	return 0;
}

/* ---- writing ---- */

struct write_ctx {
	struct runtime *rt;
	/* By family (0: IPv4, 1: IPv6): the router's routes, nat's
	 * masquerade exceptions, the decapsulation check's sources (-1: no
	 * overlay). */
	int routes[2], skips[2], sources[2];
	const struct pods_node *node;
};

/* A route's key in the router's (and the sources') LPM map of its family. */
union route_key {
	struct router_lpm4_key k4;
	struct router_lpm6_key k6;
};

static size_t route_key(const struct pods_prefix *dst, union route_key *k)
{
	memset(k, 0, sizeof(*k));
	if (dst->family == CUBE_AF_INET) {
		k->k4 = (struct router_lpm4_key){dst->len, dst->prefix.ip4};
		return sizeof(k->k4);
	}
	k->k6.prefixlen = dst->len;
	memcpy(k->k6.addr, dst->prefix.bytes, sizeof(k->k6.addr));
	return sizeof(k->k6);
}

/* The peer's own address of family is no masquerade's: the skip entry. */
static int write_skip(struct write_ctx *x, int family, const union cube_addr *a, int add)
{
	struct pods_prefix own = {*a, family == CUBE_AF_INET ? 32 : 128, family};
	union route_key k; /* nat_dst_lpm*_key: the same layout */
	size_t size = route_key(&own, &k);
	uint32_t one = 1;
	int fd = x->skips[family == CUBE_AF_INET6];

	return add ? map_txn_update(&pods.txn, fd, &k, size, &one, sizeof(one))
		   : map_txn_delete(&pods.txn, fd, &k, size, sizeof(one));
}

/* One route written (add) or removed, with its decapsulation source and
 * its host-device route. */
static int write_route(struct write_ctx *x, const struct peer *p, const struct pods_node *node,
		       const struct peer_route *r, int add)
{
	int v6 = r->dst.family == CUBE_AF_INET6, e;
	union route_key k;
	size_t size = route_key(&r->dst, &k);
	/* What the peer may send through the tunnel: what is routed to it
	 * there. */
	struct tunnel_source src = {p->addr.ip4};

	e = add ? map_txn_update(&pods.txn, x->routes[v6], &k, size, &r->val, sizeof(r->val))
		: map_txn_delete(&pods.txn, x->routes[v6], &k, size, sizeof(r->val));
	if (!e && x->sources[v6] >= 0)
		e = add ? map_txn_update(&pods.txn, x->sources[v6], &k, size, &src, sizeof(src))
			: map_txn_delete(&pods.txn, x->sources[v6], &k, size, sizeof(src));
	if (!e && node->host_device && r->pod_range)
		e = host_device_prefix_route(HOST_DEVICE, &r->dst.prefix, r->dst.family,
					     (int)r->dst.len, add);
	return e;
}

static int same_dst(const struct pods_prefix *a, const struct pods_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(&a->prefix, &b->prefix, sizeof(a->prefix));
}

/* A change of several peers is written in two passes, every peer's
 * removals first: an entry moving from one peer to another in the same
 * change is then deleted for the one before it is written for the other,
 * whatever order the peers come in. */
enum write_pass { WRITE_REMOVALS, WRITE_ADDITIONS };

/* What was (under was_node) holds and now (under now_node) does not. */
static int write_removals(struct write_ctx *x, const struct peer *was,
			  const struct pods_node *was_node, const struct peer *now,
			  const struct pods_node *now_node)
{
	struct peer_route old[PEER_ROUTES], new[PEER_ROUTES];
	uint32_t n_old = was ? route_entries(was, was_node, old) : 0;
	uint32_t n_new = now ? route_entries(now, now_node, new) : 0;
	int e = 0;

	for (uint32_t i = 0; i < n_old && !e; i++) {
		int kept = 0;

		for (uint32_t j = 0; j < n_new; j++)
			kept |= same_dst(&old[i].dst, &new[j].dst);
		if (!kept)
			e = write_route(x, was, was_node, &old[i], 0);
	}
	if (!e && was && (!now || now->addr.ip4 != was->addr.ip4))
		e = write_skip(x, CUBE_AF_INET, &was->addr, 0);
	if (!e && was && was->have_addr6 &&
	    (!now || !now->have_addr6 || memcmp(&now->addr6, &was->addr6, sizeof(was->addr6))))
		e = write_skip(x, CUBE_AF_INET6, &was->addr6, 0);
	return e;
}

/* What now holds under now_node. */
static int write_additions(struct write_ctx *x, const struct peer *now,
			   const struct pods_node *now_node)
{
	struct peer_route r[PEER_ROUTES];
	uint32_t n = now ? route_entries(now, now_node, r) : 0;
	int e = 0;

	for (uint32_t j = 0; j < n && !e; j++)
		e = write_route(x, now, now_node, &r[j], 1);
	if (!e && now)
		e = write_skip(x, CUBE_AF_INET, &now->addr, 1);
	if (!e && now && now->have_addr6)
		e = write_skip(x, CUBE_AF_INET6, &now->addr6, 1);
	return e;
}

/* A peer's entries under was_node, replaced by now's under now_node
 * (either peer NULL: none), the pass's half of it. */
static int write_peer(struct write_ctx *x, const struct peer *was, const struct pods_node *was_node,
		      const struct peer *now, const struct pods_node *now_node,
		      enum write_pass pass)
{
	return pass == WRITE_REMOVALS ? write_removals(x, was, was_node, now, now_node)
				      : write_additions(x, now, now_node);
}

static int write_new(void *arg, const struct peer *p)
{
	struct write_ctx *x = arg;

	return write_peer(x, NULL, NULL, p, x->node, WRITE_ADDITIONS);
}

/* The router's ports to the other nodes: the uplink, and the tunnel. */
static int write_ports(struct write_ctx *x, const struct pods_node *node)
{
	int fd = cube_map_fd(rt_cube(x->rt, pods_stage_names[STAGE_ROUTER]), "router_ports");
	struct router_port up = {0}, tun = {0};
	uint32_t id;
	int e;

	if (node->uplink[0] && (up.ifindex = netdev_index(node->uplink)) &&
	    !netdev_mac(node->uplink, up.mac))
		up.enabled = 1;
	if (overlay_next() && (tun.ifindex = netdev_index(TUNNEL_DEVICE)) &&
	    !netdev_mac(TUNNEL_DEVICE, tun.mac)) {
		tun.enabled = 1;
		tun.flags = ROUTER_PORT_F_TUNNEL;
	}
	id = PODS_ROUTER_PORT_UPLINK;
	e = map_txn_update(&pods.txn, fd, &id, sizeof(id), &up, sizeof(up));
	id = PODS_ROUTER_PORT_TUNNEL;
	if (!e)
		e = map_txn_update(&pods.txn, fd, &id, sizeof(id), &tun, sizeof(tun));
	return e;
}

static int write_all(void *arg, const struct peer *p)
{
	return write_new(arg, p);
}

/* With peers the node forwards for them: a NodePort or a service reached
 * here whose endpoint is on another node, and its replies, are routed on
 * by the kernel, so it must forward even before the node has a pod of its
 * own (the CNI plugin turns forwarding on with the first one). Native
 * routing: such a reply comes in on the uplink translated back to come
 * from this node's address; the kernel routes it on only if the uplink
 * accepts local sources. Neither is turned off again (other parts of the
 * node may rely on them). */
static void node_forwards(const struct pods_node *node)
{
	char path[96];

	if (!peers.next_n)
		return;
	net_sysctl("ipv4/ip_forward", "1");
	if (peers.next_ipv6)
		ipv6_forwarding_on();
	if (!node->tunnel.native || !node->uplink[0])
		return;
	snprintf(path, sizeof(path), "ipv4/conf/%s/accept_local", node->uplink);
	net_sysctl(path, "1");
}

int pods_peers_apply(struct runtime *rt, const struct ds_change *c, int full, struct cn_error *err)
{
	struct write_ctx x = {rt, {-1, -1}, {-1, -1}, {-1, -1}, pods_next_node()};
	struct cube *router = rt_cube(rt, pods_stage_names[STAGE_ROUTER]);
	struct cube *nat = rt_cube(rt, pods_stage_names[STAGE_NAT]);
	struct cube *decap;
	int e = 0;

	(void)c;
	if (!router || !overlay_next())
		netdev_delete(TUNNEL_DEVICE); /* no chain or no overlay: no device */
	if (!router)
		return 0;
	x.routes[0] = cube_map_fd(router, "router_routes4");
	x.routes[1] = cube_map_fd(router, "router_routes6");
	x.skips[0] = cube_map_fd(nat, "nat_snat_skip4");
	x.skips[1] = cube_map_fd(nat, "nat_snat_skip6");
	if ((decap = rt_cube(rt, PODS_DECAP_CHECK))) {
		x.sources[0] = cube_map_fd(decap, "tunnel_sources");
		x.sources[1] = cube_map_fd(decap, "tunnel_sources6");
	}
	if (full || pods.node_changed || peers.overlay != overlay_next())
		e = write_ports(&x, x.node);
	node_forwards(x.node);
	if (!e && full) {
		e = each_next(write_all, &x);
	} else if (!e) {
		/* The node's settings (they move every unchanged peer), then
		 * what changed among the peers; removals, then additions. */
		for (enum write_pass pass = WRITE_REMOVALS; pass <= WRITE_ADDITIONS && !e; pass++) {
			for (size_t i = 0; pods.node_changed && i < peers.n && !e; i++)
				if (!peers.all[i]->changing)
					e = write_peer(&x, peers.all[i], &pods.node, peers.all[i],
						       x.node, pass);
			for (size_t i = 0; i < peers.n_changes && !e; i++)
				e = write_peer(&x, peers.changes[i].was, &pods.node,
					       peers.changes[i].now, x.node, pass);
		}
	}
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, PEERS,
			   "cannot program the routes to the other nodes: %s", strerror(-e))
		 : 0;
}

/* ---- commit ---- */

static int index_add(struct peer *p)
{
	if (peers.n == peers.cap) {
		size_t cap = peers.cap ? 2 * peers.cap : 64;
		struct peer **grown = realloc(peers.all, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		peers.all = grown;
		peers.cap = cap;
	}
	peers.all[peers.n] = p;
	return str_map_set(&peers.index, p->name, (uint32_t)peers.n++);
}

static void index_del(struct peer *p)
{
	uint32_t at;

	if (str_map_get(&peers.index, p->name, &at))
		return;
	str_map_del(&peers.index, p->name);
	if (at != peers.n - 1) {
		peers.all[at] = peers.all[peers.n - 1];
		str_map_set(&peers.index, peers.all[at]->name, at);
	}
	peers.n--;
}

void pods_peers_commit(void)
{
	for (size_t i = 0; i < peers.n_changes; i++) {
		struct peer_change *ch = &peers.changes[i];

		if (ch->was) {
			index_del(ch->was);
			free(ch->was);
		}
		if (ch->now && index_add(ch->now))
			free(ch->now); /* out of memory: forgotten, as if deleted */
		ch->now = NULL;
	}
	peers.n_changes = 0;
	peers.next_n = peers.n;
	peers.overlay = overlay_next();
}

void pods_peers_abort(void)
{
	drop_changes();
}
