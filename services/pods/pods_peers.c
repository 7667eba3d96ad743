// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster's other nodes (cubenet-pods:peers). Each peer's pod ranges
 * are routes in the node chain's router: out of the uplink with the
 * peer's address as next hop (native routing), or out of the router's
 * tunnel port into node:tunnel, which gives the packet the tunnel key
 * (the peer's address, the VNI) and sends it to the VXLAN device; in
 * vxlan mode the peer's address is routed there too, so no pod address
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
#include "netdev.h"
#include "pods_state.h"
#include "runtime.h"
#include "tunnel_device.h"
#include "lib/abi/nat.h"
#include "lib/abi/router.h"
#include "lib/abi/tunnel.h"

struct peer {
	char name[254];
	union cube_addr addr; /* IPv4 */
	struct {
		union cube_addr prefix;
		uint32_t len;
	} cidrs[PODS_PEER_CIDRS];
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
	uint32_t n_routes;
	int overlay; /* the tunnel port is programmed */

	/* The change in flight. */
	struct peer_change *changes;
	size_t n_changes, cap_changes;
	size_t next_n;
	uint32_t next_routes;
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
	int fam = 0;

	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", cfg_child(n, "name"));
	cfg_parse_addr(cfg_child(n, "address"), &fam, &p->addr);
	for (const struct lyd_node *c = lyd_child(n); c; c = c->next) {
		uint32_t len = 0;

		if (strcmp(c->schema->name, "pod-cidr") || p->n_cidrs == PODS_PEER_CIDRS)
			continue;
		if (!cfg_parse_prefix(lyd_get_value(c), &fam, &p->cidrs[p->n_cidrs].prefix, &len))
			p->cidrs[p->n_cidrs++].len = len;
	}
	return p;
}

/* Routes a peer takes in the router: its ranges, and in vxlan mode its
 * address. */
static uint32_t routes_of(const struct peer *p, const struct pods_node *node)
{
	return p->n_cidrs + (node->tunnel.native ? 0 : 1);
}

/* ---- plan ---- */

static uint32_t mask4(uint32_t len)
{
	return len ? htonl(~0u << (32 - len)) : 0;
}

static int overlap4(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	uint32_t m = mask4(alen < blen ? alen : blen);

	return (a & m) == (b & m);
}

static int holds4(uint32_t prefix, uint32_t len, uint32_t addr)
{
	return (addr & mask4(len)) == prefix;
}

static const char *text4(const union cube_addr *a, char *out)
{
	return inet_ntop(AF_INET, &a->ip4, out, INET_ADDRSTRLEN);
}

#define PEER_PATH "peers/peer[name='%s']"

/* p against the node and against q, another peer of the change's result. */
static int check_pair(const struct peer *p, const struct peer *q, struct cn_error *err)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (p->addr.ip4 == q->addr.ip4)
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address %s is peer %s's already", p->name,
			       text4(&p->addr, a), q->name);
	for (uint32_t i = 0; i < p->n_cidrs; i++) {
		uint32_t pp = p->cidrs[i].prefix.ip4, pl = p->cidrs[i].len;

		if (holds4(pp, pl, q->addr.ip4))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u holds peer %s's address %s",
				       p->name, text4(&p->cidrs[i].prefix, a), pl, q->name,
				       text4(&q->addr, b));
		for (uint32_t j = 0; j < q->n_cidrs; j++)
			if (overlap4(pp, pl, q->cidrs[j].prefix.ip4, q->cidrs[j].len))
				return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
					       PEER_PATH
					       ": pod-cidr %s/%u overlaps peer %s's pod-cidr %s/%u",
					       p->name, text4(&p->cidrs[i].prefix, a), pl, q->name,
					       text4(&q->cidrs[j].prefix, b), q->cidrs[j].len);
	}
	for (uint32_t j = 0; j < q->n_cidrs; j++)
		if (holds4(q->cidrs[j].prefix.ip4, q->cidrs[j].len, p->addr.ip4))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": address %s is in peer %s's pod-cidr %s/%u",
				       p->name, text4(&p->addr, a), q->name,
				       text4(&q->cidrs[j].prefix, b), q->cidrs[j].len);
	return 0;
}

/* An address a node can be reached at over the underlay: not "this
 * network" (0/8), loopback (127/8), multicast or reserved (224/3). */
static int unicast4(uint32_t addr)
{
	uint32_t a = ntohl(addr);

	return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 29) != 7;
}

/* Whether the prefix lies inside one of the node's cluster ranges. */
static int in_cluster(uint32_t prefix, uint32_t len, const struct pods_node *node)
{
	for (uint32_t i = 0; i < node->n_cidrs; i++)
		if (node->cidrs[i].len <= len &&
		    holds4(node->cidrs[i].prefix.ip4, node->cidrs[i].len, prefix))
			return 1;
	return 0;
}

/* p on its own, and against the node. */
static int check_node(const struct peer *p, const struct pods_node *node, struct cn_error *err)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	/* Such an address would have this node encapsulate to itself, or to
	 * everyone. */
	if (!unicast4(p->addr.ip4))
		return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
			       PEER_PATH ": address %s is not a unicast address of another host",
			       p->name, text4(&p->addr, a));
	for (uint32_t i = 0; i < p->n_cidrs; i++) {
		uint32_t pp = p->cidrs[i].prefix.ip4, pl = p->cidrs[i].len;

		/* Its own address routed to it: packets to it would loop. */
		if (holds4(pp, pl, p->addr.ip4))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u holds the peer's own address",
				       p->name, text4(&p->cidrs[i].prefix, a), pl);
		/* With the cluster's ranges known, a peer claims pods only
		 * there, never a range of the outside world. */
		if (node->n_cidrs && !in_cluster(pp, pl, node))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u is outside the cluster's ranges "
						 "(node/masquerade/cluster-cidr)",
				       p->name, text4(&p->cidrs[i].prefix, a), pl);
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
			       text4(&p->addr, a));
	for (uint32_t i = 0; i < p->n_cidrs; i++)
		if (holds4(p->cidrs[i].prefix.ip4, p->cidrs[i].len, node->addr.ip4))
			return cn_fail(err, CN_ERR_INVALID_VALUE, PEERS,
				       PEER_PATH ": pod-cidr %s/%u holds this node's address %s",
				       p->name, text4(&p->cidrs[i].prefix, a), p->cidrs[i].len,
				       text4(&node->addr, b));
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
	uint32_t routes;
};

static int check_one_node(void *arg, const struct peer *p)
{
	struct node_ctx *x = arg;

	x->routes += routes_of(p, x->node);
	return check_node(p, x->node, x->err);
}

static int overlay_next(void);

int pods_peers_plan(const struct ds_change *c, struct cn_error *err)
{
	const struct pods_node *node = pods_next_node();
	struct node_ctx all = {node, err, 0};

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
	if (all.routes > ROUTER_MAX_ROUTES)
		return cn_fail(err, CN_ERR_TOO_BIG, PEERS,
			       "peers need %u routes; the node chain's router holds %u", all.routes,
			       ROUTER_MAX_ROUTES);
	peers.next_routes = all.routes;
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
	int routes, skips; /* the router's routes4, nat's masquerade exceptions */
	int sources;	   /* the decapsulation check's tunnel_sources; -1: no overlay */
	const struct pods_node *node;
};

/* The router keys and values a peer takes under node; n of them. */
static uint32_t route_entries(const struct peer *p, const struct pods_node *node,
			      struct router_lpm4_key *keys, struct router_route *values)
{
	struct router_route r = {.nexthop = p->addr,
				 .port = node->tunnel.native ? PODS_ROUTER_PORT_UPLINK
							     : PODS_ROUTER_PORT_TUNNEL,
				 .flags = ROUTER_ROUTE_F_GATEWAY};
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->n_cidrs; i++) {
		keys[n] = (struct router_lpm4_key){p->cidrs[i].len, p->cidrs[i].prefix.ip4};
		values[n++] = r;
	}
	if (!node->tunnel.native) {
		keys[n] = (struct router_lpm4_key){32, p->addr.ip4};
		values[n++] = r;
	}
	return n;
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
	struct router_lpm4_key old_keys[PODS_PEER_CIDRS + 1], new_keys[PODS_PEER_CIDRS + 1];
	struct router_route old_vals[PODS_PEER_CIDRS + 1], new_vals[PODS_PEER_CIDRS + 1];
	uint32_t n_old = was ? route_entries(was, was_node, old_keys, old_vals) : 0;
	uint32_t n_new = now ? route_entries(now, now_node, new_keys, new_vals) : 0, one = 1;
	int e = 0;

	for (uint32_t i = 0; i < n_old && !e; i++) {
		int kept = 0;

		for (uint32_t j = 0; j < n_new; j++)
			kept |= !memcmp(&old_keys[i], &new_keys[j], sizeof(old_keys[i]));
		if (kept)
			continue;
		e = map_txn_delete(&pods.txn, x->routes, &old_keys[i], sizeof(old_keys[i]),
				   sizeof(old_vals[i]));
		if (!e && x->sources >= 0)
			e = map_txn_delete(&pods.txn, x->sources, &old_keys[i], sizeof(old_keys[i]),
					   sizeof(struct tunnel_source));
		if (!e && was_node->host_device && i < was->n_cidrs)
			e = host_device_prefix_route(HOST_DEVICE, &was->cidrs[i].prefix,
						     CUBE_AF_INET, (int)old_keys[i].prefixlen, 0);
	}
	if (!e && was && (!now || now->addr.ip4 != was->addr.ip4)) {
		struct nat_dst_lpm4_key s = {32, was->addr.ip4};

		e = map_txn_delete(&pods.txn, x->skips, &s, sizeof(s), sizeof(one));
	}
	return e;
}

/* What now holds under now_node. */
static int write_additions(struct write_ctx *x, const struct peer *now,
			   const struct pods_node *now_node)
{
	struct router_lpm4_key keys[PODS_PEER_CIDRS + 1];
	struct router_route vals[PODS_PEER_CIDRS + 1];
	uint32_t n = now ? route_entries(now, now_node, keys, vals) : 0, one = 1;
	int e = 0;

	for (uint32_t j = 0; j < n && !e; j++) {
		e = map_txn_update(&pods.txn, x->routes, &keys[j], sizeof(keys[j]), &vals[j],
				   sizeof(vals[j]));
		/* What the peer may send through the tunnel: what is routed
		 * to it there. */
		if (!e && x->sources >= 0) {
			struct tunnel_source src = {now->addr.ip4};

			e = map_txn_update(&pods.txn, x->sources, &keys[j], sizeof(keys[j]), &src,
					   sizeof(src));
		}
		if (!e && now_node->host_device && j < now->n_cidrs)
			e = host_device_prefix_route(HOST_DEVICE, &now->cidrs[j].prefix,
						     CUBE_AF_INET, (int)keys[j].prefixlen, 1);
	}
	if (!e && now) {
		struct nat_dst_lpm4_key s = {32, now->addr.ip4};

		e = map_txn_update(&pods.txn, x->skips, &s, sizeof(s), &one, sizeof(one));
	}
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
	netdev_sysctl("ipv4/ip_forward", "1");
	if (!node->tunnel.native || !node->uplink[0])
		return;
	snprintf(path, sizeof(path), "ipv4/conf/%s/accept_local", node->uplink);
	netdev_sysctl(path, "1");
}

int pods_peers_apply(struct runtime *rt, const struct ds_change *c, int full, struct cn_error *err)
{
	struct write_ctx x = {rt, -1, -1, -1, pods_next_node()};
	struct cube *decap;
	int e = 0;

	(void)c;
	if (!rt_cube(rt, pods_stage_names[STAGE_ROUTER]) || !overlay_next())
		netdev_delete(TUNNEL_DEVICE); /* no chain or no overlay: no device */
	if (!rt_cube(rt, pods_stage_names[STAGE_ROUTER]))
		return 0;
	x.routes = cube_map_fd(rt_cube(rt, pods_stage_names[STAGE_ROUTER]), "router_routes4");
	x.skips = cube_map_fd(rt_cube(rt, pods_stage_names[STAGE_NAT]), "nat_snat_skip4");
	if ((decap = rt_cube(rt, PODS_DECAP_CHECK)))
		x.sources = cube_map_fd(decap, "tunnel_sources");
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
	peers.n_routes = peers.next_routes;
	peers.overlay = overlay_next();
}

void pods_peers_abort(void)
{
	drop_changes();
	peers.next_routes = peers.n_routes;
}
