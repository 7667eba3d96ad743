// SPDX-License-Identifier: Apache-2.0
/*
 * nat as the node chain uses it for Kubernetes services: DNAT to the
 * backend a load balancer chose (meta.backend_id), hairpin connections (a
 * pod reaching its own service) and new connections counted per backend.
 * The parser runs first, then the nat on the parser's metadata with the
 * backend set as maglev sets it. Every frame out must equal the one built
 * from scratch with the translated addresses and ports.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"
#include "lib/abi/nat.h"

static enum cube_hook hook;
static struct cube *parser, *nat;

static void setup(void)
{
	parser = harness_cube("parser", hook, NULL, NULL);
	nat = harness_cube("nat", hook, NULL, NULL);
	if (!parser || !nat)
		return;
	cube_connect_port(parser, 0, CUBE_PORT_TX, 0);
	cube_connect_port(nat, NAT_PORT_OUT, CUBE_PORT_TX, 0);
}

static void teardown(void)
{
	cube_destroy(parser);
	cube_destroy(nat);
}

static union cube_addr addr(int family, const char *text)
{
	return family == 4 ? pkt_ip4(text) : pkt_ip6(text);
}

static struct pkt_spec flow(int family, uint8_t proto, const char *src, uint16_t sport,
			    const char *dst, uint16_t dport)
{
	struct pkt_spec s = {.family = family,
			     .saddr = addr(family, src),
			     .daddr = addr(family, dst),
			     .proto = proto,
			     .sport = sport,
			     .dport = dport,
			     .payload_len = 21};
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

static void backend(uint32_t id, int family, const char *to, uint16_t port)
{
	struct nat_dnat_target t = {
	    .addr = addr(family, to), .port = htons(port), .flags = NAT_DNAT_F_VALID};

	bpf_map_update_elem(cube_map_fd(nat, "nat_backends"), &id, &t, BPF_ANY);
}

static void hairpin(const char *v4, const char *v6)
{
	struct nat_cfg cfg = {0};
	uint32_t zero = 0;

	if (v4)
		cfg.hairpin4 = pkt_ip4(v4);
	if (v6)
		cfg.hairpin6 = pkt_ip6(v6);
	bpf_map_update_elem(cube_map_fd(nat, "nat_cfg"), &zero, &cfg, BPF_ANY);
}

/* No load balancer ran: the metadata has no backend flag. */
#define UNBALANCED 0xfffffffeu

/* Parse s, set the backend maglev would (CUBE_NO_BACKEND: the service has
 * none; UNBALANCED: no flag), run the nat. Returns the verdict; the frame
 * out is in res. */
static uint32_t run(const struct pkt_spec *s, uint32_t backend_id, struct run_result *res)
{
	static uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f);
	struct cube_meta m;

	harness_run(parser, f, len, res);
	harness_meta(&m);
	m.version = CUBE_META_VERSION;
	if (backend_id != UNBALANCED) {
		m.backend_id = backend_id;
		m.flags |= CUBE_META_F_BACKEND;
	}
	harness_meta_set(&m);
	harness_run(nat, f, len, res);
	CHECK_EQ(res->err, 0);
	return res->retval;
}

/* s goes out exactly as want; returns the source port it got. */
static uint16_t expect(struct pkt_spec s, uint32_t backend_id, struct pkt_spec want)
{
	uint8_t w[PKT_MAX];
	struct run_result res;
	uint8_t proto;
	int l4;

	CHECK_EQ(run(&s, backend_id, &res), hook_ret_tx(hook));
	l4 = pkt_l4_off(res.out, res.out_len, &proto);
	if (l4 < 0)
		return 0;
	uint16_t sport = (uint16_t)(res.out[l4] << 8 | res.out[l4 + 1]);

	if (want.sport == 0)
		want.sport = sport; /* allocated by the NAT: take it, check the rest */
	CHECK_EQ(pkt_build(&want, w), res.out_len);
	CHECK_MEM(res.out, w, res.out_len);
	if (s.family == 4)
		CHECK(pkt_ipv4_csum_ok(res.out, res.out_len), "IPv4 checksum");
	CHECK(pkt_l4_csum_ok(res.out, res.out_len), "L4 checksum");
	return sport;
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

/*
 * A pod reaching its own service over TCP (IPv4) and UDP (IPv6): the
 * request is DNATed to the pod and its source translated to the hairpin
 * address; the pod's reply, to the hairpin address, goes back as from the
 * service to the pod. Later packets follow the connection.
 */
TEST(hairpin_round_trip)
{
	struct {
		int family;
		uint8_t proto;
		const char *pod, *vip, *node;
	} c[] = {
	    {4, IPPROTO_TCP, "10.244.0.5", "10.96.0.10", "192.0.2.100"},
	    {6, IPPROTO_UDP, "fd00::5", "fd00:96::10", "2001:db8::100"},
	};

	setup();
	REQUIRE(parser && nat, "load");
	hairpin("192.0.2.100", "2001:db8::100");
	for (int i = 0; i < 2; i++) {
		int f = c[i].family;
		uint8_t p = c[i].proto;

		backend(5 + i, f, c[i].pod, 8080);
		struct pkt_spec req = flow(f, p, c[i].pod, 40000, c[i].vip, 80);

		CHECK_EQ(expect(req, 5 + i, flow(f, p, c[i].node, 40000, c[i].pod, 8080)), 40000);
		CHECK_EQ(expect(flow(f, p, c[i].pod, 8080, c[i].node, 40000), UNBALANCED,
				flow(f, p, c[i].vip, 80, c[i].pod, 40000)),
			 80);
		/* Established: the same translation, whatever maglev says. */
		expect(req, CUBE_NO_BACKEND, flow(f, p, c[i].node, 40000, c[i].pod, 8080));
		req.tcp_flags = 0x11;
		struct pkt_spec fin = flow(f, p, c[i].node, 40000, c[i].pod, 8080);

		fin.tcp_flags = 0x11;
		expect(req, 5 + i, fin);
	}
	CHECK_EQ(conn_count(), 4);
	struct cube_stats st = harness_stats(nat);

	CHECK_EQ(st.rx_packets, 8);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 8);
	teardown();
}

/* Another pod reaching the service is only DNATed; with no hairpin address
 * set, a hairpin connection is only DNATed too. */
TEST(hairpin_only_to_self)
{
	setup();
	REQUIRE(parser && nat, "load");
	backend(1, 4, "10.244.0.5", 8080);
	hairpin("192.0.2.100", NULL);
	struct pkt_spec other = flow(4, IPPROTO_TCP, "10.244.0.6", 40000, "10.96.0.10", 80);

	expect(other, 1, flow(4, IPPROTO_TCP, "10.244.0.6", 40000, "10.244.0.5", 8080));
	/* IPv6 has no hairpin address here: DNAT only. */
	backend(2, 6, "fd00::5", 8080);
	struct pkt_spec self6 = flow(6, IPPROTO_TCP, "fd00::5", 40000, "fd00:96::10", 80);

	expect(self6, 2, flow(6, IPPROTO_TCP, "fd00::5", 40000, "fd00::5", 8080));
	hairpin(NULL, NULL);
	struct pkt_spec self4 = flow(4, IPPROTO_TCP, "10.244.0.5", 40001, "10.96.0.10", 80);

	expect(self4, 1, flow(4, IPPROTO_TCP, "10.244.0.5", 40001, "10.244.0.5", 8080));
	CHECK_EQ(conn_count(), 6);
	teardown();
}

/* Two hairpin connections of one pod from one source port, to two
 * services on the same target port, would share a reply tuple: the second
 * gets another source port, and each reply finds its own service. */
TEST(hairpin_port_collision)
{
	setup();
	REQUIRE(parser && nat, "load");
	hairpin("192.0.2.100", NULL);
	backend(1, 4, "10.244.0.5", 8080);
	backend(2, 4, "10.244.0.5", 8080);
	struct pkt_spec a = flow(4, IPPROTO_UDP, "10.244.0.5", 5000, "10.96.0.10", 53);
	struct pkt_spec b = flow(4, IPPROTO_UDP, "10.244.0.5", 5000, "10.96.0.11", 53);

	CHECK_EQ(expect(a, 1, flow(4, IPPROTO_UDP, "192.0.2.100", 5000, "10.244.0.5", 8080)), 5000);
	uint16_t pb = expect(b, 2, flow(4, IPPROTO_UDP, "192.0.2.100", 0, "10.244.0.5", 8080));

	CHECK(pb != 5000 && pb >= 1024, "second hairpin got port %u", pb);
	expect(flow(4, IPPROTO_UDP, "10.244.0.5", 8080, "192.0.2.100", 5000), UNBALANCED,
	       flow(4, IPPROTO_UDP, "10.96.0.10", 53, "10.244.0.5", 5000));
	expect(flow(4, IPPROTO_UDP, "10.244.0.5", 8080, "192.0.2.100", pb), UNBALANCED,
	       flow(4, IPPROTO_UDP, "10.96.0.11", 53, "10.244.0.5", 5000));
	CHECK_EQ(conn_count(), 4);
	teardown();
}

static uint64_t new_conns(uint32_t id)
{
	struct nat_backend_stats bs = {0};

	CHECK_EQ(cube_percpu_sum(cube_map_fd(nat, "nat_backend_stats"), id, &bs, sizeof(bs)), 0);
	return bs.new_conns;
}

/*
 * New connections per backend: one per connection opened to the backend
 * maglev chose, none for its later packets or replies, none for a DNAT
 * rule of nat_dnat or a backend slot that holds no endpoint.
 */
TEST(new_connections_per_backend)
{
	struct nat_dnat_key k = {.daddr = pkt_ip4("192.0.2.100"),
				 .dport = htons(30080),
				 .proto = IPPROTO_TCP,
				 .family = 4};
	struct nat_dnat_target t = {
	    .addr = pkt_ip4("10.244.0.9"), .port = htons(80), .flags = NAT_DNAT_F_VALID};

	setup();
	REQUIRE(parser && nat, "load");
	REQUIRE(bpf_map__max_entries(bpf_object__find_map_by_name(nat->obj, "nat_backend_stats")) ==
		    bpf_map__max_entries(bpf_object__find_map_by_name(nat->obj, "nat_backends")),
		"sized like nat_backends");
	backend(1, 4, "10.244.0.5", 8080);
	backend(2, 4, "10.244.0.6", 8080);
	for (uint16_t port = 40000; port < 40003; port++) {
		struct pkt_spec s = flow(4, IPPROTO_TCP, "10.244.1.2", port, "10.96.0.10", 80);

		expect(s, 1, flow(4, IPPROTO_TCP, "10.244.1.2", port, "10.244.0.5", 8080));
		expect(s, 1, flow(4, IPPROTO_TCP, "10.244.1.2", port, "10.244.0.5", 8080));
		expect(flow(4, IPPROTO_TCP, "10.244.0.5", 8080, "10.244.1.2", port), UNBALANCED,
		       flow(4, IPPROTO_TCP, "10.96.0.10", 80, "10.244.1.2", port));
	}
	expect(flow(4, IPPROTO_UDP, "10.244.1.2", 5353, "10.96.0.11", 53), 2,
	       flow(4, IPPROTO_UDP, "10.244.1.2", 5353, "10.244.0.6", 8080));
	CHECK_EQ(new_conns(1), 3);
	CHECK_EQ(new_conns(2), 1);

	bpf_map_update_elem(cube_map_fd(nat, "nat_dnat"), &k, &t, BPF_ANY);
	expect(flow(4, IPPROTO_TCP, "198.51.100.1", 1234, "192.0.2.100", 30080), UNBALANCED,
	       flow(4, IPPROTO_TCP, "198.51.100.1", 1234, "10.244.0.9", 80));
	/* Slot 3 holds no endpoint: the nat_dnat rule applies, slot 3 counts nothing. */
	expect(flow(4, IPPROTO_TCP, "198.51.100.1", 1235, "192.0.2.100", 30080), 3,
	       flow(4, IPPROTO_TCP, "198.51.100.1", 1235, "10.244.0.9", 80));
	CHECK_EQ(new_conns(1), 3);
	CHECK_EQ(new_conns(2), 1);
	CHECK_EQ(new_conns(3), 0);
	CHECK_EQ(new_conns(0), 0);
	CHECK_EQ(conn_count(), 2 * 6);
	teardown();
}

/* s with no backend: the port unreachable that answers it, and nothing opened. */
static void expect_rejected(struct pkt_spec s)
{
	uint8_t f[PKT_MAX], w[PKT_MAX];
	size_t len = pkt_build(&s, f), wlen = pkt_port_unreachable(f, len, w);
	struct run_result res;

	CHECK_EQ(run(&s, CUBE_NO_BACKEND, &res), hook_ret_tx(hook));
	CHECK_EQ(res.out_len, wlen);
	CHECK_MEM(res.out, w, wlen);
	CHECK(pkt_l4_csum_ok(res.out, res.out_len), "ICMP checksum");
}

/*
 * A service without endpoints: maglev says so (CUBE_META_F_BACKEND with
 * CUBE_NO_BACKEND) and nat rejects the new connection with an ICMP port
 * unreachable from the ClusterIP, as kube-proxy does, opening nothing. A
 * connection opened before the endpoints went keeps its translation.
 */
TEST(no_backend_rejected)
{
	setup();
	REQUIRE(parser && nat, "load");
	backend(1, 4, "10.244.0.5", 8080);
	struct pkt_spec old = flow(4, IPPROTO_TCP, "10.244.1.2", 40000, "10.96.0.10", 80);

	expect(old, 1, flow(4, IPPROTO_TCP, "10.244.1.2", 40000, "10.244.0.5", 8080));
	CHECK_EQ(conn_count(), 2);

	struct pkt_spec syn = flow(4, IPPROTO_TCP, "10.244.1.2", 40001, "10.96.0.10", 80);

	syn.tcp_flags = 0x02;
	syn.payload_len = 0;
	expect_rejected(syn);
	expect_rejected(flow(4, IPPROTO_UDP, "10.244.1.2", 5353, "10.96.0.11", 53));
	expect_rejected(flow(6, IPPROTO_UDP, "fd00::1:2", 5353, "fd00:96::11", 53));
	CHECK_EQ(conn_count(), 2);
	CHECK_EQ(new_conns(1), 1);
	/* maglev has no backend any more; the open connection goes on. */
	expect(old, CUBE_NO_BACKEND, flow(4, IPPROTO_TCP, "10.244.1.2", 40000, "10.244.0.5", 8080));
	struct cube_stats st = harness_stats(nat);

	CHECK_EQ(st.rx_packets, 5);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 5);
	teardown();
}

static const struct test_case cases[] = {
    TEST_ENTRY(hairpin_round_trip),	TEST_ENTRY(hairpin_only_to_self),
    TEST_ENTRY(hairpin_port_collision), TEST_ENTRY(new_connections_per_backend),
    TEST_ENTRY(no_backend_rejected),
};

int main(void)
{
	return harness_run_hooks("nat_service", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
