// SPDX-License-Identifier: Apache-2.0
/*
 * The router's slow path: for an unknown next hop, an ARP request (IPv4)
 * or a neighbour solicitation (IPv6) out of the route's interface; the
 * packet is kept, and when the answer comes back through the router the
 * neighbour is learned and the kept packet injected into the chain it came
 * from (packet-out).
 */
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
#include "packet_in.h"
#include "log.h"
#include "router_neigh.h"
#include "runtime.h"
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
	union cube_addr nexthop;
	uint32_t len;
	uint8_t data[CUBE_SLOWPATH_SNAPLEN];
};

struct asked {
	uint64_t at_ns;
	uint32_t cube_id;
	union cube_addr addr;
};

struct neigh_state {
	int raw_fd;
	struct pending pending[PENDING_MAX];
	struct asked asked[PENDING_MAX];
};

static struct neigh_state neigh = {.raw_fd = -1};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Offset of the L3 header after any VLAN tags, and its ethertype. */
static size_t l3_offset(const uint8_t *f, size_t len, uint16_t *type)
{
	size_t off = 12;

	while (off + 2 <= len) {
		*type = (uint16_t)(f[off] << 8 | f[off + 1]);
		if (*type != 0x8100 && *type != 0x88a8)
			return off + 2;
		off += 4;
	}
	*type = 0;
	return len;
}

static uint16_t icmp6_checksum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg,
			       size_t len)
{
	uint32_t sum = 0;

	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += (uint32_t)len + 58;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(msg[i] << 8 | msg[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A neighbour solicitation to the target's solicited-node group. */
static void send_neighbour_solicitation(struct neigh_state *sp, const struct router_port *port,
					const union cube_addr *target)
{
	struct sockaddr_ll to = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IPV6),
				 .sll_ifindex = (int)port->ifindex,
				 .sll_halen = ETH_ALEN};
	uint8_t f[14 + 40 + 32] = {0}, *ip6 = f + 14, *icmp = f + 54;
	uint8_t group[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	uint16_t csum;

	memcpy(group + 13, target->bytes + 13, 3);
	f[0] = 0x33, f[1] = 0x33;
	memcpy(f + 2, group + 12, 4);
	memcpy(f + 6, port->mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	ip6[0] = 0x60;
	ip6[5] = 32;  /* payload length */
	ip6[6] = 58;  /* ICMPv6 */
	ip6[7] = 255; /* hop limit, as ND requires */
	memcpy(ip6 + 8, port->ip6, 16);
	memcpy(ip6 + 24, group, 16);
	icmp[0] = 135;
	memcpy(icmp + 8, target->bytes, 16);
	icmp[24] = 1; /* source link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, port->mac, 6);
	csum = icmp6_checksum(ip6 + 8, ip6 + 24, icmp, 32);
	icmp[2] = (uint8_t)(csum >> 8);
	icmp[3] = (uint8_t)csum;
	memcpy(to.sll_addr, f, 6);
	if (sendto(sp->raw_fd, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		cn_log(CN_LOG_WARNING, "neighbour solicitation on ifindex %u: %s", port->ifindex,
		       strerror(errno));
}

static void send_arp_request(struct neigh_state *sp, const struct router_port *port, __be32 target)
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
		cn_log(CN_LOG_WARNING, "ARP request on ifindex %u: %s", port->ifindex,
		       strerror(errno));
}

static void on_neigh_miss(struct neigh_state *sp, struct cube *from,
			  const struct cube_slowpath_hdr *rec)
{
	struct cube *router = from;
	struct router_port port;
	uint32_t port_id = rec->port;
	union cube_addr nexthop;
	uint64_t now = now_ns();
	uint16_t type;
	int slot = -1, v6;

	if (!router || strcmp(router->type->name, "router") || port_id >= CUBE_MAX_PORTS ||
	    bpf_map_lookup_elem(cube_map_fd(router, "router_ports"), &port_id, &port) ||
	    !port.enabled)
		return;
	l3_offset(rec->data, rec->cap_len, &type);
	v6 = type == 0x86dd;
	if (v6 ? !port.plen6 : !port.plen4)
		return; /* no address on that interface to ask from */
	memcpy(nexthop.bytes, rec->nexthop, 16);

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
		if (!memcmp(&sp->asked[i].addr, &nexthop, sizeof(nexthop)) &&
		    sp->asked[i].cube_id == rec->cube_id) {
			if (now - sp->asked[i].at_ns < ASK_INTERVAL_NS)
				return;
			slot = i;
			break;
		}
		if (sp->asked[i].at_ns < sp->asked[slot].at_ns)
			slot = i;
	}
	sp->asked[slot] = (struct asked){.at_ns = now, .cube_id = rec->cube_id, .addr = nexthop};
	if (v6)
		send_neighbour_solicitation(sp, &port, &nexthop);
	else
		send_arp_request(sp, &port, nexthop.ip4);
}

/* A neighbour answered: believe it only if we asked, learn it, and send
 * on the packets that waited for it. */
static void learn(struct runtime *rt, struct neigh_state *sp, struct cube *router, uint32_t cube_id,
		  const struct router_neigh_key *key, const uint8_t mac[6])
{
	struct router_neigh neigh = {0};
	uint64_t now = now_ns();
	int asked = 0;

	for (int i = 0; i < PENDING_MAX; i++)
		if (!memcmp(&sp->asked[i].addr, &key->addr, sizeof(key->addr)) &&
		    sp->asked[i].cube_id == cube_id && now - sp->asked[i].at_ns < PENDING_TTL_NS)
			asked = 1;
	if (!asked)
		return;
	memcpy(neigh.mac, mac, 6);
	if (bpf_map_update_elem(cube_map_fd(router, "router_neighs_learned"), key, &neigh, BPF_ANY))
		return;
	for (int i = 0; i < PENDING_MAX; i++) {
		struct pending *p = &sp->pending[i];

		if (!p->len || memcmp(&p->nexthop, &key->addr, sizeof(key->addr)) ||
		    p->cube_id != cube_id)
			continue;
		if (now - p->since_ns <= PENDING_TTL_NS)
			packet_in_inject(rt, p->ifindex, p->data, p->len);
		p->len = 0;
	}
}

static void on_arp_reply(struct runtime *rt, struct neigh_state *sp, struct cube *from,
			 const struct cube_slowpath_hdr *rec)
{
	struct cube *router = from;
	struct router_neigh_key key = {.family = CUBE_AF_INET};
	uint16_t type;
	size_t off = l3_offset(rec->data, rec->cap_len, &type);

	if (!router || type != 0x0806 || off + 28 > rec->cap_len)
		return;
	memcpy(&key.addr.ip4, rec->data + off + 14, 4);
	learn(rt, sp, router, rec->cube_id, &key, rec->data + off + 8);
}

static void on_nd_advert(struct runtime *rt, struct neigh_state *sp, struct cube *from,
			 const struct cube_slowpath_hdr *rec)
{
	struct cube *router = from;
	struct router_neigh_key key = {.family = CUBE_AF_INET6};
	uint16_t type;
	size_t off = l3_offset(rec->data, rec->cap_len, &type);
	const uint8_t *icmp = rec->data + off + 40, *mac = rec->data + 6;

	if (!router || type != 0x86dd || off + 40 + 24 > rec->cap_len || icmp[0] != 136)
		return;
	memcpy(key.addr.bytes, icmp + 8, 16);
	if (off + 40 + 32 <= rec->cap_len && icmp[24] == 2 && icmp[25] == 1)
		mac = icmp + 26; /* target link-layer address option */
	learn(rt, sp, router, rec->cube_id, &key, mac);
}

void router_packet_in(struct runtime *rt, struct cube *from, const struct cube_slowpath_hdr *rec)
{
	if (rec->reason == CUBE_SLOWPATH_NEIGH_MISS)
		on_neigh_miss(&neigh, from, rec);
	else if (rec->reason == CUBE_SLOWPATH_ARP_REPLY)
		on_arp_reply(rt, &neigh, from, rec);
	else if (rec->reason == CUBE_SLOWPATH_ND_ADVERT)
		on_nd_advert(rt, &neigh, from, rec);
}

int router_neigh_start(struct runtime *rt, struct cn_error *err)
{
	(void)rt;
	neigh.raw_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (neigh.raw_fd < 0)
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "",
			       "router: cannot open a packet socket: %s", strerror(errno));
	return 0;
}

void router_neigh_stop(struct runtime *rt)
{
	(void)rt;
	if (neigh.raw_fd >= 0)
		close(neigh.raw_fd);
	neigh.raw_fd = -1;
}
