/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the pods service knows of the node chain it programs. It mirrors the
 * chain's maps: a change is planned against it (validate), written to the
 * maps (apply) and folded into it on commit; a new chain is programmed
 * from it whole. At start it is rebuilt from the saved config, reusing the
 * ids the adopted maps hold, so established flows keep their backends'
 * ids across a restart.
 *
 * A *balancer* is one Maglev decision: the frontends (address, port,
 * protocol) that lead to it and the endpoints it chooses among. A service
 * port is one balancer, or two when its external and internal traffic
 * policies differ (the external one then takes node ports, external and
 * load-balancer IPs).
 */
#ifndef CUBENET_PODS_STATE_H
#define CUBENET_PODS_STATE_H

#include <stdint.h>
#include "id_pool.h"
#include "maglev_store.h"
#include "prefix.h"
#include "map_txn.h"
#include "str_map.h"
#include "service.h"
#include "lib/abi/addr.h"
#include "lib/abi/classifier.h"
#include "lib/abi/router.h"

#define PODS  "/cubenet-pods:pods"
#define NODE  "/cubenet-pods:node"
#define SVCS  "/cubenet-pods:services"
#define PEERS "/cubenet-pods:peers"

/* Node limits: a change past them is refused, naming the limit. */
#define PODS_MAX_BALANCERS 65536u     /* service ports (x2 with split traffic policies) */
#define PODS_MAX_BACKENDS  (1u << 20) /* balancer x endpoint pairs */
#define PODS_MAX_FRONTENDS 8	      /* per balancer: 2 cluster IPs, external, LB IPs, node port */
#define PODS_MAX_PEERS	   8192u      /* the cluster's other nodes */
#define PODS_PEER_CIDRS	   8	      /* pod ranges per peer */

enum pods_stage { STAGE_PARSER, STAGE_CLASSIFIER, STAGE_MAGLEV, STAGE_NAT, STAGE_ROUTER, N_STAGES };
extern const char *const pods_stage_names[N_STAGES];
#define HOST_DEVICE		"cubenet0"
/* The node chain's cube for the overlay, and the router's ports to the
 * other nodes (pods_peers.c). */
#define PODS_TUNNEL_CUBE	"node:tunnel"
/* What the VXLAN device decapsulates enters through a parser of its own
 * and a tunnel cube that checks it came from the peer owning its source,
 * then joins the node chain at its classifier. */
#define PODS_DECAP_PARSER	"node:decap"
#define PODS_DECAP_CHECK	"node:decap-check"
#define PODS_ROUTER_PORT_UPLINK 0 /* native routing: out of the uplink */
#define PODS_ROUTER_PORT_TUNNEL 1 /* the overlay: into PODS_TUNNEL_CUBE */
/* The hairpin source when the node has no address yet (RFC 3927 space:
 * replies to it never leave the node chain). */
#define PODS_HAIRPIN_FALLBACK	"169.254.42.1"
/* IPv6's, when the node has no IPv6 address: not link-local, which a pod would look for on its
 * link, but RFC 6666's discard-only prefix, so the pod sends replies to its gateway, into the
 * chain, and nothing routes them anywhere else. */
#define PODS_HAIRPIN6		"100::42:1"

struct pods_endpoint {
	union cube_addr addr;
	uint8_t family;
	uint8_t local;	  /* on this node; else external clients are masqueraded to it */
	uint16_t port;	  /* its target port, host order */
	uint32_t backend; /* its id in nat_backends and maglev_backends */
};

struct pods_balancer {
	char key[200]; /* namespace/name/port/protocol/internal|external */
	struct classifier_key fronts[PODS_MAX_FRONTENDS * 2];
	uint32_t n_fronts;
	uint32_t external;  /* bit f: fronts[f] is for clients outside the cluster */
	uint16_t node_port; /* host order; 0: none */
	/* The service's health-check node port (host order; 0: none), on its
	 * first balancer for external traffic: served by the node agent, not
	 * the chain, so no node port may take its number. */
	uint16_t health_check_port;
	uint8_t proto;
	uint32_t flags, affinity_timeout_s;
	struct pods_endpoint *eps;
	uint32_t n_eps;
};

/* What a change does to one balancer id. */
struct pods_balancer_change {
	uint32_t id;
	struct pods_balancer *now; /* NULL: it goes (owned until commit) */
	int fresh_id;
};

/* A port mapping. Without a host IP it is served on the node's address
 * of each family the pod has; 0.0.0.0 or :: serve that family only. */
struct pods_hostport {
	uint16_t host_port, container_port; /* host order */
	uint8_t proto;
	uint8_t family;		 /* CUBE_AF_INET or CUBE_AF_INET6; 0: both */
	uint8_t on_node;	 /* the node's address, not host_ip */
	union cube_addr host_ip; /* when !on_node */
};

struct pods_pod {
	char key[200]; /* container-id/interface */
	char host_if[16];
	uint8_t mac[6];
	int has_mac;
	struct router_neigh_key addrs[2];
	uint32_t n_addrs;
	struct pods_hostport *hostports;
	uint32_t n_hostports;
};

struct pods_pod_change {
	struct pods_pod *was, *now; /* either may be NULL */
};

struct pods_node {
	char uplink[16];
	union cube_addr addr; /* NodePorts and masquerading */
	int have_addr;
	union cube_addr addr6; /* the same, IPv6 */
	int have_addr6;
	int host_device;
	int host_clients;	      /* the socket-level balancer for the node's own sockets */
	struct pods_prefix cidrs[64]; /* the cluster's ranges, masquerade/cluster-cidr */
	uint32_t n_cidrs, n_cidrs6;   /* of them, n_cidrs6 IPv6 */
	uint32_t node_port_min, node_port_max;
	struct {
		int native; /* else the VXLAN overlay */
		uint32_t vni;
		uint16_t port;
	} tunnel;
};

struct pods {
	/* Committed. */
	struct pods_balancer **balancers; /* by id */
	struct str_map balancer_index;	  /* key -> id */
	struct str_map front_index;	  /* frontend (as text) -> id: one owner each */
	struct id_pool balancer_ids, backend_ids;
	struct pods_pod **pods;
	size_t n_pods, cap_pods;
	struct str_map pod_index; /* key -> position in pods */
	struct pods_node node;
	int chain; /* the node chain exists */

	/* The change in flight. */
	struct pods_balancer_change *changes;
	size_t n_changes, cap_changes;
	uint32_t *change_at; /* per id: its position in changes + 1, 0: untouched */
	/* Frontend (as text) -> the id the change gives it: one that moves
	 * between ids is not deleted with the one that lost it. */
	struct str_map next_fronts;
	struct pods_pod_change *pod_changes;
	size_t n_pod_changes, cap_pod_changes;
	struct pods_node next_node;
	int node_changed;
	size_t next_n_pods;
	uint64_t next_slots; /* ring slots the chain needs after the change */
	struct map_txn txn;

	/* The chain's maglev, as last opened. */
	struct maglev_store store;
	struct cube *store_cube;
};

extern struct pods pods;

/* The maglev store on the chain's maglev cube of the change in flight
 * (reopened when the cube is a new instance). 0 or -errno. */
int pods_store(struct runtime *rt);

/* Balancers (pods_balancers.c). */
int pods_balancers_init(void);
int pods_balancers_plan(const struct ds_change *c, struct cn_error *err);
int pods_balancers_apply(struct runtime *rt, const struct ds_change *c, int full,
			 struct cn_error *err);
void pods_balancers_commit(struct runtime *rt);
void pods_balancers_abort(void);
/* At the restore, before adopting: every id free again (nothing committed). */
int pods_balancers_reset_ids(void);
/* At start, before the restore: read back the ids the chain's maps hold. */
int pods_balancers_adopt(struct runtime *rt);
/* Map sizes the chain needs for what the change leaves. */
uint32_t pods_balancers_max_ids(void);
uint32_t pods_backends_max_ids(void);
/* Counters of the services the tree holds. */
void pods_balancers_state(struct runtime *rt, struct lyd_node *tree);

/* Pods and the node (pods_pods.c). */
int pods_pods_plan(const struct ds_change *c, struct cn_error *err);
int pods_pods_apply(struct runtime *rt, const struct ds_change *c, int full, struct cn_error *err);
void pods_pods_commit(void);
void pods_pods_abort(void);
/* What the change leaves: the node settings, the pods. */
const struct pods_node *pods_next_node(void);
size_t pods_next_count(void);
/* Calls fn for every pod the change leaves. */
void pods_each_next(void (*fn)(void *arg, const struct pods_pod *pod), void *arg);

/* The other nodes (pods_peers.c): routes to their pod ranges out of the
 * uplink (native) or into the tunnel (vxlan), the VXLAN device, and pod
 * traffic to their addresses left unmasqueraded. Planned after the pods
 * (it reads the node settings of the change). */
int pods_peers_plan(const struct ds_change *c, struct cn_error *err);
/* How many peers the change leaves (valid after pods_peers_plan). */
size_t pods_peers_next_count(void);
/* After the chain's own cubes: node:tunnel and the router's ports. */
int pods_peers_compose(const struct service_builder *b, struct cn_error *err);
int pods_peers_apply(struct runtime *rt, const struct ds_change *c, int full, struct cn_error *err);
void pods_peers_commit(void);
void pods_peers_abort(void);

/* The node's own sockets (pods_host.c): the socket-level balancer, loaded
 * onto the chain's maps of the change in flight and attached to the root
 * cgroup in apply (a new attachment) or swapped in at commit; removed when
 * the chain or node/host-clients goes. */
int pods_host_apply(struct runtime *rt, const struct ds_change *c, struct cn_error *err);
void pods_host_commit(struct runtime *rt);
void pods_host_abort(void);
/* At commit, before pods_host_commit: an endpoint a UDP balancer lost
 * (port in host order); the node's sockets connected to it through the
 * balancer are destroyed. */
void pods_host_udp_gone(const union cube_addr *addr, uint8_t family, uint16_t port);
/* The thread that keeps the node's local addresses in step (service start
 * and stop). */
int pods_host_start(struct runtime *rt, struct cn_error *err);
void pods_host_stop(struct runtime *rt);

#endif
