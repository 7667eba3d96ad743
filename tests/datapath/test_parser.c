// SPDX-License-Identifier: Apache-2.0
/*
 * parser cube: every header it understands, every way a frame can be
 * malformed, on XDP and TC. The out port is wired to "transmit" so a
 * forwarded frame is told apart from a drop by the verdict alone.
 */
#include <netinet/in.h>
#include "harness.h"
#include "test.h"
#include "lib/hash.h"

static enum cube_hook hook;
static struct cube *parser;
static uint64_t expected_drops[CUBE_DROP_MAX];
static uint64_t expected_forwards;
/* Shortest and longest frames the kernel's test run accepts for this hook:
 * skb test runs refuse short frames and frames over a page. */
static size_t run_min, run_max;
static unsigned int kernel_refused;

static void probe_run_limits(void)
{
	uint8_t f[PKT_MAX] = {0};
	struct run_result res;

	f[12] = 0x88; /* an ethertype the parser forwards untouched */
	f[13] = 0xb5;
	for (run_min = 1; run_min < 128; run_min++)
		if (harness_run(parser, f, run_min, &res) == 0) {
			expected_forwards++;
			break;
		}
	for (run_max = 9100; run_max > 1500; run_max -= 100)
		if (harness_run(parser, f, run_max, &res) == 0) {
			expected_forwards++;
			break;
		}
	printf("# %s test runs take frames of %zu..%zu bytes\n", hook_name(hook), run_min, run_max);
}

static struct pkt_spec base_tcp4(void)
{
	struct pkt_spec s = {
	    .family = 4,
	    .saddr = pkt_ip4("192.0.2.10"),
	    .daddr = pkt_ip4("198.51.100.1"),
	    .proto = IPPROTO_TCP,
	    .sport = 40000,
	    .dport = 80,
	};
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

static struct pkt_spec base_udp6(void)
{
	struct pkt_spec s = {
	    .family = 6,
	    .saddr = pkt_ip6("2001:db8::10"),
	    .daddr = pkt_ip6("2001:db8:1::1"),
	    .proto = IPPROTO_UDP,
	    .sport = 5353,
	    .dport = 53,
	    .payload_len = 12,
	};
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

/* Forwarded untouched; returns the metadata the parser wrote. Its port's
 * verdict (transmit) ends the chain, which closes the metadata: version 0,
 * the fields left for reading. */
static struct cube_meta expect_forward(const uint8_t *frame, size_t len)
{
	struct run_result res;
	struct cube_meta meta = {0};

	harness_meta_clear();
	harness_run(parser, frame, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, frame, len);
	harness_meta(&meta);
	CHECK_EQ(meta.version, 0);
	CHECK_EQ(meta.pkt_len, len);
	expected_forwards++;
	return meta;
}

static void expect_drop(const uint8_t *frame, size_t len, enum cube_drop_reason reason)
{
	struct run_result res;
	struct cube_meta meta = {0};

	harness_meta_clear();
	harness_run(parser, frame, len, &res);
	if (res.err) {
		/* The kernel refuses to run frames below its minimum, and skb test
		 * runs whose IP header is cut short; nothing else may be refused. */
		bool kernel_refuses =
		    len < run_min || (hook == CUBE_HOOK_TC && (reason == CUBE_DROP_IPV4_TRUNCATED ||
							       reason == CUBE_DROP_IPV6_TRUNCATED));

		CHECK(kernel_refuses, "test run refused a %zu-byte frame: %d", len, res.err);
		kernel_refused++;
		return;
	}
	CHECK(res.retval == hook_ret_drop(hook), "len %zu: verdict %u, want drop (%s)", len,
	      res.retval, cube_drop_reason_name(reason));
	harness_meta(&meta);
	CHECK_EQ(meta.version, 0); /* a dropped frame leaves no valid metadata */
	expected_drops[reason]++;
}

static void check_hash(const struct cube_meta *m)
{
	uint32_t want = cube_flow_hash(m->ip_version, &m->saddr, &m->daddr, m->sport, m->dport,
				       m->l4_proto, m->vlan_id);

	CHECK_EQ(m->flow_hash, want);
}

TEST(ipv4_tcp)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);
	struct cube_meta m = expect_forward(f, len);

	CHECK_EQ(m.l3_off, 14);
	CHECK_EQ(m.l4_off, 34);
	CHECK_EQ(m.l3_proto, htons(0x0800));
	CHECK_EQ(m.ip_version, 4);
	CHECK_EQ(m.l4_proto, IPPROTO_TCP);
	CHECK_EQ(m.flags, CUBE_META_F_L4);
	CHECK_EQ(m.saddr.ip4, s.saddr.ip4);
	CHECK_EQ(m.daddr.ip4, s.daddr.ip4);
	CHECK_EQ(m.saddr.ip6[1] | m.saddr.ip6[2] | m.saddr.ip6[3], 0);
	CHECK_EQ(m.sport, htons(40000));
	CHECK_EQ(m.dport, htons(80));
	CHECK_EQ(m.service_id, CUBE_NO_SERVICE);
	CHECK_EQ(m.backend_id, CUBE_NO_BACKEND);
	check_hash(&m);
}

TEST(ipv4_options_udp_padding)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	size_t len;
	struct cube_meta m;

	s.proto = IPPROTO_UDP;
	s.ipv4_opt_words = 3;
	s.payload_len = 2;
	len = pkt_build(&s, f);
	/* Pad to the 60-byte minimum frame: trailing bytes beyond tot_len. */
	memset(f + len, 0xee, 60 - len);
	m = expect_forward(f, 60);
	CHECK_EQ(m.l4_off, 14 + 32);
	CHECK_EQ(m.flags, CUBE_META_F_L4 | CUBE_META_F_IPV4_OPTS);
	CHECK_EQ(m.pkt_len, 60);
	check_hash(&m);
}

TEST(vlan_and_qinq)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	struct cube_meta m;
	size_t len;

	s.nvlan = 1;
	s.vlan_tci[0] = (5 << 13) | 100; /* PCP 5, VID 100 */
	len = pkt_build(&s, f);
	m = expect_forward(f, len);
	CHECK_EQ(m.flags, CUBE_META_F_L4 | CUBE_META_F_VLAN);
	CHECK_EQ(m.vlan_id, 100);
	CHECK_EQ(m.l3_off, 18);
	CHECK_EQ(m.l4_off, 38);
	check_hash(&m);

	s.nvlan = 2;
	s.vlan_tpid[0] = 0x88a8;
	s.vlan_tci[0] = 300;
	s.vlan_tci[1] = 42;
	len = pkt_build(&s, f);
	m = expect_forward(f, len);
	CHECK_EQ(m.flags, CUBE_META_F_L4 | CUBE_META_F_VLAN | CUBE_META_F_QINQ);
	CHECK_EQ(m.vlan_id, 300);
	CHECK_EQ(m.vlan_inner, 42);
	CHECK_EQ(m.l3_off, 22);
	check_hash(&m);

	s.nvlan = 3;
	s.vlan_tci[2] = 7;
	len = pkt_build(&s, f);
	expect_drop(f, len, CUBE_DROP_VLAN_TOO_DEEP);
}

TEST(vlan_hash_differs_per_vlan)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	struct cube_meta a, b;

	s.nvlan = 1;
	s.vlan_tci[0] = 10;
	a = expect_forward(f, pkt_build(&s, f));
	s.vlan_tci[0] = 11;
	b = expect_forward(f, pkt_build(&s, f));
	CHECK(a.flow_hash != b.flow_hash, "VLAN ID must be part of the flow hash");
}

TEST(ipv6_udp_and_extensions)
{
	struct pkt_spec s = base_udp6();
	uint8_t f[PKT_MAX];
	struct cube_meta m;
	size_t len = pkt_build(&s, f);

	m = expect_forward(f, len);
	CHECK_EQ(m.ip_version, 6);
	CHECK_EQ(m.l4_off, 54);
	CHECK_EQ(m.flags, CUBE_META_F_L4);
	CHECK_MEM(m.saddr.bytes, s.saddr.bytes, 16);
	CHECK_MEM(m.daddr.bytes, s.daddr.bytes, 16);
	CHECK_EQ(m.dport, htons(53));
	check_hash(&m);

	s.ipv6_ext = 2; /* hop-by-hop, destination options */
	len = pkt_build(&s, f);
	m = expect_forward(f, len);
	CHECK_EQ(m.l4_off, 54 + 16);
	CHECK_EQ(m.l4_proto, IPPROTO_UDP);
	CHECK_EQ(m.flags, CUBE_META_F_L4 | CUBE_META_F_IPV6_EXT);
	CHECK_EQ(m.dport, htons(53));

	s.ipv6_ext = 7; /* more than the parser walks */
	len = pkt_build(&s, f);
	expect_drop(f, len, CUBE_DROP_IPV6_EXT_TOO_MANY);
}

/* Where a 9-bit offset mask would wrap an L4 offset of 582 to. */
#define WRAPPED_582 (582 & 0x1ff)

/*
 * Extension headers of any length up to the depth cubes read: the L4
 * header is read where it is, or the frame is dropped as too deep; never
 * read at a wrapped offset.
 */
TEST(ipv6_long_extension_headers)
{
	struct pkt_spec s = base_udp6();
	uint8_t f[PKT_MAX];
	struct cube_meta m;
	size_t len;

	/* A SYN to port 22 behind 8 + 520 bytes of options, with a decoy TCP
	 * header to port 443 in the option data where a wrapped offset lands. */
	s.proto = IPPROTO_TCP;
	s.sport = 40000;
	s.dport = 22;
	s.tcp_flags = 0x02;
	s.payload_len = 0;
	s.ipv6_ext = 2;
	s.ipv6_ext_len[1] = 520;
	len = pkt_build(&s, f);
	pkt_put_tcp(f + WRAPPED_582, 1234, 443, 0x02);
	m = expect_forward(f, len);
	CHECK_EQ(m.l4_off, 582);
	CHECK_EQ(m.l4_proto, IPPROTO_TCP);
	CHECK_EQ(m.flags, CUBE_META_F_L4 | CUBE_META_F_IPV6_EXT);
	CHECK_EQ(m.sport, htons(40000));
	CHECK_EQ(m.dport, htons(22));
	check_hash(&m);

	/* The same depth without a decoy: valid, not a bad data offset. */
	len = pkt_build(&s, f);
	m = expect_forward(f, len);
	CHECK_EQ(m.l4_off, 582);
	CHECK_EQ(m.dport, htons(22));
	s.proto = IPPROTO_UDP;
	s.dport = 53;
	s.payload_len = 12;
	m = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(m.l4_off, 582);
	CHECK_EQ(m.flags, CUBE_META_F_L4 | CUBE_META_F_IPV6_EXT);
	CHECK_EQ(m.dport, htons(53));
	check_hash(&m);

	/* The deepest L4 header: offsets step by 8 from 54, so 2046. */
	s.ipv6_ext_len[1] = 1984;
	len = pkt_build(&s, f);
	m = expect_forward(f, len);
	CHECK_EQ(m.l4_off, 2046);
	CHECK(m.l4_off <= CUBE_HDR_OFF_MASK && m.l4_off + 8 > CUBE_HDR_OFF_MASK,
	      "2046 is the last offset below the limit");
	CHECK_EQ(m.dport, htons(53));
	/* One step deeper, by the options or by VLAN tags: dropped. */
	s.ipv6_ext_len[0] = 16;
	expect_drop(f, pkt_build(&s, f), CUBE_DROP_HDR_TOO_DEEP);
	s.ipv6_ext_len[0] = 8;
	s.nvlan = 2;
	expect_drop(f, pkt_build(&s, f), CUBE_DROP_HDR_TOO_DEEP);
	s.nvlan = 0;

	/* A fragment behind a full-size (2048-byte) hop-by-hop header. */
	s.ipv6_ext = 1;
	s.ipv6_ext_len[0] = 2048;
	s.ipv6_frag = true;
	s.ipv6_frag_off = 1;
	expect_drop(f, pkt_build(&s, f), CUBE_DROP_HDR_TOO_DEEP);
	/* An atomic fragment behind 520 bytes: a whole datagram, parsed on. */
	s.ipv6_ext_len[0] = 520;
	s.ipv6_frag_off = 0;
	m = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(m.l4_off, 54 + 520 + 8);
	CHECK_EQ(m.flags, CUBE_META_F_L4 | CUBE_META_F_IPV6_EXT);
	CHECK_EQ(m.dport, htons(53));
	/* And its options cut short by the payload length: truncated. */
	len = pkt_build(&s, f);
	f[18] = 0;
	f[19] = 200;
	expect_drop(f, len, CUBE_DROP_IPV6_EXT_TRUNCATED);
}

TEST(fragments_hash_on_l3)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	struct cube_meta first, later;

	s.proto = IPPROTO_UDP;
	s.payload_len = 32;
	s.ipv4_frag = 0x2000; /* MF, offset 0: the first fragment */
	first = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(first.flags, CUBE_META_F_FRAGMENT);
	CHECK_EQ(first.sport | first.dport, 0);
	s.ipv4_frag = 4; /* offset 32 bytes, last fragment */
	later = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(later.flags, CUBE_META_F_FRAGMENT);
	CHECK_EQ(first.flow_hash, later.flow_hash);
	check_hash(&first);

	struct pkt_spec s6 = base_udp6();

	s6.ipv6_frag = true;
	s6.ipv6_frag_off = 1; /* M set, offset 0 */
	first = expect_forward(f, pkt_build(&s6, f));
	CHECK_EQ(first.flags, CUBE_META_F_FRAGMENT | CUBE_META_F_IPV6_EXT);
	CHECK_EQ(first.l4_proto, IPPROTO_UDP);
	CHECK_EQ(first.sport | first.dport, 0);
	s6.ipv6_frag_off = 8 << 3; /* offset 64, last */
	later = expect_forward(f, pkt_build(&s6, f));
	CHECK_EQ(first.flow_hash, later.flow_hash);

	s6.ipv6_frag_off = 0; /* atomic fragment: whole datagram, parsed on */
	first = expect_forward(f, pkt_build(&s6, f));
	CHECK_EQ(first.flags, CUBE_META_F_L4 | CUBE_META_F_IPV6_EXT);
	CHECK_EQ(first.dport, htons(53));
}

TEST(icmp_echo_id_and_arp_and_other_ethertypes)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	struct cube_meta m;

	s.proto = IPPROTO_ICMP;
	s.icmp_type = 8;
	s.icmp_id = 0x4d2;
	m = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(m.sport, htons(0x4d2));
	CHECK_EQ(m.flags, CUBE_META_F_L4);

	struct pkt_spec s6 = base_udp6();

	s6.proto = IPPROTO_ICMPV6;
	s6.icmp_type = 128;
	s6.icmp_id = 77;
	m = expect_forward(f, pkt_build(&s6, f));
	CHECK_EQ(m.sport, htons(77));

	struct pkt_spec arp = {.family = 0, .ethertype = 0x0806, .payload_len = 28};

	memset(arp.dmac, 0xff, 6);
	m = expect_forward(f, pkt_build(&arp, f));
	CHECK_EQ(m.flags, CUBE_META_F_ARP);
	CHECK_EQ(m.ip_version, 0);
	arp.payload_len = 27;
	expect_drop(f, pkt_build(&arp, f), CUBE_DROP_ARP_TRUNCATED);

	struct pkt_spec lldp = {.family = 0, .ethertype = 0x88cc, .payload_len = 46};

	m = expect_forward(f, pkt_build(&lldp, f));
	CHECK_EQ(m.ip_version, 0);
	CHECK_EQ(m.l3_proto, htons(0x88cc));
	CHECK_EQ(m.flow_hash, 0);

	s.proto = 47; /* GRE: forwarded, no ports */
	m = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.l4_proto, 47);
	check_hash(&m);
}

/*
 * ICMP belongs to IPv4 and ICMPv6 to IPv6: carried by the other family
 * either is just another protocol (no L4 header read, no ports), and an
 * identifier is read only from that family's own echo messages.
 */
TEST(icmp_of_each_family_only)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	struct cube_meta m;
	size_t len;

	/* ICMPv6 in IPv4, an "echo request" in its first byte, cut to 4
	 * bytes: forwarded as an unknown protocol, not a truncated ICMP. */
	s.proto = IPPROTO_ICMPV6;
	s.icmp_type = 128;
	s.icmp_id = 0x4d2;
	pkt_build(&s, f);
	len = 14 + 20 + 4;
	f[16] = 0;
	f[17] = 20 + 4; /* IPv4 total length */
	m = expect_forward(f, len);
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.l4_proto, IPPROTO_ICMPV6);
	CHECK_EQ(m.sport, 0);
	check_hash(&m);

	/* ICMP in IPv6, an echo request: no identifier. */
	struct pkt_spec s6 = base_udp6();

	s6.proto = IPPROTO_ICMP;
	s6.icmp_type = 8;
	s6.icmp_id = 77;
	s6.payload_len = 0;
	m = expect_forward(f, pkt_build(&s6, f));
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.sport, 0);
	check_hash(&m);

	/* Each family's ICMP with the other's echo types: no identifier. */
	s.proto = IPPROTO_ICMP;
	s.icmp_type = 128;
	m = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(m.flags, CUBE_META_F_L4);
	CHECK_EQ(m.sport, 0);
	s.icmp_type = 0; /* an echo reply */
	m = expect_forward(f, pkt_build(&s, f));
	CHECK_EQ(m.sport, htons(0x4d2));
	s6.proto = IPPROTO_ICMPV6;
	s6.icmp_type = 8;
	m = expect_forward(f, pkt_build(&s6, f));
	CHECK_EQ(m.flags, CUBE_META_F_L4);
	CHECK_EQ(m.sport, 0);
	s6.icmp_type = 129;
	m = expect_forward(f, pkt_build(&s6, f));
	CHECK_EQ(m.sport, htons(77));
	check_hash(&m);
}

/* Cut a valid frame at every length short of whole. */
TEST(truncated_at_every_boundary)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = pkt_build(&s, f);

	for (size_t cut = 0; cut < len; cut++) {
		if (cut < 14)
			expect_drop(f, cut, CUBE_DROP_ETH_TRUNCATED);
		else if (cut < 34)
			expect_drop(f, cut, CUBE_DROP_IPV4_TRUNCATED);
		else
			expect_drop(f, cut, CUBE_DROP_IPV4_BAD_LEN); /* tot_len says more */
	}
	/* Same cuts with lengths that agree: the TCP header itself is short. */
	for (size_t cut = 34; cut < len; cut++) {
		memcpy(g, f, len);
		g[16] = 0;
		g[17] = (uint8_t)(cut - 14);
		pkt_fix_csums(g, 34);
		expect_drop(g, cut, CUBE_DROP_TCP_TRUNCATED);
	}

	s.nvlan = 1;
	s.vlan_tci[0] = 9;
	len = pkt_build(&s, f);
	for (size_t cut = 14; cut < 18; cut++)
		expect_drop(f, cut, CUBE_DROP_VLAN_TRUNCATED);

	struct pkt_spec s6 = base_udp6();

	len = pkt_build(&s6, f);
	for (size_t cut = 14; cut < 54; cut++)
		expect_drop(f, cut, CUBE_DROP_IPV6_TRUNCATED);
	for (size_t cut = 54; cut < len; cut++)
		expect_drop(f, cut, CUBE_DROP_IPV6_BAD_LEN);
	for (size_t cut = 54; cut < 62; cut++) {
		memcpy(g, f, len);
		g[18] = 0;
		g[19] = (uint8_t)(cut - 54);
		expect_drop(g, cut, CUBE_DROP_UDP_TRUNCATED);
	}
	s6.ipv6_ext = 1;
	len = pkt_build(&s6, f);
	for (size_t cut = 54; cut < 62; cut++) {
		memcpy(g, f, len);
		g[18] = 0;
		g[19] = (uint8_t)(cut - 54);
		expect_drop(g, cut, CUBE_DROP_IPV6_EXT_TRUNCATED);
	}

	s.nvlan = 0;
	s.proto = IPPROTO_ICMP;
	s.icmp_type = 8;
	len = pkt_build(&s, f);
	for (size_t cut = 34; cut < len; cut++) {
		memcpy(g, f, len);
		g[17] = (uint8_t)(cut - 14);
		pkt_fix_csums(g, 34);
		expect_drop(g, cut, CUBE_DROP_ICMP_TRUNCATED);
	}
}

TEST(bad_header_fields)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = pkt_build(&s, f);

	memcpy(g, f, len);
	g[14] = 0x44; /* IHL 4 */
	expect_drop(g, len, CUBE_DROP_IPV4_BAD_IHL);
	memcpy(g, f, len);
	g[14] = 0x55; /* version 5 */
	expect_drop(g, len, CUBE_DROP_IPV4_BAD_VERSION);
	memcpy(g, f, len);
	g[14] = 0x4f; /* IHL 15: 60 bytes, past the frame */
	expect_drop(g, len, CUBE_DROP_IPV4_TRUNCATED);
	memcpy(g, f, len);
	g[16] = 0;
	g[17] = 19; /* total length below the header */
	expect_drop(g, len, CUBE_DROP_IPV4_BAD_LEN);
	memcpy(g, f, len);
	g[34 + 12] = 4 << 4; /* TCP data offset 4 */
	expect_drop(g, len, CUBE_DROP_TCP_BAD_DOFF);
	memcpy(g, f, len);
	g[34 + 12] = 6 << 4; /* data offset past the segment */
	expect_drop(g, len, CUBE_DROP_TCP_BAD_DOFF);

	s.proto = IPPROTO_UDP;
	s.payload_len = 4;
	len = pkt_build(&s, f);
	memcpy(g, f, len);
	g[34 + 5] = 7; /* UDP length 7 */
	expect_drop(g, len, CUBE_DROP_UDP_BAD_LEN);
	memcpy(g, f, len);
	g[34 + 5] = 13; /* longer than the IP payload */
	expect_drop(g, len, CUBE_DROP_UDP_BAD_LEN);

	struct pkt_spec s6 = base_udp6();

	len = pkt_build(&s6, f);
	memcpy(g, f, len);
	g[14] = 0x40;
	expect_drop(g, len, CUBE_DROP_IPV6_BAD_VERSION);
}

TEST(jumbo_frame)
{
	struct pkt_spec s = base_tcp4();
	uint8_t f[PKT_MAX];
	struct cube_meta m;

	/* XDP multi-buffer takes a 9000-byte frame; skb test runs stop at a page. */
	size_t len = run_max >= 9000 ? 9000 : run_max;

	s.payload_len = len - 54;
	m = expect_forward(f, pkt_build(&s, f));
	CHECK(len >= 3000, "jumbo test ran with only %zu bytes", len);
	CHECK_EQ(m.pkt_len, len);
	CHECK_EQ(m.flags, CUBE_META_F_L4);
	CHECK_EQ(m.dport, htons(80));
}

/* Every frame above was counted exactly once, under the right reason. */
TEST(counters_match)
{
	struct cube_stats st = harness_stats(parser);
	uint64_t drops = 0;

	for (int r = 0; r < CUBE_DROP_MAX; r++) {
		CHECK(st.drop[r] == expected_drops[r], "drop %s: %llu, want %llu",
		      cube_drop_reason_name(r), (unsigned long long)st.drop[r],
		      (unsigned long long)expected_drops[r]);
		drops += expected_drops[r];
	}
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], drops);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], expected_forwards);
	CHECK_EQ(st.port_out[0], expected_forwards);
	CHECK_EQ(st.verdict[CUBE_VERDICT_FORWARD], 0);
	CHECK_EQ(st.rx_packets, drops + expected_forwards);
	printf("# %s: %llu frames run, %u malformed frames refused by the kernel's test run\n",
	       hook_name(hook), (unsigned long long)st.rx_packets, kernel_refused);
}

static const struct test_case cases[] = {
    TEST_ENTRY(ipv4_tcp),
    TEST_ENTRY(ipv4_options_udp_padding),
    TEST_ENTRY(vlan_and_qinq),
    TEST_ENTRY(vlan_hash_differs_per_vlan),
    TEST_ENTRY(ipv6_udp_and_extensions),
    TEST_ENTRY(ipv6_long_extension_headers),
    TEST_ENTRY(fragments_hash_on_l3),
    TEST_ENTRY(icmp_echo_id_and_arp_and_other_ethertypes),
    TEST_ENTRY(icmp_of_each_family_only),
    TEST_ENTRY(truncated_at_every_boundary),
    TEST_ENTRY(bad_header_fields),
    TEST_ENTRY(jumbo_frame),
    TEST_ENTRY(counters_match),
};

int main(void)
{
	int rc = 0;

	harness_init("parser");
	for (hook = 0; hook < CUBE_HOOK_MAX; hook++) {
		char suite[32];

		parser = harness_cube("parser", hook, NULL, NULL);
		if (!parser)
			return 1;
		cube_connect_port(parser, 0, CUBE_PORT_TX, 0);
		memset(expected_drops, 0, sizeof(expected_drops));
		expected_forwards = 0;
		kernel_refused = 0;
		probe_run_limits();
		snprintf(suite, sizeof(suite), "parser-%s", hook_name(hook));
		rc |= test_run_all(suite, cases, sizeof(cases) / sizeof(cases[0]));
		cube_destroy(parser);
	}
	return rc;
}
