// SPDX-License-Identifier: Apache-2.0
/*
 * nat_flush_endpoint() on connection tables a nat cube filled itself, from
 * crafted frames run through a parser and the nat with the backend maglev
 * would choose: exactly the connections translated to the endpoint go,
 * both directions, and nothing else; a client's next packet opens a new
 * connection. Also the time a flush takes at a full table (131,072
 * entries), printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <time.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "test.h"
#include "nat_flush.h"
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

static int conns_fd(void)
{
	return cube_map_fd(nat, "nat_conns");
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
			     .payload_len = 12};
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

#define UNBALANCED 0xfffffffeu /* no backend flag in the metadata */

/* Run s through the parser, then the nat with backend_id chosen. Returns
 * the destination the frame went out with. */
static union cube_addr run(const struct pkt_spec *s, uint32_t backend_id, uint16_t *dport)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f);
	struct run_result res;
	struct cube_meta m;
	union cube_addr dst = {0};
	uint8_t proto;
	int l3, l4;

	harness_run(parser, f, len, &res);
	harness_meta(&m);
	m.version = CUBE_META_VERSION;
	if (backend_id != UNBALANCED) {
		m.backend_id = backend_id;
		m.flags |= CUBE_META_F_BACKEND;
	}
	harness_meta_set(&m);
	harness_run(nat, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	l3 = pkt_l3_off(res.out, res.out_len);
	l4 = pkt_l4_off(res.out, res.out_len, &proto);
	if (s->family == 4)
		memcpy(&dst.ip4, res.out + l3 + 16, 4);
	else
		memcpy(dst.bytes, res.out + l3 + 24, 16);
	*dport = (uint16_t)(res.out[l4 + 2] << 8 | res.out[l4 + 3]);
	return dst;
}

static void expect_to(const struct pkt_spec *s, uint32_t backend_id, int family, const char *to,
		      uint16_t port)
{
	uint16_t dport;
	union cube_addr want = addr(family, to), got = run(s, backend_id, &dport);

	CHECK_MEM(&got, &want, sizeof(want));
	CHECK_EQ(dport, port);
}

static uint32_t count_entries(void)
{
	struct nat_tuple key, next;
	uint32_t n = 0;

	for (int err = bpf_map_get_next_key(conns_fd(), NULL, &key); !err;
	     err = bpf_map_get_next_key(conns_fd(), &key, &next), key = next)
		n++;
	return n;
}

/* Both entries of the connection s opened are there (1), neither (0), or
 * only one (-1). */
static int conn_state(const struct pkt_spec *s)
{
	struct nat_tuple k = {.saddr = s->saddr,
			      .daddr = s->daddr,
			      .sport = htons(s->sport),
			      .dport = htons(s->dport),
			      .proto = s->proto,
			      .family = (uint8_t)s->family};
	struct nat_conn orig, reply;
	int have_orig = !bpf_map_lookup_elem(conns_fd(), &k, &orig);
	int have_reply = have_orig && !bpf_map_lookup_elem(conns_fd(), &orig.twin, &reply);

	if (have_orig && have_reply)
		return 1;
	return have_orig ? -1 : 0;
}

static struct nat_flush_filter filter(int family, uint8_t proto, const char *ep, uint16_t port,
				      const char *svc, uint16_t svc_port)
{
	struct nat_flush_filter f = {.family = (uint8_t)family,
				     .proto = proto,
				     .port = port,
				     .addr = addr(family, ep),
				     .service_port = svc_port};

	if (svc)
		f.service_addr = addr(family, svc);
	return f;
}

static void expect_flush(struct nat_flush_filter f, uint32_t want_deleted)
{
	uint32_t deleted = 12345;

	CHECK_EQ(nat_flush_endpoint(conns_fd(), &f, &deleted), 0);
	CHECK_EQ(deleted, want_deleted);
}

TEST(flush_only_the_endpoints_connections)
{
	struct pkt_spec c[13];
	char src[32];

	setup();
	REQUIRE(parser && nat, "load");
	backend(1, 4, "10.244.0.5", 5353); /* A behind 10.96.0.10:53 */
	backend(2, 4, "10.244.0.6", 5353); /* B, same service */
	backend(3, 4, "10.244.0.5", 5353); /* A behind 10.96.0.11:53 too */
	backend(4, 4, "10.244.0.5", 8080); /* A over TCP, 10.96.0.12:80 */
	backend(5, 6, "fd00::5", 5353);	   /* A over IPv6, fd00:96::10:53 */
	backend(6, 4, "10.244.0.5", 9999); /* A on another port, 10.96.0.13:99 */
	for (int i = 0; i < 8; i++) {
		snprintf(src, sizeof(src), "10.244.1.%d", 10 + i);
		c[i] = flow(4, IPPROTO_UDP, src, (uint16_t)(4000 + i),
			    i < 7 ? "10.96.0.10" : "10.96.0.11", 53);
	}
	c[8] = flow(4, IPPROTO_TCP, "10.244.1.30", 4100, "10.96.0.12", 80);
	c[9] = flow(6, IPPROTO_UDP, "fd00::1:30", 4200, "fd00:96::10", 53);
	c[10] = flow(4, IPPROTO_UDP, "10.244.1.31", 4300, "10.96.0.13", 99);
	/* SNAT only, to A's address and port: not translated to A, kept. */
	struct nat_snat_lpm4_key sk = {.prefixlen = 16, .saddr = pkt_ip4("10.1.0.0").ip4};
	struct nat_snat_target st = {.addr = pkt_ip4("192.0.2.1")};

	bpf_map_update_elem(cube_map_fd(nat, "nat_snat4"), &sk, &st, BPF_ANY);
	c[11] = flow(4, IPPROTO_UDP, "10.1.0.1", 7000, "10.244.0.5", 5353);
	/* DNAT and SNAT both (a NodePort client masqueraded): flushed with A. */
	c[12] = flow(4, IPPROTO_UDP, "10.1.0.2", 7001, "10.96.0.10", 53);

	for (int i = 0; i < 5; i++)
		expect_to(&c[i], 1, 4, "10.244.0.5", 5353);
	expect_to(&c[5], 2, 4, "10.244.0.6", 5353);
	expect_to(&c[6], 2, 4, "10.244.0.6", 5353);
	expect_to(&c[7], 3, 4, "10.244.0.5", 5353);
	expect_to(&c[8], 4, 4, "10.244.0.5", 8080);
	expect_to(&c[9], 5, 6, "fd00::5", 5353);
	expect_to(&c[10], 6, 4, "10.244.0.5", 9999);
	expect_to(&c[11], UNBALANCED, 4, "10.244.0.5", 5353);
	expect_to(&c[12], 1, 4, "10.244.0.5", 5353);
	/* Replies seen for two of them. */
	struct pkt_spec r0 = flow(4, IPPROTO_UDP, "10.244.0.5", 5353, "10.244.1.10", 4000);
	struct pkt_spec r1 = flow(4, IPPROTO_UDP, "10.244.0.5", 5353, "10.244.1.11", 4001);

	expect_to(&r0, UNBALANCED, 4, "10.244.1.10", 4000);
	expect_to(&r1, UNBALANCED, 4, "10.244.1.11", 4001);
	/* The LRU took one connection's original direction: its reply stays. */
	struct nat_tuple k2 = {.saddr = c[2].saddr,
			       .daddr = c[2].daddr,
			       .sport = htons(c[2].sport),
			       .dport = htons(53),
			       .proto = IPPROTO_UDP,
			       .family = 4};

	CHECK_EQ(bpf_map_delete_elem(conns_fd(), &k2), 0);
	REQUIRE(count_entries() == 25, "%u entries", count_entries());

	/* A's UDP connections of 10.96.0.10:53 go, with the lone reply. */
	expect_flush(filter(4, IPPROTO_UDP, "10.244.0.5", 5353, "10.96.0.10", 53), 11);
	CHECK_EQ(count_entries(), 14);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(conn_state(&c[i]), 0);
	CHECK_EQ(conn_state(&c[12]), 0);
	for (int i = 5; i < 12; i++)
		CHECK_EQ(conn_state(&c[i]), 1);
	/* The next packet of a flushed flow takes the backend maglev gives it;
	 * B's flows kept theirs. */
	expect_to(&c[0], 2, 4, "10.244.0.6", 5353);
	expect_to(&c[5], UNBALANCED, 4, "10.244.0.6", 5353);
	CHECK_EQ(count_entries(), 16);

	/* Every service: 10.96.0.11's connection to A goes too. */
	expect_flush(filter(4, IPPROTO_UDP, "10.244.0.5", 5353, NULL, 0), 2);
	CHECK_EQ(conn_state(&c[7]), 0);
	CHECK_EQ(conn_state(&c[10]), 1);
	/* Every port of A over UDP: 9999 as well; the SNAT connection stays. */
	expect_flush(filter(4, IPPROTO_UDP, "10.244.0.5", 0, NULL, 0), 2);
	CHECK_EQ(conn_state(&c[10]), 0);
	CHECK_EQ(conn_state(&c[11]), 1);
	CHECK_EQ(conn_state(&c[8]), 1);
	/* Other protocols and families are flushed only when asked. */
	expect_flush(filter(4, IPPROTO_TCP, "10.244.0.5", 8080, "10.96.0.12", 80), 2);
	CHECK_EQ(conn_state(&c[8]), 0);
	CHECK_EQ(conn_state(&c[9]), 1);
	expect_flush(filter(6, IPPROTO_UDP, "fd00::5", 5353, "fd00:96::10", 53), 2);
	CHECK_EQ(conn_state(&c[9]), 0);
	/* Nothing left to match. */
	expect_flush(filter(4, IPPROTO_UDP, "10.244.0.5", 0, NULL, 0), 0);
	CHECK_EQ(count_entries(), 8);
	for (int i = 5; i < 7; i++)
		CHECK_EQ(conn_state(&c[i]), 1);
	CHECK_EQ(conn_state(&c[11]), 1);
	CHECK_EQ(conn_state(&c[0]), 1);
	teardown();
}

/* Bad input is refused and changes nothing. */
TEST(bad_input_changes_nothing)
{
	struct nat_flush_filter f;
	uint32_t deleted;

	setup();
	REQUIRE(parser && nat, "load");
	backend(1, 4, "10.244.0.5", 5353);
	struct pkt_spec s = flow(4, IPPROTO_UDP, "10.244.1.10", 4000, "10.96.0.10", 53);

	expect_to(&s, 1, 4, "10.244.0.5", 5353);
	CHECK_EQ(nat_flush_endpoint(conns_fd(), NULL, &deleted), -EINVAL);
	f = filter(4, IPPROTO_UDP, "10.244.0.5", 5353, NULL, 0);
	f.family = 5;
	CHECK_EQ(nat_flush_endpoint(conns_fd(), &f, &deleted), -EINVAL);
	f = filter(4, 0, "10.244.0.5", 5353, NULL, 0);
	CHECK_EQ(nat_flush_endpoint(conns_fd(), &f, &deleted), -EINVAL);
	f = filter(4, IPPROTO_UDP, "0.0.0.0", 5353, NULL, 0);
	CHECK_EQ(nat_flush_endpoint(conns_fd(), &f, &deleted), -EINVAL);
	f = filter(4, IPPROTO_UDP, "10.244.0.5", 5353, NULL, 0);
	f.addr.ip6[2] = 1; /* not an IPv4 address */
	CHECK_EQ(nat_flush_endpoint(conns_fd(), &f, &deleted), -EINVAL);
	f = filter(4, IPPROTO_UDP, "10.244.0.5", 5353, NULL, 0);
	f.service_addr.ip6[3] = 1;
	CHECK_EQ(nat_flush_endpoint(conns_fd(), &f, &deleted), -EINVAL);
	f = filter(4, IPPROTO_UDP, "10.244.0.5", 5353, NULL, 0);
	CHECK_EQ(nat_flush_endpoint(cube_map_fd(nat, "nat_frags"), &f, &deleted), -EINVAL);
	CHECK_EQ(nat_flush_endpoint(cube_map_fd(nat, "nat_backends"), &f, &deleted), -EINVAL);
	CHECK_EQ(nat_flush_endpoint(-1, &f, &deleted), -EBADF);
	CHECK_EQ(count_entries(), 2);
	CHECK_EQ(conn_state(&s), 1);
	teardown();
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* What the flush should delete, found by walking the table one key at a
 * time (not with the batch calls the flush uses). */
static uint32_t entries_to(const union cube_addr *ep)
{
	struct nat_tuple key, next;
	struct nat_conn v;
	uint32_t n = 0;

	for (int err = bpf_map_get_next_key(conns_fd(), NULL, &key); !err;
	     err = bpf_map_get_next_key(conns_fd(), &key, &next), key = next) {
		if (bpf_map_lookup_elem(conns_fd(), &key, &v))
			continue;
		if (v.flags & NAT_CONN_F_REPLY)
			n += !memcmp(&key.saddr, ep, sizeof(*ep));
		else
			n += !memcmp(&v.rewrite.daddr, ep, sizeof(*ep));
	}
	return n;
}

/* A full table: 65,536 connections to 64 endpoints made by the cube, then
 * one endpoint flushed, and one flush that matches nothing. */
TEST(flush_time_at_a_full_table)
{
	struct bpf_map *m;
	uint32_t max, n, want, deleted;
	char ep[32];
	double t0, t1, t2, t3;

	setup();
	REQUIRE(parser && nat, "load");
	m = bpf_object__find_map_by_name(nat->obj, "nat_conns");
	max = bpf_map__max_entries(m);
	for (uint32_t i = 0; i < 64; i++) {
		snprintf(ep, sizeof(ep), "10.244.0.%u", 10 + i);
		backend(i, 4, ep, 5353);
	}
	for (uint32_t i = 0; i < max / 2; i++) {
		char src[32];
		uint16_t dport;

		snprintf(src, sizeof(src), "10.245.%u.%u", i >> 8, i & 0xff);
		struct pkt_spec s = flow(4, IPPROTO_UDP, src, 4000, "10.96.0.10", 53);

		run(&s, i % 64, &dport);
	}
	n = count_entries();
	union cube_addr victim = pkt_ip4("10.244.0.10");

	want = entries_to(&victim);
	CHECK(n > max - max / 64, "table holds %u of %u", n, max);
	CHECK(want > 0, "no entry to endpoint 10.244.0.10");
	struct nat_flush_filter f = {
	    .family = 4, .proto = IPPROTO_UDP, .port = 5353, .addr = victim};
	int rc;

	t0 = now_ms();
	rc = nat_flush_endpoint(conns_fd(), &f, &deleted);
	t1 = now_ms();
	CHECK_EQ(rc, 0);
	CHECK_EQ(deleted, want);
	CHECK_EQ(entries_to(&victim), 0);
	CHECK_EQ(count_entries(), n - want);
	t2 = now_ms();
	rc = nat_flush_endpoint(conns_fd(), &f, &deleted);
	t3 = now_ms();
	CHECK_EQ(rc, 0);
	CHECK_EQ(deleted, 0);
	printf("  %s: %u of %u entries; flushing one endpoint (%u entries) took %.1f ms, "
	       "a flush matching nothing %.1f ms\n",
	       hook_name(hook), n, max, want, t1 - t0, t3 - t2);
	teardown();
}

static const struct test_case cases[] = {
    TEST_ENTRY(flush_only_the_endpoints_connections),
    TEST_ENTRY(bad_input_changes_nothing),
    TEST_ENTRY(flush_time_at_a_full_table),
};

int main(void)
{
	return harness_run_hooks("nat_flush", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
