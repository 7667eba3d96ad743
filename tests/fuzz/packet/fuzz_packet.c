// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: a differential of the datapath against references written
 * from the rules (ref_parse.c, ref_lb.c). Every frame runs through
 * BPF_PROG_TEST_RUN, on XDP and on TC:
 *
 *  - the parser cube alone (its port wired to transmit): the verdict, the
 *    drop reason counted, the frame given back and every field of the
 *    metadata it leaves, against ref_parse();
 *  - the whole L2DSR chain with a fixed config (VIPs of both families, with
 *    and without VLAN and port, five-tuple and source hashing, the
 *    connection table, every VLAN action): the verdict, the drop reason,
 *    every byte sent and the metadata left for a next cube, against ref_lb()
 *    and the Maglev tables userspace built.
 *
 * Any disagreement aborts, so libFuzzer keeps the frame. A run the kernel
 * refuses is a defined outcome only where it refuses on its own terms:
 * frames shorter than it runs at all, and (TC) frames whose outer ethertype
 * is IPv4 or IPv6 with less than that IP header after Ethernet.
 *
 * Input: a first byte choosing the mode, then either the frame itself
 * (even) or a description for frame_gen() (odd).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frame_gen.h"
#include "harness.h"
#include "lb_fixture.h"
#include "ref_lb.h"
#include "ref_parse.h"
#include "test.h"
#include "lib/abi/classifier.h"
#include "lib/abi/l2rewrite.h"
#include "lib/abi/maglev.h"
#include "lib/abi/stats.h"

/* The longest frame run: all of it in the first buffer on both hooks (an
 * XDP test run keeps 3520 bytes linear, a TC one takes up to 3710). */
#define FRAME_MAX	3520
#define RING_SIZE	251
#define INGRESS_IFINDEX 1 /* test runs come in on loopback */

static const uint8_t smac_lb[6] = {0x02, 0x1b, 0, 0, 0, 0xfe};

static const struct ref_backend backends[] = {
    {1, {0x02, 0xbe, 0, 0, 0, 1}, NULL, L2REWRITE_VLAN_KEEP, 0},
    {2, {0x02, 0xbe, 0, 0, 0, 2}, NULL, L2REWRITE_VLAN_SET, 10},
    {3, {0x02, 0xbe, 0, 0, 0, 3}, NULL, L2REWRITE_VLAN_POP, 0},
    {4, {0x02, 0xbe, 0, 0, 0, 4}, smac_lb, L2REWRITE_VLAN_SET, 4095},
    {5, {0x02, 0xbe, 0, 0, 0, 5}, smac_lb, L2REWRITE_VLAN_KEEP, 0},
    {6, {0x02, 0xbe, 0, 0, 0, 6}, NULL, L2REWRITE_VLAN_POP, 0},
    {7, {0x02, 0xbe, 0, 0, 0, 7}, NULL, L2REWRITE_VLAN_SET, 7},
    {8, {0x02, 0xbe, 0, 0, 0, 8}, smac_lb, L2REWRITE_VLAN_POP, 0},
    {9, {0x02, 0xbe, 0, 0, 0, 9}, NULL, L2REWRITE_VLAN_SET, 300},
    {10, {0x02, 0xbe, 0, 0, 0, 10}, NULL, L2REWRITE_VLAN_KEEP, 0},
};

static uint32_t rings[6][RING_SIZE];

static struct ref_vip vips[] = {
    /* addr, family, proto, port, vlan, service, flags, backends */
    {.family = CUBE_AF_INET,
     .proto = 6,
     .port = 80,
     .service_id = 1,
     .flags = MAGLEV_SVC_F_CONN_TABLE,
     .backends = {1, 2, 3},
     .n_backends = 3},
    {.family = CUBE_AF_INET,
     .proto = 17,
     .port = 53,
     .vlan = 100,
     .service_id = 2,
     .flags = MAGLEV_SVC_F_HASH_SRC,
     .backends = {4, 5},
     .n_backends = 2},
    {.family = CUBE_AF_INET,
     .proto = 6,
     .port = 0,
     .service_id = 3,
     .backends = {6},
     .n_backends = 1},
    {.family = CUBE_AF_INET6,
     .proto = 6,
     .port = 443,
     .service_id = 4,
     .backends = {7, 8},
     .n_backends = 2},
    {.family = CUBE_AF_INET6,
     .proto = 17,
     .port = 0,
     .vlan = 200,
     .service_id = 5,
     .backends = {9},
     .n_backends = 1},
    {.family = CUBE_AF_INET,
     .proto = 1,
     .port = 0,
     .service_id = 6,
     .backends = {10},
     .n_backends = 1},
};
static const char *const vip_addrs[] = {"10.0.0.1",    "10.0.0.1",    "10.0.0.2",
					"2001:db8::1", "2001:db8::2", "10.0.0.3"};
#define N_VIPS (sizeof(vips) / sizeof(vips[0]))

static struct ref_lb_config config = {
    .vips = vips,
    .n_vips = N_VIPS,
    .backends = backends,
    .n_backends = sizeof(backends) / sizeof(backends[0]),
};

static union cube_addr target_v4[3], target_v6[2];
static const uint16_t target_ports[] = {80, 53, 443, 8080};
static const struct frame_targets targets = {
    target_v4, target_v6, 3, 2, target_ports, sizeof(target_ports) / sizeof(target_ports[0])};

static struct cube *parser[CUBE_HOOK_MAX];
static struct lb_chain chains[CUBE_HOOK_MAX];
static size_t run_min[CUBE_HOOK_MAX];

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "packet: " __VA_ARGS__);                                           \
		fprintf(stderr, "\n");                                                             \
		abort();                                                                           \
	} while (0)

static void setup_chain(struct lb_chain *lb, enum cube_hook hook)
{
	int err = lb_chain_build(lb, hook, CLASSIFIER_MISS_PASS, &harness_shared, 10 + hook * 4);

	for (size_t i = 0; !err && i < config.n_backends; i++)
		err =
		    lb_set_backend(lb, backends[i].id, MAGLEV_BACKEND_ACTIVE, backends[i].mac,
				   backends[i].smac, backends[i].vlan_action, backends[i].vlan_id);
	for (size_t i = 0; !err && i < N_VIPS; i++) {
		struct ref_vip *v = &vips[i];

		err = lb_add_vip(lb, v->addr, v->family, v->port, v->proto, v->vlan, v->service_id);
		if (!err)
			err = lb_install_ring(lb, v->service_id, v->backends, NULL, v->n_backends,
					      RING_SIZE, rings[i]);
		if (!err)
			err = lb_set_service(lb, v->service_id, v->flags);
	}
	if (!err)
		err = lb_set_cfg(lb, config.classifier_flags);
	if (err)
		FAIL("cannot build the %s lb chain: %s", hook_name(hook), strerror(-err));
}

/* The shortest frame a test run takes on this hook. */
static size_t probe_run_min(enum cube_hook hook)
{
	uint8_t f[64] = {0};
	struct run_result res;

	f[12] = 0x88; /* an ethertype nothing refuses */
	f[13] = 0xb5;
	for (size_t len = 1; len < sizeof(f); len++)
		if (!harness_run(parser[hook], f, len, &res))
			return len;
	FAIL("no %s test run takes a frame", hook_name(hook));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	harness_init("fuzz_packet"); /* exits 77 where BPF cannot run */
	for (size_t i = 0; i < N_VIPS; i++) {
		vips[i].addr =
		    vips[i].family == CUBE_AF_INET ? pkt_ip4(vip_addrs[i]) : pkt_ip6(vip_addrs[i]);
		vips[i].ring = rings[i];
		vips[i].ring_size = RING_SIZE;
		if (vips[i].vlan)
			config.classifier_flags |= CLASSIFIER_CFG_VLAN_KEYS;
		if (!vips[i].port)
			config.classifier_flags |= CLASSIFIER_CFG_WILDCARD_PORT;
	}
	target_v4[0] = pkt_ip4("10.0.0.1");
	target_v4[1] = pkt_ip4("10.0.0.2");
	target_v4[2] = pkt_ip4("10.0.0.3");
	target_v6[0] = pkt_ip6("2001:db8::1");
	target_v6[1] = pkt_ip6("2001:db8::2");
	for (int h = 0; h < CUBE_HOOK_MAX; h++) {
		parser[h] = harness_cube("parser", h, NULL, NULL);
		if (!parser[h] || cube_connect_port(parser[h], 0, CUBE_PORT_TX, 0))
			FAIL("cannot load the %s parser", hook_name(h));
		run_min[h] = probe_run_min(h);
		fprintf(stderr, "# %s test runs take frames of %zu bytes and more\n", hook_name(h),
			run_min[h]);
		setup_chain(&chains[h], h);
	}
	return 0;
}

/* A refusal of the kernel's own: see the top of this file. */
static int refusable(enum cube_hook hook, const uint8_t *f, size_t len)
{
	uint16_t type = len >= 14 ? (uint16_t)(f[12] << 8 | f[13]) : 0;

	if (len < run_min[hook])
		return 1;
	return hook == CUBE_HOOK_TC &&
	       ((type == 0x0800 && len < 14 + 20) || (type == 0x86dd && len < 14 + 40));
}

static void dump(const char *what, const uint8_t *f, size_t len)
{
	fprintf(stderr, "  %s (%zu bytes):", what, len);
	for (size_t i = 0; i < len && i < 128; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n   ", f[i]);
	fprintf(stderr, "\n");
}

static void meta_diff(const struct cube_meta *got, const struct cube_meta *want)
{
#define FIELD(f)                                                                                   \
	if (memcmp(&got->f, &want->f, sizeof(got->f)))                                             \
	fprintf(stderr, "  meta." #f ": got %#x, want %#x\n", (unsigned)got->f, (unsigned)want->f)
	FIELD(version);
	FIELD(flags);
	FIELD(ingress_ifindex);
	FIELD(pkt_len);
	FIELD(l3_off);
	FIELD(l4_off);
	FIELD(l3_proto);
	FIELD(l4_proto);
	FIELD(ip_version);
	FIELD(vlan_id);
	FIELD(vlan_inner);
	FIELD(sport);
	FIELD(dport);
	FIELD(flow_hash);
	FIELD(service_id);
	FIELD(backend_id);
#undef FIELD
	if (memcmp(&got->saddr, &want->saddr, sizeof(got->saddr)))
		fprintf(stderr, "  meta.saddr differs\n");
	if (memcmp(&got->daddr, &want->daddr, sizeof(got->daddr)))
		fprintf(stderr, "  meta.daddr differs\n");
}

/* Leave a valid-looking slot behind: a drop must not leave it valid. */
static void poison_meta(void)
{
	struct cube_meta junk;

	memset(&junk, 0xa5, sizeof(junk));
	junk.version = CUBE_META_VERSION;
	harness_meta_set(&junk);
}

static int run(const struct cube *cube, enum cube_hook hook, const uint8_t *f, size_t len,
	       struct run_result *res)
{
	poison_meta();
	if (!harness_run(cube, f, len, res))
		return 1;
	if (!refusable(hook, f, len)) {
		dump("frame", f, len);
		FAIL("%s: the test run refused a %zu-byte frame: %s", hook_name(hook), len,
		     strerror(-res->err));
	}
	return 0;
}

/* The drop reasons this run counted: want once (a drop), or none (-1). */
static void check_drop(const struct cube *cube, const struct cube_stats *before, int want,
		       enum cube_hook hook, const uint8_t *f, size_t len)
{
	struct cube_stats after = harness_stats(cube);

	for (int r = 0; r < CUBE_DROP_MAX; r++) {
		uint64_t d = after.drop[r] - before->drop[r];

		if (d != (r == want)) {
			dump("frame", f, len);
			FAIL("%s %s: drop reason %s counted %llu times, want %s", cube->type->name,
			     hook_name(hook), cube_drop_reason_name((unsigned)r),
			     (unsigned long long)d,
			     want < 0 ? "no drop" : cube_drop_reason_name((unsigned)want));
		}
	}
}

static void check_parser(enum cube_hook hook, const uint8_t *f, size_t len)
{
	struct cube_stats before = harness_stats(parser[hook]);
	struct cube_meta want, got;
	enum cube_drop_reason reason = ref_parse(f, len, INGRESS_IFINDEX, &want);
	struct run_result res;

	if (!run(parser[hook], hook, f, len, &res))
		return;
	if (harness_meta(&got))
		FAIL("cannot read the metadata");
	if (res.out_len != len || memcmp(res.out, f, len)) {
		dump("frame", f, len);
		FAIL("parser %s changed the frame", hook_name(hook));
	}
	if (reason) {
		if (res.retval != hook_ret_drop(hook) || got.version) {
			dump("frame", f, len);
			FAIL("parser %s: verdict %u, metadata version %u; want a drop (%s)",
			     hook_name(hook), res.retval, got.version,
			     cube_drop_reason_name(reason));
		}
		check_drop(parser[hook], &before, reason, hook, f, len);
		return;
	}
	if (res.retval != hook_ret_tx(hook) || memcmp(&got, &want, sizeof(got))) {
		dump("frame", f, len);
		meta_diff(&got, &want);
		FAIL("parser %s: verdict %u (want %u), metadata as above", hook_name(hook),
		     res.retval, hook_ret_tx(hook));
	}
	check_drop(parser[hook], &before, -1, hook, f, len);
}

static void check_chain(enum cube_hook hook, const uint8_t *f, size_t len)
{
	struct lb_chain *lb = &chains[hook];
	struct cube_stats before = harness_stats(lb->parser);
	static struct ref_lb_result want;
	struct run_result res;
	struct cube_meta got;
	uint32_t verdict;

	ref_lb(&config, hook, f, len, INGRESS_IFINDEX, &want);
	if (!run(lb->parser, hook, f, len, &res))
		return;
	harness_meta(&got);
	verdict = want.verdict == REF_LB_TX	? hook_ret_tx(hook)
		  : want.verdict == REF_LB_PASS ? hook_ret_pass(hook)
						: hook_ret_drop(hook);
	if (res.retval != verdict || res.out_len != want.out_len ||
	    memcmp(res.out, want.out, want.out_len) ||
	    (want.verdict == REF_LB_TX && memcmp(&got, &want.meta, sizeof(got)))) {
		dump("frame", f, len);
		dump("sent", res.out, res.out_len);
		dump("want", want.out, want.out_len);
		if (want.verdict == REF_LB_TX)
			meta_diff(&got, &want.meta);
		FAIL("lb chain %s: verdict %u (want %u), service %u backend %u (want %u %u)",
		     hook_name(hook), res.retval, verdict, got.service_id, got.backend_id,
		     want.service_id, want.backend_id);
	}
	check_drop(lb->parser, &before, want.verdict == REF_LB_DROP ? (int)want.reason : -1, hook,
		   f, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FRAME_MAX];
	size_t len;

	if (size < 1)
		return -1;
	if (data[0] & 1) {
		len = frame_gen(data + 1, size - 1, &targets, frame, sizeof(frame));
	} else {
		len = size - 1 < sizeof(frame) ? size - 1 : sizeof(frame);
		memcpy(frame, data + 1, len);
	}
	for (int h = 0; h < CUBE_HOOK_MAX; h++) {
		check_parser(h, frame, len);
		check_chain(h, frame, len);
	}
	return 0;
}
