// SPDX-License-Identifier: Apache-2.0
/*
 * nat cube behind a parser: SNAT, masquerade-style port allocation and DNAT
 * in both directions, TCP, UDP and ICMP echo, IPv4 and IPv6. Every
 * translated frame must equal the same frame built from scratch with the
 * new addresses and ports, which checks the incremental checksum updates
 * against a full recomputation.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"
#include "lib/abi/nat.h"
#include "lib/nat_consts.h"

static enum cube_hook hook;
static struct cube *parser, *nat;

static void setup(void)
{
	parser = harness_cube("parser", hook, NULL, NULL);
	nat = harness_cube("nat", hook, NULL, NULL);
	if (!parser || !nat)
		return;
	cube_connect_cube(parser, 0, nat);
	cube_connect_port(nat, NAT_PORT_OUT, CUBE_PORT_TX, 0);
}

static void teardown(void)
{
	cube_destroy(parser);
	cube_destroy(nat);
}

static void snat4(const char *prefix, uint32_t plen, const char *to)
{
	struct nat_snat_lpm4_key k = {.prefixlen = plen, .saddr = pkt_ip4(prefix).ip4};
	struct nat_snat_target t = {.addr = pkt_ip4(to), .flags = NAT_SNAT_F_MASQUERADE};

	bpf_map_update_elem(cube_map_fd(nat, "nat_snat4"), &k, &t, BPF_ANY);
}

static void snat6(const char *prefix, uint32_t plen, const char *to)
{
	struct nat_snat_lpm6_key k = {.prefixlen = plen};
	struct nat_snat_target t = {.addr = pkt_ip6(to)};

	memcpy(k.saddr, pkt_ip6(prefix).bytes, 16);
	bpf_map_update_elem(cube_map_fd(nat, "nat_snat6"), &k, &t, BPF_ANY);
}

static void dnat4(const char *vip, uint16_t vport, uint8_t proto, const char *to, uint16_t port)
{
	struct nat_dnat_key k = {
	    .daddr = pkt_ip4(vip), .dport = htons(vport), .proto = proto, .family = 4};
	struct nat_dnat_target t = {
	    .addr = pkt_ip4(to), .port = htons(port), .flags = NAT_DNAT_F_VALID};

	bpf_map_update_elem(cube_map_fd(nat, "nat_dnat"), &k, &t, BPF_ANY);
}

static void dnat6(const char *vip, uint16_t vport, uint8_t proto, const char *to, uint16_t port)
{
	struct nat_dnat_key k = {
	    .daddr = pkt_ip6(vip), .dport = htons(vport), .proto = proto, .family = 6};
	struct nat_dnat_target t = {
	    .addr = pkt_ip6(to), .port = htons(port), .flags = NAT_DNAT_F_VALID};

	bpf_map_update_elem(cube_map_fd(nat, "nat_dnat"), &k, &t, BPF_ANY);
}

static struct pkt_spec tcp4(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pkt_spec s = {.family = 4,
			     .saddr = pkt_ip4(src),
			     .daddr = pkt_ip4(dst),
			     .proto = IPPROTO_TCP,
			     .sport = sport,
			     .dport = dport,
			     .payload_len = 33};
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

/* Run s; the output must be exactly `want` built from scratch. Returns the
 * translated frame's source port (host order) for the caller to follow. */
static uint16_t expect_translated(struct pkt_spec s, struct pkt_spec want)
{
	uint8_t f[PKT_MAX], w[PKT_MAX];
	size_t len = pkt_build(&s, f), wlen;
	struct run_result res;
	int l4;
	uint8_t proto;

	harness_run(parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_EQ(res.out_len, len);
	l4 = pkt_l4_off(res.out, res.out_len, &proto);
	if (l4 < 0)
		return 0;
	uint16_t out_sport = (uint16_t)(res.out[l4] << 8 | res.out[l4 + 1]);

	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		out_sport = (uint16_t)(res.out[l4 + 4] << 8 | res.out[l4 + 5]);
	if (want.sport == 0 && (proto == IPPROTO_TCP || proto == IPPROTO_UDP))
		want.sport = out_sport; /* allocated by the NAT: take it, check the rest */
	if (want.icmp_id == 0 && (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6))
		want.icmp_id = out_sport;
	wlen = pkt_build(&want, w);
	CHECK_EQ(wlen, len);
	CHECK_MEM(res.out, w, len);
	if (s.family == 4)
		CHECK(pkt_ipv4_csum_ok(res.out, res.out_len), "IPv4 checksum");
	CHECK(pkt_l4_csum_ok(res.out, res.out_len), "L4 checksum");
	return out_sport;
}

static void expect_untouched(struct pkt_spec s)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);
	struct run_result res;

	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_MEM(res.out, f, len);
}

static uint32_t conn_count(void)
{
	struct nat_tuple key, next;
	uint32_t n = 0;
	int fd = cube_map_fd(nat, "nat_conns");

	for (int err = bpf_map_get_next_key(fd, NULL, &key); !err;
	     err = bpf_map_get_next_key(fd, &key, &next), key = next)
		n++;
	return n;
}

TEST(snat_both_directions_and_port_collisions)
{
	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.0.0.0", 24, "192.0.2.1");

	/* Outbound: source becomes 192.0.2.1, port kept while free. */
	struct pkt_spec out = tcp4("10.0.0.2", 40000, "198.51.100.9", 80);
	struct pkt_spec want = tcp4("192.0.2.1", 40000, "198.51.100.9", 80);

	CHECK_EQ(expect_translated(out, want), 40000);
	/* Reply: back to the inside host. */
	CHECK_EQ(expect_translated(tcp4("198.51.100.9", 80, "192.0.2.1", 40000),
				   tcp4("198.51.100.9", 80, "10.0.0.2", 40000)),
		 80);
	CHECK_EQ(conn_count(), 2);

	/* A second host with the same source port gets another port. */
	want = tcp4("192.0.2.1", 0, "198.51.100.9", 80);
	uint16_t p2 = expect_translated(tcp4("10.0.0.3", 40000, "198.51.100.9", 80), want);

	CHECK(p2 != 40000 && p2 >= 1024, "second host got port %u", p2);
	CHECK_EQ(expect_translated(tcp4("198.51.100.9", 80, "192.0.2.1", p2),
				   tcp4("198.51.100.9", 80, "10.0.0.3", 40000)),
		 80);
	/* And the first connection still maps back to the first host. */
	expect_translated(tcp4("198.51.100.9", 80, "192.0.2.1", 40000),
			  tcp4("198.51.100.9", 80, "10.0.0.2", 40000));
	CHECK_EQ(conn_count(), 4);

	/* Outside the SNAT prefix, nothing happens and nothing is tracked. */
	expect_untouched(tcp4("10.0.1.2", 40000, "198.51.100.9", 80));
	CHECK_EQ(conn_count(), 4);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_TX], 6);
	teardown();
}

TEST(dnat_both_directions)
{
	setup();
	REQUIRE(parser && nat, "load");
	dnat4("203.0.113.10", 80, IPPROTO_TCP, "10.0.0.5", 8080);
	expect_translated(tcp4("198.51.100.7", 5555, "203.0.113.10", 80),
			  tcp4("198.51.100.7", 5555, "10.0.0.5", 8080));
	expect_translated(tcp4("10.0.0.5", 8080, "198.51.100.7", 5555),
			  tcp4("203.0.113.10", 80, "198.51.100.7", 5555));
	/* Another port of the VIP has no rule. */
	expect_untouched(tcp4("198.51.100.7", 5555, "203.0.113.10", 81));

	/* DNAT to the backend a load balancer picked (meta.backend_id). */
	struct nat_dnat_target t = {
	    .addr = pkt_ip4("10.0.0.6"), .port = htons(9090), .flags = NAT_DNAT_F_VALID};
	uint32_t id = 3;

	bpf_map_update_elem(cube_map_fd(nat, "nat_backends"), &id, &t, BPF_ANY);
	struct cube_meta m;
	uint8_t f[PKT_MAX];
	struct pkt_spec s = tcp4("198.51.100.8", 6000, "203.0.113.20", 80);
	size_t len = pkt_build(&s, f);
	struct run_result res;

	/* Run the parser, then the nat on the same metadata with a backend set. */
	cube_disconnect(parser, 0);
	cube_connect_port(parser, 0, CUBE_PORT_TX, 0);
	harness_run(parser, f, len, &res);
	harness_meta(&m);
	m.version = CUBE_META_VERSION; /* reopened: the parser's verdict closed it */
	m.backend_id = 3;
	m.flags |= CUBE_META_F_BACKEND;
	harness_meta_set(&m);
	harness_run(nat, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	struct pkt_spec w = tcp4("198.51.100.8", 6000, "10.0.0.6", 9090);
	uint8_t wf[PKT_MAX];

	pkt_build(&w, wf);
	CHECK_MEM(res.out, wf, len);
	teardown();
}

/*
 * One client port to two frontends of one backend (a NodePort, then the
 * load-balancer IP, source kept) shares a reply tuple: the second
 * connection gets another source port, not a drop, and each reply goes
 * back through its own frontend.
 */
TEST(dnat_two_frontends_one_client_port)
{
	setup();
	REQUIRE(parser && nat, "load");
	dnat4("192.0.2.1", 30080, IPPROTO_TCP, "10.0.0.5", 8080);
	dnat4("203.0.113.10", 80, IPPROTO_TCP, "10.0.0.5", 8080);
	expect_translated(tcp4("198.51.100.7", 5555, "192.0.2.1", 30080),
			  tcp4("198.51.100.7", 5555, "10.0.0.5", 8080));
	uint16_t p2 = expect_translated(tcp4("198.51.100.7", 5555, "203.0.113.10", 80),
					tcp4("198.51.100.7", 0, "10.0.0.5", 8080));

	CHECK(p2 != 5555 && p2 >= 1024, "second connection got port %u", p2);
	expect_translated(tcp4("10.0.0.5", 8080, "198.51.100.7", p2),
			  tcp4("203.0.113.10", 80, "198.51.100.7", 5555));
	expect_translated(tcp4("10.0.0.5", 8080, "198.51.100.7", 5555),
			  tcp4("192.0.2.1", 30080, "198.51.100.7", 5555));
	/* The second connection keeps its port. */
	CHECK_EQ(expect_translated(tcp4("198.51.100.7", 5555, "203.0.113.10", 80),
				   tcp4("198.51.100.7", 0, "10.0.0.5", 8080)),
		 p2);
	CHECK_EQ(conn_count(), 4);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_TX], 5);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_DROP], 0);
	teardown();
}

/* The connection table's key for the packet s. */
static struct nat_tuple conn_key(struct pkt_spec s)
{
	return (struct nat_tuple){.saddr = s.saddr,
				  .daddr = s.daddr,
				  .sport = htons(s.sport),
				  .dport = htons(s.dport),
				  .proto = s.proto,
				  .family = (uint8_t)s.family};
}

/* The flags of the entry for s, or -1 if there is none. */
static int64_t conn_flags(struct pkt_spec s)
{
	struct nat_tuple key = conn_key(s);
	struct nat_conn conn;

	if (bpf_map_lookup_elem(cube_map_fd(nat, "nat_conns"), &key, &conn))
		return -1;
	return conn.flags;
}

static void conn_evict(struct pkt_spec s)
{
	struct nat_tuple key = conn_key(s);

	CHECK_EQ(bpf_map_delete_elem(cube_map_fd(nat, "nat_conns"), &key), 0);
}

/*
 * The LRU may take one entry of a connection and leave the other. When the
 * original direction's goes, the next packet that way must find the
 * connection its reply entry still holds, as it was: a source port moved
 * mid-connection is one the peer does not know, and it resets the
 * connection. DNAT only (the client port kept) and masquerade.
 */
TEST(original_entry_taken_by_the_lru)
{
	setup();
	REQUIRE(parser && nat, "load");
	dnat4("203.0.113.10", 80, IPPROTO_TCP, "10.0.0.5", 8080);
	snat4("10.0.0.0", 8, "192.0.2.1");
	struct pkt_spec to_vip = tcp4("198.51.100.7", 5555, "203.0.113.10", 80);
	struct pkt_spec at_backend = tcp4("198.51.100.7", 5555, "10.0.0.5", 8080);
	struct pkt_spec out = tcp4("10.0.0.2", 4000, "198.51.100.9", 443);
	struct pkt_spec masq = tcp4("192.0.2.1", 4000, "198.51.100.9", 443);

	expect_translated(to_vip, at_backend);
	expect_translated(tcp4("10.0.0.5", 8080, "198.51.100.7", 5555),
			  tcp4("203.0.113.10", 80, "198.51.100.7", 5555));
	expect_translated(out, masq);
	expect_translated(tcp4("198.51.100.9", 443, "192.0.2.1", 4000),
			  tcp4("198.51.100.9", 443, "10.0.0.2", 4000));
	conn_evict(to_vip);
	conn_evict(out);
	CHECK_EQ(conn_count(), 2);

	CHECK_EQ(expect_translated(to_vip, tcp4("198.51.100.7", 0, "10.0.0.5", 8080)), 5555);
	CHECK_EQ(expect_translated(out, tcp4("192.0.2.1", 0, "198.51.100.9", 443)), 4000);
	CHECK_EQ(conn_count(), 4);
	/* Restored as it was: replies seen, so the established timeout. */
	CHECK_EQ(conn_flags(to_vip), NAT_CONN_F_SEEN_REPLY);
	CHECK_EQ(conn_flags(out), NAT_CONN_F_SEEN_REPLY);
	expect_translated(tcp4("10.0.0.5", 8080, "198.51.100.7", 5555),
			  tcp4("203.0.113.10", 80, "198.51.100.7", 5555));
	expect_translated(tcp4("198.51.100.9", 443, "192.0.2.1", 4000),
			  tcp4("198.51.100.9", 443, "10.0.0.2", 4000));
	CHECK_EQ(conn_count(), 4);

	/* A reply entry left over from a connection that is over: a new
	 * connection on the same port, not the old one's state. */
	struct nat_tuple reply_key = conn_key(tcp4("10.0.0.5", 8080, "198.51.100.7", 5555));
	struct nat_conn reply;
	int fd = cube_map_fd(nat, "nat_conns");

	conn_evict(to_vip);
	REQUIRE(!bpf_map_lookup_elem(fd, &reply_key, &reply), "reply entry");
	/* Idle for longer than any timeout, counted back from now: the cube's
	 * clock starts at boot, so an absolute time would be recent on a
	 * machine up for less than the timeout. */
	reply.last_seen_ns -= (NAT_DEFAULT_TCP_ESTABLISHED_S + 1) * NS_PER_SEC;
	bpf_map_update_elem(fd, &reply_key, &reply, BPF_EXIST);
	CHECK_EQ(expect_translated(to_vip, tcp4("198.51.100.7", 0, "10.0.0.5", 8080)), 5555);
	CHECK_EQ(conn_flags(to_vip), 0);
	CHECK_EQ(conn_count(), 4);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_DROP], 0);
	teardown();
}

TEST(udp_icmp_and_ipv6)
{
	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.0.0.0", 8, "192.0.2.1");
	snat6("fd00::", 64, "2001:db8::1");

	struct pkt_spec u = tcp4("10.0.0.2", 5353, "198.51.100.53", 53);

	u.proto = IPPROTO_UDP;
	struct pkt_spec uw = u;

	uw.saddr = pkt_ip4("192.0.2.1");
	expect_translated(u, uw);
	/* UDP without a checksum stays without one. */
	u.sport = 5354;
	u.udp_no_csum = true;
	uw.sport = 5354;
	uw.udp_no_csum = true;
	expect_translated(u, uw);

	/* ICMP echo: the identifier is the port; a colliding id is remapped. */
	struct pkt_spec e = tcp4("10.0.0.2", 0, "198.51.100.1", 0);

	e.proto = IPPROTO_ICMP;
	e.icmp_type = 8;
	e.icmp_id = 777;
	e.payload_len = 16;
	struct pkt_spec ew = e;

	ew.saddr = pkt_ip4("192.0.2.1");
	CHECK_EQ(expect_translated(e, ew), 777);
	e.saddr = pkt_ip4("10.0.0.3");
	ew.icmp_id = 0;
	uint16_t id2 = expect_translated(e, ew);

	CHECK(id2 != 777, "second echo id %u", id2);
	struct pkt_spec r = ew;

	r.icmp_type = 0;
	r.saddr = ew.daddr;
	r.daddr = ew.saddr;
	r.icmp_id = id2;
	struct pkt_spec rw = r;

	rw.daddr = pkt_ip4("10.0.0.3");
	rw.icmp_id = 777;
	expect_translated(r, rw);

	/* IPv6 UDP and TCP: pseudo-header checksums follow the addresses. */
	struct pkt_spec v6 = {.family = 6,
			      .saddr = pkt_ip6("fd00::2"),
			      .daddr = pkt_ip6("2001:db8:9::9"),
			      .proto = IPPROTO_UDP,
			      .sport = 1111,
			      .dport = 2222,
			      .payload_len = 9};
	struct pkt_spec v6w = v6;

	v6w.saddr = pkt_ip6("2001:db8::1");
	expect_translated(v6, v6w);
	v6.proto = v6w.proto = IPPROTO_TCP;
	expect_translated(v6, v6w);
	struct pkt_spec v6r = v6w, v6rw;

	v6r.saddr = v6w.daddr;
	v6r.daddr = v6w.saddr;
	v6r.sport = 2222;
	v6r.dport = 1111;
	v6rw = v6r;
	v6rw.daddr = pkt_ip6("fd00::2");
	expect_translated(v6r, v6rw);
	teardown();
}

/* Masquerading pods: their traffic leaving the cluster is translated,
 * their traffic to the cluster's own ranges is not. */
/* An IPv6 UDP datagram sent without a checksum (a tunnel's, RFC 6935)
 * keeps 0 through the translation, as IPv4's does: an updated 0 would be
 * a wrong checksum. */
TEST(ipv6_udp_without_checksum_stays_without)
{
	uint8_t f[PKT_MAX], w[PKT_MAX];
	struct run_result res;
	uint8_t proto;

	setup();
	REQUIRE(parser && nat, "load");
	snat6("fd00::", 64, "2001:db8::1");
	struct pkt_spec s = tcp4("10.0.0.2", 4789, "198.51.100.1", 4789), want;

	s.family = 6;
	s.proto = IPPROTO_UDP;
	s.saddr = pkt_ip6("fd00::2");
	s.daddr = pkt_ip6("2001:db8:9::9");
	s.payload_len = 40;
	want = s;
	want.saddr = pkt_ip6("2001:db8::1");
	size_t len = pkt_build(&s, f), wlen = pkt_build(&want, w);
	int l4 = pkt_l4_off(f, len, &proto);

	REQUIRE(l4 > 0 && proto == IPPROTO_UDP && wlen == len, "built");
	f[l4 + 6] = f[l4 + 7] = 0;
	w[l4 + 6] = w[l4 + 7] = 0;
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, w, len);
	teardown();
}

TEST(snat_skips_cluster_destinations)
{
	struct nat_dst_lpm4_key skip = {.prefixlen = 16, .daddr = pkt_ip4("10.244.0.0").ip4};
	uint32_t one = 1;

	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.244.0.0", 16, "192.0.2.1");
	bpf_map_update_elem(cube_map_fd(nat, "nat_snat_skip4"), &skip, &one, BPF_ANY);
	expect_untouched(tcp4("10.244.0.5", 40000, "10.244.1.7", 80));
	CHECK_EQ(conn_count(), 0);
	expect_translated(tcp4("10.244.0.5", 40000, "198.51.100.1", 80),
			  tcp4("192.0.2.1", 0, "198.51.100.1", 80));
	CHECK_EQ(conn_count(), 2);
	teardown();
}

TEST(untranslatable_and_fragments)
{
	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.0.0.0", 8, "192.0.2.1");
	struct pkt_spec s = tcp4("10.0.0.2", 1, "198.51.100.1", 2);
	uint8_t f[PKT_MAX];
	struct run_result res;

	s.proto = 47; /* GRE: no ports to translate, forwarded as is */
	expect_untouched(s);
	s.proto = IPPROTO_ICMP;
	s.icmp_type = 3; /* an ICMP error: left alone */
	expect_untouched(s);
	s.icmp_type = 128; /* ICMPv6's echo request, no ICMP echo: left alone */
	s.icmp_id = 4242;
	expect_untouched(s);
	s.proto = IPPROTO_ICMPV6; /* ICMPv6 carried by IPv4: another protocol */
	expect_untouched(s);
	snat6("2001:db8::", 32, "2001:db8:ffff::1");
	struct pkt_spec s6 = {.family = 6,
			      .saddr = pkt_ip6("2001:db8::2"),
			      .daddr = pkt_ip6("2001:db9::1"),
			      .proto = IPPROTO_ICMPV6,
			      .icmp_type = 8, /* ICMP's echo request, no ICMPv6 echo */
			      .icmp_id = 4242};

	expect_untouched(s6);
	struct pkt_spec arp = {.ethertype = 0x0806, .payload_len = 28};

	expect_untouched(arp);
	/* A later fragment whose first fragment never came cannot be placed
	 * (test_nat_frag covers fragments in full). */
	s.proto = IPPROTO_UDP;
	s.ipv4_frag = 0x2000 | 185;
	harness_run(parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(nat).drop[CUBE_DROP_FRAGMENT], 0);
	CHECK_EQ(harness_stats(nat).drop[CUBE_DROP_FRAG_UNKNOWN], 1);
	CHECK_EQ(conn_count(), 0);
	teardown();
}

TEST(timeouts_expire_connections)
{
	struct nat_cfg cfg = {.timeout_udp_s = 1};
	uint32_t zero = 0;

	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.0.0.0", 8, "192.0.2.1");
	bpf_map_update_elem(cube_map_fd(nat, "nat_cfg"), &zero, &cfg, BPF_ANY);
	struct pkt_spec u = tcp4("10.0.0.2", 4000, "198.51.100.53", 53), uw, r, rw;

	u.proto = IPPROTO_UDP;
	uw = u;
	uw.saddr = pkt_ip4("192.0.2.1");
	expect_translated(u, uw);
	r = uw;
	r.saddr = uw.daddr;
	r.daddr = uw.saddr;
	r.sport = 53;
	r.dport = 4000;
	rw = r;
	rw.daddr = u.saddr;
	expect_translated(r, rw); /* within the timeout */
	usleep(1300 * 1000);
	expect_untouched(r); /* expired: the reply no longer maps back */
	CHECK_EQ(conn_count(), 0);
	teardown();
}

/* IPv6 with 8 + 520 bytes of options: the L4 header at 582. */
static struct pkt_spec long_options6(const char *src, uint16_t sport, const char *dst,
				     uint16_t dport, uint8_t proto)
{
	struct pkt_spec s = {.family = 6,
			     .saddr = pkt_ip6(src),
			     .daddr = pkt_ip6(dst),
			     .proto = proto,
			     .sport = sport,
			     .dport = dport,
			     .payload_len = 9,
			     .ipv6_ext = 2,
			     .ipv6_ext_len = {8, 520}};
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

/*
 * L4 headers past 511 bytes are translated where they are: each frame out
 * equals one built from scratch (checksums computed in full, not updated),
 * and its L4 checksum checks.
 */
TEST(l4_behind_long_ipv6_options)
{
	struct nat_tuple key;
	struct pkt_spec s, w;
	struct nat_conn conn;
	uint8_t f[PKT_MAX];
	uint8_t proto;

	setup();
	REQUIRE(parser && nat, "load");
	snat6("fd00::", 64, "2001:db8::1");
	s = long_options6("fd00::2", 1111, "2001:db8:9::9", 2222, IPPROTO_TCP);
	key = conn_key(s);
	CHECK_EQ(pkt_l4_off(f, pkt_build(&s, f), &proto), 582);
	w = long_options6("2001:db8::1", 1111, "2001:db8:9::9", 2222, IPPROTO_TCP);
	CHECK_EQ(expect_translated(s, w), 1111);
	s = long_options6("2001:db8:9::9", 2222, "2001:db8::1", 1111, IPPROTO_TCP);
	w = long_options6("2001:db8:9::9", 2222, "fd00::2", 1111, IPPROTO_TCP);
	CHECK_EQ(expect_translated(s, w), 2222);
	/* A FIN is seen where it is: the connection is closing. */
	s = long_options6("fd00::2", 1111, "2001:db8:9::9", 2222, IPPROTO_TCP);
	s.tcp_flags = 0x11;
	w = long_options6("2001:db8::1", 1111, "2001:db8:9::9", 2222, IPPROTO_TCP);
	w.tcp_flags = 0x11;
	expect_translated(s, w);
	CHECK_EQ(bpf_map_lookup_elem(cube_map_fd(nat, "nat_conns"), &key, &conn), 0);
	CHECK(conn.flags & NAT_CONN_F_CLOSING, "flags %#x", conn.flags);

	s = long_options6("fd00::2", 3333, "2001:db8:9::9", 53, IPPROTO_UDP);
	w = long_options6("2001:db8::1", 3333, "2001:db8:9::9", 53, IPPROTO_UDP);
	CHECK_EQ(expect_translated(s, w), 3333);
	s = long_options6("fd00::2", 0, "2001:db8:9::9", 0, IPPROTO_ICMPV6);
	s.icmp_type = 128;
	s.icmp_id = 4242;
	w = long_options6("2001:db8::1", 0, "2001:db8:9::9", 0, IPPROTO_ICMPV6);
	w.icmp_type = 128;
	w.icmp_id = 4242;
	CHECK_EQ(expect_translated(s, w), 4242);

	dnat6("2001:db8:100::10", 53, IPPROTO_UDP, "fd00::53", 5353);
	s = long_options6("2001:db8:9::9", 7777, "2001:db8:100::10", 53, IPPROTO_UDP);
	w = long_options6("2001:db8:9::9", 7777, "fd00::53", 5353, IPPROTO_UDP);
	CHECK_EQ(expect_translated(s, w), 7777);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_TX], 6);
	teardown();
}

/*
 * A nat that runs without a parser before it (attached on its own) finds
 * the last packet's metadata closed: it drops the frame untouched and opens
 * nothing, counting it received and dropped.
 */
TEST(no_translation_on_the_last_packets_metadata)
{
	struct pkt_spec s = tcp4("10.0.0.2", 40000, "198.51.100.9", 80);
	uint8_t f[PKT_MAX];
	struct run_result res;
	struct cube_stats st;
	size_t len;

	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.0.0.0", 24, "192.0.2.1");
	expect_translated(s, tcp4("192.0.2.1", 40000, "198.51.100.9", 80));
	CHECK_EQ(conn_count(), 2);

	s = tcp4("10.0.0.3", 41000, "198.51.100.10", 443);
	len = pkt_build(&s, f);
	harness_run(nat, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, f, len);
	CHECK_EQ(conn_count(), 2);
	st = harness_stats(nat);
	CHECK_EQ(st.drop[CUBE_DROP_NO_META], 1);
	CHECK_EQ(st.rx_packets, 2);
	CHECK_EQ(st.rx_bytes, 2 * len); /* both frames have the same length */
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX] + st.verdict[CUBE_VERDICT_DROP], 2);
	teardown();
}

static const struct test_case cases[] = {
    TEST_ENTRY(snat_both_directions_and_port_collisions),
    TEST_ENTRY(dnat_both_directions),
    TEST_ENTRY(dnat_two_frontends_one_client_port),
    TEST_ENTRY(original_entry_taken_by_the_lru),
    TEST_ENTRY(udp_icmp_and_ipv6),
    TEST_ENTRY(ipv6_udp_without_checksum_stays_without),
    TEST_ENTRY(snat_skips_cluster_destinations),
    TEST_ENTRY(untranslatable_and_fragments),
    TEST_ENTRY(timeouts_expire_connections),
    TEST_ENTRY(l4_behind_long_ipv6_options),
    TEST_ENTRY(no_translation_on_the_last_packets_metadata),
};

int main(void)
{
	return harness_run_hooks("nat", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
