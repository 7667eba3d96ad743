// SPDX-License-Identifier: Apache-2.0
/*
 * cube-cost: nanoseconds per packet of each cube and of the whole L2DSR
 * chain, from BPF_PROG_TEST_RUN (in-kernel timing over `repeat` runs of one
 * frame). Each cube runs on the frame it is built for, on the path it takes
 * in the chain, with its out port jumping to an empty program, as it jumps
 * to the next cube in a chain. (A fallback verdict would end the chain and
 * close the metadata, which the next repetition then lacks.)
 *
 *   cube-cost [REPEAT]    (default 1000000)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "median.h"
#include "harness.h"
#include "lb_fixture.h"
#include "lib/abi/nat.h"
#include "lib/abi/router.h"

static uint32_t repeat = 1000000;

static struct pkt_spec vip_flow(void)
{
	struct pkt_spec s = {.family = 4,
			     .saddr = pkt_ip4("198.18.0.7"),
			     .daddr = pkt_ip4("10.100.0.1"),
			     .proto = IPPROTO_UDP,
			     .sport = 40000,
			     .dport = 80,
			     .payload_len = 18}; /* a 64-byte frame with FCS */
	pkt_mac(s.dmac, "02:00:00:00:00:01");
	pkt_mac(s.smac, "02:00:00:00:00:02");
	return s;
}

/* Median of five timed runs, in ns per packet. */
static uint32_t time_cube(const struct cube *c, const uint8_t *f, size_t len,
			  const struct cube_meta *meta)
{
	uint32_t t[5];

	for (int i = 0; i < 5; i++) {
		if (meta)
			harness_meta_set(meta);
		t[i] = harness_time(c, f, len, repeat);
	}
	return median_u32(t, 5);
}

/*
 * The router decrements the TTL of the one buffer a test run repeats on:
 * time it in runs short enough for a TTL of 255 (each run starts from a
 * fresh copy of the frame), the median of their means.
 */
static uint32_t time_ttl_limited(const struct cube *c, const uint8_t *f, size_t len,
				 const struct cube_meta *meta)
{
	static uint32_t t[1001];
	uint32_t n = repeat / 250 < 1001 ? repeat / 250 : 1001;

	if (n < 5)
		n = 5;
	for (uint32_t i = 0; i < n; i++) {
		harness_meta_set(meta);
		t[i] = harness_time(c, f, len, 250);
	}
	return median_u32(t, n);
}

static struct bpf_object *pass_obj;

/* The empty program of a hook: XDP's multi-buffer, as cubes are. */
static int pass_fd(enum cube_hook hook)
{
	const char *name = hook == CUBE_HOOK_TC ? "tc_pass" : "xdp_pass_frags";

	if (!pass_obj) {
		pass_obj = bpf_object__open_file(PASS_BPF_OBJ, NULL);
		if (!pass_obj || bpf_object__load(pass_obj)) {
			fprintf(stderr, "cannot load %s\n", PASS_BPF_OBJ);
			exit(1);
		}
	}
	return bpf_program__fd(bpf_object__find_program_by_name(pass_obj, name));
}

/* Out of this port: a jump to the empty program. */
static void out_to_empty(struct cube *c, uint32_t port)
{
	struct cube empty = {.hook = c->hook, .prog_fd = pass_fd(c->hook)};

	if (cube_connect_cube(c, port, &empty)) {
		fprintf(stderr, "cannot wire %s port %u to the empty program\n", c->type->name,
			port);
		exit(1);
	}
}

/* An empty program's run: the fixed cost inside every figure. */
static uint32_t run_overhead(enum cube_hook hook, const uint8_t *f, size_t len)
{
	struct cube empty = {.prog_fd = pass_fd(hook)};

	return time_cube(&empty, f, len, NULL);
}

/* The L2DSR cubes compiled into one XDP program, programmed like the chain. */
static uint32_t time_mono(const uint8_t *f, size_t len)
{
	struct bpf_object *obj = bpf_object__open_file(MONO_BPF_OBJ, NULL);
	struct cube mono = {.hook = CUBE_HOOK_XDP, .obj = obj};
	struct lb_chain lb = {
	    .parser = &mono, .classifier = &mono, .maglev = &mono, .l2rewrite = &mono};
	uint32_t ids[3] = {0, 1, 2}, ns = 0;
	uint8_t mac[6] = {2, 0xbe, 0, 0, 0, 1};
	union cube_addr vip = pkt_ip4("10.100.0.1");

	if (!obj || bpf_object__load(obj))
		return 0;
	mono.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "mono_l2dsr"));
	if (lb_chain_open(&lb)) {
		bpf_object__close(obj);
		return 0;
	}
	lb_add_vip(&lb, vip, CUBE_AF_INET, 80, IPPROTO_UDP, 0, 1);
	for (uint32_t i = 0; i < 3; i++)
		lb_set_backend(&lb, i, MAGLEV_BACKEND_ACTIVE, mac, mac, L2REWRITE_VLAN_KEEP, 0);
	if (!lb_install_ring(&lb, 1, ids, NULL, 3, 65537, NULL))
		ns = time_cube(&mono, f, len, NULL);
	maglev_store_close(&lb.store);
	map_txn_free(&lb.txn);
	bpf_object__close(obj);
	return ns;
}

static void row(const char *what, enum cube_hook hook, uint32_t ns)
{
	printf("| %-44s | %-3s | %5u |\n", what, hook_name(hook), ns);
	fflush(stdout);
}

static void bench_hook(enum cube_hook hook)
{
	struct pkt_spec s = vip_flow();
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(&s, f);
	struct lb_chain lb;
	struct cube_meta meta;
	struct run_result res;
	uint32_t ids[3] = {0, 1, 2}, chain_ns;
	uint8_t mac[6] = {2, 0xbe, 0, 0, 0, 1};

	if (lb_chain_build(&lb, hook, CLASSIFIER_MISS_PASS, &harness_shared, 1000 + hook * 10)) {
		fprintf(stderr, "cannot build the chain\n");
		exit(1);
	}
	lb_add_vip(&lb, s.daddr, CUBE_AF_INET, 80, IPPROTO_UDP, 0, 1);
	for (uint32_t i = 0; i < 3; i++)
		lb_set_backend(&lb, i, MAGLEV_BACKEND_ACTIVE, mac, mac, L2REWRITE_VLAN_KEEP, 0);
	lb_install_ring(&lb, 1, ids, NULL, 3, 65537, NULL);
	chain_ns = time_cube(lb.parser, f, len, NULL);
	if (hook == CUBE_HOOK_XDP)
		row("**same 4 cubes as one program (mono.bpf.c)**", hook, time_mono(f, len));
	harness_run(lb.parser, f, len, &res);
	harness_meta(&meta);
	meta.version = CUBE_META_VERSION; /* the chain's verdict closed it */

	/* Each cube alone: its out port jumps to the empty program. */
	out_to_empty(lb.parser, 0);
	out_to_empty(lb.classifier, CLASSIFIER_PORT_HIT);
	out_to_empty(lb.maglev, MAGLEV_PORT_OUT);
	out_to_empty(lb.l2rewrite, L2REWRITE_PORT_OUT);
	row("parser (IPv4/UDP, 64 B)", hook, time_cube(lb.parser, f, len, NULL));
	row("classifier (hit)", hook, time_cube(lb.classifier, f, len, &meta));
	row("maglev (M=65537, no connection table)", hook, time_cube(lb.maglev, f, len, &meta));
	row("l2rewrite (dmac + smac)", hook, time_cube(lb.l2rewrite, f, len, &meta));
	lb_set_service(&lb, 1, MAGLEV_SVC_F_CONN_TABLE);
	row("maglev (connection table hit)", hook, time_cube(lb.maglev, f, len, &meta));
	row("**L2DSR chain, 4 cubes, 3 tail calls**", hook, chain_ns);
	/* Each solo figure holds a jump (to the empty program), so their sum
	 * does not yield what a hop costs; the one-program row shows that. */
	row("empty program (test-run overhead)", hook, run_overhead(hook, f, len));
	lb_chain_destroy(&lb);

	/* Router: forward out of a port. */
	struct cube *router = harness_cube("router", hook, NULL, NULL);
	struct router_port port = {.ifindex = 1, .plen4 = 24, .enabled = 1};
	struct router_lpm4_key k = {.prefixlen = 16, .addr = pkt_ip4("10.100.0.0").ip4};
	struct router_route r = {.port = 1};
	struct router_neigh_key nk = {.addr = s.daddr, .family = CUBE_AF_INET};
	struct router_neigh n = {.mac = {2, 0, 0, 0, 0, 9}};
	uint32_t p1 = 1;

	bpf_map_update_elem(cube_map_fd(router, "router_ports"), &p1, &port, BPF_ANY);
	bpf_map_update_elem(cube_map_fd(router, "router_routes4"), &k, &r, BPF_ANY);
	bpf_map_update_elem(cube_map_fd(router, "router_neighs"), &nk, &n, BPF_ANY);
	out_to_empty(router, 1);
	s.ttl = 255;
	len = pkt_build(&s, f);
	row("router (LPM + neighbour + TTL, out port 1)", hook,
	    time_ttl_limited(router, f, len, &meta));
	cube_destroy(router);
	s.ttl = 0;
	len = pkt_build(&s, f);

	/* NAT: an established SNAT connection. */
	struct cube *nat = harness_cube("nat", hook, NULL, NULL);
	struct nat_snat_lpm4_key sk = {.prefixlen = 8, .saddr = pkt_ip4("198.0.0.0").ip4};
	struct nat_snat_target st = {.addr = pkt_ip4("192.0.2.1")};

	bpf_map_update_elem(cube_map_fd(nat, "nat_snat4"), &sk, &st, BPF_ANY);
	out_to_empty(nat, NAT_PORT_OUT);
	harness_meta_set(&meta);
	harness_run(nat, f, len, &res); /* opens the connection */
	row("nat (SNAT, established connection)", hook, time_cube(nat, f, len, &meta));
	cube_destroy(nat);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		repeat = (uint32_t)strtoul(argv[1], NULL, 10);
	harness_init("cube-cost");
	printf("ns per packet, BPF_PROG_TEST_RUN, repeat %u, median of 5\n\n", repeat);
	printf("| %-44s | %-3s | %5s |\n|---|---|---|\n", "what", "hook", "ns");
	for (enum cube_hook h = 0; h < CUBE_HOOK_MAX; h++)
		bench_hook(h);
	return 0;
}
