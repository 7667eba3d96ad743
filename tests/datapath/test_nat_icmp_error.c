// SPDX-License-Identifier: Apache-2.0
/*
 * ICMP errors about translated connections, through a parser and a nat
 * cube. Each case sends a packet through the nat, then the error that
 * packet, as translated, draws (from its destination or from a router on
 * the way). The nat must put out, byte for byte, the error the untranslated
 * packet would have drawn: the quote as the sender sent it, checksums
 * computed in full, the outer addresses those of the sender and of what it
 * reached. Errors the nat does not own go on untouched; malformed ones are
 * untouched or dropped, never half-rewritten.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"
#include "lib/abi/nat.h"
#include "lib/abi/drop_reasons.h"

static enum cube_hook hook;
static struct cube *parser, *nat;

#define POD	 "10.0.0.2"
#define POD6	 "fd00::2"
#define NODE	 "192.0.2.1"
#define NODE6	 "2001:db8::1"
#define VIP	 "203.0.113.10"
#define VIP6	 "2001:db8:5::10"
#define BACKEND	 "10.0.0.5"
#define BACKEND6 "fd00::5"
#define CLIENT	 "198.51.100.7"
#define CLIENT6	 "2001:db8:7::7"
#define REMOTE	 "198.51.100.9"
#define REMOTE6	 "2001:db8:9::9"
#define ROUTER	 "198.51.100.254"
#define ROUTER6	 "2001:db8:9::fe"

static void setup(void)
{
	parser = harness_cube("parser", hook, NULL, NULL);
	nat = harness_cube("nat", hook, NULL, NULL);
	if (!parser || !nat)
		return;
	cube_connect_cube(parser, 0, nat);
	cube_connect_port(nat, NAT_PORT_OUT, CUBE_PORT_TX, 0);

	/* Pods masquerade to the node; the VIP's port 80 (TCP and UDP) is
	 * the backend's 8080, in both families. */
	struct nat_snat_lpm4_key s4 = {.prefixlen = 8, .saddr = pkt_ip4("10.0.0.0").ip4};
	struct nat_snat_lpm6_key s6 = {.prefixlen = 64};
	struct nat_snat_target n4 = {.addr = pkt_ip4(NODE), .flags = NAT_SNAT_F_MASQUERADE};
	struct nat_snat_target n6 = {.addr = pkt_ip6(NODE6), .flags = NAT_SNAT_F_MASQUERADE};

	memcpy(s6.saddr, pkt_ip6("fd00::").bytes, 16);
	bpf_map_update_elem(cube_map_fd(nat, "nat_snat4"), &s4, &n4, BPF_ANY);
	bpf_map_update_elem(cube_map_fd(nat, "nat_snat6"), &s6, &n6, BPF_ANY);
	for (uint8_t proto = IPPROTO_TCP; proto; proto = proto == IPPROTO_TCP ? IPPROTO_UDP : 0) {
		struct nat_dnat_key k4 = {
		    .daddr = pkt_ip4(VIP), .dport = htons(80), .proto = proto, .family = 4};
		struct nat_dnat_key k6 = {
		    .daddr = pkt_ip6(VIP6), .dport = htons(80), .proto = proto, .family = 6};
		struct nat_dnat_target t4 = {
		    .addr = pkt_ip4(BACKEND), .port = htons(8080), .flags = NAT_DNAT_F_VALID};
		struct nat_dnat_target t6 = {
		    .addr = pkt_ip6(BACKEND6), .port = htons(8080), .flags = NAT_DNAT_F_VALID};

		bpf_map_update_elem(cube_map_fd(nat, "nat_dnat"), &k4, &t4, BPF_ANY);
		bpf_map_update_elem(cube_map_fd(nat, "nat_dnat"), &k6, &t6, BPF_ANY);
	}
}

static void teardown(void)
{
	cube_destroy(parser);
	cube_destroy(nat);
}

static struct pkt_spec flow(int family, uint8_t proto, const char *src, uint16_t sport,
			    const char *dst, uint16_t dport)
{
	struct pkt_spec s = {.family = family, .proto = proto, .sport = sport, .dport = dport};

	s.saddr = family == 4 ? pkt_ip4(src) : pkt_ip6(src);
	s.daddr = family == 4 ? pkt_ip4(dst) : pkt_ip6(dst);
	pkt_mac(s.smac, "02:00:00:00:00:01");
	pkt_mac(s.dmac, "02:00:00:00:00:02");
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		s.icmp_type = proto == IPPROTO_ICMP ? 8 : 128; /* echo request */
		s.icmp_id = sport;
		s.sport = s.dport = 0;
	}
	s.payload_len = 32;
	return s;
}

/* Linux quotes as much of the packet as keeps an ICMPv4 error within 576
 * bytes (RFC 1812 4.3.2.3), not just RFC 792's header and 8 bytes. */
#define QUOTE_LINUX (576 - 20 - 8)

/*
 * The error frame f (len bytes) draws: from its destination (router NULL)
 * or from router, of type and code (an MTU in the rest of the header for
 * "too big"), quoting (IPv4) up to quote_max bytes of f's IP packet, or
 * RFC 792's minimum for 0. Checksums in full. Returns the error's length.
 */
static size_t error_quoting(const uint8_t *f, size_t len, const char *router, uint8_t type,
			    uint8_t code, size_t quote_max, uint8_t *out)
{
	size_t n = pkt_port_unreachable(f, len, out);
	int l3 = pkt_l3_off(out, n);
	uint8_t proto;
	int l4 = pkt_l4_off(out, n, &proto);
	int v4 = proto == IPPROTO_ICMP;

	if (v4 && quote_max) {
		size_t tot = (size_t)f[l3 + 2] << 8 | f[l3 + 3];
		size_t quote = tot < quote_max ? tot : quote_max;

		memcpy(out + l4 + 8, f + l3, quote);
		n = (size_t)l4 + 8 + quote;
		out[l3 + 2] = (uint8_t)((n - l3) >> 8);
		out[l3 + 3] = (uint8_t)(n - l3);
	}

	if (router) {
		union cube_addr r = v4 ? pkt_ip4(router) : pkt_ip6(router);

		memcpy(out + l3 + (v4 ? 12 : 8), r.bytes, v4 ? 4 : 16);
	}
	out[l4] = type;
	out[l4 + 1] = code;
	if ((v4 && type == 3 && code == 4) || (!v4 && type == 2)) {
		out[l4 + 6] = 0x05; /* MTU 1400 */
		out[l4 + 7] = 0x78;
	}
	pkt_fix_csums(out, n);
	return n;
}

static size_t error_of(const uint8_t *f, size_t len, const char *router, uint8_t type, uint8_t code,
		       uint8_t *out)
{
	return error_quoting(f, len, router, type, code, 0, out);
}

/* Run f through the chain; the frame must come out as want. */
static void expect_out(const uint8_t *f, size_t len, const uint8_t *want, size_t want_len)
{
	struct run_result res;

	harness_run(parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_EQ(res.out_len, want_len);
	CHECK_MEM(res.out, want, want_len);
}

/* Send s through the nat; *after gets what came out. */
static size_t send_through(struct pkt_spec s, uint8_t *before, size_t *before_len, uint8_t *after)
{
	struct run_result res;

	*before_len = pkt_build(&s, before);
	harness_run(parser, before, *before_len, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	memcpy(after, res.out, res.out_len);
	return res.out_len;
}

struct error_case {
	const char *name;
	struct pkt_spec sent;	/* what the sender put on the wire */
	struct pkt_spec answer; /* if set: the reply, whose error is asked for */
	const char *router;	/* who reports: NULL for the packet's destination */
	uint8_t type, code;
};

/* The case with the error quoting up to quote_max bytes (IPv4; 0: RFC
 * 792's minimum). */
static void run_error_case_quoting(const struct error_case *c, size_t quote_max)
{
	static uint8_t before[PKT_MAX], after[PKT_MAX], err[PKT_MAX], want[PKT_MAX];
	size_t blen, alen, elen, wlen;

	alen = send_through(c->sent, before, &blen, after);
	if (c->answer.family)
		alen = send_through(c->answer, before, &blen, after);
	elen = error_quoting(after, alen, c->router, c->type, c->code, quote_max, err);
	wlen = error_quoting(before, blen, c->router, c->type, c->code, quote_max, want);
	int failures = test_failures;

	expect_out(err, elen, want, wlen);
	CHECK(failures == test_failures, "case: %s", c->name);
}

static void run_error_case(const struct error_case *c)
{
	run_error_case_quoting(c, 0);
}

TEST(errors_follow_their_connections)
{
	setup();
	REQUIRE(parser && nat, "load");
	struct pkt_spec dnat_tcp = flow(4, IPPROTO_TCP, CLIENT, 5555, VIP, 80);
	struct pkt_spec dnat_reply = flow(4, IPPROTO_TCP, BACKEND, 8080, CLIENT, 5556);
	struct pkt_spec dnat_tcp2 = flow(4, IPPROTO_TCP, CLIENT, 5556, VIP, 80);
	const struct error_case cases[] = {
	    {"a backend's port unreachable, from the VIP", dnat_tcp, {}, NULL, 3, 3},
	    {"UDP to a service: refused",
	     flow(4, IPPROTO_UDP, CLIENT, 5353, VIP, 80),
	     {},
	     NULL,
	     3,
	     3},
	    {"fragmentation needed on the way out of masquerade",
	     flow(4, IPPROTO_TCP, POD, 40000, REMOTE, 443),
	     {},
	     ROUTER,
	     3,
	     4},
	    {"the remote's own port unreachable",
	     flow(4, IPPROTO_UDP, POD, 40001, REMOTE, 53),
	     {},
	     NULL,
	     3,
	     3},
	    {"time exceeded for a masqueraded echo",
	     flow(4, IPPROTO_ICMP, POD, 777, REMOTE, 0),
	     {},
	     ROUTER,
	     11,
	     0},
	    {"masqueraded to a service: both sides translated",
	     flow(4, IPPROTO_TCP, POD, 40002, VIP, 80),
	     {},
	     NULL,
	     3,
	     3},
	    {"about a reply, from the client's side", dnat_tcp2, dnat_reply, ROUTER, 3, 4},
	    {"IPv6 packet too big out of masquerade",
	     flow(6, IPPROTO_TCP, POD6, 40000, REMOTE6, 443),
	     {},
	     ROUTER6,
	     2,
	     0},
	    {"IPv6 service port unreachable",
	     flow(6, IPPROTO_UDP, CLIENT6, 5353, VIP6, 80),
	     {},
	     NULL,
	     1,
	     4},
	    {"IPv6 hop limit exceeded for an echo",
	     flow(6, IPPROTO_ICMPV6, POD6, 778, REMOTE6, 0),
	     {},
	     ROUTER6,
	     3,
	     0},
	};

	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < n; i++)
		run_error_case(&cases[i]);
	struct cube_stats st = harness_stats(nat);

	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 0);
	/* Each case: its packet (and reply) and its error. */
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 2 * n + 1);
	teardown();
}

/* An error quoting what the nat never saw, or cannot read, goes on as it
 * is; one that ends inside its own header is dropped. */
TEST(errors_not_ours_or_malformed)
{
	static uint8_t before[PKT_MAX], after[PKT_MAX], err[PKT_MAX];
	struct run_result res;
	size_t blen, alen, elen;
	int l4;
	uint8_t proto;

	setup();
	REQUIRE(parser && nat, "load");
	struct pkt_spec s = flow(4, IPPROTO_TCP, POD, 41000, REMOTE, 443);

	/* Never sent through the nat. */
	blen = pkt_build(&s, before);
	elen = error_of(before, blen, ROUTER, 3, 4, err);
	expect_out(err, elen, err, elen);

	alen = send_through(s, before, &blen, after);
	elen = error_of(after, alen, ROUTER, 3, 4, err);
	l4 = pkt_l4_off(err, elen, &proto);
	REQUIRE(l4 > 0 && proto == IPPROTO_ICMP, "error built");

	/* A quote cut short of its ports. */
	uint8_t cut[PKT_MAX];
	size_t cut_len = (size_t)l4 + 8 + 20 + 4;

	memcpy(cut, err, cut_len);
	cut[pkt_l3_off(cut, cut_len) + 3] = (uint8_t)(cut_len - pkt_l3_off(cut, cut_len));
	pkt_fix_csums(cut, cut_len);
	expect_out(cut, cut_len, cut, cut_len);

	/* A quote that is not IPv4, or quotes an IPv4 header shorter than 20. */
	for (int bad = 0; bad < 2; bad++) {
		uint8_t odd[PKT_MAX];

		memcpy(odd, err, elen);
		odd[l4 + 8] = bad ? 0x44 : 0x65;
		pkt_fix_csums(odd, elen);
		expect_out(odd, elen, odd, elen);
	}

	/* A quote of a later fragment: no ports to match. */
	uint8_t later[PKT_MAX];

	memcpy(later, err, elen);
	later[l4 + 8 + 7] = 0x10; /* offset 16 * 8 */
	pkt_fix_csums(later, elen);
	expect_out(later, elen, later, elen);

	/* An error that ends inside its ICMP header: the parser's to drop. */
	uint8_t stub[PKT_MAX];
	size_t stub_len = (size_t)l4 + 4;

	memcpy(stub, err, stub_len);
	stub[pkt_l3_off(stub, stub_len) + 3] = (uint8_t)(stub_len - pkt_l3_off(stub, stub_len));
	pkt_fix_csums(stub, stub_len);
	harness_run(parser, stub, stub_len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(parser).drop[CUBE_DROP_ICMP_TRUNCATED], 1);

	/* Link-layer padding after a short quote is not read as quote. */
	uint8_t padded[PKT_MAX];

	memcpy(padded, cut, cut_len);
	memset(padded + cut_len, 0xab, 16);
	expect_out(padded, cut_len + 16, padded, cut_len + 16);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_DROP], 0);

	/* And the connection itself still translates as before. */
	struct run_result again;

	harness_run(parser, before, blen, &again);
	CHECK_EQ(again.out_len, alen);
	CHECK_MEM(again.out, after, alen);
	teardown();
}

static struct pkt_spec with_options(struct pkt_spec s, uint8_t words)
{
	s.ipv4_opt_words = words;
	return s;
}

static struct pkt_spec without_udp_csum(struct pkt_spec s)
{
	s.udp_no_csum = true;
	return s;
}

/*
 * IPv4 errors as Linux sends them, quoting the whole packet (up to 548
 * bytes): the quote's TCP checksum is then in it and must be kept right
 * too; and quotes of IPv4 packets with options, of UDP sent without a
 * checksum, of TCP cut between its ports and its checksum.
 */
TEST(errors_quoting_more_than_eight_bytes)
{
	setup();
	REQUIRE(parser && nat, "load");
	const struct {
		struct error_case c;
		size_t quote_max;
	} cases[] = {
	    {{"masqueraded TCP, frag needed, whole packet quoted",
	      flow(4, IPPROTO_TCP, POD, 42000, REMOTE, 443),
	      {},
	      ROUTER,
	      3,
	      4},
	     QUOTE_LINUX},
	    {{"service TCP, the backend's refusal, whole packet quoted",
	      flow(4, IPPROTO_TCP, CLIENT, 6000, VIP, 80),
	      {},
	      NULL,
	      3,
	      3},
	     QUOTE_LINUX},
	    {{"masqueraded to a service, whole packet quoted",
	      flow(4, IPPROTO_TCP, POD, 42001, VIP, 80),
	      {},
	      NULL,
	      3,
	      3},
	     QUOTE_LINUX},
	    {{"masqueraded UDP with a checksum, whole packet quoted",
	      flow(4, IPPROTO_UDP, POD, 42002, REMOTE, 53),
	      {},
	      NULL,
	      3,
	      3},
	     QUOTE_LINUX},
	    {{"masqueraded UDP without a checksum",
	      without_udp_csum(flow(4, IPPROTO_UDP, POD, 42003, REMOTE, 53)),
	      {},
	      NULL,
	      3,
	      3},
	     0},
	    {{"service UDP without a checksum, whole packet quoted",
	      without_udp_csum(flow(4, IPPROTO_UDP, CLIENT, 6001, VIP, 80)),
	      {},
	      NULL,
	      3,
	      3},
	     QUOTE_LINUX},
	    {{"masqueraded echo, whole packet quoted",
	      flow(4, IPPROTO_ICMP, POD, 779, REMOTE, 0),
	      {},
	      ROUTER,
	      11,
	      0},
	     QUOTE_LINUX},
	    {{"masqueraded TCP with IP options, 8 bytes quoted",
	      with_options(flow(4, IPPROTO_TCP, POD, 42004, REMOTE, 443), 3),
	      {},
	      ROUTER,
	      3,
	      4},
	     0},
	    {{"service TCP with IP options, whole packet quoted",
	      with_options(flow(4, IPPROTO_TCP, CLIENT, 6002, VIP, 80), 10),
	      {},
	      NULL,
	      3,
	      3},
	     QUOTE_LINUX},
	    {{"masqueraded TCP, 12 bytes of it quoted",
	      flow(4, IPPROTO_TCP, POD, 42005, REMOTE, 443),
	      {},
	      ROUTER,
	      3,
	      4},
	     20 + 12},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < n; i++)
		run_error_case_quoting(&cases[i].c, cases[i].quote_max);
	struct cube_stats st = harness_stats(nat);

	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 0);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 2 * n);
	teardown();
}

/*
 * The node chain's connections: through a load balancer's backend id, a
 * pod reaching its own service (hairpin, its source the node's) and an
 * external client of a NodePort whose endpoint is on another node
 * (masqueraded to the node). The first packet runs through a parser of its
 * own, then the nat with the metadata maglev and the classifier leave.
 */
TEST(errors_of_node_chain_connections)
{
	setup();
	REQUIRE(parser && nat, "load");
	struct cube *lone = harness_cube("parser", hook, NULL, NULL);

	REQUIRE(lone, "load");
	cube_connect_port(lone, 0, CUBE_PORT_TX, 0);
	uint32_t zero = 0, id = 7;
	struct nat_cfg cfg = {.hairpin4 = pkt_ip4(NODE), .hairpin6 = pkt_ip6(NODE6)};
	struct nat_dnat_target to_self = {
	    .addr = pkt_ip4(POD), .port = htons(8080), .flags = NAT_DNAT_F_VALID};
	struct nat_dnat_target remote = {.addr = pkt_ip4("10.1.0.9"),
					 .port = htons(8080),
					 .flags =
					     NAT_DNAT_F_VALID | NAT_DNAT_F_MASQUERADE_EXTERNAL};

	bpf_map_update_elem(cube_map_fd(nat, "nat_cfg"), &zero, &cfg, BPF_ANY);
	bpf_map_update_elem(cube_map_fd(nat, "nat_backends"), &id, &to_self, BPF_ANY);
	id = 8;
	bpf_map_update_elem(cube_map_fd(nat, "nat_backends"), &id, &remote, BPF_ANY);

	const struct {
		struct error_case c;
		uint32_t backend_id, flags;
	} cases[] = {
	    {{"hairpin: the pod refuses itself",
	      flow(4, IPPROTO_UDP, POD, 43000, VIP, 80),
	      {},
	      NULL,
	      3,
	      3},
	     7,
	     CUBE_META_F_BACKEND},
	    {{"NodePort client masqueraded to a remote endpoint, refused",
	      flow(4, IPPROTO_UDP, CLIENT, 6100, NODE, 30080),
	      {},
	      NULL,
	      3,
	      3},
	     8,
	     CUBE_META_F_BACKEND | CUBE_META_F_EXTERNAL},
	    {{"NodePort client masqueraded to a remote endpoint, frag needed",
	      flow(4, IPPROTO_TCP, CLIENT, 6101, NODE, 30080),
	      {},
	      ROUTER,
	      3,
	      4},
	     8,
	     CUBE_META_F_BACKEND | CUBE_META_F_EXTERNAL},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < n; i++) {
		static uint8_t before[PKT_MAX], err[PKT_MAX], want[PKT_MAX];
		const struct error_case *c = &cases[i].c;
		struct run_result res;
		struct cube_meta m;
		size_t blen = pkt_build(&c->sent, before), elen, wlen;

		harness_run(lone, before, blen, &res);
		harness_meta(&m);
		m.version = CUBE_META_VERSION;
		m.backend_id = cases[i].backend_id;
		m.flags |= cases[i].flags;
		harness_meta_set(&m);
		harness_run(nat, before, blen, &res);
		CHECK_EQ(res.retval, hook_ret_tx(hook));
		elen = error_of(res.out, res.out_len, c->router, c->type, c->code, err);
		wlen = error_of(before, blen, c->router, c->type, c->code, want);
		int failures = test_failures;

		expect_out(err, elen, want, wlen);
		CHECK(failures == test_failures, "case: %s", c->name);
	}
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_DROP], 0);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_TX], 2 * n);
	cube_destroy(lone);
	teardown();
}

static struct pkt_spec fragment(struct pkt_spec s, uint16_t off_m)
{
	s.ipv6_frag = true;
	s.ipv6_frag_off = off_m;
	return s;
}

/*
 * IPv6 routers do not fragment, so a pod's UDP datagram larger than its
 * link leaves as fragments its own stack made, each with a fragment
 * header; a narrower link beyond draws "packet too big" quoting one. The
 * first fragment's quote holds the ports: the error must reach the pod as
 * about the fragment it sent. A later one's quote holds none and goes on
 * as it is.
 */
TEST(errors_about_ipv6_fragments)
{
	static uint8_t before[PKT_MAX], after[PKT_MAX], err[PKT_MAX], want[PKT_MAX];
	struct pkt_spec first = fragment(flow(6, IPPROTO_UDP, POD6, 40010, REMOTE6, 53), 1);
	struct run_result res;
	size_t blen, alen, elen, wlen;
	uint8_t proto;
	int l4;

	setup();
	REQUIRE(parser && nat, "load");
	/* The sender's checksum, over the whole datagram, which the test
	 * builder leaves to the caller for a fragment. */
	blen = pkt_build(&first, before);
	l4 = pkt_l4_off(before, blen, &proto);
	REQUIRE(l4 > 0 && proto == IPPROTO_UDP, "first fragment built");
	before[l4 + 6] = 0x5a;
	before[l4 + 7] = 0x17;
	harness_run(parser, before, blen, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	alen = res.out_len;
	memcpy(after, res.out, alen);
	elen = error_of(after, alen, ROUTER6, 2, 0, err);
	wlen = error_of(before, blen, ROUTER6, 2, 0, want);
	expect_out(err, elen, want, wlen);

	alen = send_through(fragment(flow(6, IPPROTO_UDP, POD6, 40010, REMOTE6, 53), 185 << 3),
			    before, &blen, after);
	elen = error_of(after, alen, ROUTER6, 2, 0, err);
	expect_out(err, elen, err, elen);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_DROP], 0);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_TX], 4);
	teardown();
}

static const struct test_case cases[] = {
    TEST_ENTRY(errors_follow_their_connections),      TEST_ENTRY(errors_not_ours_or_malformed),
    TEST_ENTRY(errors_quoting_more_than_eight_bytes), TEST_ENTRY(errors_of_node_chain_connections),
    TEST_ENTRY(errors_about_ipv6_fragments),
};

int main(void)
{
	return harness_run_hooks("nat_icmp_error", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
