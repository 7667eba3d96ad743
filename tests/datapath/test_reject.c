// SPDX-License-Identifier: Apache-2.0
/*
 * lib/reject.h through a cube that rejects every packet a parser hands it,
 * on XDP and TC. Each error sent must equal, byte for byte, one built here
 * from the original frame as RFC 792 / RFC 4443 describe it (checksums
 * computed in full); each packet no error may answer must be dropped
 * untouched with the reason counted; the rate limit must hold.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"

static enum cube_hook hook;
static struct cube *parser, *rejector;

/* The test cube is no cube type of libcubenet: open its object by path. */
static struct cube *reject_cube(uint32_t per_sec, uint32_t burst)
{
	const char *path = hook == CUBE_HOOK_TC ? REJECT_TEST_TC : REJECT_TEST_XDP;
	struct cube *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->hook = hook;
	c->prog_fd = -1;
	c->obj = bpf_object__open_file(path, NULL);
	c->prog = c->obj ? bpf_object__find_program_by_name(c->obj, "cube_reject_test") : NULL;
	err = !c->prog || cube_set_const(c, "cube_reject_per_sec", &per_sec, sizeof(per_sec)) ||
	      cube_set_const(c, "cube_reject_burst", &burst, sizeof(burst)) ||
	      cube_load(c, &harness_shared);
	if (err) {
		fprintf(stderr, "  cannot load %s\n", path);
		test_failures++;
		cube_destroy(c);
		return NULL;
	}
	return c;
}

static void setup(uint32_t per_sec, uint32_t burst)
{
	parser = harness_cube("parser", hook, NULL, NULL);
	rejector = reject_cube(per_sec, burst);
	if (parser && rejector)
		cube_connect_cube(parser, 0, rejector);
}

static void teardown(void)
{
	cube_destroy(parser);
	cube_destroy(rejector);
}

static void expect_error(const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX], w[PKT_MAX];
	size_t len = pkt_build(s, f), wlen = pkt_port_unreachable(f, len, w);
	struct run_result res;

	harness_run(parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_EQ(res.out_len, wlen);
	CHECK_MEM(res.out, w, wlen);
	if (s->family == 4)
		CHECK(pkt_ipv4_csum_ok(res.out, res.out_len), "IPv4 checksum");
	CHECK(pkt_l4_csum_ok(res.out, res.out_len), "ICMP checksum");
}

/* Dropped as reason, the frame untouched. */
static void expect_drop(const uint8_t *f, size_t len, unsigned int reason)
{
	struct run_result res;
	uint64_t before = harness_stats(rejector).drop[reason];

	harness_run(parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, f, len);
	CHECK_EQ(harness_stats(rejector).drop[reason], before + 1);
}

static void expect_suppressed(const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];

	expect_drop(f, pkt_build(s, f), CUBE_DROP_REJECT_SUPPRESSED);
}

static struct pkt_spec pkt(int family, uint8_t proto, const char *src, const char *dst)
{
	struct pkt_spec s = {.family = family,
			     .saddr = family == 4 ? pkt_ip4(src) : pkt_ip6(src),
			     .daddr = family == 4 ? pkt_ip4(dst) : pkt_ip6(dst),
			     .proto = proto,
			     .sport = 40000,
			     .dport = 80,
			     .tcp_flags = 0x02, /* SYN */
			     .payload_len = 0};
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

/* TCP SYN and UDP to a service with no endpoint, IPv4: an ICMP port
 * unreachable from the ClusterIP, quoting the header and 8 bytes. Frames
 * shorter than the error grow; longer ones shrink. */
TEST(ipv4_port_unreachable)
{
	setup(1000, 100);
	REQUIRE(parser && rejector, "load");
	struct pkt_spec s = pkt(4, IPPROTO_TCP, "10.244.0.5", "10.96.0.10");

	expect_error(&s);
	s.proto = IPPROTO_UDP;
	expect_error(&s); /* 28 bytes of IP: the error is longer than the packet */
	s.payload_len = 1400;
	expect_error(&s);
	s.ipv4_opt_words = 3; /* options are quoted with the header */
	expect_error(&s);
	s.ipv4_opt_words = 0;
	s.nvlan = 2; /* the tags go back as they came */
	s.vlan_tci[0] = 100;
	s.vlan_tci[1] = 200;
	s.vlan_tpid[0] = 0x88a8;
	expect_error(&s);
	s.nvlan = 0;
	s.ipv4_frag = 0x2000; /* a first fragment may be answered */
	expect_error(&s);
	s.ipv4_frag = 0;
	s.proto = IPPROTO_ICMP; /* so may an echo request */
	s.icmp_type = 8;
	s.payload_len = 56;
	expect_error(&s);
	struct cube_stats st = harness_stats(rejector);

	CHECK_EQ(st.rx_packets, 7);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 7);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 0);
	teardown();
}

/* IPv6: ICMPv6 type 1 code 4, quoting as much as fits in 1280 bytes. */
TEST(ipv6_port_unreachable)
{
	setup(1000, 100);
	REQUIRE(parser && rejector, "load");
	struct pkt_spec s = pkt(6, IPPROTO_TCP, "fd00::5", "fd00:96::10");

	expect_error(&s);
	s.proto = IPPROTO_UDP;
	s.payload_len = 100;
	expect_error(&s);
	s.payload_len = 1232 - 40 - 8; /* exactly fits */
	expect_error(&s);
	s.payload_len = 3000; /* cut at 1280 */
	expect_error(&s);
	s.ipv6_ext = 2; /* extension headers are quoted */
	expect_error(&s);
	s.ipv6_ext = 0;
	s.ipv6_frag = true; /* a first fragment */
	s.ipv6_frag_off = 1;
	s.payload_len = 1000;
	expect_error(&s);
	s.ipv6_frag = false;
	s.proto = IPPROTO_ICMPV6;
	s.icmp_type = 128; /* echo request */
	expect_error(&s);
	s.nvlan = 1;
	s.vlan_tci[0] = 7;
	expect_error(&s);
	CHECK_EQ(harness_stats(rejector).verdict[CUBE_VERDICT_TX], 8);
	teardown();
}

/*
 * RFC 1122 3.2.2, RFC 4443 2.4(e): no error for an error, a later
 * fragment, a group destination (IP or link layer) or a source that names
 * no single host. None of them costs a token: with a bucket of one, an
 * error still goes out after all of them.
 */
TEST(never_answered)
{
	const char *bad_src4[] = {"0.0.0.0", "127.0.0.1", "224.0.0.5", "240.0.0.1",
				  "255.255.255.255"};
	const char *bad_dst4[] = {"255.255.255.255", "224.0.0.1", "239.1.2.3", "240.0.0.9"};
	const char *bad_src6[] = {"::", "::1", "ff02::1"};
	struct pkt_spec s;

	setup(1, 1);
	REQUIRE(parser && rejector, "load");
	for (int type = 0; type < 256; type++) {
		int query = type == 0 || type == 8 || (type >= 13 && type <= 18);

		if (query)
			continue;
		s = pkt(4, IPPROTO_ICMP, "10.244.0.5", "10.96.0.10");
		s.icmp_type = (uint8_t)type;
		s.payload_len = 28;
		expect_suppressed(&s);
	}
	for (int type = 0; type < 128; type++) {
		s = pkt(6, IPPROTO_ICMPV6, "fd00::5", "fd00:96::10");
		s.icmp_type = (uint8_t)type;
		s.payload_len = 48;
		expect_suppressed(&s);
	}
	s = pkt(6, IPPROTO_ICMPV6, "fd00::5", "fd00:96::10");
	s.icmp_type = 137; /* redirect */
	s.payload_len = 40;
	expect_suppressed(&s);

	s = pkt(4, IPPROTO_UDP, "10.244.0.5", "10.96.0.10");
	s.ipv4_frag = 185; /* a last fragment */
	expect_suppressed(&s);
	s.ipv4_frag = 0x2000 | 1;
	expect_suppressed(&s);
	s = pkt(6, IPPROTO_UDP, "fd00::5", "fd00:96::10");
	s.ipv6_frag = true;
	s.ipv6_frag_off = 1480 | 1;
	expect_suppressed(&s);

	for (size_t i = 0; i < sizeof(bad_src4) / sizeof(bad_src4[0]); i++) {
		s = pkt(4, IPPROTO_UDP, bad_src4[i], "10.96.0.10");
		expect_suppressed(&s);
	}
	for (size_t i = 0; i < sizeof(bad_dst4) / sizeof(bad_dst4[0]); i++) {
		s = pkt(4, IPPROTO_UDP, "10.244.0.5", bad_dst4[i]);
		expect_suppressed(&s);
	}
	for (size_t i = 0; i < sizeof(bad_src6) / sizeof(bad_src6[0]); i++) {
		s = pkt(6, IPPROTO_UDP, bad_src6[i], "fd00:96::10");
		expect_suppressed(&s);
	}
	s = pkt(6, IPPROTO_UDP, "fd00::5", "ff02::1");
	expect_suppressed(&s);
	s = pkt(4, IPPROTO_UDP, "10.244.0.5", "10.96.0.10");
	pkt_mac(s.dmac, "ff:ff:ff:ff:ff:ff");
	expect_suppressed(&s);
	pkt_mac(s.dmac, "01:00:5e:00:00:01");
	expect_suppressed(&s);
	s = pkt(6, IPPROTO_UDP, "fd00::5", "fd00:96::10");
	pkt_mac(s.dmac, "33:33:00:00:00:01");
	expect_suppressed(&s);
	/* Not IP at all. */
	struct pkt_spec arp = {.ethertype = 0x0806, .payload_len = 28};
	uint8_t f[PKT_MAX];

	expect_drop(f, pkt_build(&arp, f), CUBE_DROP_REJECT_SUPPRESSED);

	s = pkt(4, IPPROTO_UDP, "10.244.0.5", "10.96.0.10");
	expect_error(&s);
	struct cube_stats st = harness_stats(rejector);

	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 1);
	CHECK_EQ(st.drop[CUBE_DROP_REJECT_RATE_LIMITED], 0);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], st.drop[CUBE_DROP_REJECT_SUPPRESSED]);
	CHECK_EQ(st.rx_packets, st.verdict[CUBE_VERDICT_TX] + st.verdict[CUBE_VERDICT_DROP]);
	teardown();
}

/* A flood gets a burst of errors, then one per 1 / rate seconds: the rest
 * are dropped untouched and counted. A rate of 0 sends none. */
TEST(rate_limited)
{
	struct pkt_spec s = pkt(4, IPPROTO_UDP, "10.244.0.5", "10.96.0.10");
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);

	setup(1, 3);
	REQUIRE(parser && rejector, "load");
	for (int i = 0; i < 3; i++)
		expect_error(&s);
	for (int i = 0; i < 20; i++)
		expect_drop(f, len, CUBE_DROP_REJECT_RATE_LIMITED);
	usleep(1100 * 1000);
	expect_error(&s);
	expect_drop(f, len, CUBE_DROP_REJECT_RATE_LIMITED);
	struct cube_stats st = harness_stats(rejector);

	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 4);
	CHECK_EQ(st.drop[CUBE_DROP_REJECT_RATE_LIMITED], 21);
	teardown();

	setup(0, 50);
	REQUIRE(parser && rejector, "load");
	expect_drop(f, len, CUBE_DROP_REJECT_RATE_LIMITED);
	CHECK_EQ(harness_stats(rejector).verdict[CUBE_VERDICT_TX], 0);
	teardown();
}

static const struct test_case cases[] = {
    TEST_ENTRY(ipv4_port_unreachable),
    TEST_ENTRY(ipv6_port_unreachable),
    TEST_ENTRY(never_answered),
    TEST_ENTRY(rate_limited),
};

int main(void)
{
	return harness_run_hooks("reject", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
