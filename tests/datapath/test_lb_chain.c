// SPDX-License-Identifier: Apache-2.0
/*
 * classifier, maglev and l2rewrite, alone and as the L2DSR chain, run
 * through real tail calls: the backend chosen for a flow is the one the
 * userspace Maglev table names, and the frame leaves with that backend's MAC
 * and VLAN ID and nothing else changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "lb_fixture.h"
#include "test.h"
#include "lib/hash.h"

static enum cube_hook hook;

#define VIP4 "10.100.0.1"
#define VIP6 "2001:db8:100::1"

static const char *backend_macs[] = {"02:be:00:00:00:00", "02:be:00:00:00:01", "02:be:00:00:00:02",
				     "02:be:00:00:00:03"};

/* Build the chain on the test's shared maps. */
static int chain(struct lb_chain *lb, enum cube_hook h, uint32_t miss)
{
	static uint32_t next_id = 100;

	next_id += 4;
	return lb_chain_build(lb, h, miss, &harness_shared, next_id);
}

static int backend(struct lb_chain *lb, uint32_t id, uint32_t state, const char *mac,
		   uint8_t vlan_action, uint16_t vlan_id)
{
	uint8_t m[6];

	pkt_mac(m, mac);
	return lb_set_backend(lb, id, state, m, NULL, vlan_action, vlan_id);
}

static struct pkt_spec flow(uint32_t i, const char *vip, uint16_t dport)
{
	struct pkt_spec s = {
	    .family = 4,
	    .saddr.ip4 = htonl(0xc6120000u + i), /* 198.18.x.y */
	    .daddr = pkt_ip4(vip),
	    .proto = IPPROTO_TCP,
	    .sport = (uint16_t)(1024 + i * 7),
	    .dport = dport,
	    .nvlan = 1,
	    .vlan_tci = {(3 << 13) | 10}, /* PCP 3, VID 10: the client's VLAN */
	    .payload_len = 16,
	};
	pkt_mac(s.dmac, "02:1b:00:00:00:01");
	pkt_mac(s.smac, "02:c1:00:00:00:01");
	return s;
}

/* The backend the userspace table names for this flow, hashed as the
 * parser does: 5-tuple and the VLAN ID the frame arrived with. */
static uint32_t expected_backend(const struct pkt_spec *s, const uint32_t *table, uint32_t size)
{
	uint32_t hash = cube_flow_hash(CUBE_AF_INET, &s->saddr, &s->daddr, htons(s->sport),
				       htons(s->dport), s->proto, s->vlan_tci[0] & 0xfff);

	return table[hash % size];
}

/* A VIP packet leaves with the backend's MAC and VID and nothing else changed. */
TEST(chain_rewrites_to_maglev_choice)
{
	struct lb_chain lb;
	static uint32_t table[257];
	uint32_t ids[3] = {0, 1, 2}, hits[3] = {0};
	uint16_t vids[3] = {101, 102, 103};
	const uint32_t flows = 300;

	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	CHECK_EQ(lb_add_vip(&lb, pkt_ip4(VIP4), CUBE_AF_INET, 80, IPPROTO_TCP, 0, 1), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(backend(&lb, ids[i], MAGLEV_BACKEND_ACTIVE, backend_macs[i],
				 L2REWRITE_VLAN_SET, vids[i]),
			 0);
	CHECK_EQ(lb_install_ring(&lb, 1, ids, NULL, 3, 257, table), 0);

	for (uint32_t i = 0; i < flows; i++) {
		struct pkt_spec s = flow(i, VIP4, 80);
		uint8_t f[PKT_MAX], want[PKT_MAX];
		size_t len = pkt_build(&s, f);
		struct run_result res;
		struct cube_meta m;
		uint32_t b;

		harness_run(lb.parser, f, len, &res);
		CHECK_EQ(res.err, 0);
		CHECK_EQ(res.retval, hook_ret_tx(hook));
		harness_meta(&m);
		b = expected_backend(&s, table, 257);
		CHECK_EQ(m.backend_id, b);
		CHECK_EQ(m.service_id, 1);
		REQUIRE(b < 3, "backend %u", b);
		hits[b]++;
		/* Expected frame: same bytes, new destination MAC, new VID, PCP kept. */
		memcpy(want, f, len);
		pkt_mac(want, backend_macs[b]);
		want[14] = (uint8_t)((3 << 5) | (vids[b] >> 8));
		want[15] = (uint8_t)(vids[b] & 0xff);
		CHECK_EQ(res.out_len, len);
		CHECK_MEM(res.out, want, len);
	}
	printf("# %s: %u flows -> %u / %u / %u\n", hook_name(hook), flows, hits[0], hits[1],
	       hits[2]);
	for (int i = 0; i < 3; i++)
		CHECK(hits[i] > flows / 6, "backend %d got %u of %u", i, hits[i], flows);

	/* Per-backend and per-service counters match what was sent. */
	struct maglev_counters c;
	uint64_t total = 0;

	for (uint32_t i = 0; i < 3; i++) {
		cube_percpu_sum(cube_map_fd(lb.maglev, "maglev_backend_stats"), i, &c, sizeof(c));
		CHECK_EQ(c.packets, hits[i]);
		total += c.bytes;
	}
	cube_percpu_sum(cube_map_fd(lb.maglev, "maglev_service_stats"), 1, &c, sizeof(c));
	CHECK_EQ(c.packets, flows);
	CHECK_EQ(c.bytes, total);

	struct cube_stats st = harness_stats(lb.l2rewrite);

	CHECK_EQ(st.rx_packets, flows);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], flows);
	st = harness_stats(lb.parser);
	CHECK_EQ(st.verdict[CUBE_VERDICT_FORWARD], flows);
	lb_chain_destroy(&lb);
}

/* An adopted ring is recognised by the backend ids it names and its size
 * alone: exactly that set, each at least once, no more, no fewer. */
TEST(ring_recognised_by_its_backends)
{
	struct lb_chain lb;
	uint32_t ids[3] = {4, 9, 2}, reordered[3] = {2, 4, 9}, fewer[2] = {4, 9},
		 more[4] = {4, 9, 2, 7}, other[3] = {4, 9, 3};

	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	for (int i = 0; i < 4; i++)
		CHECK_EQ(backend(&lb, more[i], MAGLEV_BACKEND_ACTIVE, backend_macs[i % 3],
				 L2REWRITE_VLAN_KEEP, 0),
			 0);
	CHECK_EQ(backend(&lb, 3, MAGLEV_BACKEND_ACTIVE, backend_macs[0], L2REWRITE_VLAN_KEEP, 0),
		 0);
	CHECK_EQ(lb_install_ring(&lb, 5, ids, NULL, 3, 307, NULL), 0);
	CHECK(maglev_store_ring_over(&lb.store, 5, ids, 3, 307), "the set it was built over");
	CHECK(maglev_store_ring_over(&lb.store, 5, reordered, 3, 307), "in another order");
	CHECK(!maglev_store_ring_over(&lb.store, 5, fewer, 2, 307), "a subset");
	CHECK(!maglev_store_ring_over(&lb.store, 5, more, 4, 307), "a superset");
	CHECK(!maglev_store_ring_over(&lb.store, 5, other, 3, 307), "another set");
	CHECK(!maglev_store_ring_over(&lb.store, 5, ids, 3, 311), "another size");
	CHECK(!maglev_store_ring_over(&lb.store, 6, ids, 3, 307), "a service without a ring");
	CHECK(!maglev_store_ring_over(&lb.store, 5, ids, 0, 307), "no backends");
	lb_chain_destroy(&lb);
}

TEST(non_vip_takes_miss_verdict)
{
	struct lb_chain lb;
	struct pkt_spec s = flow(1, "10.100.0.99", 80);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);
	struct run_result res;

	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	CHECK_EQ(lb_add_vip(&lb, pkt_ip4(VIP4), CUBE_AF_INET, 80, IPPROTO_TCP, 0, 1), 0);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK_MEM(res.out, f, len);
	/* Right VIP, wrong port or protocol: also a miss. */
	s = flow(1, VIP4, 81);
	len = pkt_build(&s, f);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	s.dport = 80;
	s.proto = IPPROTO_UDP;
	len = pkt_build(&s, f);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	/* ARP is not IP: a miss too. */
	struct pkt_spec arp = {.ethertype = 0x0806, .payload_len = 28};

	len = pkt_build(&arp, f);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));

	struct cube_stats st = harness_stats(lb.classifier);

	CHECK_EQ(st.verdict[CUBE_VERDICT_PASS], 4);
	CHECK_EQ(harness_stats(lb.maglev).rx_packets, 0);
	lb_chain_destroy(&lb);

	/* Miss verdict "drop" and "port". */
	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_DROP) == 0, "chain");
	s = flow(1, "10.100.0.99", 80);
	len = pkt_build(&s, f);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(lb.classifier).drop[CUBE_DROP_CLASSIFIER_MISS], 1);
	lb_chain_destroy(&lb);

	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PORT) == 0, "chain");
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook)); /* miss port not wired yet */
	CHECK_EQ(harness_stats(lb.classifier).drop[CUBE_DROP_PORT_UNCONNECTED], 1);
	cube_connect_port(lb.classifier, CLASSIFIER_PORT_MISS, CUBE_PORT_NETDEV, 1);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_redirect(hook));
	st = harness_stats(lb.classifier);
	CHECK_EQ(st.port_out[CLASSIFIER_PORT_MISS], 2);
	CHECK_EQ(st.verdict[CUBE_VERDICT_REDIRECT], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_FORWARD], 0);
	lb_chain_destroy(&lb);
}

TEST(classifier_ipv6_vlan_and_wildcard)
{
	struct lb_chain lb;
	struct run_result res;
	struct cube_meta m;
	uint8_t f[PKT_MAX];
	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	/* A backend belongs to one service: one each, all to the same MAC. */
	for (uint32_t svc = 1; svc <= 4; svc++) {
		uint32_t id = svc;

		backend(&lb, id, MAGLEV_BACKEND_ACTIVE, backend_macs[0], L2REWRITE_VLAN_KEEP, 0);
		CHECK_EQ(lb_install_ring(&lb, svc, &id, NULL, 1, 251, NULL), 0);
	}
	CHECK_EQ(lb_add_vip(&lb, pkt_ip6(VIP6), CUBE_AF_INET6, 53, IPPROTO_UDP, 0, 2), 0);
	CHECK_EQ(lb_add_vip(&lb, pkt_ip4(VIP4), CUBE_AF_INET, 443, IPPROTO_TCP, 20, 3), 0);
	CHECK_EQ(lb_add_vip(&lb, pkt_ip4(VIP4), CUBE_AF_INET, 0, IPPROTO_UDP, 0, 4), 0);

	struct pkt_spec s6 = {.family = 6,
			      .saddr = pkt_ip6("2001:db8::7"),
			      .daddr = pkt_ip6(VIP6),
			      .proto = IPPROTO_UDP,
			      .sport = 999,
			      .dport = 53};
	harness_run(lb.parser, f, pkt_build(&s6, f), &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	harness_meta(&m);
	CHECK_EQ(m.service_id, 2);

	/* VLAN-keyed entries match only once classifier_cfg allows it. */
	struct pkt_spec s = flow(3, VIP4, 443);

	s.vlan_tci[0] = 20;
	harness_run(lb.parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	lb_set_cfg(&lb, CLASSIFIER_CFG_VLAN_KEYS | CLASSIFIER_CFG_WILDCARD_PORT);
	harness_run(lb.parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	harness_meta(&m);
	CHECK_EQ(m.service_id, 3);
	s.vlan_tci[0] = 21; /* another tenant's VLAN */
	harness_run(lb.parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));

	/* All-ports entry: any UDP port, and UDP fragments. */
	s = flow(4, VIP4, 5000);
	s.proto = IPPROTO_UDP;
	harness_run(lb.parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	harness_meta(&m);
	CHECK_EQ(m.service_id, 4);
	s.ipv4_frag = 0x2000;
	harness_run(lb.parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	harness_meta(&m);
	CHECK_EQ(m.service_id, 4);
	lb_chain_destroy(&lb);
}

static uint32_t run_backend(struct lb_chain *lb, uint32_t flow_id, uint32_t *retval)
{
	struct pkt_spec s = flow(flow_id, VIP4, 80);
	uint8_t f[PKT_MAX];
	struct run_result res;
	struct cube_meta m;

	harness_run(lb->parser, f, pkt_build(&s, f), &res);
	*retval = res.retval;
	harness_meta(&m);
	return m.backend_id;
}

/* With the connection table on, flows keep their backend through changes. */
TEST(connection_table_keeps_flows)
{
	struct lb_chain lb;
	uint32_t ids[4] = {0, 1, 2, 3}, first[200], rv;
	static uint32_t table[1031];

	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	lb_add_vip(&lb, pkt_ip4(VIP4), CUBE_AF_INET, 80, IPPROTO_TCP, 0, 1);
	for (uint32_t i = 0; i < 4; i++)
		backend(&lb, i, MAGLEV_BACKEND_ACTIVE, backend_macs[i], L2REWRITE_VLAN_KEEP, 0);
	lb_set_service(&lb, 1, MAGLEV_SVC_F_CONN_TABLE);
	CHECK_EQ(lb_install_ring(&lb, 1, ids, NULL, 3, 1031, table), 0); /* 0..2 */
	for (uint32_t i = 0; i < 200; i++)
		first[i] = run_backend(&lb, i, &rv);

	/* Add backend 3: established flows stay; only new flows can reach it. */
	CHECK_EQ(lb_install_ring(&lb, 1, ids, NULL, 4, 1031, table), 0);
	uint32_t kept = 0, new_on_3 = 0;

	for (uint32_t i = 0; i < 200; i++)
		kept += run_backend(&lb, i, &rv) == first[i];
	for (uint32_t i = 1000; i < 1200; i++)
		new_on_3 += run_backend(&lb, i, &rv) == 3;
	CHECK_EQ(kept, 200);
	CHECK(new_on_3 > 20, "new flows on the added backend: %u", new_on_3);

	/* Drain backend 0: out of the ring, its flows stay, no new flows go there. */
	backend(&lb, 0, MAGLEV_BACKEND_DRAINING, backend_macs[0], L2REWRITE_VLAN_KEEP, 0);
	CHECK_EQ(lb_install_ring(&lb, 1, ids + 1, NULL, 3, 1031, table), 0);
	kept = 0;
	for (uint32_t i = 0; i < 200; i++)
		kept += run_backend(&lb, i, &rv) == first[i];
	CHECK_EQ(kept, 200);
	for (uint32_t i = 2000; i < 2200; i++)
		CHECK(run_backend(&lb, i, &rv) != 0, "new flow %u went to a draining backend", i);

	/* Remove backend 0: its flows are re-balanced, the others stay. */
	backend(&lb, 0, MAGLEV_BACKEND_ABSENT, backend_macs[0], L2REWRITE_VLAN_KEEP, 0);
	for (uint32_t i = 0; i < 200; i++) {
		uint32_t now = run_backend(&lb, i, &rv);

		if (first[i] == 0)
			CHECK(now != 0, "flow %u still on a removed backend", i);
		else
			CHECK_EQ(now, first[i]);
	}

	/* Without the connection table the same change moves flows. */
	lb_set_service(&lb, 1, 0);
	CHECK_EQ(lb_install_ring(&lb, 1, ids, NULL, 2, 1031, table), 0);
	for (uint32_t i = 0; i < 200; i++)
		CHECK(run_backend(&lb, i, &rv) < 2, "flow %u outside the ring", i);
	lb_chain_destroy(&lb);
}

TEST(source_hash_affinity_and_errors)
{
	struct lb_chain lb;
	uint32_t ids[3] = {0, 1, 2}, rv, b0;
	uint32_t empty_ids[1] = {0}, zero_weight[1] = {0};

	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	lb_add_vip(&lb, pkt_ip4(VIP4), CUBE_AF_INET, 80, IPPROTO_TCP, 0, 1);
	for (uint32_t i = 0; i < 3; i++)
		backend(&lb, i, MAGLEV_BACKEND_ACTIVE, backend_macs[i], L2REWRITE_VLAN_KEEP, 0);

	/* No ring for the service yet. */
	run_backend(&lb, 1, &rv);
	CHECK_EQ(rv, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(lb.maglev).drop[CUBE_DROP_NO_SERVICE], 1);

	/* Ring with every backend drained. */
	CHECK_EQ(lb_install_ring(&lb, 1, empty_ids, zero_weight, 1, 251, NULL), 0);
	run_backend(&lb, 1, &rv);
	CHECK_EQ(rv, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(lb.maglev).drop[CUBE_DROP_NO_BACKEND], 1);

	/* Marked on instead, for a nat behind to refuse new connections (the
	 * node chain): forwarded with no backend (l2rewrite then has no
	 * target); counted only when it may open a connection. */
	struct maglev_counters mc;

	CHECK_EQ(lb_set_service(&lb, 1, MAGLEV_SVC_F_MARK_NO_BACKEND), 0);
	for (int syn = 1; syn >= 0; syn--) {
		struct pkt_spec p = flow(7, VIP4, 80);
		uint8_t pf[PKT_MAX];
		struct run_result pres;
		struct cube_meta pm;

		p.tcp_flags = syn ? 0x02 : 0; /* SYN, then an ACK */
		harness_run(lb.parser, pf, pkt_build(&p, pf), &pres);
		CHECK_EQ(pres.retval, hook_ret_drop(hook));
		harness_meta(&pm);
		CHECK_EQ(pm.backend_id, CUBE_NO_BACKEND);
		CHECK(pm.flags & CUBE_META_F_BACKEND, "marked as having no backend");
	}
	CHECK_EQ(harness_stats(lb.maglev).drop[CUBE_DROP_NO_BACKEND], 1);
	CHECK_EQ(harness_stats(lb.maglev).verdict[CUBE_VERDICT_FORWARD], 2);
	CHECK_EQ(harness_stats(lb.l2rewrite).drop[CUBE_DROP_NO_L2_TARGET], 2);
	CHECK_EQ(
	    cube_percpu_sum(cube_map_fd(lb.maglev, "maglev_service_stats"), 1, &mc, sizeof(mc)), 0);
	CHECK_EQ(mc.no_backend, 2); /* the drop before, and the SYN */
	CHECK_EQ(mc.packets, 0);

	/* Source-address hashing: every port of one client, one backend. */
	CHECK_EQ(lb_install_ring(&lb, 1, ids, NULL, 3, 251, NULL), 0);
	lb_set_service(&lb, 1, MAGLEV_SVC_F_HASH_SRC);
	struct pkt_spec s = flow(5, VIP4, 80);
	uint8_t f[PKT_MAX];
	struct run_result res;
	struct cube_meta m;
	int spread = 0;

	harness_run(lb.parser, f, pkt_build(&s, f), &res);
	harness_meta(&m);
	b0 = m.backend_id;
	for (uint16_t p = 0; p < 50; p++) {
		s.sport = (uint16_t)(20000 + p * 13);
		harness_run(lb.parser, f, pkt_build(&s, f), &res);
		harness_meta(&m);
		CHECK_EQ(m.backend_id, b0);
	}
	for (uint32_t c = 0; c < 50; c++) {
		s.saddr.ip4 = htonl(0x0a000000u + c * 977);
		harness_run(lb.parser, f, pkt_build(&s, f), &res);
		harness_meta(&m);
		spread |= 1 << m.backend_id;
	}
	CHECK_EQ(spread, 7);

	/* A backend chosen without an L2 target is a counted drop. */
	struct l2rewrite_target none = {0};

	for (uint32_t i = 0; i < 3; i++)
		bpf_map_update_elem(cube_map_fd(lb.l2rewrite, "l2rewrite_targets"), &i, &none,
				    BPF_ANY);
	harness_run(lb.parser, f, pkt_build(&s, f), &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	CHECK_EQ(harness_stats(lb.l2rewrite).drop[CUBE_DROP_NO_L2_TARGET], 2 + 1); /* + marked */
	lb_chain_destroy(&lb);
}

/* l2rewrite alone, on metadata set by hand: every VLAN action. */
static void l2_case(struct cube *l2, const uint8_t *in, size_t in_len, const uint8_t *want,
		    size_t want_len, int tagged)
{
	struct cube_meta m = {.version = CUBE_META_VERSION,
			      .backend_id = 5,
			      .pkt_len = (uint32_t)in_len,
			      .l3_off = tagged ? 18 : 14,
			      .l4_off = tagged ? 38 : 34,
			      .ip_version = 4};
	struct run_result res;

	harness_meta_set(&m);
	harness_run(l2, in, in_len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	CHECK_EQ(res.out_len, want_len);
	CHECK_MEM(res.out, want, want_len);
	harness_meta(&m);
	CHECK_EQ(m.l3_off, (want_len - (in_len - (tagged ? 18 : 14))));
}

TEST(l2rewrite_vlan_actions)
{
	struct cube *l2 = harness_cube("l2rewrite", hook, NULL, NULL);
	struct l2rewrite_target t = {.flags = L2REWRITE_F_VALID | L2REWRITE_F_SET_SMAC};
	struct pkt_spec s = flow(1, VIP4, 80);
	uint8_t tagged[PKT_MAX], untagged[PKT_MAX], want[PKT_MAX];
	size_t tlen, ulen;
	uint32_t id = 5;
	int fd;

	REQUIRE(l2, "load");
	cube_connect_port(l2, L2REWRITE_PORT_OUT, CUBE_PORT_TX, 0);
	fd = cube_map_fd(l2, "l2rewrite_targets");
	pkt_mac(t.dmac, "02:aa:aa:aa:aa:aa");
	pkt_mac(t.smac, "02:bb:bb:bb:bb:bb");
	tlen = pkt_build(&s, tagged); /* VID 10, PCP 3 */
	s.nvlan = 0;
	ulen = pkt_build(&s, untagged);

	/* KEEP: MACs only. */
	t.vlan_action = L2REWRITE_VLAN_KEEP;
	bpf_map_update_elem(fd, &id, &t, BPF_ANY);
	memcpy(want, tagged, tlen);
	memcpy(want, t.dmac, 6);
	memcpy(want + 6, t.smac, 6);
	l2_case(l2, tagged, tlen, want, tlen, 1);

	/* SET on a tagged frame: VID replaced, PCP kept. */
	t.vlan_action = L2REWRITE_VLAN_SET;
	t.vlan_id = 0xabc;
	bpf_map_update_elem(fd, &id, &t, BPF_ANY);
	want[14] = (3 << 5) | 0x0a;
	want[15] = 0xbc;
	l2_case(l2, tagged, tlen, want, tlen, 1);

	/* POP on a tagged frame: the untagged frame with new MACs. */
	t.vlan_action = L2REWRITE_VLAN_POP;
	bpf_map_update_elem(fd, &id, &t, BPF_ANY);
	memcpy(want, untagged, ulen);
	memcpy(want, t.dmac, 6);
	memcpy(want + 6, t.smac, 6);
	l2_case(l2, tagged, tlen, want, ulen, 1);
	/* POP on an untagged frame: nothing to pop. */
	l2_case(l2, untagged, ulen, want, ulen, 0);

	if (hook == CUBE_HOOK_XDP) {
		/* SET on an untagged frame pushes a tag (TC keeps a pushed tag out of
		 * band in skb->vlan_tci, where a test run cannot show it). */
		t.vlan_action = L2REWRITE_VLAN_SET;
		bpf_map_update_elem(fd, &id, &t, BPF_ANY);
		memcpy(want, tagged, tlen);
		memcpy(want, t.dmac, 6);
		memcpy(want + 6, t.smac, 6);
		want[14] = 0x0a;
		want[15] = 0xbc;
		l2_case(l2, untagged, ulen, want, tlen, 0);
	}

	/* Without valid metadata it refuses. */
	harness_meta_clear();
	struct run_result res;

	harness_run(l2, tagged, tlen, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	struct cube_stats st = harness_stats(l2);

	CHECK_EQ(st.drop[CUBE_DROP_NO_META], 1);
	/* Received and dropped alike: every frame it saw has one verdict. */
	CHECK_EQ(st.rx_packets, st.verdict[CUBE_VERDICT_TX] + st.verdict[CUBE_VERDICT_DROP]);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 1);
	cube_destroy(l2);
}

/* l2rewrite's metadata describes the frame it sends: the outer VID, where
 * that tag is (TC keeps a pushed tag, and the next one after a pop, out of
 * band), whether a second tag follows, and offsets moved by what moved. */
static struct cube_meta l2_meta_after(struct cube *l2, const uint8_t *in, size_t in_len,
				      uint16_t flags, uint16_t vid, uint16_t inner, int tags,
				      size_t *out_len)
{
	struct cube_meta m = {.version = CUBE_META_VERSION,
			      .backend_id = 5,
			      .flags = flags | CUBE_META_F_L4 | CUBE_META_F_BACKEND,
			      .vlan_id = vid,
			      .vlan_inner = inner,
			      .pkt_len = (uint32_t)in_len,
			      .l3_off = (uint16_t)(14 + 4 * tags),
			      .l4_off = (uint16_t)(34 + 4 * tags),
			      .ip_version = 4};
	struct run_result res;

	harness_meta_set(&m);
	harness_run(l2, in, in_len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	*out_len = res.out_len;
	harness_meta(&m);
	CHECK_EQ(m.pkt_len, res.out_len);
	CHECK_EQ(m.l4_off, m.l3_off + 20);
	return m;
}

TEST(l2rewrite_metadata_follows_the_tags)
{
	struct cube *l2 = harness_cube("l2rewrite", hook, NULL, NULL);
	struct l2rewrite_target t = {.flags = L2REWRITE_F_VALID};
	struct pkt_spec s = flow(1, VIP4, 80);
	uint8_t qinq[PKT_MAX], untagged[PKT_MAX];
	size_t qlen, ulen, out_len;
	struct cube_meta m;
	uint32_t id = 5;
	int fd, tc = hook == CUBE_HOOK_TC;

	REQUIRE(l2, "load");
	cube_connect_port(l2, L2REWRITE_PORT_OUT, CUBE_PORT_TX, 0);
	fd = cube_map_fd(l2, "l2rewrite_targets");
	pkt_mac(t.dmac, "02:aa:aa:aa:aa:aa");
	s.nvlan = 2;
	s.vlan_tpid[0] = 0x88a8;
	s.vlan_tci[0] = 5;
	s.vlan_tci[1] = 10;
	qlen = pkt_build(&s, qinq);
	s.nvlan = 0;
	ulen = pkt_build(&s, untagged);

	/* POP of QinQ: the inner tag is the outer one, in the data (XDP) or
	 * out of band (TC: the kernel moves it there). */
	t.vlan_action = L2REWRITE_VLAN_POP;
	bpf_map_update_elem(fd, &id, &t, BPF_ANY);
	m = l2_meta_after(l2, qinq, qlen, CUBE_META_F_VLAN | CUBE_META_F_QINQ, 5, 10, 2, &out_len);
	CHECK_EQ(out_len, tc ? qlen - 8 : qlen - 4);
	CHECK_EQ(m.l3_off, tc ? 14 : 18);
	CHECK_EQ(m.flags, CUBE_META_F_VLAN | CUBE_META_F_L4 | CUBE_META_F_BACKEND |
			      (tc ? CUBE_META_F_VLAN_HWACCEL : 0));
	CHECK_EQ(m.vlan_id, 10);
	CHECK_EQ(m.vlan_inner, 0);

	/* SET on an untagged frame: a tag pushed in the data (XDP) or out of
	 * band (TC). */
	t.vlan_action = L2REWRITE_VLAN_SET;
	t.vlan_id = 300;
	bpf_map_update_elem(fd, &id, &t, BPF_ANY);
	m = l2_meta_after(l2, untagged, ulen, 0, 0, 0, 0, &out_len);
	CHECK_EQ(out_len, tc ? ulen : ulen + 4);
	CHECK_EQ(m.l3_off, tc ? 14 : 18);
	CHECK_EQ(m.flags, CUBE_META_F_VLAN | CUBE_META_F_L4 | CUBE_META_F_BACKEND |
			      (tc ? CUBE_META_F_VLAN_HWACCEL : 0));
	CHECK_EQ(m.vlan_id, 300);
	cube_destroy(l2);
}

/*
 * An IPv6 VIP served on port 443 only. A SYN to port 22 behind 8 + 520
 * bytes of options, with a decoy TCP header to 443 in the option data where
 * an offset wrapped at 9 bits lands, is a miss; a real SYN to 443 behind the
 * same options reaches the backend.
 */
TEST(ipv6_port_read_behind_long_options)
{
	struct pkt_spec s = {.family = 6,
			     .saddr = pkt_ip6("2001:db8::7"),
			     .daddr = pkt_ip6(VIP6),
			     .proto = IPPROTO_TCP,
			     .sport = 40000,
			     .dport = 22,
			     .tcp_flags = 0x02,
			     .ipv6_ext = 2,
			     .ipv6_ext_len = {8, 520}};
	uint8_t f[PKT_MAX], want[PKT_MAX];
	uint32_t ids[1] = {0};
	struct run_result res;
	struct cube_stats st;
	struct cube_meta m;
	struct lb_chain lb;
	size_t len;

	pkt_mac(s.dmac, "02:1b:00:00:00:01");
	pkt_mac(s.smac, "02:c1:00:00:00:01");
	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	CHECK_EQ(backend(&lb, 0, MAGLEV_BACKEND_ACTIVE, backend_macs[0], L2REWRITE_VLAN_KEEP, 0),
		 0);
	CHECK_EQ(lb_install_ring(&lb, 1, ids, NULL, 1, 251, NULL), 0);
	CHECK_EQ(lb_add_vip(&lb, pkt_ip6(VIP6), CUBE_AF_INET6, 443, IPPROTO_TCP, 0, 1), 0);

	len = pkt_build(&s, f);
	pkt_put_tcp(f + (582 & 0x1ff), 1234, 443, 0x02);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, f, len);
	harness_meta(&m);
	CHECK_EQ(m.l4_off, 582);
	CHECK_EQ(m.dport, htons(22));
	CHECK_EQ(m.service_id, CUBE_NO_SERVICE);
	CHECK_EQ(m.backend_id, CUBE_NO_BACKEND);

	s.dport = 443;
	len = pkt_build(&s, f);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.err, 0);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	memcpy(want, f, len);
	pkt_mac(want, backend_macs[0]);
	CHECK_EQ(res.out_len, len);
	CHECK_MEM(res.out, want, len);

	st = harness_stats(lb.classifier);
	CHECK_EQ(st.rx_packets, 2);
	CHECK_EQ(st.verdict[CUBE_VERDICT_PASS], 1);
	CHECK_EQ(st.port_out[CLASSIFIER_PORT_HIT], 1);
	CHECK_EQ(harness_stats(lb.maglev).rx_packets, 1);
	st = harness_stats(lb.l2rewrite);
	CHECK_EQ(st.rx_packets, 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 1);
	lb_chain_destroy(&lb);
}

/*
 * The chain's verdict closes the packet's metadata: a later cube run on its
 * own, as if it headed a chain, finds none and drops the frame untouched,
 * counting it received and dropped, rather than acting on the last packet's.
 */
TEST(no_cube_acts_on_the_last_packets_metadata)
{
	struct pkt_spec s = flow(1, VIP4, 80);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);
	uint32_t ids[1] = {0};
	struct run_result res;
	struct cube_meta m;
	struct lb_chain lb;

	REQUIRE(chain(&lb, hook, CLASSIFIER_MISS_PASS) == 0, "chain");
	CHECK_EQ(lb_add_vip(&lb, pkt_ip4(VIP4), CUBE_AF_INET, 80, IPPROTO_TCP, 0, 1), 0);
	CHECK_EQ(backend(&lb, 0, MAGLEV_BACKEND_ACTIVE, backend_macs[0], L2REWRITE_VLAN_KEEP, 0),
		 0);
	CHECK_EQ(lb_install_ring(&lb, 1, ids, NULL, 1, 251, NULL), 0);
	harness_run(lb.parser, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_tx(hook));
	harness_meta(&m);
	CHECK_EQ(m.version, 0);
	CHECK_EQ(m.backend_id, 0);

	struct cube *later[3] = {lb.classifier, lb.maglev, lb.l2rewrite};

	for (int i = 0; i < 3; i++) {
		struct cube_stats st;
		uint64_t verdicts = 0;

		harness_run(later[i], f, len, &res);
		CHECK_EQ(res.err, 0);
		CHECK_EQ(res.retval, hook_ret_drop(hook));
		CHECK_EQ(res.out_len, len);
		CHECK_MEM(res.out, f, len);
		st = harness_stats(later[i]);
		CHECK_EQ(st.drop[CUBE_DROP_NO_META], 1);
		CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 1);
		for (int v = 0; v < CUBE_VERDICT_MAX; v++)
			verdicts += st.verdict[v];
		CHECK_EQ(st.rx_packets, 2); /* the chain's packet and this one */
		CHECK_EQ(st.rx_packets, verdicts);
		CHECK_EQ(st.rx_bytes, 2 * len);
	}
	lb_chain_destroy(&lb);
}

/* The chaining contract itself: unwired ports and missing jumps are counted drops. */
TEST(contract_unwired_and_failed_jumps)
{
	struct cube *p = harness_cube("parser", hook, NULL, NULL);
	struct pkt_spec s = flow(1, VIP4, 80);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);
	struct run_result res;
	struct cube_stats st;
	int fd;
	uint32_t port = 0;

	REQUIRE(p, "load");
	harness_run(p, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	/* Configured as a cube port, but the program slot is empty. */
	struct cube_port_cfg cfg = {.kind = CUBE_PORT_CUBE};

	fd = cube_map_fd(p, "cube_port_cfg");
	bpf_map_update_elem(fd, &port, &cfg, BPF_ANY);
	harness_run(p, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	cube_connect_port(p, 0, CUBE_PORT_PASS, 0);
	harness_run(p, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_pass(hook));
	cube_connect_port(p, 0, CUBE_PORT_DROP, 0);
	harness_run(p, f, len, &res);
	CHECK_EQ(res.retval, hook_ret_drop(hook));
	st = harness_stats(p);
	CHECK_EQ(st.drop[CUBE_DROP_PORT_UNCONNECTED], 1);
	CHECK_EQ(st.drop[CUBE_DROP_TAIL_CALL_FAILED], 1);
	CHECK_EQ(st.drop[CUBE_DROP_NONE], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], 3);
	CHECK_EQ(st.verdict[CUBE_VERDICT_PASS], 1);
	CHECK_EQ(st.verdict[CUBE_VERDICT_FORWARD], 0);
	CHECK_EQ(st.port_out[0], 4);
	CHECK_EQ(cube_connect_port(p, CUBE_MAX_PORTS, CUBE_PORT_PASS, 0), -ERANGE);
	cube_destroy(p);
}

static const struct test_case cases[] = {
    TEST_ENTRY(chain_rewrites_to_maglev_choice),
    TEST_ENTRY(non_vip_takes_miss_verdict),
    TEST_ENTRY(classifier_ipv6_vlan_and_wildcard),
    TEST_ENTRY(connection_table_keeps_flows),
    TEST_ENTRY(source_hash_affinity_and_errors),
    TEST_ENTRY(l2rewrite_vlan_actions),
    TEST_ENTRY(l2rewrite_metadata_follows_the_tags),
    TEST_ENTRY(contract_unwired_and_failed_jumps),
    TEST_ENTRY(ring_recognised_by_its_backends),
    TEST_ENTRY(ipv6_port_read_behind_long_options),
    TEST_ENTRY(no_cube_acts_on_the_last_packets_metadata),
};

int main(void)
{
	return harness_run_hooks("lb_chain", cases, sizeof(cases) / sizeof(cases[0]), &hook);
}
