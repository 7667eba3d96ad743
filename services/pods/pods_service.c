// SPDX-License-Identifier: Apache-2.0
/*
 * The pods service: cubenet-pods config -> the node's service chain,
 *
 *   node:parser -> node:classifier -(service)-> node:maglev -> node:nat -> node:router
 *                                  \--(anything else)-------------------->/
 *
 * on TC ingress of every registered pod's veth, of the uplink and of the
 * VXLAN device (and TC egress of the host device, for the node's own
 * traffic to pods; the node's own sockets get services at connect time,
 * pods_host.c). The router sends a packet for a pod straight into the
 * pod's end of its veth, one for another node's pods to that node (pods_peers.c:
 * out of the uplink, or through node:tunnel into the VXLAN device), and
 * leaves the rest (the node, outside) to the kernel's stack. Every packet
 * a pod sends goes through nat, so replies from an endpoint are translated
 * back. The chain exists while the node has pods or peers: a node that
 * joins has other nodes' pods to reach (through its NodePorts, its
 * services and its own traffic) before it has a pod of its own. Neither,
 * no chain.
 *
 * Services (pods_balancers.c) and pods (pods_pods.c) are independent
 * entries: a change costs what it touches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "config_read.h"
#include "host_device.h"
#include "pods_state.h"
#include "runtime.h"
#include "lib/abi/classifier.h"
#include "lib/abi/maglev.h"
#include "lib/abi/nat.h"
#include "lib/abi/router.h"

struct pods pods;

const char *const pods_stage_names[N_STAGES] = {"node:parser", "node:classifier", "node:maglev",
						"node:nat", "node:router"};

/* Map sizes the chain was composed with; they only grow while it lives, so
 * a change does not reload a cube unless the chain outgrows it. */
static struct sizes {
	uint32_t fronts, balancers, backends, slots, skips;
} sizes;

static uint32_t pow2_at_least(uint64_t floor, uint64_t need)
{
	uint64_t n = floor;

	while (n < need)
		n *= 2;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static uint32_t grow_to(uint32_t have, uint32_t want)
{
	return want > have ? want : have;
}

int pods_store(struct runtime *rt)
{
	struct cube *maglev = rt_cube(rt, pods_stage_names[STAGE_MAGLEV]);
	struct bpf_map_info svc = {0}, slots = {0};
	uint32_t len = sizeof(svc);
	int e, services_fd, slots_fd;

	if (!maglev)
		return -ENOENT;
	if (maglev == pods.store_cube)
		return 0;
	if (pods.store_cube)
		maglev_store_close(&pods.store);
	pods.store_cube = NULL;
	services_fd = cube_map_fd(maglev, "maglev_services");
	slots_fd = cube_map_fd(maglev, "maglev_slots");
	if (bpf_obj_get_info_by_fd(services_fd, &svc, &len) ||
	    (len = sizeof(slots), bpf_obj_get_info_by_fd(slots_fd, &slots, &len)))
		return -errno;
	e = maglev_store_open(&pods.store, services_fd, slots_fd,
			      cube_map_fd(maglev, "maglev_backends"),
			      slots.max_entries * MAGLEV_SLOTS_PER_ENTRY, PODS_MAX_BALANCERS);
	if (!e)
		pods.store_cube = maglev;
	return e;
}

/* ---- compose ---- */

struct attach_ctx {
	const struct service_builder *b;
	struct cn_error *err;
	int rc;
};

static void attach_pod(void *arg, const struct pods_pod *p)
{
	struct attach_ctx *x = arg;

	/* A veth already gone belongs to a pod being deleted: optional. */
	if (!x->rc)
		x->rc = x->b->attach(x->b->arg, pods_stage_names[STAGE_PARSER], p->host_if,
				     ATTACH_TC_INGRESS, 1, x->err);
}

static int pods_compose(struct runtime *rt, const struct lyd_node *config,
			const struct service_builder *b, struct cn_error *err)
{
	const char *const *st = pods_stage_names;
	const struct pods_node *node = pods_next_node();
	struct attach_ctx x = {b, err, 0};

	(void)rt;
	(void)config;
	if (!pods_next_count() && !pods_peers_next_count()) {
		sizes = (struct sizes){0}; /* no pod and no peer, no chain */
		return 0;
	}
	sizes.balancers = grow_to(sizes.balancers, pow2_at_least(4096, pods_balancers_max_ids()));
	sizes.fronts = grow_to(sizes.fronts, 2 * sizes.balancers);
	sizes.backends = grow_to(sizes.backends, pow2_at_least(8192, pods_backends_max_ids()));
	/* Rings are replaced into fresh regions: room for the old and new. */
	sizes.slots =
	    grow_to(sizes.slots,
		    pow2_at_least(1u << 20, pods.next_slots + pods.next_slots / 4 + (1u << 16)));
	const struct service_map_size classifier[] = {{"classifier_services", sizes.fronts}};
	const struct service_map_size maglev[] = {
	    {"maglev_services", sizes.balancers},
	    {"maglev_service_stats", sizes.balancers},
	    {"maglev_backends", sizes.backends},
	    {"maglev_backend_stats", sizes.backends},
	    {"maglev_slots", sizes.slots / MAGLEV_SLOTS_PER_ENTRY},
	    {"maglev_conns", 1024} /* nat pins flows */,
	};
	/* Masquerade exceptions: the cluster's ranges and one per peer. */
	sizes.skips =
	    grow_to(sizes.skips, pow2_at_least(NAT_MAX_RULES, pods_peers_next_count() +
								  sizeof(pods.node.cidrs) /
								      sizeof(pods.node.cidrs[0])));
	const struct service_map_size nat[] = {{"nat_backends", sizes.backends},
					       {"nat_backend_stats", sizes.backends},
					       {"nat_snat_skip4", sizes.skips},
					       {"nat_snat_skip6", sizes.skips}};

	if (b->cube(b->arg, st[STAGE_PARSER], "parser", CUBE_HOOK_TC, NULL, 0, err) ||
	    b->cube(b->arg, st[STAGE_CLASSIFIER], "classifier", CUBE_HOOK_TC, classifier, 1, err) ||
	    b->set_const(b->arg, st[STAGE_CLASSIFIER], "classifier_miss", CLASSIFIER_MISS_PORT,
			 err) ||
	    b->cube(b->arg, st[STAGE_MAGLEV], "maglev", CUBE_HOOK_TC, maglev, 6, err) ||
	    b->cube(b->arg, st[STAGE_NAT], "nat", CUBE_HOOK_TC, nat, 4, err) ||
	    b->cube(b->arg, st[STAGE_ROUTER], "router", CUBE_HOOK_TC, NULL, 0, err) ||
	    b->set_const(b->arg, st[STAGE_ROUTER], "router_unrouted", ROUTER_UNROUTED_PASS, err) ||
	    b->set_const(b->arg, st[STAGE_ROUTER], "router_with_hosts", 1, err) ||
	    b->wire(b->arg, st[STAGE_PARSER], 0, CUBE_PORT_CUBE, st[STAGE_CLASSIFIER], err) ||
	    b->wire(b->arg, st[STAGE_CLASSIFIER], CLASSIFIER_PORT_HIT, CUBE_PORT_CUBE,
		    st[STAGE_MAGLEV], err) ||
	    b->wire(b->arg, st[STAGE_CLASSIFIER], CLASSIFIER_PORT_MISS, CUBE_PORT_CUBE,
		    st[STAGE_NAT], err) ||
	    b->wire(b->arg, st[STAGE_MAGLEV], MAGLEV_PORT_OUT, CUBE_PORT_CUBE, st[STAGE_NAT],
		    err) ||
	    b->wire(b->arg, st[STAGE_NAT], NAT_PORT_OUT, CUBE_PORT_CUBE, st[STAGE_ROUTER], err))
		return -1;
	/* NodePorts come in through the uplink. */
	if (node->uplink[0] &&
	    b->attach(b->arg, st[STAGE_PARSER], node->uplink, ATTACH_TC_INGRESS, 0, err))
		return -1;
	/* The node's own traffic to pods: made here, where the chain that
	 * takes it is declared, so the attachment has its netdev. */
	if (node->host_device) {
		int e = host_device_ensure(HOST_DEVICE);

		if (e)
			return cn_fail(err, CN_ERR_OPERATION_FAILED, NODE,
				       "cannot create host-device " HOST_DEVICE ": %s",
				       strerror(-e));
		if (b->attach(b->arg, st[STAGE_PARSER], HOST_DEVICE, ATTACH_TC_EGRESS, 0, err))
			return -1;
	}
	pods_each_next(attach_pod, &x);
	if (x.rc)
		return x.rc;
	return pods_peers_compose(b, err);
}

/* ---- the phases ---- */

static int pods_validate(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	(void)rt;
	return pods_pods_plan(c, err) || pods_peers_plan(c, err) || pods_balancers_plan(c, err) ? -1
												: 0;
}

/* Whether any stage of the chain starts with empty maps (a new chain): it
 * is programmed whole. A stage reloaded bigger has its maps copied over. */
static int chain_empty(struct runtime *rt)
{
	for (int s = 0; s < N_STAGES; s++)
		if (rt_cube_empty(rt, pods_stage_names[s]))
			return 1;
	return 0;
}

static int pods_apply(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	int full;

	if (!rt_cube(rt, pods_stage_names[STAGE_MAGLEV])) /* no chain: only what goes with it */
		return pods_pods_apply(rt, c, 0, err) || pods_peers_apply(rt, c, 0, err) ? -1 : 0;
	if (c->restore) {
		/* The chain's maps are adopted now: plan again, reusing their ids. */
		pods_balancers_abort();
		if (pods_balancers_reset_ids() || pods_store(rt) || pods_balancers_adopt(rt) ||
		    pods_balancers_plan(c, err))
			return cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS,
				       "cannot adopt the node chain");
	}
	full = c->restore || chain_empty(rt);
	if (pods_balancers_apply(rt, c, full, err) || pods_pods_apply(rt, c, full, err) ||
	    pods_peers_apply(rt, c, full, err) || pods_host_apply(rt, c, err))
		return -1;
	return 0;
}

static void pods_commit(struct runtime *rt, const struct ds_change *c)
{
	(void)c;
	map_txn_commit(&pods.txn);
	if (pods.store_cube)
		maglev_store_commit(&pods.store);
	pods_balancers_commit(rt);
	pods_pods_commit();
	pods_peers_commit();
	pods.chain = rt_cube(rt, pods_stage_names[STAGE_MAGLEV]) != NULL;
	pods_host_commit(rt);
	if (!pods.chain && pods.store_cube) {
		maglev_store_close(&pods.store);
		pods.store_cube = NULL;
	}
}

static void pods_abort(struct runtime *rt, const struct ds_change *c)
{
	(void)rt;
	(void)c;
	map_txn_abort(&pods.txn);
	if (pods.store_cube) {
		maglev_store_abort(&pods.store);
		/* It may be on an instance the runtime drops: open again when used. */
		maglev_store_close(&pods.store);
		pods.store_cube = NULL;
	}
	pods_balancers_abort();
	pods_pods_abort();
	pods_peers_abort();
	pods_host_abort();
}

static void pods_state(struct runtime *rt, struct lyd_node *tree)
{
	pods_balancers_state(rt, tree);
}

static const char *const independent[] = {
    PODS "/pod",
    SVCS "/service",
    PEERS "/peer",
    NULL,
};

static const struct service pods_service = {
    .name = "pods",
    .module = "cubenet-pods",
    .independent = independent,
    .validate = pods_validate,
    .compose = pods_compose,
    .apply = pods_apply,
    .commit = pods_commit,
    .abort = pods_abort,
    .state = pods_state,
    .start = pods_host_start,
    .stop = pods_host_stop,
};
CUBENET_SERVICE(pods_service);

__attribute__((constructor)) static void pods_init(void)
{
	if (pods_balancers_init())
		abort(); /* out of memory before main */
}
