// SPDX-License-Identifier: Apache-2.0
/*
 * The pods service: cubenet-pods config -> the node's service chain,
 *
 *   node:parser -> node:classifier -(service port)-> node:maglev -> node:nat -> node:router
 *                                  \--(anything else)------------------------>/
 *
 * The router sends a packet for a pod straight out of the pod's veth and
 * leaves the rest (the node, outside) to the kernel's stack.
 *
 * on TC ingress of every registered pod's veth and of the uplink. Every
 * packet a pod sends goes through nat, so replies from an endpoint are
 * translated back to the ClusterIP. Service ports and endpoints get dense ids in config order: an
 * established connection does not depend on them (nat keeps its rewrite),
 * only new connections do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "service.h"
#include "common.h"
#include "map_sync.h"
#include "maglev.h"
#include "maglev_map.h"
#include "netdev.h"
#include "host_device.h"
#include "lib/abi/classifier.h"
#include "lib/abi/maglev.h"
#include "lib/abi/nat.h"
#include "lib/abi/router.h"

#define PODS_PATH     "/cubenet-pods:pods"
#define NODE_PATH     "/cubenet-pods:node"
#define SERVICES_PATH "/cubenet-pods:services"
#define MAX_PORTS     4096  /* service ports on a node */
#define MAX_ENDPOINTS 65536 /* service port x endpoint pairs */
#define TABLE_SIZE    4099  /* prime, >= 100 x the endpoints a service usually has */
#define HOST_DEVICE   "cubenet0"

static const char *const stages[] = {"node:parser", "node:classifier", "node:maglev", "node:nat",
				     "node:router"};

/* Whether the node's own traffic to pods goes through the chain. */
static int host_device_wanted(const struct lyd_node *config)
{
	const struct lyd_node *node = svc_find(config, NODE_PATH);

	return node && strcmp(svc_leaf(node, "host-device") ?: "", "true") == 0;
}

static int pods_compose(const struct lyd_node *config, const struct service_builder *b,
			struct cn_error *err)
{
	const struct service_map_size classifier[] = {{"classifier_services", 2 * MAX_PORTS}};
	const struct service_map_size maglev[] = {
	    {"maglev_rings", MAX_PORTS},
	    {"maglev_services", MAX_PORTS},
	    {"maglev_service_stats", MAX_PORTS},
	    {"maglev_backends", MAX_ENDPOINTS},
	    {"maglev_backend_stats", MAX_ENDPOINTS},
	    {"maglev_conns", 1024} /* nat pins flows */,
	};
	const struct service_map_size nat[] = {{"nat_backends", MAX_ENDPOINTS}};
	struct ly_set *pods = NULL;
	int rc = 0;

	if (lyd_find_xpath(config, PODS_PATH "/pod", &pods) || !pods->count) {
		ly_set_free(pods, NULL);
		return 0; /* no pod, no chain */
	}
	if (b->cube(b->arg, stages[0], "parser", CUBE_HOOK_TC, NULL, 0, err) ||
	    b->cube(b->arg, stages[1], "classifier", CUBE_HOOK_TC, classifier, 1, err) ||
	    b->set_const(b->arg, stages[1], "classifier_miss", CLASSIFIER_MISS_PORT, err) ||
	    b->cube(b->arg, stages[2], "maglev", CUBE_HOOK_TC, maglev, 6, err) ||
	    b->cube(b->arg, stages[3], "nat", CUBE_HOOK_TC, nat, 1, err) ||
	    b->cube(b->arg, stages[4], "router", CUBE_HOOK_TC, NULL, 0, err) ||
	    b->set_const(b->arg, stages[4], "router_unrouted", ROUTER_UNROUTED_PASS, err) ||
	    b->set_const(b->arg, stages[4], "router_with_hosts", 1, err) ||
	    b->wire(b->arg, stages[0], 0, CUBE_PORT_CUBE, stages[1], err) ||
	    b->wire(b->arg, stages[1], CLASSIFIER_PORT_HIT, CUBE_PORT_CUBE, stages[2], err) ||
	    b->wire(b->arg, stages[1], CLASSIFIER_PORT_MISS, CUBE_PORT_CUBE, stages[3], err) ||
	    b->wire(b->arg, stages[2], MAGLEV_PORT_OUT, CUBE_PORT_CUBE, stages[3], err) ||
	    b->wire(b->arg, stages[3], NAT_PORT_OUT, CUBE_PORT_CUBE, stages[4], err))
		rc = -1;
	/* NodePorts come in through the uplink. */
	const struct lyd_node *node = svc_find(config, NODE_PATH);
	const char *uplink = node ? svc_leaf(node, "uplink") : NULL;

	if (!rc && uplink)
		rc = b->attach(b->arg, stages[0], uplink, ATTACH_TC_INGRESS, 0, err);
	/* The node's own traffic to pods: made here, where the chain that
	 * takes it is declared, so the attachment has its netdev. */
	if (!rc && host_device_wanted(config)) {
		int e = host_device_ensure(HOST_DEVICE);

		rc = e ? cn_fail(err, CN_ERR_OPERATION_FAILED, NODE_PATH,
				 "cannot create host-device " HOST_DEVICE ": %s", strerror(-e))
		       : b->attach(b->arg, stages[0], HOST_DEVICE, ATTACH_TC_EGRESS, 0, err);
	}
	for (uint32_t i = 0; i < pods->count && !rc; i++) {
		const char *dev = svc_leaf(pods->dnodes[i], "host-interface");

		/* A veth already gone belongs to a pod being deleted. */
		if (dev && if_nametoindex(dev))
			rc = b->attach(b->arg, stages[0], dev, ATTACH_TC_INGRESS, 1, err);
	}
	ly_set_free(pods, NULL);
	return rc;
}

/* What one apply writes. */
struct plan {
	/* ClusterIP ports first, then NodePorts, which share their ids. */
	struct classifier_key keys[2 * MAX_PORTS];
	struct classifier_value vals[2 * MAX_PORTS];
	uint32_t n_keys;
	uint32_t flags[MAX_PORTS];
	uint32_t n_ports;
	struct nat_dnat_target *targets; /* [MAX_ENDPOINTS] */
	uint32_t n_backends;
};

/* What each port id's table was last built from (0: nothing known, as after
 * a restart): every pod's ADD or DEL reapplies the config, and a table of
 * unchanged endpoints is not built again. */
static uint64_t ring_inputs[MAX_PORTS];

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	for (const uint8_t *p = data; len--; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

static int program_rings(struct cube *maglev, const struct lyd_node *svc, uint32_t port_id,
			 uint32_t first_backend, uint32_t n, struct cn_error *err)
{
	int rings_fd = cube_map_fd(maglev, "maglev_rings");
	struct maglev_backend_spec *specs = NULL;
	uint64_t inputs = fnv(1469598103934665603ull, &first_backend, sizeof(first_backend));
	uint32_t *table = NULL, inner;
	struct ly_set *eps = NULL;
	int e = -ENOMEM;

	if (lyd_find_xpath(svc, "endpoint", &eps))
		goto cleanup;
	/* The table holds ids first_backend.., placed by endpoint address. */
	for (uint32_t i = 0; i < n; i++)
		inputs = fnv(inputs, lyd_get_value(eps->dnodes[i]),
			     strlen(lyd_get_value(eps->dnodes[i])) + 1);
	if (ring_inputs[port_id] == inputs && !bpf_map_lookup_elem(rings_fd, &port_id, &inner)) {
		e = 0;
		goto cleanup;
	}
	specs = calloc(n ? n : 1, sizeof(*specs));
	table = calloc(TABLE_SIZE, sizeof(*table));
	if (!specs || !table)
		goto cleanup;
	for (uint32_t i = 0; i < n; i++) {
		specs[i].id = first_backend + i;
		specs[i].weight = 1;
		specs[i].key_len = (size_t)snprintf((char *)specs[i].key, MAGLEV_KEY_MAX, "%s",
						    lyd_get_value(eps->dnodes[i]));
	}
	e = maglev_build(specs, n, TABLE_SIZE, table); /* no endpoint: all MAGLEV_EMPTY */
	if (!e)
		e = maglev_ring_install(rings_fd, port_id, table, TABLE_SIZE);
	ring_inputs[port_id] = e ? 0 : inputs;
cleanup:
	if (e)
		cn_fail(err, CN_ERR_OPERATION_FAILED, SERVICES_PATH,
			"cannot install the table of service %s/%s: %s", svc_leaf(svc, "namespace"),
			svc_leaf(svc, "name"), strerror(-e));
	ly_set_free(eps, NULL);
	free(specs);
	free(table);
	return e ? -1 : 0;
}

/* SNAT from the cluster's ranges to anywhere but them and the node. */
static int program_masquerade(const struct lyd_node *config, struct cube *nat,
			      const union cube_addr *node_addr, struct cn_error *err)
{
	struct nat_snat_lpm4_key rules[64];
	struct nat_snat_target targets[64];
	struct nat_dst_lpm4_key skips[65];
	uint32_t ones[65], n = 0, n_skips = 0;
	struct ly_set *cidrs = NULL;

	if (!lyd_find_xpath(config, NODE_PATH "/masquerade/cluster-cidr", &cidrs) && cidrs->count) {
		if (!node_addr) {
			ly_set_free(cidrs, NULL);
			return cn_fail(err, CN_ERR_INVALID_VALUE, NODE_PATH,
				       "masquerade needs the node's address (node/address or "
				       "node/uplink)");
		}
		for (uint32_t i = 0; i < cidrs->count && n < 64; i++) {
			union cube_addr prefix;
			uint32_t plen = 0;
			int fam = 0;

			svc_parse_prefix(lyd_get_value(cidrs->dnodes[i]), &fam, &prefix, &plen);
			rules[n] =
			    (struct nat_snat_lpm4_key){.prefixlen = plen, .saddr = prefix.ip4};
			targets[n++] = (struct nat_snat_target){.addr = *node_addr,
								.flags = NAT_SNAT_F_MASQUERADE};
			skips[n_skips] =
			    (struct nat_dst_lpm4_key){.prefixlen = plen, .daddr = prefix.ip4};
			ones[n_skips++] = 1;
		}
		skips[n_skips] =
		    (struct nat_dst_lpm4_key){.prefixlen = 32, .daddr = node_addr->ip4};
		ones[n_skips++] = 1;
	}
	ly_set_free(cidrs, NULL);
	if (map_sync(cube_map_fd(nat, "nat_snat_skip4"), skips, ones, n_skips, sizeof(skips[0]),
		     sizeof(ones[0])) ||
	    map_sync(cube_map_fd(nat, "nat_snat4"), rules, targets, n, sizeof(rules[0]),
		     sizeof(targets[0])))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, NODE_PATH,
			       "cannot program masquerading");
	return 0;
}

/* Every pod address: out of its veth, to its MAC, from the veth's. */
static int program_hosts(const struct lyd_node *config, struct cube *router, struct cn_error *err)
{
	struct router_neigh_key *keys = NULL;
	struct router_host *hosts = NULL;
	struct ly_set *pods = NULL;
	size_t n = 0;
	int e = 0;

	if (lyd_find_xpath(config, PODS_PATH "/pod", &pods))
		return 0;
	keys = calloc(pods->count * 2 + 1, sizeof(*keys));
	hosts = calloc(pods->count * 2 + 1, sizeof(*hosts));
	for (uint32_t i = 0; keys && hosts && i < pods->count; i++) {
		const struct lyd_node *pod = pods->dnodes[i];
		const char *dev = svc_leaf(pod, "host-interface"), *mac = svc_leaf(pod, "mac");
		uint32_t ifindex = dev ? if_nametoindex(dev) : 0;
		struct router_host h = {.ifindex = ifindex};
		struct ly_set *addrs = NULL;

		/* A pod being deleted, or registered without a MAC: the kernel's. */
		if (!ifindex || !mac || svc_parse_mac(mac, h.dmac) || netdev_mac(dev, h.smac) ||
		    lyd_find_xpath(pod, "address", &addrs))
			continue;
		for (uint32_t a = 0; a < addrs->count && a < 2; a++) {
			int fam = 0;

			svc_parse_addr(lyd_get_value(addrs->dnodes[a]), &fam, &keys[n].addr);
			keys[n].family = (uint32_t)fam;
			hosts[n++] = h;
		}
		ly_set_free(addrs, NULL);
	}
	if (!keys || !hosts)
		e = -ENOMEM;
	else
		e = map_sync(cube_map_fd(router, "router_hosts"), keys, hosts, n, sizeof(*keys),
			     sizeof(*hosts));
	/* The node reaches its pods through the chain when it has a host device. */
	if (!e && host_device_wanted(config))
		e = host_device_routes(HOST_DEVICE, keys, n);
	else if (!e)
		host_device_remove(HOST_DEVICE); /* the plugin's routes take over */
	ly_set_free(pods, NULL);
	free(keys);
	free(hosts);
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, PODS_PATH,
			   "cannot program the pods' routes: %s", strerror(-e))
		 : 0;
}

/* A pod's port mappings: the node's address (or the mapping's host IP) and
 * host port, DNATed to the pod's first IPv4 address and container port. */
static int program_host_ports(const struct lyd_node *config, struct cube *nat,
			      const union cube_addr *node_addr, struct cn_error *err)
{
	struct nat_dnat_key *keys = NULL;
	struct nat_dnat_target *targets = NULL;
	struct ly_set *maps = NULL;
	size_t n = 0;
	int e = 0;

	if (lyd_find_xpath(config, PODS_PATH "/pod/port-mapping", &maps))
		return 0;
	keys = calloc(maps->count + 1, sizeof(*keys));
	targets = calloc(maps->count + 1, sizeof(*targets));
	for (uint32_t i = 0; keys && targets && i < maps->count; i++) {
		const struct lyd_node *m = maps->dnodes[i], *pod = lyd_parent(m);
		const char *host_ip = svc_leaf(m, "host-ip"), *proto = svc_leaf(m, "protocol");
		struct ly_set *addrs = NULL;
		union cube_addr pod_addr = {0}, on = {0};
		int fam = 0, have_pod = 0;

		if (lyd_find_xpath(pod, "address", &addrs))
			continue;
		for (uint32_t a = 0; a < addrs->count && !have_pod; a++)
			have_pod =
			    !svc_parse_addr(lyd_get_value(addrs->dnodes[a]), &fam, &pod_addr) &&
			    fam == CUBE_AF_INET;
		ly_set_free(addrs, NULL);
		if (host_ip && (svc_parse_addr(host_ip, &fam, &on) || fam != CUBE_AF_INET))
			continue; /* 0.0.0.0 or IPv6 host IPs: the node address below */
		if (!host_ip || !on.ip4) {
			/* No node address yet: the mapping waits for one. Failing
			 * here would fail the pod, which a runtime cannot fix. */
			if (!node_addr)
				continue;
			on = *node_addr;
		}
		if (!have_pod || strcmp(proto, "sctp") == 0)
			continue; /* nat translates TCP and UDP */
		keys[n] =
		    (struct nat_dnat_key){.daddr = on,
					  .dport = htons((uint16_t)atoi(svc_leaf(m, "host-port"))),
					  .proto = strcmp(proto, "udp") == 0 ? 17 : 6,
					  .family = CUBE_AF_INET};
		targets[n++] = (struct nat_dnat_target){
		    .addr = pod_addr,
		    .port = htons((uint16_t)atoi(svc_leaf(m, "container-port"))),
		    .flags = NAT_DNAT_F_VALID};
	}
	ly_set_free(maps, NULL);
	if (!keys || !targets)
		e = -ENOMEM;
	else
		e = map_sync(cube_map_fd(nat, "nat_dnat"), keys, targets, n, sizeof(*keys),
			     sizeof(*targets));
	free(keys);
	free(targets);
	if (e)
		cn_fail(err, CN_ERR_OPERATION_FAILED, PODS_PATH, "cannot program host ports: %s",
			strerror(-e));
	return e ? -1 : 0;
}

static int pods_apply(const struct lyd_node *config, service_find_cube find, void *arg,
		      struct cn_error *err)
{
	struct cube *classifier = find(arg, stages[1]), *maglev = find(arg, stages[2]);
	struct cube *nat = find(arg, stages[3]), *router = find(arg, stages[4]);
	struct ly_set *svcs = NULL;
	struct plan *p = NULL;
	int rc = -1;

	if (!classifier || !maglev || !nat || !router) {
		host_device_remove(HOST_DEVICE); /* no pod, no chain: nothing to route */
		return 0;
	}
	if (program_hosts(config, router, err))
		return -1;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->targets = calloc(MAX_ENDPOINTS, sizeof(*p->targets)))) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, SERVICES_PATH, "out of memory");
		goto cleanup;
	}
	if (lyd_find_xpath(config, SERVICES_PATH "/service", &svcs))
		goto cleanup;
	/* The node's address for NodePorts: configured, else the uplink's. */
	const struct lyd_node *node = svc_find(config, NODE_PATH);
	const char *v;
	union cube_addr node_addr = {0};
	int have_node_addr = 0, nfam = 0;

	if (node && (v = svc_leaf(node, "address")))
		have_node_addr = !svc_parse_addr(v, &nfam, &node_addr);
	else if (node && (v = svc_leaf(node, "uplink")))
		have_node_addr = !netdev_addr(v, CUBE_AF_INET, &node_addr);
	for (uint32_t s = 0; s < svcs->count; s++) {
		const struct lyd_node *svc = svcs->dnodes[s];
		struct ly_set *ports = NULL, *eps = NULL;
		union cube_addr vip;
		int fam = 0, affinity = strcmp(svc_leaf(svc, "session-affinity"), "client-ip") == 0;

		svc_parse_addr(svc_leaf(svc, "cluster-ip"), &fam, &vip);
		if (lyd_find_xpath(svc, "port", &ports) || lyd_find_xpath(svc, "endpoint", &eps)) {
			ly_set_free(ports, NULL);
			cn_fail(err, CN_ERR_OPERATION_FAILED, SERVICES_PATH,
				"cannot read a service");
			goto cleanup;
		}
		for (uint32_t i = 0; i < ports->count; i++) {
			const struct lyd_node *port = ports->dnodes[i];
			uint32_t id = p->n_ports, first = p->n_backends;

			if (p->n_ports == MAX_PORTS || p->n_backends + eps->count > MAX_ENDPOINTS) {
				cn_fail(err, CN_ERR_TOO_BIG, SERVICES_PATH,
					"at most %d service ports and %d endpoints on a node",
					MAX_PORTS, MAX_ENDPOINTS);
				ly_set_free(ports, NULL);
				ly_set_free(eps, NULL);
				goto cleanup;
			}
			uint8_t proto = strcmp(svc_leaf(port, "protocol"), "udp") == 0 ? 17 : 6;
			const char *node_port = svc_leaf(port, "node-port");

			p->keys[p->n_keys] = (struct classifier_key){
			    .vip = vip,
			    .port = htons((uint16_t)atoi(svc_leaf(port, "port"))),
			    .proto = proto,
			    .family = (uint8_t)fam};
			p->vals[p->n_keys++].service_id = id;
			if (node_port) {
				if (!have_node_addr) {
					cn_fail(err, CN_ERR_INVALID_VALUE, NODE_PATH,
						"service %s/%s has a NodePort but the node has no "
						"address (set node/address or node/uplink)",
						svc_leaf(svc, "namespace"), svc_leaf(svc, "name"));
					ly_set_free(ports, NULL);
					ly_set_free(eps, NULL);
					goto cleanup;
				}
				p->keys[p->n_keys] = (struct classifier_key){
				    .vip = node_addr,
				    .port = htons((uint16_t)atoi(node_port)),
				    .proto = proto,
				    .family = CUBE_AF_INET};
				p->vals[p->n_keys++].service_id = id;
			}
			p->flags[id] = affinity ? MAGLEV_SVC_F_HASH_SRC : 0;
			for (uint32_t k = 0; k < eps->count; k++) {
				struct nat_dnat_target *t = &p->targets[p->n_backends++];
				int efam = 0;

				svc_parse_addr(lyd_get_value(eps->dnodes[k]), &efam, &t->addr);
				t->port = htons((uint16_t)atoi(svc_leaf(port, "target-port")));
				t->flags = NAT_DNAT_F_VALID;
			}
			p->n_ports++;
			/* Endpoints first, then the table that points at them. */
			for (uint32_t k = first; k < p->n_backends; k++) {
				struct maglev_backend b = {.state = MAGLEV_BACKEND_ACTIVE};

				if (bpf_map_update_elem(cube_map_fd(nat, "nat_backends"), &k,
							&p->targets[k], BPF_ANY) ||
				    bpf_map_update_elem(cube_map_fd(maglev, "maglev_backends"), &k,
							&b, BPF_ANY)) {
					cn_fail(err, CN_ERR_OPERATION_FAILED, SERVICES_PATH,
						"cannot program endpoints: %s", strerror(errno));
					ly_set_free(ports, NULL);
					ly_set_free(eps, NULL);
					goto cleanup;
				}
			}
			if (bpf_map_update_elem(cube_map_fd(maglev, "maglev_services"), &id,
						&(struct maglev_service){.flags = p->flags[id]},
						BPF_ANY) ||
			    program_rings(maglev, svc, id, first, eps->count, err)) {
				cn_fail(err, CN_ERR_OPERATION_FAILED, SERVICES_PATH,
					"cannot program service ports");
				ly_set_free(ports, NULL);
				ly_set_free(eps, NULL);
				goto cleanup;
			}
		}
		ly_set_free(ports, NULL);
		ly_set_free(eps, NULL);
	}
	if (map_sync(cube_map_fd(classifier, "classifier_services"), p->keys, p->vals, p->n_keys,
		     sizeof(p->keys[0]), sizeof(p->vals[0]))) {
		cn_fail(err, CN_ERR_OPERATION_FAILED, SERVICES_PATH,
			"cannot program the classifier");
		goto cleanup;
	}
	/* Ids past the end are gone: no table, no endpoint. */
	for (uint32_t id = p->n_ports; id < MAX_PORTS; id++) {
		uint32_t inner;

		if (bpf_map_lookup_elem(cube_map_fd(maglev, "maglev_rings"), &id, &inner))
			break; /* ids are dense: the first without a table ends them */
		maglev_ring_remove(cube_map_fd(maglev, "maglev_rings"), id);
		ring_inputs[id] = 0;
	}
	for (uint32_t k = p->n_backends; k < MAX_ENDPOINTS; k++) {
		struct nat_dnat_target none = {0}, have;

		if (bpf_map_lookup_elem(cube_map_fd(nat, "nat_backends"), &k, &have) ||
		    !(have.flags & NAT_DNAT_F_VALID))
			break;
		bpf_map_update_elem(cube_map_fd(nat, "nat_backends"), &k, &none, BPF_ANY);
	}
	if (program_masquerade(config, nat, have_node_addr ? &node_addr : NULL, err) ||
	    program_host_ports(config, nat, have_node_addr ? &node_addr : NULL, err))
		goto cleanup;
	rc = 0;
cleanup:
	ly_set_free(svcs, NULL);
	if (p)
		free(p->targets);
	free(p);
	return rc;
}

const struct service pods_service = {
    .module = "cubenet-pods",
    .compose = pods_compose,
    .apply_composed = pods_apply,
};
