// SPDX-License-Identifier: Apache-2.0
/*
 * router cube behind a parser: longest prefix wins, TTL and checksum
 * (verified by recomputing from scratch), neighbour miss to the slow path,
 * ARP replies for its own address, defined verdicts for the rest.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"
#include "lib/abi/tunnel.h"
#include "lib/abi/router.h"

static enum cube_hook hook;
static struct cube *parser, *router;

/* Test runs arrive on loopback (ifindex 1): that is the router's port 0. */
#define PORT_IN	  0
#define PORT_A	  1
#define PORT_B	  2
#define IFINDEX_A 1001 /* redirect targets; a test run does not follow them */
#define IFINDEX_B 1002

static const char *mac_in = "02:00:00:00:10:00", *mac_a = "02:00:00:00:10:01",
		  *mac_b = "02:00:00:00:10:02";
static const char *mac_gw = "02:00:00:00:99:01", *mac_host = "02:00:00:00:99:02",
		  *mac_gw6 = "02:00:00:00:99:06";

static void set_port(uint32_t port, uint32_t ifindex, const char *mac, const char *ip4,
		     uint8_t plen4, const char *ip6, uint8_t plen6)
{
	struct router_port p = {.ifindex = ifindex, .plen4 = plen4, .plen6 = plen6, .enabled = 1};

	pkt_mac(p.mac, mac);
	if (ip4)
		p.ip4 = pkt_ip4(ip4).ip4;
	if (ip6)
		memcpy(p.ip6, pkt_ip6(ip6).bytes, 16);
	bpf_map_update_elem(cube_map_fd(router, "router_ports"), &port, &p, BPF_ANY);
	bpf_map_update_elem(cube_map_fd(router, "router_ifindex"), &ifindex, &port, BPF_ANY);
	cube_connect_port(router, port, CUBE_PORT_NETDEV, ifindex);
}

static void add_route4(const char *prefix, uint32_t plen, uint32_t port, const char *gw)
{
	struct router_lpm4_key k = {.prefixlen = plen, .addr = pkt_ip4(prefix).ip4};
	struct router_route r = {.port = port};

	if (gw) {
		r.nexthop = pkt_ip4(gw);
		r.flags = ROUTER_ROUTE_F_GATEWAY;
	}
	bpf_map_update_elem(cube_map_fd(router, "router_routes4"), &k, &r, BPF_ANY);
}

static void add_route6(const char *prefix, uint32_t plen, uint32_t port, const char *gw)
{
	struct router_lpm6_key k = {.prefixlen = plen};
	struct router_route r = {.port = port};

	memcpy(k.addr, pkt_ip6(prefix).bytes, 16);
	if (gw) {
		r.nexthop = pkt_ip6(gw);
		r.flags = ROUTER_ROUTE_F_GATEWAY;
	}
	bpf_map_update_elem(cube_map_fd(router, "router_routes6"), &k, &r, BPF_ANY);
}

static void add_neigh(union cube_addr addr, uint32_t family, const char *mac)
{
	struct router_neigh_key k = {.addr = addr, .family = family};
	struct router_neigh n = {0};

	pkt_mac(n.mac, mac);
	bpf_map_update_elem(cube_map_fd(router, "router_neighs"), &k, &n, BPF_ANY);
}

static struct pkt_spec to(const char *dst)
{
	struct pkt_spec s = {.family = 4,
			     .saddr = pkt_ip4("10.0.0.5"),
			     .daddr = pkt_ip4(dst),
			     .proto = IPPROTO_UDP,
			     .sport = 1000,
			     .dport = 2000,
			     .payload_len = 20,
			     .ttl = 64};
	pkt_mac(s.dmac, mac_in);
	pkt_mac(s.smac, "02:00:00:00:00:05");
	return s;
}

/* Forwarded frame: new MACs, TTL - 1, IPv4 checksum valid, all else equal. */
static void expect_routed(struct pkt_spec s, const char *dmac, const char *smac)
{
	uint8_t f[PKT_MAX], want[PKT_MAX];
	size_t len = pkt_build(&s, f);
	struct run_result res;

	harness_run(parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_redirect(hook));
	CHECK_EQ(res.out_len, len);
	s.ttl--;
	pkt_build(&s, want);
	pkt_mac(want, dmac);
	pkt_mac(want + 6, smac);
	CHECK_MEM(res.out, want, len);
	if (s.family == 4)
		CHECK(pkt_ipv4_csum_ok(res.out, res.out_len), "IPv4 header checksum");
	CHECK(pkt_l4_csum_ok(res.out, res.out_len), "L4 checksum untouched and valid");
}

static void setup(void)
{
	parser = harness_cube("parser", hook, NULL, NULL);
	router = harness_cube("router", hook, NULL, NULL);
	cube_connect_cube(parser, 0, router);
	set_port(PORT_IN, 1, mac_in, "10.0.0.1", 24, "2001:db8::1", 64);
	set_port(PORT_A, IFINDEX_A, mac_a, "10.0.1.1", 24, "2001:db8:1::1", 64);
	set_port(PORT_B, IFINDEX_B, mac_b, "10.1.2.1", 24, NULL, 0);
	add_route4("10.0.0.0", 24, PORT_IN, NULL);
	add_route4("10.1.0.0", 16, PORT_A, "10.0.1.254");
	add_route4("10.1.2.0", 24, PORT_B, NULL);
	add_route4("0.0.0.0", 0, PORT_A, "10.0.1.253");
	add_route6("2001:db8:2::", 48, PORT_A, "2001:db8:1::fe");
	add_neigh(pkt_ip4("10.0.1.254"), CUBE_AF_INET, mac_gw);
	add_neigh(pkt_ip4("10.1.2.7"), CUBE_AF_INET, mac_host);
	add_neigh(pkt_ip6("2001:db8:1::fe"), CUBE_AF_INET6, mac_gw6);
}

TEST(longest_prefix_wins)
{
	setup();
	REQUIRE(parser && router, "load");
	expect_routed(to("10.1.2.7"), mac_host, mac_b); /* /24 direct beats /16 */
	expect_routed(to("10.1.9.9"), mac_gw, mac_a);	/* /16 via gateway */
	struct pkt_spec s = to("10.1.9.9");

	s.proto = IPPROTO_TCP;
	s.ttl = 2;
	expect_routed(s, mac_gw, mac_a);

	struct cube_stats st = harness_stats(router);

	CHECK_EQ(st.verdict[CUBE_VERDICT_REDIRECT], 3);
	CHECK_EQ(st.port_out[PORT_B], 1);
	CHECK_EQ(st.port_out[PORT_A], 2);
	cube_destroy(parser);
	cube_destroy(router);
}

TEST(ipv6_forwarding)
{
	setup();
	REQUIRE(parser && router, "load");
	struct pkt_spec s = to("10.0.0.9");

	s.family = 6;
	s.saddr = pkt_ip6("2001:db8::5");
	s.daddr = pkt_ip6("2001:db8:2::42");
	expect_routed(s, mac_gw6, mac_a);
	s.daddr = pkt_ip6("2001:db8:3::42");
	uint8_t f[PKT_MAX];
	struct run_result res;

	harness_run(parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(router).drop[CUBE_DROP_NO_ROUTE], 1);
	cube_destroy(parser);
	cube_destroy(router);
}

static int tunnel_vni(struct cube *cube, void *arg)
{
	uint32_t vni = 4242;

	(void)arg;
	return cube_set_const(cube, "tunnel_vni", &vni, sizeof(vni));
}

/*
 * An IPv6 range behind an IPv4 tunnel end (a peer's pods over the VXLAN
 * overlay): the route's IPv4 next hop goes on to the tunnel cube, which
 * gives the frame its MACs (TC; on XDP the kernel refuses the key). The
 * same route out of a port that is no tunnel is a bad port: no neighbour
 * of the other family can take the frame.
 */
TEST(ipv6_range_behind_an_ipv4_tunnel_end)
{
	setup();
	REQUIRE(parser && router, "load");
	struct cube *tunnel = harness_cube("tunnel", hook, tunnel_vni, NULL);
	uint32_t port = PORT_B + 1, tun_ifindex = 1003;
	struct router_port tp = {
	    .ifindex = tun_ifindex, .enabled = 1, .flags = ROUTER_PORT_F_TUNNEL};
	struct router_lpm6_key k = {.prefixlen = 64};
	struct router_route r = {.nexthop = pkt_ip4("198.51.100.3"),
				 .port = port,
				 .flags = ROUTER_ROUTE_F_GATEWAY | ROUTER_ROUTE_F_NEXTHOP_INET};

	REQUIRE(tunnel, "load tunnel");
	bpf_map_update_elem(cube_map_fd(router, "router_ports"), &port, &tp, BPF_ANY);
	cube_connect_cube(router, port, tunnel);
	cube_connect_port(tunnel, TUNNEL_PORT_OUT, CUBE_PORT_NETDEV, tun_ifindex);
	memcpy(k.addr, pkt_ip6("fd00:250:3::").bytes, 16);
	bpf_map_update_elem(cube_map_fd(router, "router_routes6"), &k, &r, BPF_ANY);

	struct pkt_spec s = to("10.0.0.9");
	uint8_t f[PKT_MAX], want[PKT_MAX];
	struct run_result res;
	size_t len;

	s.family = 6;
	s.saddr = pkt_ip6("fd00:250:1::5");
	s.daddr = pkt_ip6("fd00:250:3::7");
	len = pkt_build(&s, f);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(harness_stats(router).port_out[port], 1);
	struct cube_meta meta;

	REQUIRE(!harness_meta(&meta), "metadata");
	CHECK_EQ(meta.nexthop_family, CUBE_AF_INET);
	CHECK_EQ(meta.nexthop.ip4, pkt_ip4("198.51.100.3").ip4);
	if (hook == CUBE_HOOK_TC) {
		CHECK_EQ(res.retval, hook_ret_redirect(hook));
		CHECK_EQ(res.out_len, len);
		s.ttl--;
		pkt_mac(s.dmac, "02:63:6e:76:78:01"); /* TUNNEL_DEVICE_MAC */
		pkt_mac(s.smac, "02:63:6e:76:78:02"); /* TUNNEL_PEER_MAC */
		pkt_build(&s, want);
		CHECK_MEM(res.out, want, len);
		CHECK_EQ(harness_stats(tunnel).port_out[TUNNEL_PORT_OUT], 1);
	} else {
		CHECK_EQ(res.retval, hook_ret_drop(hook));
		CHECK_EQ(harness_stats(tunnel).drop[CUBE_DROP_TUNNEL_KEY_FAILED], 1);
	}

	/* The same route out of port A, a netdev. */
	r.port = PORT_A;
	bpf_map_update_elem(cube_map_fd(router, "router_routes6"), &k, &r, BPF_ANY);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(router).drop[CUBE_DROP_ROUTER_BAD_PORT], 1);
	CHECK_EQ(harness_stats(router).port_out[PORT_A], 0);
	cube_destroy(tunnel);
	cube_destroy(parser);
	cube_destroy(router);
}

TEST(defined_verdicts)
{
	uint8_t f[PKT_MAX];
	struct run_result res;
	struct pkt_spec s;

	setup();
	REQUIRE(parser && router, "load");
	/* TTL 1 would expire here. */
	s = to("10.1.2.7");
	s.ttl = 1;
	harness_run(parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	/* To the router itself: the kernel stack. */
	s = to("10.0.0.1");
	harness_run(parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK_MEM(res.out, f, res.out_len);
	/* No route at all once the default is gone. */
	struct router_lpm4_key k = {.prefixlen = 0};

	bpf_map_delete_elem(cube_map_fd(router, "router_routes4"), &k);
	s = to("192.0.2.1");
	harness_run(parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	/* Not IP, not ARP. */
	struct pkt_spec lldp = {.ethertype = 0x88cc, .payload_len = 46};

	harness_run(parser, f, pkt_build(&lldp, f), &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));

	struct cube_stats st = harness_stats(router);

	CHECK_EQ(st.drop[CUBE_DROP_TTL_EXCEEDED], 1);
	CHECK_EQ(st.drop[CUBE_DROP_NO_ROUTE], 1);
	CHECK_EQ(st.drop[CUBE_DROP_NOT_IP], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_PASS], 1);
	cube_destroy(parser);
	cube_destroy(router);
}

TEST(neighbour_miss_goes_to_slow_path)
{
	struct cube_slowpath_hdr rec;
	uint8_t f[PKT_MAX];
	struct run_result res;
	struct pkt_spec s;
	size_t len;

	setup();
	REQUIRE(parser && router, "load");
	while (harness_slowpath_next(&rec) == 0)
		;	     /* drain what earlier cases left */
	s = to("10.1.2.99"); /* on port B's subnet, not in the neighbour table */
	len = pkt_build(&s, f);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	REQUIRE(harness_slowpath_next(&rec) == 0, "no slow-path record");
	CHECK_EQ(rec.reason, CUBE_SLOWPATH_NEIGH_MISS);
	CHECK_EQ(rec.cube_id, router->id);
	CHECK_EQ(rec.port, PORT_B);
	CHECK_EQ(rec.ifindex, 1);
	CHECK_EQ(rec.pkt_len, len);
	CHECK_EQ(rec.cap_len, len);
	CHECK_MEM(rec.nexthop, pkt_ip4("10.1.2.99").bytes, 16);
	CHECK_MEM(rec.data, f, len); /* untouched: TTL not yet decremented */
	CHECK(harness_slowpath_next(&rec) != 0, "one record per packet");

	/* Once the daemon learns the neighbour, the same packet is routed. */
	add_neigh(pkt_ip4("10.1.2.99"), CUBE_AF_INET, mac_host);
	expect_routed(s, mac_host, mac_b);
	struct cube_stats st = harness_stats(router);

	CHECK_EQ(st.verdict[CUBE_VERDICT_SLOWPATH], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 0);
	cube_destroy(parser);
	cube_destroy(router);
}

static size_t build_arp(uint8_t *f, uint16_t op, const char *sha, const char *spa, const char *tpa)
{
	struct pkt_spec s = {.ethertype = 0x0806, .payload_len = 28};
	size_t len = pkt_build(&s, f);
	uint8_t *a = f + 14;

	memset(f, 0xff, 6);
	pkt_mac(f + 6, sha);
	a[0] = 0, a[1] = 1, a[2] = 0x08, a[3] = 0, a[4] = 6, a[5] = 4;
	a[6] = 0, a[7] = (uint8_t)op;
	pkt_mac(a + 8, sha);
	memcpy(a + 14, pkt_ip4(spa).bytes, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, pkt_ip4(tpa).bytes, 4);
	return len;
}

TEST(arp_for_own_address)
{
	uint8_t f[PKT_MAX], want[PKT_MAX];
	struct cube_slowpath_hdr rec;
	struct run_result res;
	size_t len;

	setup();
	REQUIRE(parser && router, "load");
	while (harness_slowpath_next(&rec) == 0)
		;
	len = build_arp(f, 1, "02:00:00:00:00:05", "10.0.0.5", "10.0.0.1");
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	/* The reply, built independently. */
	memcpy(want, f, len);
	pkt_mac(want, "02:00:00:00:00:05");
	pkt_mac(want + 6, mac_in);
	want[14 + 7] = 2;
	pkt_mac(want + 14 + 8, mac_in);
	memcpy(want + 14 + 14, pkt_ip4("10.0.0.1").bytes, 4);
	pkt_mac(want + 14 + 18, "02:00:00:00:00:05");
	memcpy(want + 14 + 24, pkt_ip4("10.0.0.5").bytes, 4);
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, want, len);

	/* Someone else's address, or our port B address asked on port 0: not ours to answer. */
	len = build_arp(f, 1, "02:00:00:00:00:05", "10.0.0.5", "10.0.0.77");
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	len = build_arp(f, 1, "02:00:00:00:00:05", "10.0.0.5", "10.1.2.1");
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));

	/* Address lengths other than 6 and 4 move every field: not answered. */
	len = build_arp(f, 1, "02:00:00:00:00:05", "10.0.0.5", "10.0.0.1");
	f[14 + 5] = 16;
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK_MEM(res.out, f, len);
	len = build_arp(f, 2, "02:00:00:00:00:06", "10.0.0.6", "10.0.0.1");
	f[14 + 4] = 8;
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK(harness_slowpath_next(&rec) != 0, "a malformed reply was queued");

	/* A reply goes to the daemon to learn from. */
	len = build_arp(f, 2, "02:00:00:00:00:06", "10.0.0.6", "10.0.0.1");
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	REQUIRE(harness_slowpath_next(&rec) == 0, "ARP reply not queued");
	CHECK_EQ(rec.reason, CUBE_SLOWPATH_ARP_REPLY);
	CHECK_MEM(rec.data, f, len);
	cube_destroy(parser);
	cube_destroy(router);
}
static int unrouted_pass(struct cube *cube, void *arg)
{
	uint32_t pass = ROUTER_UNROUTED_PASS, on = 1;

	(void)arg;
	return cube_set_const(cube, "router_unrouted", &pass, sizeof(pass)) ||
	       cube_set_const(cube, "router_with_hosts", &on, sizeof(on));
}

/* The node's router: attached hosts (pods) straight out of their netdev,
 * the rest to the kernel, ARP replies included. */
TEST(hosts_and_unrouted_pass)
{
	struct router_neigh_key k = {.addr = pkt_ip4("10.244.0.7"), .family = CUBE_AF_INET};
	struct router_host h = {.ifindex = IFINDEX_B};
	uint8_t f[PKT_MAX];
	struct run_result res;

	parser = harness_cube("parser", hook, NULL, NULL);
	router = harness_cube("router", hook, unrouted_pass, NULL);
	REQUIRE(parser && router, "load");
	cube_connect_cube(parser, 0, router);
	pkt_mac(h.dmac, mac_host);
	pkt_mac(h.smac, mac_b);
	bpf_map_update_elem(cube_map_fd(router, "router_hosts"), &k, &h, BPF_ANY);

	expect_routed(to("10.244.0.7"), mac_host, mac_b);
	struct pkt_spec s = to("10.244.0.7");

	s.ttl = 1; /* a host is a hop like any other */
	harness_run(parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	s = to("192.0.2.9"); /* not a host, no route: the kernel's */
	size_t len = pkt_build(&s, f);

	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK_MEM(res.out, f, len);
	harness_run(parser, f, build_arp(f, 2, "02:00:00:00:00:05", "10.244.0.7", "10.244.0.1"),
		    &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));

	struct cube_stats st = harness_stats(router);

	CHECK_EQ(st.verdict[CUBE_VERDICT_REDIRECT], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_PASS], 2);
	CHECK_EQ(st.drop[CUBE_DROP_TTL_EXCEEDED], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_SLOWPATH], 0);
	cube_destroy(parser);
	cube_destroy(router);
}

static const char *mac_asker = "02:00:00:00:00:05";

/* A solicitation from 2001:db8::5 for target, behind n_ext extension
 * headers of the given lengths. */
static size_t build_ns(uint8_t *f, const char *target, int n_ext, uint16_t ext0, uint16_t ext1,
		       uint8_t hop_limit)
{
	struct pkt_spec s = {.family = 6,
			     .saddr = pkt_ip6("2001:db8::5"),
			     .daddr = pkt_ip6("ff02::1:ff00:1"),
			     .proto = IPPROTO_ICMPV6,
			     .icmp_type = 135,
			     .payload_len = 24,
			     .ttl = hop_limit,
			     .ipv6_ext = n_ext,
			     .ipv6_ext_len = {ext0, ext1}};
	uint8_t proto;
	size_t len;
	int l4;

	pkt_mac(s.dmac, "33:33:ff:00:00:01");
	pkt_mac(s.smac, mac_asker);
	len = pkt_build(&s, f);
	l4 = pkt_l4_off(f, len, &proto);
	memset(f + l4 + 4, 0, 4); /* reserved */
	memcpy(f + l4 + 8, pkt_ip6(target).bytes, 16);
	f[l4 + 24] = 1; /* source link-layer address, 8 bytes */
	f[l4 + 25] = 1;
	pkt_mac(f + l4 + 26, mac_asker);
	pkt_fix_csums(f, len);
	return len;
}

/* The advertisement for 2001:db8::1 on port 0, as RFC 4861 lays it out. */
static size_t build_na(uint8_t *f)
{
	struct pkt_spec s = {.family = 6,
			     .saddr = pkt_ip6("2001:db8::1"),
			     .daddr = pkt_ip6("2001:db8::5"),
			     .proto = IPPROTO_ICMPV6,
			     .icmp_type = 136,
			     .payload_len = 24,
			     .ttl = 255};
	size_t len;

	pkt_mac(s.dmac, mac_asker);
	pkt_mac(s.smac, mac_in);
	len = pkt_build(&s, f);
	memset(f + 54 + 4, 0, 4);
	f[54 + 4] = 0x60; /* solicited, override */
	memcpy(f + 54 + 8, pkt_ip6("2001:db8::1").bytes, 16);
	f[54 + 24] = 2; /* target link-layer address, 8 bytes */
	f[54 + 25] = 1;
	pkt_mac(f + 54 + 26, mac_in);
	pkt_fix_csums(f, len);
	return len;
}

/* An advertisement from 2001:db8::5 to us, for its own address. */
static size_t build_na_to_us(uint8_t *f, uint8_t hop_limit)
{
	size_t len = build_ns(f, "2001:db8::5", 0, 0, 0, hop_limit);

	pkt_mac(f, mac_in);
	memcpy(f + 38, pkt_ip6("2001:db8::1").bytes, 16); /* destination */
	f[54] = 136;
	f[54 + 4] = 0x60; /* solicited, override */
	f[54 + 24] = 2;	  /* target link-layer address */
	pkt_fix_csums(f, len);
	return len;
}

/* Advertisements go to the daemon, which asked; one from off link does not
 * (addressed to us, it goes to the kernel, which discards it as well). */
TEST(neighbour_advertisement_to_slow_path)
{
	struct cube_slowpath_hdr rec;
	uint8_t f[PKT_MAX];
	struct run_result res;
	struct cube_stats st;
	size_t len;

	setup();
	REQUIRE(parser && router, "load");
	while (harness_slowpath_next(&rec) == 0)
		;
	len = build_na_to_us(f, 255);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	REQUIRE(harness_slowpath_next(&rec) == 0, "advertisement not queued");
	CHECK_EQ(rec.reason, CUBE_SLOWPATH_ND_ADVERT);
	CHECK_EQ(rec.cap_len, len);
	CHECK_MEM(rec.data, f, len);
	len = build_na_to_us(f, 64);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK_MEM(res.out, f, len);
	CHECK(harness_slowpath_next(&rec) != 0, "an off-link advertisement was queued");
	st = harness_stats(router);
	CHECK_EQ(st.verdict[CUBE_VERDICT_SLOWPATH], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_PASS], 1);
	cube_destroy(parser);
	cube_destroy(router);
}

/* Beside the kernel's stack (a node's router) an advertisement answers
 * the kernel's own solicitation: it is the kernel's to learn, untouched. */
TEST(neighbour_advertisement_beside_the_kernel_passes)
{
	struct cube_slowpath_hdr rec;
	uint8_t f[PKT_MAX];
	struct run_result res;
	size_t len;

	parser = harness_cube("parser", hook, NULL, NULL);
	router = harness_cube("router", hook, unrouted_pass, NULL);
	REQUIRE(parser && router, "load");
	cube_connect_cube(parser, 0, router);
	set_port(PORT_IN, 1, mac_in, "10.0.0.1", 24, "2001:db8::1", 64);
	while (harness_slowpath_next(&rec) == 0)
		;
	len = build_na_to_us(f, 255);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, f, len);
	CHECK(harness_slowpath_next(&rec) != 0, "the advertisement was queued");
	CHECK_EQ(harness_stats(router).verdict[CUBE_VERDICT_PASS], 1);
	CHECK_EQ(harness_stats(router).verdict[CUBE_VERDICT_SLOWPATH], 0);
	cube_destroy(parser);
	cube_destroy(router);
}

/*
 * A solicitation for our address gets the advertisement, whatever
 * extension headers it came behind (none of them is sent back) and however
 * deep they reach; one from off link (hop limit below 255) gets none.
 */
TEST(neighbour_solicitation_answered)
{
	static const uint16_t ext[][3] = {{0, 0, 0}, {1, 8, 0}, {1, 264, 0}, {2, 8, 520}};
	uint8_t f[PKT_MAX], want[PKT_MAX];
	size_t want_len, len;
	struct run_result res;
	struct cube_stats st;

	setup();
	REQUIRE(parser && router, "load");
	want_len = build_na(want);
	CHECK_EQ(want_len, 14 + 40 + 32);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		len = build_ns(f, "2001:db8::1", ext[i][0], ext[i][1], ext[i][2], 255);
		harness_run(parser, f, len, &res);
		CHECK_EQ(res.err, 0);
		CHECK(res.retval == hook_ret_tx(hook), "case %zu: verdict %u", i, res.retval);
		CHECK(res.out_len == want_len, "case %zu: %u bytes out", i, res.out_len);
		CHECK_MEM(res.out, want, want_len);
		CHECK(pkt_l4_csum_ok(res.out, want_len), "case %zu: ICMPv6 checksum", i);
	}
	/* From off link, or for someone else: not answered (and not routed). */
	len = build_ns(f, "2001:db8::1", 0, 0, 0, 254);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	len = build_ns(f, "2001:db8::77", 1, 264, 0, 255);
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));

	st = harness_stats(router);
	CHECK_EQ(st.rx_packets, 6);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 4);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 2);
	CHECK_EQ(st.drop[CUBE_DROP_NO_ROUTE], 2);
	cube_destroy(parser);
	cube_destroy(router);
}

/* Without metadata: received, dropped, both counted. */
TEST(no_metadata_counted_as_received)
{
	struct pkt_spec s = to("10.1.2.7");
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);
	struct run_result res;
	struct cube_stats st;

	setup();
	REQUIRE(parser && router, "load");
	harness_meta_clear();
	harness_run(router, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_MEM(res.out, f, len);
	st = harness_stats(router);
	CHECK_EQ(st.rx_packets, 1);
	CHECK_EQ(st.rx_bytes, len);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 1);
	CHECK_EQ(st.drop[CUBE_DROP_NO_META], 1);
	cube_destroy(parser);
	cube_destroy(router);
}

static const struct test_case cases[] = {
    TEST_ENTRY(longest_prefix_wins),
    TEST_ENTRY(ipv6_forwarding),
    TEST_ENTRY(ipv6_range_behind_an_ipv4_tunnel_end),
    TEST_ENTRY(defined_verdicts),
    TEST_ENTRY(neighbour_miss_goes_to_slow_path),
    TEST_ENTRY(arp_for_own_address),
    TEST_ENTRY(hosts_and_unrouted_pass),
    TEST_ENTRY(neighbour_solicitation_answered),
    TEST_ENTRY(neighbour_advertisement_to_slow_path),
    TEST_ENTRY(neighbour_advertisement_beside_the_kernel_passes),
    TEST_ENTRY(no_metadata_counted_as_received),
};

int main(void)
{
	return harness_run_hooks("router", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
