// SPDX-License-Identifier: Apache-2.0
/*
 * IP fragments through a parser and a nat cube. Each datagram is built
 * whole, with its checksums computed in full, then cut into fragments as a
 * sender's IP layer cuts it. The fragments the nat puts out must equal,
 * byte for byte, the fragments of the translated datagram built and cut the
 * same way: the first fragment's L4 checksum then checks over the whole
 * reassembled datagram, and every fragment's IPv4 header checksum checks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"
#include "lib/abi/nat.h"

#define MAX_FRAGS 8

static enum cube_hook hook;
static struct cube *parser, *nat;

struct frags {
	int n;
	size_t len[MAX_FRAGS];
	uint8_t f[MAX_FRAGS][PKT_MAX];
};

static struct frags in, want;

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

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void ipv4_header_csum(uint8_t *ip)
{
	uint32_t sum = 0;
	size_t hlen = (ip[0] & 0xf) * 4u;

	put16(ip + 10, 0);
	for (size_t i = 0; i < hlen; i += 2)
		sum += get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
}

/* Cut an IPv4 datagram into fragments carrying `piece` payload bytes each
 * (a multiple of 8), as ip_fragment() does: the header copied, MF on all
 * but the last, the offset in 8-byte units. */
static void split4(const uint8_t *whole, size_t len, size_t piece, struct frags *out)
{
	int l3 = pkt_l3_off(whole, len);
	size_t ihl = (whole[l3] & 0xf) * 4u, payload = get16(whole + l3 + 2) - ihl;

	out->n = 0;
	for (size_t off = 0; off < payload && out->n < MAX_FRAGS; off += piece) {
		size_t n = payload - off < piece ? payload - off : piece;
		uint8_t *f = out->f[out->n];

		memset(f, 0, PKT_MAX);
		memcpy(f, whole, (size_t)l3 + ihl);
		memcpy(f + l3 + ihl, whole + l3 + ihl + off, n);
		put16(f + l3 + 2, (uint16_t)(ihl + n));
		put16(f + l3 + 6, (uint16_t)(off / 8 | (off + n < payload ? 0x2000 : 0)));
		ipv4_header_csum(f + l3);
		out->len[out->n++] = (size_t)l3 + ihl + n;
	}
}

/* The same for IPv6: a fragment header after the fixed header, with the
 * datagram's next header and identification `id`. */
static void split6(const uint8_t *whole, size_t len, size_t piece, uint32_t id, struct frags *out)
{
	int l3 = pkt_l3_off(whole, len);
	size_t payload = get16(whole + l3 + 4);
	uint8_t next = whole[l3 + 6];

	out->n = 0;
	for (size_t off = 0; off < payload && out->n < MAX_FRAGS; off += piece) {
		size_t n = payload - off < piece ? payload - off : piece;
		uint8_t *f = out->f[out->n], *fh = f + l3 + 40;

		memset(f, 0, PKT_MAX);
		memcpy(f, whole, (size_t)l3 + 40);
		f[l3 + 6] = 44;
		fh[0] = next;
		put16(fh + 2, (uint16_t)(off | (off + n < payload ? 1 : 0)));
		put16(fh + 4, (uint16_t)(id >> 16));
		put16(fh + 6, (uint16_t)id);
		memcpy(fh + 8, whole + l3 + 40 + off, n);
		put16(f + l3 + 4, (uint16_t)(8 + n));
		out->len[out->n++] = (size_t)l3 + 48 + n;
	}
}

static void set_id4(uint8_t *whole, size_t len, uint16_t id)
{
	int l3 = pkt_l3_off(whole, len);

	put16(whole + l3 + 4, id);
	ipv4_header_csum(whole + l3);
}

static struct pkt_spec flow(int family, const char *src, uint16_t sport, const char *dst,
			    uint16_t dport, uint8_t proto, size_t payload)
{
	struct pkt_spec s = {.family = family,
			     .saddr = family == 4 ? pkt_ip4(src) : pkt_ip6(src),
			     .daddr = family == 4 ? pkt_ip4(dst) : pkt_ip6(dst),
			     .proto = proto,
			     .sport = sport,
			     .dport = dport,
			     .payload_len = payload};

	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		s.icmp_type = proto == IPPROTO_ICMP ? 8 : 128;
		s.icmp_id = sport;
	}
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

/* Build s whole, with IPv4 identification / IPv6 fragment id `id`, and cut it. */
static void cut(const struct pkt_spec *s, uint32_t id, size_t piece, struct frags *out)
{
	static uint8_t whole[PKT_MAX];
	size_t len = pkt_build(s, whole);

	if (s->family == 4) {
		set_id4(whole, len, (uint16_t)id);
		split4(whole, len, piece, out);
	} else {
		split6(whole, len, piece, id, out);
	}
}

/* Fragment i of `in` through the chain: the verdict, and the frame out. */
static void run_frag(int i, uint32_t verdict, struct run_result *res)
{
	harness_run(parser, in.f[i], in.len[i], res);
	CHECK_EQ(res->err, 0);
	CHECK_EQ(res->retval, verdict);
}

/* Every fragment of `in` must come out as the same fragment of `want`. */
static void expect_all_translated(void)
{
	struct run_result res;

	REQUIRE(in.n == want.n && in.n > 1, "%d fragments in, %d wanted", in.n, want.n);
	for (int i = 0; i < in.n; i++) {
		run_frag(i, hook_ret_tx(hook), &res);
		CHECK_EQ(res.out_len, want.len[i]);
		CHECK_MEM(res.out, want.f[i], want.len[i]);
		if (pkt_l3_off(res.out, res.out_len) > 0 && res.out[12] == 0x08)
			CHECK(pkt_ipv4_csum_ok(res.out, res.out_len), "fragment %d IPv4 checksum",
			      i);
	}
}

static void expect_all_untouched(void)
{
	struct run_result res;

	REQUIRE(in.n > 1, "%d fragments", in.n);
	for (int i = 0; i < in.n; i++) {
		run_frag(i, hook_ret_tx(hook), &res);
		CHECK_EQ(res.out_len, in.len[i]);
		CHECK_MEM(res.out, in.f[i], in.len[i]);
	}
}

static struct nat_frag_key frag_key(const struct pkt_spec *s, uint32_t id)
{
	struct nat_frag_key k = {
	    .saddr = s->saddr, .daddr = s->daddr, .proto = s->proto, .family = (uint8_t)s->family};

	k.id = s->family == 4 ? (uint32_t)htons((uint16_t)id) : htonl(id);
	return k;
}

/* The record the first fragment of s (identification id) left. */
static int frag_record(const struct pkt_spec *s, uint32_t id, struct nat_frag *rec)
{
	struct nat_frag_key k = frag_key(s, id);

	return bpf_map_lookup_elem(cube_map_fd(nat, "nat_frags"), &k, rec);
}

static uint32_t count_entries(const char *map, size_t key_size)
{
	uint8_t key[64], next[64];
	int fd = cube_map_fd(nat, map);
	uint32_t n = 0;

	for (int err = bpf_map_get_next_key(fd, NULL, key); !err;
	     err = bpf_map_get_next_key(fd, key, next), memcpy(key, next, key_size))
		n++;
	return n;
}

static void dnat(int family, const char *vip, uint16_t vport, uint8_t proto, const char *to,
		 uint16_t port)
{
	struct nat_dnat_key k = {.daddr = family == 4 ? pkt_ip4(vip) : pkt_ip6(vip),
				 .dport = htons(vport),
				 .proto = proto,
				 .family = (uint8_t)family};
	struct nat_dnat_target t = {.addr = family == 4 ? pkt_ip4(to) : pkt_ip6(to),
				    .port = htons(port),
				    .flags = NAT_DNAT_F_VALID};

	bpf_map_update_elem(cube_map_fd(nat, "nat_dnat"), &k, &t, BPF_ANY);
}

static void snat4(const char *prefix, uint32_t plen, const char *to)
{
	struct nat_snat_lpm4_key k = {.prefixlen = plen, .saddr = pkt_ip4(prefix).ip4};
	struct nat_snat_target t = {.addr = pkt_ip4(to)};

	bpf_map_update_elem(cube_map_fd(nat, "nat_snat4"), &k, &t, BPF_ANY);
}

static void snat6(const char *prefix, uint32_t plen, const char *to)
{
	struct nat_snat_lpm6_key k = {.prefixlen = plen};
	struct nat_snat_target t = {.addr = pkt_ip6(to)};

	memcpy(k.saddr, pkt_ip6(prefix).bytes, 16);
	bpf_map_update_elem(cube_map_fd(nat, "nat_snat6"), &k, &t, BPF_ANY);
}

static void check_record(const struct pkt_spec *s, uint32_t id, const char *to_src,
			 const char *to_dst)
{
	struct nat_frag rec;
	int fam = s->family;

	REQUIRE(frag_record(s, id, &rec) == 0, "no record for id %#x", id);
	if (!to_src) {
		CHECK_EQ(rec.flags, 0);
		return;
	}
	CHECK_EQ(rec.flags, NAT_FRAG_F_TRANSLATED);
	union cube_addr src = fam == 4 ? pkt_ip4(to_src) : pkt_ip6(to_src);
	union cube_addr dst = fam == 4 ? pkt_ip4(to_dst) : pkt_ip6(to_dst);

	CHECK_MEM(&rec.saddr, &src, sizeof(src));
	CHECK_MEM(&rec.daddr, &dst, sizeof(dst));
}

/* A 3 KB UDP request to a DNAT rule and its 3 KB reply, and the same over
 * TCP: first fragments get L3 and L4 rewritten, later ones L3 only. */
TEST(dnat_fragments_both_directions)
{
	uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP};

	setup();
	REQUIRE(parser && nat, "load");
	for (int i = 0; i < 2; i++) {
		uint8_t p = protos[i];

		dnat(4, "203.0.113.10", 53, p, "10.0.0.5", 5353);
		struct pkt_spec req = flow(4, "198.51.100.7", 5555, "203.0.113.10", 53, p, 3000);
		struct pkt_spec req_w = flow(4, "198.51.100.7", 5555, "10.0.0.5", 5353, p, 3000);

		cut(&req, 0x1001, 1480, &in);
		cut(&req_w, 0x1001, 1480, &want);
		CHECK_EQ(in.n, 3);
		expect_all_translated();
		check_record(&req, 0x1001, "198.51.100.7", "10.0.0.5");

		struct pkt_spec rep = flow(4, "10.0.0.5", 5353, "198.51.100.7", 5555, p, 3000);
		struct pkt_spec rep_w = flow(4, "203.0.113.10", 53, "198.51.100.7", 5555, p, 3000);

		cut(&rep, 0x2002, 1480, &in);
		cut(&rep_w, 0x2002, 1480, &want);
		expect_all_translated();
		check_record(&rep, 0x2002, "203.0.113.10", "198.51.100.7");
	}
	CHECK_EQ(count_entries("nat_conns", sizeof(struct nat_tuple)), 4);
	CHECK_EQ(count_entries("nat_frags", sizeof(struct nat_frag_key)), 4);

	/* The later fragments carry the new addresses on in the metadata. */
	struct cube_meta m;

	harness_meta(&m);
	CHECK_EQ(m.daddr.ip4, pkt_ip4("198.51.100.7").ip4);
	CHECK_EQ(m.saddr.ip4, pkt_ip4("203.0.113.10").ip4);
	struct cube_stats st = harness_stats(nat);

	CHECK_EQ(st.rx_packets, 12);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 12);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 0);
	teardown();
}

/* IPv6: fragment headers, SNAT out and back; and ICMP echo of 3000 bytes
 * (ping -s 3000) through IPv4 masquerading. */
TEST(snat_fragments_ipv6_and_echo)
{
	setup();
	REQUIRE(parser && nat, "load");
	snat6("fd00::", 64, "2001:db8::1");
	struct pkt_spec out = flow(6, "fd00::2", 4000, "2001:db8:9::9", 443, IPPROTO_UDP, 3000);
	struct pkt_spec out_w =
	    flow(6, "2001:db8::1", 4000, "2001:db8:9::9", 443, IPPROTO_UDP, 3000);

	cut(&out, 0xabcdef01, 1232, &in);
	cut(&out_w, 0xabcdef01, 1232, &want);
	CHECK_EQ(in.n, 3);
	expect_all_translated();
	check_record(&out, 0xabcdef01, "2001:db8::1", "2001:db8:9::9");
	struct pkt_spec back =
	    flow(6, "2001:db8:9::9", 443, "2001:db8::1", 4000, IPPROTO_UDP, 3000);
	struct pkt_spec back_w = flow(6, "2001:db8:9::9", 443, "fd00::2", 4000, IPPROTO_UDP, 3000);

	cut(&back, 7, 1232, &in);
	cut(&back_w, 7, 1232, &want);
	expect_all_translated();

	snat4("10.244.0.0", 16, "192.0.2.1");
	struct pkt_spec ping = flow(4, "10.244.0.5", 777, "198.51.100.1", 0, IPPROTO_ICMP, 3000);
	struct pkt_spec ping_w = flow(4, "192.0.2.1", 777, "198.51.100.1", 0, IPPROTO_ICMP, 3000);

	cut(&ping, 0x0d0d, 1480, &in);
	cut(&ping_w, 0x0d0d, 1480, &want);
	expect_all_translated();
	struct pkt_spec pong = flow(4, "198.51.100.1", 777, "192.0.2.1", 0, IPPROTO_ICMP, 3000);
	struct pkt_spec pong_w = flow(4, "198.51.100.1", 777, "10.244.0.5", 0, IPPROTO_ICMP, 3000);

	pong.icmp_type = pong_w.icmp_type = 0;
	cut(&pong, 0x0e0e, 1480, &in);
	cut(&pong_w, 0x0e0e, 1480, &want);
	expect_all_translated();
	CHECK_EQ(count_entries("nat_conns", sizeof(struct nat_tuple)), 4);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_TX], 12);
	teardown();
}

/* Pod to pod: no rule covers the traffic, every fragment goes on as it
 * came (3 KB UDP over IPv4 and IPv6, ping -s 3000), recorded as such. */
TEST(untranslated_fragments_pass)
{
	struct pkt_spec s[] = {
	    flow(4, "10.244.0.5", 5000, "10.244.1.7", 6000, IPPROTO_UDP, 3000),
	    flow(6, "fd00::5", 5000, "fd00::1:7", 6000, IPPROTO_UDP, 3000),
	    flow(4, "10.244.0.5", 99, "10.244.1.7", 0, IPPROTO_ICMP, 3000),
	    flow(6, "fd00::5", 99, "fd00::1:7", 0, IPPROTO_ICMPV6, 3000),
	};

	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.244.0.0", 16, "192.0.2.1");
	struct nat_dst_lpm4_key skip = {.prefixlen = 16, .daddr = pkt_ip4("10.244.0.0").ip4};
	uint32_t one = 1;

	bpf_map_update_elem(cube_map_fd(nat, "nat_snat_skip4"), &skip, &one, BPF_ANY);
	for (uint32_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		cut(&s[i], 0x300 + i, s[i].family == 4 ? 1480 : 1232, &in);
		CHECK_EQ(in.n, 3);
		expect_all_untouched();
		check_record(&s[i], 0x300 + i, NULL, NULL);
	}
	CHECK_EQ(count_entries("nat_conns", sizeof(struct nat_tuple)), 0);
	CHECK_EQ(count_entries("nat_frags", sizeof(struct nat_frag_key)), 4);
	CHECK_EQ(harness_stats(nat).verdict[CUBE_VERDICT_TX], 12);
	teardown();
}

/* A later fragment ahead of its first cannot be placed: dropped, counted,
 * nothing recorded; the datagram sent again in order goes through. A
 * record older than the fragment timeout places nothing either. */
TEST(later_fragment_first_or_too_late)
{
	struct nat_cfg cfg = {.timeout_frag_s = 1};
	struct run_result res;
	uint32_t zero = 0;

	setup();
	REQUIRE(parser && nat, "load");
	dnat(4, "203.0.113.10", 53, IPPROTO_UDP, "10.0.0.5", 5353);
	struct pkt_spec req = flow(4, "198.51.100.7", 5555, "203.0.113.10", 53, IPPROTO_UDP, 3000);
	struct pkt_spec req_w = flow(4, "198.51.100.7", 5555, "10.0.0.5", 5353, IPPROTO_UDP, 3000);

	cut(&req, 0x4444, 1480, &in);
	cut(&req_w, 0x4444, 1480, &want);
	run_frag(1, hook_ret_drop(hook), &res);
	CHECK_MEM(res.out, in.f[1], in.len[1]);
	run_frag(2, hook_ret_drop(hook), &res);
	CHECK_EQ(harness_stats(nat).drop[CUBE_DROP_FRAG_UNKNOWN], 2);
	CHECK_EQ(count_entries("nat_frags", sizeof(struct nat_frag_key)), 0);
	CHECK_EQ(count_entries("nat_conns", sizeof(struct nat_tuple)), 0);
	expect_all_translated();

	bpf_map_update_elem(cube_map_fd(nat, "nat_cfg"), &zero, &cfg, BPF_ANY);
	cut(&req, 0x4445, 1480, &in);
	cut(&req_w, 0x4445, 1480, &want);
	run_frag(0, hook_ret_tx(hook), &res);
	CHECK_MEM(res.out, want.f[0], want.len[0]);
	usleep(1300 * 1000);
	run_frag(1, hook_ret_drop(hook), &res);
	CHECK_EQ(harness_stats(nat).drop[CUBE_DROP_FRAG_UNKNOWN], 3);
	struct cube_stats st = harness_stats(nat);

	CHECK_EQ(st.rx_packets, 7);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 4);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 3);
	teardown();
}

/* Two datagrams of one flow, their fragments interleaved: each later
 * fragment follows its own first. */
TEST(interleaved_datagrams)
{
	static struct frags a_in, a_want;

	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.0.0.0", 8, "192.0.2.1");
	struct pkt_spec s = flow(4, "10.0.0.2", 7000, "198.51.100.9", 7001, IPPROTO_UDP, 2000);
	struct pkt_spec w = flow(4, "192.0.2.1", 7000, "198.51.100.9", 7001, IPPROTO_UDP, 2000);
	struct pkt_spec s2 = flow(4, "10.0.0.3", 7000, "198.51.100.9", 7001, IPPROTO_UDP, 2000);
	struct run_result res;

	cut(&s, 1, 1480, &a_in);
	cut(&w, 1, 1480, &a_want);
	/* Another host, same id: its fragments are its own. */
	cut(&s2, 1, 1480, &in);
	harness_run(parser, a_in.f[0], a_in.len[0], &res);
	CHECK_MEM(res.out, a_want.f[0], a_want.len[0]);
	harness_run(parser, in.f[0], in.len[0], &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	uint16_t port2 = get16(res.out + 14 + 20); /* its own SNAT port */

	CHECK(port2 != 7000, "second host kept port %u", port2);
	struct pkt_spec w2 = w;

	w2.sport = port2;
	cut(&w2, 1, 1480, &want);
	CHECK_MEM(res.out, want.f[0], want.len[0]);
	harness_run(parser, a_in.f[1], a_in.len[1], &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_MEM(res.out, a_want.f[1], a_want.len[1]);
	harness_run(parser, in.f[1], in.len[1], &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_MEM(res.out, want.f[1], want.len[1]);
	teardown();
}

/*
 * What cannot be translated: a first TCP fragment too short to hold the
 * TCP header, an IPv6 fragment whose fragmentable part starts with another
 * extension header (dropped, counted); fragments of protocols the NAT never
 * translates and of ICMP errors go on untouched.
 */
TEST(malformed_and_untranslatable_fragments)
{
	struct run_result res;

	setup();
	REQUIRE(parser && nat, "load");
	snat4("10.0.0.0", 8, "192.0.2.1");
	snat6("fd00::", 64, "2001:db8::1");

	/* 16 bytes of TCP header in the first fragment: the checksum is not. */
	struct pkt_spec tcp = flow(4, "10.0.0.2", 1000, "198.51.100.9", 80, IPPROTO_TCP, 100);

	cut(&tcp, 9, 16, &in);
	run_frag(0, hook_ret_drop(hook), &res);
	CHECK_MEM(res.out, in.f[0], in.len[0]);
	CHECK_EQ(harness_stats(nat).drop[CUBE_DROP_TCP_TRUNCATED], 1);

	/* IPv6: destination options after the fragment header. */
	struct pkt_spec v6 = flow(6, "fd00::2", 1000, "2001:db8:9::9", 80, IPPROTO_UDP, 100);

	cut(&v6, 10, 64, &in);
	in.f[0][14 + 40] = IPPROTO_DSTOPTS;
	run_frag(0, hook_ret_drop(hook), &res);
	CHECK_EQ(harness_stats(nat).drop[CUBE_DROP_NAT_UNSUPPORTED], 1);

	/* GRE fragments: not the NAT's, untouched and unrecorded. */
	struct pkt_spec gre = flow(4, "10.0.0.2", 0, "198.51.100.9", 0, 47, 3000);

	cut(&gre, 11, 1480, &in);
	expect_all_untouched();
	/* An ICMP error in fragments: untouched, its later fragments known. */
	struct pkt_spec err = flow(4, "10.0.0.2", 0, "198.51.100.9", 0, IPPROTO_ICMP, 3000);

	err.icmp_type = 3;
	cut(&err, 12, 1480, &in);
	expect_all_untouched();
	check_record(&err, 12, NULL, NULL);
	CHECK_EQ(count_entries("nat_frags", sizeof(struct nat_frag_key)), 1);
	CHECK_EQ(count_entries("nat_conns", sizeof(struct nat_tuple)), 0);
	struct cube_stats st = harness_stats(nat);

	CHECK_EQ(st.rx_packets, 8);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 6);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 2);
	teardown();
}

static const struct test_case cases[] = {
    TEST_ENTRY(dnat_fragments_both_directions), TEST_ENTRY(snat_fragments_ipv6_and_echo),
    TEST_ENTRY(untranslated_fragments_pass),	TEST_ENTRY(later_fragment_first_or_too_late),
    TEST_ENTRY(interleaved_datagrams),		TEST_ENTRY(malformed_and_untranslatable_fragments),
};

int main(void)
{
	return harness_run_hooks("nat_frag", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
