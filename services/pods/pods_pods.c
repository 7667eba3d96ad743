// SPDX-License-Identifier: Apache-2.0
/*
 * Pods and the node: each pod's addresses straight into its veth
 * (router_hosts) and, with the host device, the node's routes to them;
 * its port mappings (hostPort) as DNAT rules on the node's address; the
 * node's masquerading of traffic that leaves the cluster's ranges. A pod
 * added or deleted touches that pod's entries only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "config_read.h"
#include "host_device.h"
#include "netdev.h"
#include "pods_state.h"
#include "runtime.h"
#include "lib/abi/nat.h"

static void pod_free(struct pods_pod *p)
{
	if (p)
		free(p->hostports);
	free(p);
}

static struct pods_pod *committed_pod(const char *key)
{
	uint32_t at;

	return str_map_get(&pods.pod_index, key, &at) ? NULL : pods.pods[at];
}

/* ---- config -> pods and node ---- */

static struct pods_pod *pod_from(const struct lyd_node *n)
{
	struct pods_pod *p = calloc(1, sizeof(*p));
	size_t maps = 0;
	const char *v;

	if (!p)
		return NULL;
	snprintf(p->key, sizeof(p->key), "%s/%s", cfg_leaf(n, "container-id"),
		 cfg_leaf(n, "interface"));
	snprintf(p->host_if, sizeof(p->host_if), "%s", cfg_leaf(n, "host-interface"));
	if ((v = cfg_leaf(n, "mac")))
		p->has_mac = !cfg_parse_mac(v, p->mac);
	for (const struct lyd_node *c = lyd_child(n); c; c = c->next) {
		int fam = 0;

		if (!strcmp(c->schema->name, "port-mapping"))
			maps++;
		if (strcmp(c->schema->name, "address") || p->n_addrs == 2)
			continue;
		if (!cfg_parse_addr(lyd_get_value(c), &fam, &p->addrs[p->n_addrs].addr)) {
			p->addrs[p->n_addrs].family = (uint32_t)fam;
			p->n_addrs++;
		}
	}
	p->hostports = calloc(maps + 1, sizeof(*p->hostports));
	if (!p->hostports) {
		pod_free(p);
		return NULL;
	}
	for (const struct lyd_node *c = lyd_child(n); c; c = c->next) {
		struct pods_hostport *h = &p->hostports[p->n_hostports];
		const char *proto, *ip;
		int fam = 0;

		if (strcmp(c->schema->name, "port-mapping"))
			continue;
		proto = cfg_leaf(c, "protocol");
		if (!strcmp(proto, "sctp"))
			continue; /* nat translates TCP and UDP */
		ip = cfg_leaf(c, "host-ip");
		h->on_node = 1;
		if (ip && !cfg_parse_addr(ip, &fam, &h->host_ip)) {
			union cube_addr any = {0};

			h->family = (uint8_t)fam;
			h->on_node = !memcmp(&h->host_ip, &any, sizeof(any));
		}
		h->host_port = (uint16_t)atoi(cfg_leaf(c, "host-port"));
		h->container_port = (uint16_t)atoi(cfg_leaf(c, "container-port"));
		h->proto = !strcmp(proto, "udp") ? 17 : 6;
		p->n_hostports++;
	}
	return p;
}

static void node_from(const struct lyd_node *config, struct pods_node *node)
{
	const struct lyd_node *n = cfg_find(config, NODE);
	struct ly_set *cidrs = NULL;
	const char *v;
	int fam = 0;

	memset(node, 0, sizeof(*node));
	node->node_port_min = 30000; /* the model's defaults */
	node->node_port_max = 32767;
	node->tunnel.vni = 1;
	node->tunnel.port = 8472;
	if (!n)
		return;
	if ((v = cfg_leaf(n, "node-port-range/min")))
		node->node_port_min = (uint32_t)atoi(v);
	if ((v = cfg_leaf(n, "node-port-range/max")))
		node->node_port_max = (uint32_t)atoi(v);
	if ((v = cfg_leaf(n, "uplink")))
		snprintf(node->uplink, sizeof(node->uplink), "%s", v);
	if ((v = cfg_leaf(n, "address")))
		node->have_addr = !cfg_parse_addr(v, &fam, &node->addr);
	else if (node->uplink[0])
		node->have_addr = !netdev_addr(node->uplink, CUBE_AF_INET, &node->addr);
	if ((v = cfg_leaf(n, "address6")))
		node->have_addr6 = !cfg_parse_addr(v, &fam, &node->addr6);
	else if (node->uplink[0])
		node->have_addr6 =
		    !netdev_addr(node->uplink, CUBE_AF_INET6, &node->addr6) &&
		    !prefix_unusable(&(struct pods_prefix){node->addr6, 128, CUBE_AF_INET6});
	node->host_device = !strcmp(cfg_leaf(n, "host-device") ?: "", "true");
	node->tunnel.native = !strcmp(cfg_leaf(n, "tunnel/mode") ?: "", "native");
	node->tunnel.vni = (uint32_t)strtoul(cfg_leaf(n, "tunnel/vni") ?: "1", NULL, 10);
	node->tunnel.port = (uint16_t)atoi(cfg_leaf(n, "tunnel/port") ?: "8472");
	node->host_clients = !strcmp(cfg_leaf(n, "host-clients") ?: "", "true");
	if (!lyd_find_xpath(n, "masquerade/cluster-cidr", &cidrs)) {
		for (uint32_t i = 0; i < cidrs->count && node->n_cidrs < 64; i++) {
			struct pods_prefix *p = &node->cidrs[node->n_cidrs];

			if (cfg_parse_prefix(lyd_get_value(cidrs->dnodes[i]), &p->family,
					     &p->prefix, &p->len))
				continue;
			node->n_cidrs++;
			node->n_cidrs6 += p->family == CUBE_AF_INET6;
		}
		ly_set_free(cidrs, NULL);
	}
}

/* ---- plan ---- */

static int add_pod_change(struct pods_pod *was, struct pods_pod *now)
{
	if (pods.n_pod_changes == pods.cap_pod_changes) {
		size_t cap = pods.cap_pod_changes ? 2 * pods.cap_pod_changes : 64;
		struct pods_pod_change *grown = realloc(pods.pod_changes, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		pods.pod_changes = grown;
		pods.cap_pod_changes = cap;
	}
	pods.pod_changes[pods.n_pod_changes++] = (struct pods_pod_change){was, now};
	return 0;
}

static int plan_pod(void *arg, const struct lyd_node *now, const struct lyd_node *was,
		    struct cn_error *err)
{
	struct pods_pod *p = NULL, *old = NULL;
	char key[200];
	const struct lyd_node *entry = now ? now : was;

	(void)arg;
	snprintf(key, sizeof(key), "%s/%s", cfg_leaf(entry, "container-id"),
		 cfg_leaf(entry, "interface"));
	old = committed_pod(key);
	if (now && !(p = pod_from(now)))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, PODS, "out of memory");
	if (add_pod_change(old, p)) {
		pod_free(p);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, PODS, "out of memory");
	}
	pods.next_n_pods += (p ? 1 : 0) - (old ? 1 : 0);
	return 0;
}

static void drop_pod_changes(void)
{
	for (size_t i = 0; i < pods.n_pod_changes; i++)
		pod_free(pods.pod_changes[i].now);
	pods.n_pod_changes = 0;
	pods.next_n_pods = pods.n_pods;
}

/* What a mapping may be served in. */
static const uint8_t hostport_families[] = {CUBE_AF_INET, CUBE_AF_INET6};

static int hostport_key(const struct pods_pod *p, const struct pods_hostport *h,
			const struct pods_node *node, uint8_t family, struct nat_dnat_key *k,
			struct nat_dnat_target *t);

/* Whether two mappings want one rule: one port and protocol, a family in
 * common, and both on the node's address or on the same one. */
static int hostports_clash(const struct pods_pod *pa, const struct pods_hostport *a,
			   const struct pods_pod *pb, const struct pods_hostport *b)
{
	struct nat_dnat_key ka, kb;
	struct nat_dnat_target t;

	if (a->host_port != b->host_port || a->proto != b->proto ||
	    (a->family && b->family && a->family != b->family))
		return 0;
	if (a->on_node && b->on_node)
		return 1;
	for (size_t f = 0; f < sizeof(hostport_families); f++)
		if (!hostport_key(pa, a, &pods.next_node, hostport_families[f], &ka, &t) &&
		    !hostport_key(pb, b, &pods.next_node, hostport_families[f], &kb, &t) &&
		    !memcmp(&ka, &kb, sizeof(ka)))
			return 1;
	return 0;
}

struct hostport_search {
	const struct pods_pod *pod;
	const struct pods_hostport *mapping;
	const struct pods_pod *owner; /* another pod that maps it */
};

static void find_hostport(void *arg, const struct pods_pod *other)
{
	struct hostport_search *s = arg;

	for (uint32_t i = 0; !s->owner && other != s->pod && i < other->n_hostports; i++)
		if (hostports_clash(s->pod, s->mapping, other, &other->hostports[i]))
			s->owner = other;
}

/* One pod per host port: a second one's rule would replace the first's,
 * and removing either would take both. Only changed pods are checked, so
 * the cost follows the change (host ports are few). */
static int check_hostports(struct cn_error *err)
{
	for (size_t c = 0; c < pods.n_pod_changes; c++) {
		const struct pods_pod *p = pods.pod_changes[c].now;

		for (uint32_t i = 0; p && i < p->n_hostports; i++) {
			struct hostport_search s = {p, &p->hostports[i], NULL};

			pods_each_next(find_hostport, &s);
			if (s.owner)
				return cn_fail(err, CN_ERR_INVALID_VALUE, PODS "/pod",
					       "%s: host port %u/%s is already mapped by %s",
					       p->key, p->hostports[i].host_port,
					       p->hostports[i].proto == 17 ? "udp" : "tcp",
					       s.owner->key);
		}
	}
	return 0;
}

int pods_pods_plan(const struct ds_change *c, struct cn_error *err)
{
	drop_pod_changes();
	node_from(c->config, &pods.next_node);
	pods.node_changed = c->restore || memcmp(&pods.next_node, &pods.node, sizeof(pods.node));
	if (cfg_each_change(c, PODS "/pod", plan_pod, NULL, err))
		return -1;
	if (check_hostports(err))
		return -1;
	if (pods.next_node.n_cidrs > pods.next_node.n_cidrs6 && !pods.next_node.have_addr)
		return cn_fail(err, CN_ERR_INVALID_VALUE, NODE,
			       "masquerade needs the node's address (node/address or node/uplink)");
	for (uint32_t i = 0; i < pods.next_node.n_cidrs; i++) {
		const struct pods_prefix *p = &pods.next_node.cidrs[i];
		const char *unusable = prefix_unusable(p);
		char text[INET6_ADDRSTRLEN];

		if (unusable)
			return cn_fail(err, CN_ERR_INVALID_VALUE, NODE "/masquerade/cluster-cidr",
				       "cluster-cidr %s/%u %s",
				       inet_ntop(p->family == CUBE_AF_INET6 ? AF_INET6 : AF_INET,
						 p->prefix.bytes, text, sizeof(text)),
				       p->len, unusable);
	}
	if (pods.next_node.have_addr6) {
		struct pods_prefix own = {pods.next_node.addr6, 128, CUBE_AF_INET6};
		char text[INET6_ADDRSTRLEN];

		/* What NodePorts answer on and pods are masqueraded to (one
		 * the uplink has and no pod could answer, ::1 on lo, is left
		 * out by node_from()). */
		if (prefix_unusable(&own))
			return cn_fail(err, CN_ERR_INVALID_VALUE, NODE "/address6",
				       "address6 %s is not a global unicast address",
				       inet_ntop(AF_INET6, own.prefix.bytes, text, sizeof(text)));
	}
	if (pods.next_node.n_cidrs6 && !pods.next_node.have_addr6)
		return cn_fail(err, CN_ERR_INVALID_VALUE, NODE,
			       "masquerade of IPv6 ranges needs the node's IPv6 address "
			       "(node/address6, or a global IPv6 address on node/uplink)");
	return 0;
}

const struct pods_node *pods_next_node(void)
{
	return &pods.next_node;
}

size_t pods_next_count(void)
{
	return pods.next_n_pods;
}

/* Whether the change in flight replaces or removes the committed pod. */
static int pod_changed(const struct pods_pod *p)
{
	for (size_t i = 0; i < pods.n_pod_changes; i++)
		if (pods.pod_changes[i].was == p)
			return 1;
	return 0;
}

void pods_each_next(void (*fn)(void *arg, const struct pods_pod *pod), void *arg)
{
	for (size_t i = 0; i < pods.n_pods; i++)
		if (!pod_changed(pods.pods[i]))
			fn(arg, pods.pods[i]);
	for (size_t i = 0; i < pods.n_pod_changes; i++)
		if (pods.pod_changes[i].now)
			fn(arg, pods.pod_changes[i].now);
}

/* ---- writing ---- */

static int fd_of(struct runtime *rt, enum pods_stage s, const char *map)
{
	return cube_map_fd(rt_cube(rt, pods_stage_names[s]), map);
}

/* A pod's addresses into its veth, or (now NULL) not any more. Only a veth
 * whose other end is in another namespace: the router hands the pod's
 * packets straight to that end (bpf_redirect_peer), which would drop them
 * on anything else; those pods are the kernel's, as one without a MAC. */
static int write_hosts(struct runtime *rt, const struct pods_pod *was, const struct pods_pod *now)
{
	int fd = fd_of(rt, STAGE_ROUTER, "router_hosts"), e = 0;
	struct router_host h = {0};
	uint32_t ifindex = 0;

	if (now && now->has_mac && (ifindex = if_nametoindex(now->host_if)) &&
	    netdev_veth_elsewhere(now->host_if) == 1 && !netdev_mac(now->host_if, h.smac)) {
		h.ifindex = ifindex;
		memcpy(h.dmac, now->mac, 6);
	} else {
		ifindex = 0; /* a pod being deleted, or without a MAC: the kernel's */
	}
	for (uint32_t a = 0; was && a < was->n_addrs && !e; a++) {
		int kept = 0;

		for (uint32_t b = 0; ifindex && b < now->n_addrs; b++)
			kept |= !memcmp(&now->addrs[b], &was->addrs[a], sizeof(was->addrs[a]));
		if (!kept)
			e = map_txn_delete(&pods.txn, fd, &was->addrs[a], sizeof(was->addrs[a]),
					   sizeof(h));
	}
	for (uint32_t a = 0; ifindex && a < now->n_addrs && !e; a++)
		e = map_txn_update(&pods.txn, fd, &now->addrs[a], sizeof(now->addrs[a]), &h,
				   sizeof(h));
	return e;
}

static int write_routes(const struct pods_pod *was, const struct pods_pod *now)
{
	int e = 0;

	if (!pods.next_node.host_device)
		return 0;
	for (uint32_t a = 0; was && a < was->n_addrs && !e; a++) {
		int kept = 0;

		for (uint32_t b = 0; now && b < now->n_addrs; b++)
			kept |= !memcmp(&now->addrs[b], &was->addrs[a], sizeof(was->addrs[a]));
		if (!kept)
			e = host_device_route(HOST_DEVICE, &was->addrs[a], 0);
	}
	for (uint32_t a = 0; now && a < now->n_addrs && !e; a++)
		e = host_device_route(HOST_DEVICE, &now->addrs[a], 1);
	return e;
}

/* Mapping h of pod p in one family, as a DNAT rule; -1 if it has none
 * there: another family's, no pod address of the family, or on the node's
 * address and the node has none yet (the mapping waits for one: failing
 * the pod would fail it for good, as a runtime cannot fix that). */
static int hostport_key(const struct pods_pod *p, const struct pods_hostport *h,
			const struct pods_node *node, uint8_t family, struct nat_dnat_key *k,
			struct nat_dnat_target *t)
{
	const union cube_addr *pod = NULL;

	if (h->family && h->family != family)
		return -1;
	for (uint32_t a = 0; a < p->n_addrs && !pod; a++)
		if (p->addrs[a].family == family)
			pod = &p->addrs[a].addr;
	if (!pod)
		return -1;
	memset(k, 0, sizeof(*k));
	memset(t, 0, sizeof(*t));
	if (!h->on_node)
		k->daddr = h->host_ip;
	else if (family == CUBE_AF_INET && node->have_addr)
		k->daddr = node->addr;
	else if (family == CUBE_AF_INET6 && node->have_addr6)
		k->daddr = node->addr6;
	else
		return -1;
	k->dport = htons(h->host_port);
	k->proto = h->proto;
	k->family = family;
	t->addr = *pod;
	t->port = htons(h->container_port);
	t->flags = NAT_DNAT_F_VALID;
	return 0;
}

static int write_hostports(struct runtime *rt, const struct pods_pod *was,
			   const struct pods_node *was_node, const struct pods_pod *now)
{
	int fd = fd_of(rt, STAGE_NAT, "nat_dnat"), e = 0;
	struct nat_dnat_key k;
	struct nat_dnat_target t;

	for (uint32_t i = 0; was && i < was->n_hostports && !e; i++)
		for (size_t f = 0; f < sizeof(hostport_families) && !e; f++)
			if (!hostport_key(was, &was->hostports[i], was_node, hostport_families[f],
					  &k, &t))
				e = map_txn_delete(&pods.txn, fd, &k, sizeof(k), sizeof(t));
	for (uint32_t i = 0; now && i < now->n_hostports && !e; i++)
		for (size_t f = 0; f < sizeof(hostport_families) && !e; f++)
			if (!hostport_key(now, &now->hostports[i], &pods.next_node,
					  hostport_families[f], &k, &t))
				e = map_txn_update(&pods.txn, fd, &k, sizeof(k), &t, sizeof(t));
	return e;
}

/* One masquerade entry of a family: the SNAT rule (rule_size, rule NULL
 * for none) or the exception (a destination prefix), added or removed. */
static int masq_entry(struct runtime *rt, int family, int skip, const struct pods_prefix *p,
		      const struct nat_snat_target *rule, int add)
{
	const char *map = family == CUBE_AF_INET ? (skip ? "nat_snat_skip4" : "nat_snat4")
						 : (skip ? "nat_snat_skip6" : "nat_snat6");
	struct nat_snat_lpm6_key k6 = {.prefixlen = p->len};
	struct nat_snat_lpm4_key k4 = {p->len, p->prefix.ip4};
	uint32_t one = 1;
	const void *key = family == CUBE_AF_INET ? (const void *)&k4 : (const void *)&k6;
	size_t key_size = family == CUBE_AF_INET ? sizeof(k4) : sizeof(k6);
	const void *value = skip ? (const void *)&one : (const void *)rule;
	size_t value_size = skip ? sizeof(one) : sizeof(*rule);
	int fd = fd_of(rt, STAGE_NAT, map);

	/* The skip keys have the rules' layout: prefix length, address. */
	memcpy(k6.saddr, p->prefix.bytes, sizeof(k6.saddr));
	return add ? map_txn_update(&pods.txn, fd, key, key_size, value, value_size)
		   : map_txn_delete(&pods.txn, fd, key, key_size, value_size);
}

/* The node's masquerade entries, removed (add 0) or written: SNAT from
 * each cluster range to the node's address of its family, except to the
 * cluster's ranges and to the node's addresses. */
static int node_masquerade(struct runtime *rt, const struct pods_node *node, int add)
{
	struct nat_snat_target t4 = {.addr = node->addr, .flags = NAT_SNAT_F_MASQUERADE};
	struct nat_snat_target t6 = {.addr = node->addr6, .flags = NAT_SNAT_F_MASQUERADE};
	struct pods_prefix own4 = {node->addr, 32, CUBE_AF_INET};
	struct pods_prefix own6 = {node->addr6, 128, CUBE_AF_INET6};
	int e = 0;

	for (uint32_t i = 0; i < node->n_cidrs && !e; i++) {
		const struct pods_prefix *c = &node->cidrs[i];

		e = masq_entry(rt, c->family, 0, c, c->family == CUBE_AF_INET ? &t4 : &t6, add);
		if (!e)
			e = masq_entry(rt, c->family, 1, c, NULL, add);
	}
	if (!e && node->n_cidrs > node->n_cidrs6 && node->have_addr)
		e = masq_entry(rt, CUBE_AF_INET, 1, &own4, NULL, add);
	if (!e && node->n_cidrs6 && node->have_addr6)
		e = masq_entry(rt, CUBE_AF_INET6, 1, &own6, NULL, add);
	return e;
}

/* SNAT from the cluster's ranges to anywhere but them and the node. */
static int write_masquerade(struct runtime *rt, const struct pods_node *was,
			    const struct pods_node *now)
{
	int e = was ? node_masquerade(rt, was, 0) : 0;

	return e ? e : node_masquerade(rt, now, 1);
}

/* A pod reaching its own service is DNATed to itself: its source becomes
 * the hairpin address, so the reply comes back through the nat. IPv4: the
 * node's address when it has one, else a link-local one only the chain
 * sees; IPv6 likewise, PODS_HAIRPIN6 without one. */
static int write_nat_cfg(struct runtime *rt, const struct pods_node *node)
{
	struct nat_cfg cfg = {0};
	uint32_t zero = 0;

	if (node->have_addr)
		cfg.hairpin4 = node->addr;
	else
		inet_pton(AF_INET, PODS_HAIRPIN_FALLBACK, &cfg.hairpin4.ip4);
	if (node->have_addr6)
		cfg.hairpin6 = node->addr6;
	else
		inet_pton(AF_INET6, PODS_HAIRPIN6, cfg.hairpin6.bytes);
	return map_txn_update(&pods.txn, fd_of(rt, STAGE_NAT, "nat_cfg"), &zero, sizeof(zero), &cfg,
			      sizeof(cfg));
}

struct full_ctx {
	struct runtime *rt;
	int e;
};

static void write_full_pod(void *arg, const struct pods_pod *p)
{
	struct full_ctx *x = arg;

	if (!x->e)
		x->e = write_hosts(x->rt, NULL, p);
	if (!x->e)
		x->e = write_hostports(x->rt, NULL, NULL, p);
	if (!x->e)
		x->e = write_routes(NULL, p);
}

int pods_pods_apply(struct runtime *rt, const struct ds_change *c, int full, struct cn_error *err)
{
	struct full_ctx x = {rt, 0};
	int e = 0;

	(void)c;
	if (!rt_cube(rt, pods_stage_names[STAGE_ROUTER])) {
		netdev_delete(HOST_DEVICE); /* no chain: nothing to route */
		return 0;
	}
	if (!pods.next_node.host_device)
		netdev_delete(HOST_DEVICE); /* the plugin's routes take over */
	if (full) {
		pods_each_next(write_full_pod, &x);
		e = x.e;
		if (!e)
			e = write_masquerade(rt, NULL, &pods.next_node);
		if (!e)
			e = write_nat_cfg(rt, &pods.next_node);
	} else {
		for (size_t i = 0; i < pods.n_pod_changes && !e; i++) {
			const struct pods_pod_change *ch = &pods.pod_changes[i];

			e = write_hosts(rt, ch->was, ch->now);
			if (!e)
				e = write_hostports(rt, ch->was, &pods.node, ch->now);
			if (!e)
				e = write_routes(ch->was, ch->now);
		}
		if (!e && pods.node_changed) {
			/* The node's address moves every mapping on it. */
			for (size_t i = 0; i < pods.n_pods && !e; i++)
				if (!pod_changed(pods.pods[i]))
					e = write_hostports(rt, pods.pods[i], &pods.node,
							    pods.pods[i]);
			if (!e)
				e = write_masquerade(rt, &pods.node, &pods.next_node);
			if (!e)
				e = write_nat_cfg(rt, &pods.next_node);
		}
	}
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, PODS, "cannot program the node's pods: %s",
			   strerror(-e))
		 : 0;
}

static int index_add(struct pods_pod *p)
{
	if (pods.n_pods == pods.cap_pods) {
		size_t cap = pods.cap_pods ? 2 * pods.cap_pods : 64;
		struct pods_pod **grown = realloc(pods.pods, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		pods.pods = grown;
		pods.cap_pods = cap;
	}
	pods.pods[pods.n_pods] = p;
	return str_map_set(&pods.pod_index, p->key, (uint32_t)pods.n_pods++);
}

static void index_del(struct pods_pod *p)
{
	uint32_t at;

	if (str_map_get(&pods.pod_index, p->key, &at))
		return;
	str_map_del(&pods.pod_index, p->key);
	if (at != pods.n_pods - 1) {
		pods.pods[at] = pods.pods[pods.n_pods - 1];
		str_map_set(&pods.pod_index, pods.pods[at]->key, at);
	}
	pods.n_pods--;
}

void pods_pods_commit(void)
{
	for (size_t i = 0; i < pods.n_pod_changes; i++) {
		struct pods_pod_change *ch = &pods.pod_changes[i];

		if (ch->was) {
			index_del(ch->was);
			pod_free(ch->was);
		}
		if (ch->now && index_add(ch->now))
			pod_free(ch->now); /* out of memory: forgotten, as if deleted */
		ch->now = NULL;
	}
	pods.n_pod_changes = 0;
	pods.next_n_pods = pods.n_pods;
	pods.node = pods.next_node;
	pods.node_changed = 0;
}

void pods_pods_abort(void)
{
	drop_pod_changes();
	pods.next_node = pods.node;
	pods.node_changed = 0;
}
