// SPDX-License-Identifier: Apache-2.0
/*
 * tunnel cube behind a parser, both sides, on frames a test run carries
 * (no tunnel metadata: a test run cannot decapsulate). Sending without a
 * next hop is refused; receiving, a frame the tunnel netdev did not leave a
 * key on is dropped however plausible its inner source, and counted.
 */
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"
#include "lib/abi/tunnel.h"

static enum cube_hook hook;

struct side {
	uint32_t rx;
};

static int configure(struct cube *cube, void *arg)
{
	const struct side *side = arg;
	uint32_t vni = 4242;

	return cube_set_const(cube, "tunnel_vni", &vni, sizeof(vni)) ||
	       cube_set_const(cube, "tunnel_rx", &side->rx, sizeof(side->rx));
}

static struct pkt_spec from_a_pod(void)
{
	struct pkt_spec s = {.family = 4,
			     .saddr = pkt_ip4("10.250.2.5"),
			     .daddr = pkt_ip4("10.250.1.5"),
			     .proto = IPPROTO_UDP,
			     .sport = 40000,
			     .dport = 7000,
			     .payload_len = 16,
			     .ttl = 64};
	pkt_mac(s.dmac, "02:63:6e:76:78:01");
	pkt_mac(s.smac, "02:63:6e:76:78:02");
	return s;
}

/* One frame through parser -> tunnel: dropped for reason, counted once. */
static void expect_dropped(uint32_t rx, struct pkt_spec s, enum cube_drop_reason reason)
{
	struct side side = {rx};
	struct cube *parser = harness_cube("parser", hook, NULL, NULL);
	struct cube *tunnel = harness_cube("tunnel", hook, configure, &side);
	uint8_t f[PKT_MAX];
	struct run_result res;
	size_t len;

	REQUIRE(parser && tunnel, "load");
	cube_connect_cube(parser, 0, tunnel);
	len = pkt_build(&s, f);
	if (rx) {
		/* The very source the peer owns: without a key it is nobody's. */
		struct router_lpm4_key k = {.prefixlen = 24, .addr = pkt_ip4("10.250.2.0").ip4};
		struct tunnel_source src = {pkt_ip4("198.51.100.2").ip4};

		REQUIRE(
		    !bpf_map_update_elem(cube_map_fd(tunnel, "tunnel_sources"), &k, &src, BPF_ANY),
		    "tunnel_sources");
	}
	harness_run(parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	struct cube_stats st = harness_stats(tunnel);
	CHECK_EQ(st.rx_packets, 1);
	CHECK_EQ(st.rx_bytes, len);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 1);
	CHECK_EQ(st.drop[reason], 1);
	CHECK_EQ(st.port_out[TUNNEL_PORT_OUT], 0);
	cube_destroy(parser);
	cube_destroy(tunnel);
}

TEST(sending_without_a_next_hop_is_refused)
{
	expect_dropped(0, from_a_pod(), CUBE_DROP_TUNNEL_NO_REMOTE);
}

TEST(received_without_a_tunnel_key_is_dropped)
{
	expect_dropped(1, from_a_pod(), CUBE_DROP_TUNNEL_FOREIGN_KEY);
	struct pkt_spec s = from_a_pod();

	s.family = 6;
	s.saddr = pkt_ip6("2001:db8:2::5");
	s.daddr = pkt_ip6("2001:db8:1::5");
	expect_dropped(1, s, CUBE_DROP_TUNNEL_FOREIGN_KEY);
}

static const struct test_case cases[] = {
    TEST_ENTRY(sending_without_a_next_hop_is_refused),
    TEST_ENTRY(received_without_a_tunnel_key_is_dropped),
};

int main(void)
{
	return harness_run_hooks("tunnel", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
