// SPDX-License-Identifier: Apache-2.0
/*
 * Services -> balancers -> the chain's classifier, maglev and nat maps.
 *
 * A change to one service rebuilds that service's balancers from its entry
 * and writes what differs, in the order that keeps every packet right:
 * new endpoints' targets and states first, then each changed ring (into a
 * fresh region, then one descriptor update), then the frontends, and only
 * then what is gone (an endpoint's state, a frontend, a descriptor); ids
 * and ring regions are reused only after a grace period. So a new
 * connection to another service never meets an id that meant something
 * else a moment ago.
 */
#include <arpa/inet.h>
#include <sys/mman.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "config_read.h"
#include "map_batch.h"
#include "nat_flush.h"
#include "pods_state.h"
#include "runtime.h"
#include "lib/abi/maglev.h"
#include "lib/abi/nat.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* ---- config -> balancers ---- */

/* A boolean leaf, or what its absence means (the endpoint's conditions
 * have no YANG default: a default node each, on 100,000 endpoints, would
 * double the config's size in memory and the time to restore it). */
static int leaf_flag(const struct lyd_node *n, const char *leaf, int absent)
{
	const char *v = cfg_child(n, leaf);

	return v ? strcmp(v, "true") == 0 : absent;
}

static void front_text(const struct classifier_key *k, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "";

	inet_ntop(k->family == CUBE_AF_INET6 ? AF_INET6 : AF_INET, k->vip.bytes, addr,
		  sizeof(addr));
	snprintf(out, size, "%s|%u|%u", addr, ntohs(k->port), k->proto);
}

static int add_front(struct pods_balancer *b, const char *addr, uint16_t port, int external)
{
	struct classifier_key *k;
	int fam = 0;

	if (b->n_fronts == sizeof(b->fronts) / sizeof(b->fronts[0]))
		return -1;
	k = &b->fronts[b->n_fronts];
	memset(k, 0, sizeof(*k));
	if (cfg_parse_addr(addr, &fam, &k->vip))
		return -1;
	k->family = (uint8_t)fam;
	k->port = htons(port);
	k->proto = b->proto;
	if (external)
		b->external |= 1u << b->n_fronts;
	b->n_fronts++;
	return 0;
}

static void balancer_free(struct pods_balancer *b)
{
	if (b)
		free(b->eps);
	free(b);
}

/* Which endpoints a balancer may send new connections to: kube-proxy's
 * choice. Ready ones; if there is none, those serving and terminating; a
 * local policy counts this node's only. */
static int pick_endpoints(const struct lyd_node *svc, const struct lyd_node *port, int local_only,
			  int family, struct pods_balancer *b)
{
	uint16_t target = (uint16_t)atoi(cfg_child(port, "target-port"));
	const char *pport = cfg_child(port, "port"), *pproto = cfg_child(port, "protocol");
	size_t n = 0, ready = 0;

	for (const struct lyd_node *e = lyd_child(svc); e; e = e->next)
		n += strcmp(e->schema->name, "endpoint") == 0;
	b->eps = calloc(n ? n : 1, sizeof(*b->eps));
	if (!b->eps)
		return -ENOMEM;
	for (int pass = 0; pass < 2 && !b->n_eps; pass++) {
		for (const struct lyd_node *e = lyd_child(svc); e; e = e->next) {
			struct pods_endpoint *ep = &b->eps[b->n_eps];
			const char *own;
			int fam = 0;

			if (strcmp(e->schema->name, "endpoint") ||
			    (local_only && !leaf_flag(e, "local", 0)))
				continue;
			if (pass == 0
				? !leaf_flag(e, "ready", 1)
				: !(leaf_flag(e, "serving", 1) && leaf_flag(e, "terminating", 0)))
				continue;
			ready += pass == 0;
			if (cfg_parse_addr(cfg_child(e, "address"), &fam, &ep->addr) ||
			    fam != family)
				continue;
			ep->family = (uint8_t)fam;
			ep->local = (uint8_t)leaf_flag(e, "local", 0);
			own = NULL;
			/* A named targetPort gives this endpoint its own number. */
			for (const struct lyd_node *t = lyd_child(e); t && !own; t = t->next)
				if (!strcmp(t->schema->name, "target-port") &&
				    !strcmp(cfg_child(t, "port"), pport) &&
				    !strcmp(cfg_child(t, "protocol"), pproto))
					own = cfg_child(t, "number");
			ep->port = own ? (uint16_t)atoi(own) : target;
			ep->backend = UINT32_MAX;
			b->n_eps++;
		}
	}
	(void)ready;
	return 0;
}

/*
 * The families a service is balanced in, a bit each (1 << CUBE_AF_*): one
 * balancer per family, so a frontend only ever reaches endpoints of its
 * own family. IPv4 for one with addresses of that family, or none at all
 * (NodePorts only); IPv6 for one with IPv6 addresses.
 */
static const int families[2] = {CUBE_AF_INET, CUBE_AF_INET6};

static unsigned svc_families(const struct lyd_node *svc)
{
	unsigned fams = 0;

	for (const struct lyd_node *a = lyd_child(svc); a; a = a->next) {
		const char *kind = a->schema->name;

		if (!strcmp(kind, "cluster-ip") || !strcmp(kind, "external-ip") ||
		    !strcmp(kind, "load-balancer-ip"))
			fams |= 1u
				<< (strchr(lyd_get_value(a), ':') ? CUBE_AF_INET6 : CUBE_AF_INET);
	}
	return fams ? fams : 1u << CUBE_AF_INET;
}

/* A balancer's key: the service, port, protocol, traffic-policy half and,
 * for IPv6, the family (IPv4 keeps the key it had before services were
 * dual-stack). */
static void balancer_key(char out[200], const char *ns, const char *name, const char *port,
			 const char *proto, const char *half, int family)
{
	snprintf(out, 200, "%s/%s/%s/%s/%s%s", ns, name, port, proto, half,
		 family == CUBE_AF_INET6 ? "/ipv6" : "");
}

/* A service's balancer keys, for what it had before a change. */
static size_t balancer_keys(const struct lyd_node *svc, char keys[][200], size_t max)
{
	const char *ns = cfg_child(svc, "namespace"), *name = cfg_child(svc, "name");
	int split = strcmp(cfg_child(svc, "external-traffic-policy") ?: "cluster",
			   cfg_child(svc, "internal-traffic-policy") ?: "cluster") != 0;
	unsigned fams = svc_families(svc);
	size_t n = 0;

	for (const struct lyd_node *p = lyd_child(svc); p; p = p->next) {
		if (strcmp(p->schema->name, "port") || !strcmp(cfg_child(p, "protocol"), "sctp"))
			continue;
		for (size_t f = 0; f < 2; f++)
			for (int ext = 0; (fams >> families[f] & 1) && ext <= split && n < max;
			     ext++)
				balancer_key(keys[n++], ns, name, cfg_child(p, "port"),
					     cfg_child(p, "protocol"),
					     split ? (ext ? "external" : "internal") : "all",
					     families[f]);
	}
	return n;
}

#define MAX_SVC_BALANCERS 1024 /* 256 ports, split, two families */

/*
 * The balancers a service entry asks for. node: the node settings after the
 * change (node ports need its address). 0, or -1 with err set.
 */
static int build_balancers(const struct lyd_node *svc, const struct pods_node *node,
			   struct pods_balancer **out, size_t *n_out, struct cn_error *err)
{
	const char *ns = cfg_child(svc, "namespace"), *name = cfg_child(svc, "name");
	const char *etp = cfg_child(svc, "external-traffic-policy") ?: "cluster";
	const char *itp = cfg_child(svc, "internal-traffic-policy") ?: "cluster";
	int split = strcmp(etp, itp) != 0;
	int affinity = !strcmp(cfg_child(svc, "session-affinity") ?: "none", "client-ip");
	uint32_t timeout =
	    (uint32_t)strtoul(cfg_child(svc, "session-affinity-timeout") ?: "10800", NULL, 10);
	uint32_t np_min = node->node_port_min, np_max = node->node_port_max;
	const char *hc = cfg_child(svc, "health-check-node-port");
	unsigned fams = svc_families(svc);
	char where[200];
	size_t n = 0;

	snprintf(where, sizeof(where), SVCS "/service[namespace='%s'][name='%s']", ns, name);
	*n_out = 0;
	for (const struct lyd_node *p = lyd_child(svc); p; p = p->next) {
		const char *proto, *np;

		if (strcmp(p->schema->name, "port"))
			continue;
		proto = cfg_child(p, "protocol");
		if (!strcmp(proto, "sctp"))
			return cn_fail(err, CN_ERR_INVALID_VALUE, where,
				       "port %s/sctp: SCTP is not supported (the node chain "
				       "translates TCP and UDP)",
				       cfg_child(p, "port"));
		np = cfg_child(p, "node-port");
		if (np && ((uint32_t)atoi(np) < np_min || (uint32_t)atoi(np) > np_max))
			return cn_fail(err, CN_ERR_INVALID_VALUE, where,
				       "port %s/%s: node-port %s is outside the node-port-range "
				       "%u-%u",
				       cfg_child(p, "port"), proto, np, np_min, np_max);
		if (np && (fams >> CUBE_AF_INET & 1) && !node->have_addr)
			return cn_fail(err, CN_ERR_INVALID_VALUE, NODE,
				       "service %s/%s has a NodePort but the node has no address "
				       "(set node/address or node/uplink)",
				       ns, name);
		if (np && (fams >> CUBE_AF_INET6 & 1) && !node->have_addr6)
			return cn_fail(
			    err, CN_ERR_INVALID_VALUE, NODE,
			    "service %s/%s has an IPv6 NodePort but the node has no IPv6 "
			    "address (set node/address6, or give node/uplink one)",
			    ns, name);
		for (int slot = 0; slot < 2 * (split + 1); slot++) {
			int fam = families[slot / (split + 1)], ext = slot % (split + 1);
			struct pods_balancer *b;

			if (!(fams >> fam & 1))
				continue;
			b = calloc(1, sizeof(*b));
			uint16_t port = (uint16_t)atoi(cfg_child(p, "port"));
			/* internal (or all): cluster IPs; external (or all): the rest */
			int internal = !split || !ext, external = !split || ext;
			int local =
			    split ? !strcmp(ext ? etp : itp, "local") : !strcmp(etp, "local");

			if (!b || n == MAX_SVC_BALANCERS) {
				free(b);
				return cn_fail(err, CN_ERR_OPERATION_FAILED, where,
					       "out of memory");
			}
			out[n++] = b;
			*n_out = n;
			balancer_key(b->key, ns, name, cfg_child(p, "port"), proto,
				     split ? (ext ? "external" : "internal") : "all", fam);
			b->proto = !strcmp(proto, "udp") ? IPPROTO_UDP_ : IPPROTO_TCP_;
			for (const struct lyd_node *a = lyd_child(svc); a; a = a->next) {
				const char *kind = a->schema->name;
				int cluster = internal && !strcmp(kind, "cluster-ip");
				int outside = external && (!strcmp(kind, "external-ip") ||
							   !strcmp(kind, "load-balancer-ip"));

				if ((cluster || outside) &&
				    !strchr(lyd_get_value(a), ':') == (fam == CUBE_AF_INET) &&
				    add_front(b, lyd_get_value(a), port, outside))
					return cn_fail(err, CN_ERR_INVALID_VALUE, where,
						       "too many addresses");
			}
			if (external && np) {
				struct classifier_key *k;

				b->external |= 1u << b->n_fronts;
				k = &b->fronts[b->n_fronts++];

				memset(k, 0, sizeof(*k));
				k->vip = fam == CUBE_AF_INET6 ? node->addr6 : node->addr;
				k->family = (uint8_t)fam;
				k->port = htons((uint16_t)atoi(np));
				k->proto = b->proto;
				b->node_port = (uint16_t)atoi(np);
			}
			if (external && hc) {
				b->health_check_port = (uint16_t)atoi(hc);
				hc = NULL;
			}
			if (pick_endpoints(svc, p, local, fam, b))
				return cn_fail(err, CN_ERR_OPERATION_FAILED, where,
					       "out of memory");
			b->flags = affinity ? MAGLEV_SVC_F_AFFINITY : 0;
			b->affinity_timeout_s = affinity ? timeout : 0;
			/* nat refuses new connections, established ones go on. */
			if (!b->n_eps)
				b->flags |= MAGLEV_SVC_F_MARK_NO_BACKEND;
		}
	}
	return 0;
}

/* ---- the change in flight ---- */

static int add_change(uint32_t id, struct pods_balancer *now, int fresh_id)
{
	if (pods.n_changes == pods.cap_changes) {
		size_t cap = pods.cap_changes ? 2 * pods.cap_changes : 64;
		struct pods_balancer_change *grown = realloc(pods.changes, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		pods.changes = grown;
		pods.cap_changes = cap;
	}
	if (!pods.change_at[id])
		pods.change_at[id] = (uint32_t)pods.n_changes + 1;
	pods.changes[pods.n_changes++] = (struct pods_balancer_change){id, now, fresh_id};
	return 0;
}

static struct pods_balancer *committed(uint32_t id)
{
	return id < PODS_MAX_BALANCERS ? pods.balancers[id] : NULL;
}

/* Whether the change in flight touches id (and how, in *change). */
static struct pods_balancer_change *change_of(uint32_t id)
{
	return id < PODS_MAX_BALANCERS && pods.change_at[id] ? &pods.changes[pods.change_at[id] - 1]
							     : NULL;
}

/* ---- a datapath adopted at start ---- */

/* What the chain's maps held when the daemon started: frontend -> id, and
 * balancer id, endpoint address and port -> backend id. Emptied once the
 * restore is done. */
static struct str_map adopted_fronts, adopted_backends;
/* Backend ids whose adopted entries are what the config asks, a bit each. */
static uint64_t *adopted_exact;
static uint64_t *adopted_masq; /* and of those, the ones flagged to masquerade */
/* Targets read per batch when adopting: 16,384 x 20 bytes. */
#define ADOPT_CHUNK 16384u

/* A backend's key in adopted_backends: the balancer id, the address's
 * 16 bytes and the port in hex (a restart makes 100,000 of them; no
 * printf). size >= BACKEND_TEXT_LEN. */
#define BACKEND_TEXT_LEN (2 * (4 + 16 + 2) + 1)

static void backend_text(uint32_t id, const struct pods_endpoint *ep, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[4 + 16 + 2];

	if (size < BACKEND_TEXT_LEN)
		return;
	memcpy(raw, &id, 4);
	memcpy(raw + 4, ep->addr.bytes, 16);
	raw[20] = (unsigned char)(ep->port >> 8);
	raw[21] = (unsigned char)ep->port;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * sizeof(raw)] = 0;
}

/* The id the adopted maps give b's frontends, reserved for it. */
static int adopted_id(const struct pods_balancer *b, uint32_t *id)
{
	char text[80];

	for (uint32_t f = 0; f < b->n_fronts; f++) {
		front_text(&b->fronts[f], text, sizeof(text));
		if (!str_map_get(&adopted_fronts, text, id) &&
		    !id_pool_reserve(&pods.balancer_ids, *id))
			return 1;
	}
	return 0;
}

int pods_balancers_adopt(struct runtime *rt)
{
	struct cube *classifier = rt_cube(rt, pods_stage_names[STAGE_CLASSIFIER]);
	struct cube *maglev = rt_cube(rt, pods_stage_names[STAGE_MAGLEV]);
	struct cube *nat = rt_cube(rt, pods_stage_names[STAGE_NAT]);
	struct classifier_key key, next;
	struct classifier_value v;
	char text[80];
	int rc;

	if (!classifier || !maglev || !nat)
		return 0;
	int fd = cube_map_fd(classifier, "classifier_services");

	for (rc = bpf_map_get_next_key(fd, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		front_text(&key, text, sizeof(text));
		str_map_set(&adopted_fronts, text, v.service_id);
	}
	int states = cube_map_fd(maglev, "maglev_backends"),
	    targets = cube_map_fd(nat, "nat_backends");
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info), n;

	if (bpf_obj_get_info_by_fd(states, &info, &len))
		return 0;
	n = info.max_entries < PODS_MAX_BACKENDS ? info.max_entries : PODS_MAX_BACKENDS;
	size_t map_len = (size_t)info.max_entries * sizeof(struct maglev_backend);
	const struct maglev_backend *b = mmap(NULL, map_len, PROT_READ, MAP_SHARED, states, 0);
	struct nat_dnat_target *t = malloc(ADOPT_CHUNK * sizeof(*t));

	adopted_exact = calloc(n / 64 + 1, sizeof(*adopted_exact));
	adopted_masq = calloc(n / 64 + 1, sizeof(*adopted_masq));
	for (uint32_t first = 0; b != MAP_FAILED && adopted_exact && adopted_masq && t && first < n;
	     first += ADOPT_CHUNK) {
		uint32_t count = n - first < ADOPT_CHUNK ? n - first : ADOPT_CHUNK, used = 0;

		/* Targets only of chunks that hold some backend. */
		for (uint32_t i = first; i < first + count && !used; i++)
			used = b[i].state != MAGLEV_BACKEND_ABSENT;
		if (!used)
			continue;
		if (map_batch_read_array(targets, first, count, sizeof(*t), t))
			break;
		for (uint32_t i = 0; i < count; i++) {
			const struct maglev_backend *state = &b[first + i];
			struct pods_endpoint ep = {.addr = t[i].addr};
			uint32_t bid = first + i;

			if (state->state == MAGLEV_BACKEND_ABSENT ||
			    !(t[i].flags & NAT_DNAT_F_VALID))
				continue;
			ep.family = t[i].addr.ip4 && !t[i].addr.bytes[4] && !t[i].addr.bytes[8] &&
					    !t[i].addr.bytes[12]
					? CUBE_AF_INET
					: CUBE_AF_INET6;
			ep.port = ntohs(t[i].port);
			backend_text(state->service_id, &ep, text, sizeof(text));
			str_map_set(&adopted_backends, text, bid);
			/* Exactly what the restore would write: left alone. */
			if (state->state == MAGLEV_BACKEND_ACTIVE &&
			    (t[i].flags & ~NAT_DNAT_F_MASQUERADE_EXTERNAL) == NAT_DNAT_F_VALID)
				adopted_exact[bid / 64] |= 1ull << (bid % 64);
			if (t[i].flags & NAT_DNAT_F_MASQUERADE_EXTERNAL)
				adopted_masq[bid / 64] |= 1ull << (bid % 64);
		}
	}
	if (b != MAP_FAILED)
		munmap((void *)b, map_len);
	free(t);
	return 0;
}

/* Whether backend id holds, as adopted, what the restore would write for t. */
static int adopted_as_is(uint32_t bid, const struct nat_dnat_target *t)
{
	int masq = !!(t->flags & NAT_DNAT_F_MASQUERADE_EXTERNAL);

	return adopted_exact && adopted_masq && (adopted_exact[bid / 64] >> (bid % 64) & 1) &&
	       (int)(adopted_masq[bid / 64] >> (bid % 64) & 1) == masq;
}

/* After the restore: what the adopted maps held that the config no longer
 * has goes. */
static void sweep_adopted(struct runtime *rt)
{
	int fd =
	    cube_map_fd(rt_cube(rt, pods_stage_names[STAGE_CLASSIFIER]), "classifier_services");
	struct classifier_key key, next;
	char text[80];
	uint32_t id;
	int rc;

	for (rc = bpf_map_get_next_key(fd, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		front_text(&key, text, sizeof(text));
		if (str_map_get(&pods.front_index, text, &id))
			map_txn_delete(&pods.txn, fd, &key, sizeof(key),
				       sizeof(struct classifier_value));
	}
	for (size_t i = 0; i < adopted_fronts.n_slots; i++) {
		const struct str_map_slot *s = &adopted_fronts.slots[i];

		if (s->key && str_map_get(&adopted_fronts, s->key, &id) == 0 &&
		    !id_pool_is_used(&pods.balancer_ids, s->value))
			maglev_store_remove(&pods.store, &pods.txn, s->value);
	}
	str_map_free(&adopted_fronts);
	str_map_free(&adopted_backends);
	free(adopted_exact);
	adopted_exact = NULL;
	free(adopted_masq);
	adopted_masq = NULL;
}

struct plan_ctx {
	const struct ds_change *c;
	const struct pods_node *node;
};

static int plan_service(void *arg, const struct lyd_node *now, const struct lyd_node *was,
			struct cn_error *err)
{
	struct plan_ctx *x = arg;
	static char old_keys[MAX_SVC_BALANCERS][200];
	struct pods_balancer *want[MAX_SVC_BALANCERS];
	size_t n_old = was ? balancer_keys(was, old_keys, MAX_SVC_BALANCERS) : 0, n_want = 0;
	size_t first = pods.n_changes; /* this service's changes start here */
	int rc = 0;

	if (now && build_balancers(now, x->node, want, &n_want, err)) {
		for (size_t i = 0; i < n_want; i++)
			balancer_free(want[i]);
		return -1;
	}
	for (size_t i = 0; i < n_want && !rc; i++) {
		uint32_t id;
		int fresh = 0;

		if (str_map_get(&pods.balancer_index, want[i]->key, &id) &&
		    !(x->c->restore && adopted_id(want[i], &id))) {
			if (id_pool_alloc(&pods.balancer_ids, &id)) {
				rc = cn_fail(err, CN_ERR_TOO_BIG, SVCS,
					     "at most %u service ports on a node",
					     PODS_MAX_BALANCERS);
				break;
			}
			fresh = 1;
		}
		if (add_change(id, want[i], fresh)) {
			rc = cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS, "out of memory");
			break;
		}
		want[i] = NULL;
	}
	for (size_t i = 0; i < n_want; i++)
		balancer_free(want[i]);
	for (size_t i = 0; i < n_old && !rc; i++) {
		uint32_t id;
		int kept = 0;

		/* Only this service's own balancers can keep its keys. */
		for (size_t j = first; j < pods.n_changes && !kept; j++)
			kept =
			    pods.changes[j].now && !strcmp(pods.changes[j].now->key, old_keys[i]);
		if (!kept && !str_map_get(&pods.balancer_index, old_keys[i], &id) &&
		    add_change(id, NULL, 0))
			rc = cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS, "out of memory");
	}
	return rc;
}

/* A new node address moves every node port's frontend of its family. */
static int plan_node_ports(const struct pods_node *node, struct cn_error *err)
{
	for (uint32_t id = 0; id < PODS_MAX_BALANCERS; id++) {
		struct pods_balancer *b = committed(id), *copy;
		int v6;

		if (!b || !b->node_port || change_of(id))
			continue;
		/* One family a balancer; its node port's among its frontends. */
		v6 = b->fronts[0].family == CUBE_AF_INET6;
		if (v6 ? !node->have_addr6 : !node->have_addr) {
			int svc_len = (int)(strchr(strchr(b->key, '/') + 1, '/') - b->key);

			return cn_fail(err, CN_ERR_INVALID_VALUE, NODE,
				       "service %.*s has %s NodePort but the node has no %saddress "
				       "(set node/%s or node/uplink)",
				       svc_len, b->key, v6 ? "an IPv6" : "a", v6 ? "IPv6 " : "",
				       v6 ? "address6" : "address");
		}
		copy = malloc(sizeof(*copy));
		if (!copy || !(copy->eps = NULL, *copy = *b,
			       copy->eps = malloc(b->n_eps * sizeof(*b->eps) + 1))) {
			free(copy);
			return cn_fail(err, CN_ERR_OPERATION_FAILED, NODE, "out of memory");
		}
		memcpy(copy->eps, b->eps, b->n_eps * sizeof(*b->eps));
		for (uint32_t f = 0; f < copy->n_fronts; f++)
			if (copy->fronts[f].port == htons(b->node_port) &&
			    !memcmp(&copy->fronts[f].vip, v6 ? &pods.node.addr6 : &pods.node.addr,
				    sizeof(pods.node.addr)))
				copy->fronts[f].vip = v6 ? node->addr6 : node->addr;
		if (add_change(id, copy, 0))
			return cn_fail(err, CN_ERR_OPERATION_FAILED, NODE, "out of memory");
	}
	return 0;
}

/* A TCP port number a balancer takes on the node, in one family. */
struct tcp_claim {
	uint16_t port;
	uint8_t v6;
};

#define MAX_TCP_CLAIMS 3

/* TCP port numbers a balancer takes on the node beside its frontends:
 * its node port, whatever the node's address, in its family (a
 * dual-stack service's two balancers share theirs); the service's
 * health-check node port in both (the agent's listener takes it on
 * every address). */
static uint32_t tcp_claims(const struct pods_balancer *b, struct tcp_claim claims[MAX_TCP_CLAIMS])
{
	uint8_t v6 = b->n_fronts && b->fronts[0].family == CUBE_AF_INET6;
	uint32_t n = 0;

	if (b->proto == IPPROTO_TCP_ && b->node_port)
		claims[n++] = (struct tcp_claim){b->node_port, v6};
	if (b->health_check_port) {
		claims[n++] = (struct tcp_claim){b->health_check_port, 0};
		claims[n++] = (struct tcp_claim){b->health_check_port, 1};
	}
	return n;
}

static void tcp_claim_text(const struct tcp_claim *c, char *out, size_t size)
{
	snprintf(out, size, "tcp%s/%u", c->v6 ? "6" : "", c->port);
}

static const char *tcp_port_kind(const struct pods_balancer *b, uint16_t port)
{
	return b && b->health_check_port == port ? "health-check node port" : "node port";
}

/* Change i takes text (its frontend `what`, or with port not 0 its claim
 * of that TCP port), unless another balancer has it already. */
static int claim(size_t i, const char *text, const char *what, uint16_t port, struct cn_error *err)
{
	const struct pods_balancer *b = pods.changes[i].now, *other;
	uint32_t owner;

	if (str_map_get(&pods.next_fronts, text, &owner) &&
	    (str_map_get(&pods.front_index, text, &owner) || owner == pods.changes[i].id ||
	     change_of(owner)))
		return str_map_set(&pods.next_fronts, text, pods.changes[i].id)
			   ? cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS, "out of memory")
			   : 0;
	other =
	    change_of(owner) && change_of(owner)->now ? change_of(owner)->now : committed(owner);
	if (port) /* b's own other claim of it is its node port */
		return cn_fail(err, CN_ERR_INVALID_VALUE, SVCS, "%s: %s %u/tcp is already %s's %s",
			       b->key, tcp_port_kind(b, port), port,
			       other ? other->key : "another service",
			       other == b ? "node port" : tcp_port_kind(other, port));
	return cn_fail(err, CN_ERR_INVALID_VALUE, SVCS, "%s: %s %s is already %s's", b->key, what,
		       text, other ? other->key : "another service");
}

/* One owner per frontend and per TCP port number on the node, among what
 * stays and what the change brings. The claims are kept for the writing
 * (write_gone) and the commit: a replaced balancer's new set is in them
 * already, so a committed frontend whose owner changes is not taken twice
 * either. */
static int check_unique(struct cn_error *err)
{
	char text[80];

	for (size_t i = 0; i < pods.n_changes; i++) {
		const struct pods_balancer *b = pods.changes[i].now;
		struct tcp_claim claims[MAX_TCP_CLAIMS];

		for (uint32_t f = 0; b && f < b->n_fronts; f++) {
			int np = b->node_port && b->fronts[f].port == htons(b->node_port);

			front_text(&b->fronts[f], text, sizeof(text));
			if (claim(i, text, np ? "node port" : "address and port", 0, err))
				return -1;
		}
		for (uint32_t p = 0, n = b ? tcp_claims(b, claims) : 0; p < n; p++) {
			tcp_claim_text(&claims[p], text, sizeof(text));
			if (claim(i, text, NULL, claims[p].port, err))
				return -1;
		}
	}
	return 0;
}

static void drop_changes(void)
{
	for (size_t i = 0; i < pods.n_changes; i++) {
		balancer_free(pods.changes[i].now);
		pods.change_at[pods.changes[i].id] = 0;
	}
	pods.n_changes = 0;
	str_map_free(&pods.next_fronts);
}

int pods_balancers_plan(const struct ds_change *c, struct cn_error *err)
{
	struct plan_ctx x = {c, pods_next_node()};

	drop_changes();
	if (cfg_each_change(c, SVCS "/service", plan_service, &x, err))
		return -1;
	if (pods.node_changed &&
	    (x.node->have_addr != pods.node.have_addr ||
	     memcmp(&x.node->addr, &pods.node.addr, sizeof(pods.node.addr)) ||
	     x.node->have_addr6 != pods.node.have_addr6 ||
	     memcmp(&x.node->addr6, &pods.node.addr6, sizeof(pods.node.addr6))) &&
	    plan_node_ports(x.node, err))
		return -1;
	if (check_unique(err))
		return -1;
	/* Endpoint ids, and the slots the rings will need. */
	uint64_t slots = maglev_store_slots_spanned(&pods.store);

	for (size_t i = 0; i < pods.n_changes; i++) {
		struct pods_balancer *b = pods.changes[i].now;
		const struct pods_balancer *old = committed(pods.changes[i].id);

		if (!b)
			continue;
		for (uint32_t e = 0; e < b->n_eps; e++) {
			/* Same address and port as before: same id. */
			for (uint32_t o = 0; old && !pods.changes[i].fresh_id && o < old->n_eps;
			     o++)
				if (!memcmp(&old->eps[o].addr, &b->eps[e].addr,
					    sizeof(b->eps[e].addr)) &&
				    old->eps[o].port == b->eps[e].port)
					b->eps[e].backend = old->eps[o].backend;
			if (b->eps[e].backend == UINT32_MAX && c->restore) {
				char text[96];
				uint32_t bid;

				backend_text(pods.changes[i].id, &b->eps[e], text, sizeof(text));
				if (!str_map_get(&adopted_backends, text, &bid) &&
				    !id_pool_reserve(&pods.backend_ids, bid))
					b->eps[e].backend = bid;
			}
			if (b->eps[e].backend == UINT32_MAX) {
				if (id_pool_alloc(&pods.backend_ids, &b->eps[e].backend))
					return cn_fail(err, CN_ERR_TOO_BIG, SVCS,
						       "at most %u service endpoints on a node",
						       PODS_MAX_BACKENDS);
				/* A fresh id holds another's old entries. */
				if (adopted_exact)
					adopted_exact[b->eps[e].backend / 64] &=
					    ~(1ull << (b->eps[e].backend % 64));
			}
		}
		slots += maglev_auto_size(b->n_eps);
	}
	pods.next_slots = slots;
	return 0;
}

/* ---- writing ---- */

static int fd_of(struct runtime *rt, enum pods_stage s, const char *map)
{
	return cube_map_fd(rt_cube(rt, pods_stage_names[s]), map);
}

static int same_eps(const struct pods_balancer *a, const struct pods_balancer *b)
{
	if (!a || !b || a->n_eps != b->n_eps)
		return 0;
	for (uint32_t i = 0; i < a->n_eps; i++)
		if (memcmp(&a->eps[i], &b->eps[i], sizeof(a->eps[i])))
			return 0;
	return 1;
}

static int has_front(const struct pods_balancer *b, const struct classifier_key *k)
{
	for (uint32_t f = 0; b && f < b->n_fronts; f++)
		if (!memcmp(&b->fronts[f], k, sizeof(*k)))
			return 1;
	return 0;
}

static const struct pods_endpoint *ep_of(const struct pods_balancer *b, uint32_t backend)
{
	for (uint32_t e = 0; b && e < b->n_eps; e++)
		if (b->eps[e].backend == backend)
			return &b->eps[e];
	return NULL;
}

static int has_ep(const struct pods_balancer *b, uint32_t backend)
{
	return ep_of(b, backend) != NULL;
}

/* The nat's target for an endpoint: on another node, clients through an
 * external frontend are masqueraded to it (the reply must come back here). */
static struct nat_dnat_target target_of(const struct pods_endpoint *ep)
{
	struct nat_dnat_target t = {
	    .addr = ep->addr, .port = htons(ep->port), .flags = NAT_DNAT_F_VALID};

	if (!ep->local)
		t.flags |= NAT_DNAT_F_MASQUERADE_EXTERNAL;
	return t;
}

static uint32_t front_flags(const struct pods_balancer *b, const struct classifier_key *k)
{
	for (uint32_t f = 0; b && f < b->n_fronts; f++)
		if (!memcmp(&b->fronts[f], k, sizeof(*k)))
			return (b->external >> f & 1) ? CLASSIFIER_F_EXTERNAL : 0;
	return 0;
}

/* Entries of endpoints that are new, gathered for a change's whole set of
 * balancers and written a batch per map before any ring names them. A
 * fresh id is pointed at by nothing yet: no undo needed, and its counters
 * start at zero for whoever had it before. */
struct backend_batches {
	struct map_batch targets, states, stats;
	int targets_fd, states_fd, stats_fd;
	struct maglev_counters *zero; /* one per CPU */
};

static int batches_open(struct runtime *rt, struct backend_batches *bb)
{
	int ncpu = libbpf_num_possible_cpus();

	bb->targets_fd = fd_of(rt, STAGE_NAT, "nat_backends");
	bb->states_fd = fd_of(rt, STAGE_MAGLEV, "maglev_backends");
	bb->stats_fd = fd_of(rt, STAGE_MAGLEV, "maglev_backend_stats");
	map_batch_init(&bb->targets, bb->targets_fd, sizeof(uint32_t),
		       sizeof(struct nat_dnat_target));
	map_batch_init(&bb->states, bb->states_fd, sizeof(uint32_t), sizeof(struct maglev_backend));
	map_batch_init(&bb->stats, bb->stats_fd, sizeof(uint32_t),
		       (size_t)ncpu * sizeof(struct maglev_counters));
	bb->zero = calloc((size_t)ncpu, sizeof(*bb->zero));
	return bb->zero ? 0 : -ENOMEM;
}

static void batches_close(struct backend_batches *bb)
{
	map_batch_free(&bb->targets);
	map_batch_free(&bb->states);
	map_batch_free(&bb->stats);
	free(bb->zero);
}

static int batches_flush(struct backend_batches *bb)
{
	int e = map_batch_flush(&bb->targets);

	if (!e)
		e = map_batch_flush(&bb->stats);
	if (!e)
		e = map_batch_flush(&bb->states);
	return e;
}

/* An adopted id (a restart) is rewritten only if the maps say otherwise,
 * its counters kept. */
static int write_backends(struct backend_batches *bb, uint32_t id, const struct pods_balancer *b,
			  const struct pods_balancer *old, int full, int restore)
{
	int e = 0;

	for (uint32_t i = 0; i < b->n_eps && !e; i++) {
		const struct pods_endpoint *ep = &b->eps[i],
					   *was = full ? NULL : ep_of(old, ep->backend);
		struct nat_dnat_target t = target_of(ep);
		struct maglev_backend state = {.state = MAGLEV_BACKEND_ACTIVE, .service_id = id};

		if (was) {
			/* Moved between nodes (as the agent sees it): its target's flags. */
			if (was->local != ep->local)
				e = map_txn_update(&pods.txn, bb->targets_fd, &ep->backend,
						   sizeof(ep->backend), &t, sizeof(t));
			continue;
		}
		if (restore) {
			if (adopted_as_is(ep->backend, &t))
				continue;
			e = bpf_map_update_elem(bb->targets_fd, &ep->backend, &t, BPF_ANY) ? -errno
											   : 0;
			if (!e)
				e = maglev_store_set_backend(&pods.store, &pods.txn, ep->backend,
							     id, MAGLEV_BACKEND_ACTIVE);
			continue;
		}
		e = map_batch_add(&bb->targets, &ep->backend, &t);
		if (!e)
			e = map_batch_add(&bb->stats, &ep->backend, bb->zero);
		if (!e)
			e = map_batch_add(&bb->states, &ep->backend, &state);
	}
	return e;
}

static int write_ring(uint32_t id, const struct pods_balancer *b, const struct pods_balancer *old,
		      int full)
{
	struct maglev_backend_spec *specs = calloc(b->n_eps + 1, sizeof(*specs));
	struct maglev_service desc = {.flags = b->flags,
				      .affinity_timeout_s = b->affinity_timeout_s};
	uint32_t *table = NULL, size = 0;
	int e;

	if (!specs)
		return -ENOMEM;
	/* A whole chain written (a restart): a ring adopted over exactly
	 * these endpoints, all of weight 1, is the one a build would make. */
	if (full) {
		uint32_t *ids = malloc((b->n_eps + 1) * sizeof(*ids));
		int adopted;

		for (uint32_t i = 0; ids && i < b->n_eps; i++)
			ids[i] = b->eps[i].backend;
		adopted = ids && maglev_store_ring_over(&pods.store, id, ids, b->n_eps,
							maglev_auto_size(b->n_eps));
		free(ids);
		if (adopted) {
			free(specs);
			return maglev_store_set_flags(&pods.store, &pods.txn, id, b->flags,
						      b->affinity_timeout_s);
		}
	}
	for (uint32_t i = 0; i < b->n_eps; i++) {
		char text[INET6_ADDRSTRLEN] = "";

		inet_ntop(b->eps[i].family == CUBE_AF_INET6 ? AF_INET6 : AF_INET,
			  b->eps[i].addr.bytes, text, sizeof(text));
		specs[i].id = b->eps[i].backend;
		specs[i].weight = 1;
		/* The address, not the id, places an endpoint: every node
		 * builds the same table from the same endpoints. */
		specs[i].key_len =
		    (size_t)snprintf((char *)specs[i].key, MAGLEV_KEY_MAX, "%s", text);
	}
	e = maglev_store_build(specs, b->n_eps, &size, &table);
	free(specs);
	if (e)
		return e;
	/* Same endpoints, same ring: only the flags may have changed. */
	if (old && same_eps(old, b) && maglev_store_ring_is(&pods.store, id, table, size)) {
		if (old->flags != b->flags || old->affinity_timeout_s != b->affinity_timeout_s)
			e = maglev_store_set_flags(&pods.store, &pods.txn, id, b->flags,
						   b->affinity_timeout_s);
	} else {
		e = maglev_store_set_table(&pods.store, &pods.txn, id, &desc, table, size);
	}
	free(table);
	return e;
}

static int write_fronts(struct runtime *rt, uint32_t id, const struct pods_balancer *b,
			const struct pods_balancer *old, int full)
{
	int fd = fd_of(rt, STAGE_CLASSIFIER, "classifier_services");
	int e = 0;

	for (uint32_t f = 0; f < b->n_fronts && !e; f++) {
		struct classifier_value v = {
		    .service_id = id, .flags = (b->external >> f & 1) ? CLASSIFIER_F_EXTERNAL : 0};

		if (full || !has_front(old, &b->fronts[f]) ||
		    front_flags(old, &b->fronts[f]) != v.flags)
			e = map_txn_update(&pods.txn, fd, &b->fronts[f], sizeof(b->fronts[f]), &v,
					   sizeof(v));
	}
	return e;
}

/* What is gone, once nothing new points at it. */
static int write_gone(struct runtime *rt, uint32_t id, const struct pods_balancer *b,
		      const struct pods_balancer *old)
{
	int fd = fd_of(rt, STAGE_CLASSIFIER, "classifier_services");
	char text[80];
	uint32_t owner;
	int e = 0;

	for (uint32_t f = 0; old && f < old->n_fronts && !e; f++) {
		if (has_front(b, &old->fronts[f]))
			continue;
		/* Taken by another balancer of this change: written already. */
		front_text(&old->fronts[f], text, sizeof(text));
		if (!str_map_get(&pods.next_fronts, text, &owner))
			continue;
		e = map_txn_delete(&pods.txn, fd, &old->fronts[f], sizeof(old->fronts[f]),
				   sizeof(struct classifier_value));
	}
	if (!e && !b && old)
		e = maglev_store_remove(&pods.store, &pods.txn, id);
	for (uint32_t i = 0; old && i < old->n_eps && !e; i++)
		if (!has_ep(b, old->eps[i].backend))
			e = maglev_store_set_backend(&pods.store, &pods.txn, old->eps[i].backend,
						     id, MAGLEV_BACKEND_ABSENT);
	return e;
}

static int write_failed(const struct pods_balancer *b, const struct pods_balancer *old, int e,
			struct cn_error *err)
{
	return cn_fail(err, e == -ENOSPC ? CN_ERR_TOO_BIG : CN_ERR_OPERATION_FAILED, SVCS,
		       "cannot program %s: %s",
		       b     ? b->key
		       : old ? old->key
			     : "a service",
		       strerror(-e));
}

int pods_balancers_apply(struct runtime *rt, const struct ds_change *c, int full,
			 struct cn_error *err)
{
	struct backend_batches bb;
	int e;

	if (pods_store(rt))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS, "cannot open the node maglev");
	if (batches_open(rt, &bb)) {
		batches_close(&bb);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS, "out of memory");
	}
	/* 1. What new rings may point to: new endpoints' targets and states
	 * (a new chain gets everything that stays, then the change). */
	for (uint32_t id = 0; full && id < PODS_MAX_BALANCERS; id++)
		if (committed(id) && !change_of(id) &&
		    (e = write_backends(&bb, id, committed(id), NULL, 1, 0)))
			goto fail_write;
	for (size_t i = 0; i < pods.n_changes; i++) {
		const struct pods_balancer_change *ch = &pods.changes[i];

		if (ch->now &&
		    (e = write_backends(&bb, ch->id, ch->now, committed(ch->id), full, c->restore)))
			goto fail_write;
	}
	if ((e = batches_flush(&bb))) {
		batches_close(&bb);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS, "cannot program endpoints: %s",
			       strerror(-e));
	}
	batches_close(&bb);
	/* 2. Rings, then the frontends that lead to them. */
	for (uint32_t id = 0; full && id < PODS_MAX_BALANCERS; id++)
		if (committed(id) && !change_of(id) &&
		    ((e = write_ring(id, committed(id), NULL, 1)) ||
		     (e = write_fronts(rt, id, committed(id), NULL, 1))))
			return write_failed(committed(id), NULL, e, err);
	for (size_t i = 0; i < pods.n_changes; i++) {
		const struct pods_balancer_change *ch = &pods.changes[i];

		if (ch->now && ((e = write_ring(ch->id, ch->now, committed(ch->id), full)) ||
				(e = write_fronts(rt, ch->id, ch->now, committed(ch->id), full))))
			return write_failed(ch->now, committed(ch->id), e, err);
	}
	/* 3. What is gone, once nothing new points at it. */
	for (size_t i = 0; !full && i < pods.n_changes; i++) {
		const struct pods_balancer_change *ch = &pods.changes[i];

		if ((e = write_gone(rt, ch->id, ch->now, committed(ch->id))))
			return write_failed(ch->now, committed(ch->id), e, err);
	}
	if (c->restore) {
		/* What the changes bring is what stays: index it, then sweep. */
		struct str_map held = pods.front_index;
		char text[80];

		pods.front_index = (struct str_map){0};
		for (size_t i = 0; i < pods.n_changes; i++)
			for (uint32_t f = 0;
			     pods.changes[i].now && f < pods.changes[i].now->n_fronts; f++) {
				front_text(&pods.changes[i].now->fronts[f], text, sizeof(text));
				str_map_set(&pods.front_index, text, pods.changes[i].id);
			}
		sweep_adopted(rt);
		str_map_free(&pods.front_index);
		pods.front_index = held;
	}
	return 0;
fail_write:
	batches_close(&bb);
	return cn_fail(err, CN_ERR_OPERATION_FAILED, SVCS, "cannot program endpoints: %s",
		       strerror(-e));
}

/* UDP has no end: flows to an endpoint that went would stay pinned to it
 * (kube-proxy deletes their conntrack entries too). Only the flows that
 * came in through this balancer's frontends: the same pod and port may be
 * another service's endpoint still. Not undoable: after the change is
 * saved. */
static void flush_removed_udp(struct runtime *rt, const struct pods_balancer *old,
			      const struct pods_balancer *now)
{
	struct cube *nat = rt_cube(rt, pods_stage_names[STAGE_NAT]);

	if (!nat || !old || old->proto != IPPROTO_UDP_)
		return;
	for (uint32_t e = 0; e < old->n_eps; e++) {
		if (has_ep(now, old->eps[e].backend))
			continue;
		for (uint32_t f = 0; f < old->n_fronts; f++) {
			struct nat_flush_filter filter = {.family = old->eps[e].family,
							  .proto = IPPROTO_UDP_,
							  .port = old->eps[e].port,
							  .addr = old->eps[e].addr,
							  .service_port =
							      ntohs(old->fronts[f].port),
							  .service_addr = old->fronts[f].vip};
			uint32_t deleted = 0;

			if (old->fronts[f].family == old->eps[e].family)
				nat_flush_endpoint(cube_map_fd(nat, "nat_conns"), &filter,
						   &deleted);
		}
		pods_host_udp_gone(&old->eps[e].addr, old->eps[e].family, old->eps[e].port);
	}
}

/* The index forgets text for id, unless a balancer committed before it
 * in this change took it. */
static void index_forget(const char *text, uint32_t id)
{
	uint32_t owner;

	if (!str_map_get(&pods.front_index, text, &owner) && owner == id)
		str_map_del(&pods.front_index, text);
}

void pods_balancers_commit(struct runtime *rt)
{
	for (size_t i = 0; i < pods.n_changes; i++) {
		struct pods_balancer_change *ch = &pods.changes[i];
		struct pods_balancer *old = committed(ch->id);
		struct tcp_claim claims[MAX_TCP_CLAIMS];
		char text[80];

		flush_removed_udp(rt, old, ch->now);

		for (uint32_t f = 0; old && f < old->n_fronts; f++) {
			front_text(&old->fronts[f], text, sizeof(text));
			index_forget(text, ch->id);
		}
		for (uint32_t p = 0, n = old ? tcp_claims(old, claims) : 0; p < n; p++) {
			tcp_claim_text(&claims[p], text, sizeof(text));
			index_forget(text, ch->id);
		}
		for (uint32_t e = 0; old && e < old->n_eps; e++)
			if (!has_ep(ch->now, old->eps[e].backend))
				id_pool_release(&pods.backend_ids, old->eps[e].backend);
		if (old && !ch->now) {
			str_map_del(&pods.balancer_index, old->key);
			id_pool_release(&pods.balancer_ids, ch->id);
		}
		if (ch->now) {
			str_map_set(&pods.balancer_index, ch->now->key, ch->id);
			for (uint32_t f = 0; f < ch->now->n_fronts; f++) {
				front_text(&ch->now->fronts[f], text, sizeof(text));
				str_map_set(&pods.front_index, text, ch->id);
			}
			for (uint32_t p = 0, n = tcp_claims(ch->now, claims); p < n; p++) {
				tcp_claim_text(&claims[p], text, sizeof(text));
				str_map_set(&pods.front_index, text, ch->id);
			}
		}
		balancer_free(old);
		pods.balancers[ch->id] = ch->now;
		pods.change_at[ch->id] = 0;
		ch->now = NULL;
	}
	pods.n_changes = 0;
	str_map_free(&pods.next_fronts);
	id_pool_commit(&pods.balancer_ids);
	id_pool_commit(&pods.backend_ids);
}

void pods_balancers_abort(void)
{
	drop_changes();
	id_pool_abort(&pods.balancer_ids);
	id_pool_abort(&pods.backend_ids);
}

int pods_balancers_init(void)
{
	pods.balancers = calloc(PODS_MAX_BALANCERS, sizeof(*pods.balancers));
	pods.change_at = calloc(PODS_MAX_BALANCERS, sizeof(*pods.change_at));
	if (!pods.balancers || !pods.change_at ||
	    id_pool_init(&pods.balancer_ids, PODS_MAX_BALANCERS) ||
	    id_pool_init(&pods.backend_ids, PODS_MAX_BACKENDS))
		return -ENOMEM;
	return 0;
}

int pods_balancers_reset_ids(void)
{
	id_pool_free_all(&pods.balancer_ids);
	id_pool_free_all(&pods.backend_ids);
	if (id_pool_init(&pods.balancer_ids, PODS_MAX_BALANCERS) ||
	    id_pool_init(&pods.backend_ids, PODS_MAX_BACKENDS))
		return -ENOMEM;
	return 0;
}

uint32_t pods_balancers_max_ids(void)
{
	return pods.balancer_ids.top;
}

uint32_t pods_backends_max_ids(void)
{
	return pods.backend_ids.top;
}

/* ---- state ---- */

static void put_u64(struct lyd_node *parent, const char *path, uint64_t v)
{
	char value[24];

	snprintf(value, sizeof(value), "%llu", (unsigned long long)v);
	lyd_new_path(parent, NULL, path, value, LYD_NEW_PATH_UPDATE, NULL);
}

void pods_balancers_state(struct runtime *rt, struct lyd_node *tree)
{
	const struct lyd_node *svcs = cfg_find(tree, SVCS);
	struct cube *maglev = rt_cube(rt, pods_stage_names[STAGE_MAGLEV]);
	struct cube *nat = rt_cube(rt, pods_stage_names[STAGE_NAT]);
	static char keys[MAX_SVC_BALANCERS][200];

	if (!maglev)
		return;
	for (struct lyd_node *s = svcs ? lyd_child(svcs) : NULL; s; s = s->next) {
		struct maglev_counters sum = {0};
		uint64_t new_conns = 0;
		size_t n = balancer_keys(s, keys, MAX_SVC_BALANCERS);

		if (strcmp(s->schema->name, "service"))
			continue;
		for (size_t k = 0; k < n; k++) {
			struct maglev_counters c;
			uint32_t id;
			const struct pods_balancer *b;

			if (str_map_get(&pods.balancer_index, keys[k], &id) ||
			    !(b = committed(id)) ||
			    cube_percpu_sum(cube_map_fd(maglev, "maglev_service_stats"), id, &c,
					    sizeof(c)))
				continue;
			sum.packets += c.packets;
			sum.bytes += c.bytes;
			sum.no_backend += c.no_backend;
			/* Per endpoint, summed over the balancers it is in. */
			for (uint32_t e = 0; e < b->n_eps; e++) {
				char addr[INET6_ADDRSTRLEN] = "", path[160];
				struct maglev_counters ec;

				if (cube_percpu_sum(cube_map_fd(maglev, "maglev_backend_stats"),
						    b->eps[e].backend, &ec, sizeof(ec)))
					continue;
				inet_ntop(b->eps[e].family == CUBE_AF_INET6 ? AF_INET6 : AF_INET,
					  b->eps[e].addr.bytes, addr, sizeof(addr));
				snprintf(path, sizeof(path), "endpoint[address='%s']", addr);
				struct lyd_node *ep = cfg_at(s, path);

				if (!ep)
					continue;
				struct lyd_node *pk = cfg_at(ep, "statistics/packets");
				struct lyd_node *by = cfg_at(ep, "statistics/bytes");

				struct lyd_node *nc = cfg_at(ep, "statistics/new-connections");
				struct nat_backend_stats ns = {0};

				if (nat)
					cube_percpu_sum(cube_map_fd(nat, "nat_backend_stats"),
							b->eps[e].backend, &ns, sizeof(ns));
				put_u64(ep, "statistics/packets",
					ec.packets +
					    (pk ? strtoull(lyd_get_value(pk), NULL, 10) : 0));
				put_u64(ep, "statistics/bytes",
					ec.bytes +
					    (by ? strtoull(lyd_get_value(by), NULL, 10) : 0));
				put_u64(ep, "statistics/new-connections",
					ns.new_conns +
					    (nc ? strtoull(lyd_get_value(nc), NULL, 10) : 0));
				new_conns += ns.new_conns;
			}
		}
		put_u64(s, "statistics/packets", sum.packets);
		put_u64(s, "statistics/bytes", sum.bytes);
		put_u64(s, "statistics/no-endpoint", sum.no_backend);
		put_u64(s, "statistics/new-connections", new_conns);
	}
}
