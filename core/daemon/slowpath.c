// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "slowpath.h"
#include "lib/abi/router.h"
#include "lib/abi/slowpath.h"

/* Packets kept while their next hop is resolved, and for how long: enough
 * for a first packet and its retries, not a buffer for a flood. */
#define PENDING_MAX	32
#define PENDING_TTL_NS	(3ull * 1000000000ull)
/* One ARP request per next hop per this interval. */
#define ASK_INTERVAL_NS (1ull * 1000000000ull)

struct pending {
	uint64_t since_ns;
	uint32_t cube_id;
	uint32_t ifindex; /* where the packet came in */
	__be32 nexthop;
	uint32_t len;
	uint8_t data[CUBE_SLOWPATH_SNAPLEN];
};

struct asked {
	uint64_t at_ns;
	uint32_t cube_id;
	__be32 addr;
};

struct slowpath {
	struct datastore *ds;
	struct runtime *rt;
	struct ring_buffer *ring;
	pthread_t thread;
	volatile int stop;
	int raw_fd;
	struct pending pending[PENDING_MAX];
	struct asked asked[PENDING_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct cube *cube_by_id(struct runtime *rt, uint32_t id)
{
	for (size_t i = 0; i < rt->n_cubes; i++)
		if (rt->cubes[i].cube->id == id)
			return rt->cubes[i].cube;
	return NULL;
}

/* The chain head attached (in XDP) to a netdev. */
static struct cube *head_on(struct runtime *rt, uint32_t ifindex)
{
	for (size_t i = 0; i < rt->n_attachments; i++) {
		const struct rt_attachment *a = &rt->attachments[i];

		if (a->ifindex != ifindex ||
		    (a->mode != ATTACH_XDP_NATIVE && a->mode != ATTACH_XDP_GENERIC))
			continue;
		for (size_t c = 0; c < rt->n_cubes; c++)
			if (strcmp(rt->cubes[c].name, a->cube) == 0)
				return rt->cubes[c].cube;
	}
	return NULL;
}

static void send_arp_request(struct slowpath *sp, const struct router_port *port, __be32 target)
{
	struct sockaddr_ll to = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ARP),
				 .sll_ifindex = (int)port->ifindex,
				 .sll_halen = ETH_ALEN};
	uint8_t f[42] = {0};

	memset(f, 0xff, 6); /* broadcast */
	memcpy(f + 6, port->mac, 6);
	f[12] = 0x08, f[13] = 0x06;	 /* ARP */
	f[15] = 1;			 /* Ethernet */
	f[16] = 0x08, f[17] = 0x00;	 /* IPv4 */
	f[18] = 6, f[19] = 4, f[21] = 1; /* request */
	memcpy(f + 22, port->mac, 6);
	memcpy(f + 28, &port->ip4, 4);
	memcpy(f + 38, &target, 4);
	memset(to.sll_addr, 0xff, 6);
	if (sendto(sp->raw_fd, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		fprintf(stderr, "cubenetd: ARP request on ifindex %u: %s\n", port->ifindex,
			strerror(errno));
}

static void on_neigh_miss(struct slowpath *sp, const struct cube_slowpath_hdr *rec)
{
	struct cube *router = cube_by_id(sp->rt, rec->cube_id);
	struct router_port port;
	uint32_t port_id = rec->port;
	__be32 nexthop;
	uint64_t now = now_ns();
	int slot = -1;

	if (!router || strcmp(router->type->name, "router") || port_id >= CUBE_MAX_PORTS ||
	    bpf_map_lookup_elem(cube_map_fd(router, "router_ports"), &port_id, &port) ||
	    !port.enabled || !port.plen4)
		return;
	memcpy(&nexthop, rec->nexthop, 4);
	if (rec->nexthop[4] | rec->nexthop[5] | rec->nexthop[15])
		return; /* IPv6 next hops: neighbour discovery is not done here yet */

	/* Keep the packet if it was captured whole. */
	if (rec->cap_len == rec->pkt_len) {
		for (int i = 0; i < PENDING_MAX; i++)
			if (!sp->pending[i].len || now - sp->pending[i].since_ns > PENDING_TTL_NS) {
				slot = i;
				break;
			}
		if (slot >= 0) {
			struct pending *p = &sp->pending[slot];

			p->since_ns = now;
			p->cube_id = rec->cube_id;
			p->ifindex = rec->ifindex;
			p->nexthop = nexthop;
			p->len = rec->cap_len;
			memcpy(p->data, rec->data, rec->cap_len);
		}
	}
	/* Ask, unless asked a moment ago. */
	slot = 0;
	for (int i = 0; i < PENDING_MAX; i++) {
		if (sp->asked[i].addr == nexthop && sp->asked[i].cube_id == rec->cube_id) {
			if (now - sp->asked[i].at_ns < ASK_INTERVAL_NS)
				return;
			slot = i;
			break;
		}
		if (sp->asked[i].at_ns < sp->asked[slot].at_ns)
			slot = i;
	}
	sp->asked[slot] = (struct asked){.at_ns = now, .cube_id = rec->cube_id, .addr = nexthop};
	send_arp_request(sp, &port, nexthop);
}

/* Packet-out: run the chain head on the kept frame as a live frame, so its
 * verdict (a redirect, a transmit) really happens. */
static void inject(struct slowpath *sp, const struct pending *p)
{
	struct cube *head = head_on(sp->rt, p->ifindex);
	struct xdp_md ctx_in = {.data_end = p->len, .ingress_ifindex = p->ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data, .data_size_in = p->len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (!head || head->hook != CUBE_HOOK_XDP)
		return;
	if (bpf_prog_test_run_opts(head->prog_fd, &opts))
		fprintf(stderr, "cubenetd: packet-out on ifindex %u: %s\n", p->ifindex,
			strerror(errno));
}

static void on_arp_reply(struct slowpath *sp, const struct cube_slowpath_hdr *rec)
{
	struct cube *router = cube_by_id(sp->rt, rec->cube_id);
	const uint8_t *f = rec->data;
	struct router_neigh_key key = {.family = CUBE_AF_INET};
	struct router_neigh neigh = {0};
	size_t off = 12;
	uint64_t now = now_ns();
	int asked = 0;

	if (!router || rec->cap_len < 42)
		return;
	for (;;) { /* skip VLAN tags to the ethertype */
		uint16_t type = (uint16_t)(f[off] << 8 | f[off + 1]);

		if ((type != 0x8100 && type != 0x88a8) || off + 6 > rec->cap_len)
			break;
		off += 4;
	}
	off += 2;
	if (off + 28 > rec->cap_len)
		return;
	memcpy(&key.addr.ip4, f + off + 14, 4);
	memcpy(neigh.mac, f + off + 8, 6);
	/* Learn only what was asked for: an unsolicited reply is not trusted. */
	for (int i = 0; i < PENDING_MAX; i++)
		if (sp->asked[i].addr == key.addr.ip4 && sp->asked[i].cube_id == rec->cube_id &&
		    now - sp->asked[i].at_ns < PENDING_TTL_NS)
			asked = 1;
	if (!asked)
		return;
	if (bpf_map_update_elem(cube_map_fd(router, "router_neighs_learned"), &key, &neigh,
				BPF_ANY))
		return;
	for (int i = 0; i < PENDING_MAX; i++) {
		struct pending *p = &sp->pending[i];

		if (!p->len || p->nexthop != key.addr.ip4 || p->cube_id != rec->cube_id)
			continue;
		if (now - p->since_ns <= PENDING_TTL_NS)
			inject(sp, p);
		p->len = 0;
	}
}

static int on_record(void *arg, void *data, size_t size)
{
	struct slowpath *sp = arg;
	const struct cube_slowpath_hdr *rec = data;

	if (size < sizeof(*rec) || rec->cap_len > CUBE_SLOWPATH_SNAPLEN)
		return 0;
	pthread_mutex_lock(&sp->ds->lock); /* the runtime's cube list is stable under it */
	if (rec->reason == CUBE_SLOWPATH_NEIGH_MISS)
		on_neigh_miss(sp, rec);
	else if (rec->reason == CUBE_SLOWPATH_ARP_REPLY)
		on_arp_reply(sp, rec);
	pthread_mutex_unlock(&sp->ds->lock);
	return 0;
}

static void *run(void *arg)
{
	struct slowpath *sp = arg;

	while (!sp->stop)
		ring_buffer__poll(sp->ring, 200);
	return NULL;
}

struct slowpath *slowpath_start(struct datastore *ds, struct runtime *rt)
{
	struct slowpath *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->ds = ds;
	sp->rt = rt;
	sp->raw_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sp->ring = ring_buffer__new(rt->shared.slowpath_fd, on_record, sp, NULL);
	if (sp->raw_fd < 0 || !sp->ring || pthread_create(&sp->thread, NULL, run, sp)) {
		if (sp->ring)
			ring_buffer__free(sp->ring);
		if (sp->raw_fd >= 0)
			close(sp->raw_fd);
		free(sp);
		return NULL;
	}
	return sp;
}

void slowpath_stop(struct slowpath *sp)
{
	if (!sp)
		return;
	sp->stop = 1;
	pthread_join(sp->thread, NULL);
	ring_buffer__free(sp->ring);
	close(sp->raw_fd);
	free(sp);
}
