// SPDX-License-Identifier: Apache-2.0
/*
 * xdp-bench: packets per second through a DUT, measured with live frames.
 *
 *   gen ns: g0 (sink XDP counts what comes back) <-> dut ns: d0 (DUT XDP)
 *
 * The generator (trafficgen.bpf.c "gen") runs as BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES and redirects into g0; the DUT on d0 answers
 * with XDP_TX, back into g0, where "sink" counts and drops. Scenarios:
 *   ceiling  the DUT only bounces (XDP_TX)
 *   chain    cubenet's L2DSR chain (parser -> classifier -> maglev ->
 *            l2rewrite), 1 VIP x 255 backends
 *   mono     the same four cubes built as one program (mono.bpf.c), the
 *            same config
 *   dnat     nothing in XDP: the DUT's kernel stack forwards with whatever
 *            iptables rules the caller set, out to s0 in SINK_NS, where the
 *            sink counts
 *
 *   xdp-bench GEN_NS DUT_NS SCENARIO FRAME_LEN SECONDS [SINK_NS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lb_chain.h"
#include "netdev.h"
#include "netdev_attach.h"
#include "trafficgen.h"

static int enter_netns(const char *name)
{
	char path[256];
	int fd, rc;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t received(int fd)
{
	uint64_t n = 0;

	cube_percpu_sum(fd, 0, &n, sizeof(n));
	return n;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "xdp-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

int main(int argc, char **argv)
{
	struct cube_shared shared = {-1, -1};
	struct lb_chain lb = {0};
	struct bpf_object *mono_obj = NULL;
	struct cube mono_cube = {0};
	struct bpf_object *obj = NULL;
	struct gen_cfg cfg = {0};
	uint32_t d0, g0, s0 = 0, zero = 0;
	int err, gen_fd, sink_fd, counter_fd, frame_len, seconds;
	uint8_t frame[2048] = {0};
	double t0, t1;
	uint64_t sent = 0, got0, got1;
	cpu_set_t cpus;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: xdp-bench GEN_NS DUT_NS ceiling|chain|dnat FRAME_LEN "
				"SECONDS [SINK_NS]\n");
		return 2;
	}
	frame_len = atoi(argv[4]);
	seconds = atoi(argv[5]);
	if (frame_len < 60 || frame_len > 1514 || seconds < 1)
		die("frame length 60..1514 and seconds >= 1", EINVAL);
	/* One core for the generator, as the seed's method does per port. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	libbpf_set_print(NULL);

	/* The DUT. */
	if ((err = enter_netns(argv[2])))
		die("entering the DUT namespace", err);
	d0 = netdev_index("d0");
	if (!d0 || netdev_mac("d0", cfg.dmac))
		die("no d0 in the DUT namespace", ENODEV);
	obj = bpf_object__open_file(TRAFFICGEN_OBJ, NULL);
	if (!obj || (err = bpf_object__load(obj)))
		die("loading trafficgen", obj ? err : -errno);
	if (strcmp(argv[3], "ceiling") == 0) {
		struct cube bounce = {
		    .hook = CUBE_HOOK_XDP,
		    .prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "bounce"))};

		err = netdev_attach(&bounce, d0, ATTACH_XDP_NATIVE);
	} else if (strcmp(argv[3], "chain") == 0 || strcmp(argv[3], "mono") == 0) {
		uint32_t ids[255];
		uint8_t mac[6] = {0x02, 0xbe, 0, 0, 0, 0};
		int mono = strcmp(argv[3], "mono") == 0;

		if (mono) {
			/* One object holds every stage's maps: the chain's calls find
			 * them through it. */
			mono_obj = bpf_object__open_file(MONO_OBJ, NULL);
			err = mono_obj ? bpf_object__load(mono_obj) : -errno;
			mono_cube = (struct cube){
			    .hook = CUBE_HOOK_XDP,
			    .obj = mono_obj,
			    .prog = bpf_object__find_program_by_name(mono_obj, "mono_l2dsr")};
			if (!err)
				mono_cube.prog_fd = bpf_program__fd(mono_cube.prog);
			lb.parser = lb.classifier = lb.maglev = lb.l2rewrite = &mono_cube;
		} else {
			err = cube_shared_create(&shared);
			if (!err)
				err = lb_chain_build(&lb, CUBE_HOOK_XDP, CLASSIFIER_MISS_PASS,
						     &shared, 1);
		}
		if (!err) {
			union cube_addr vip = {.ip4 = htonl(0x0a640001)}; /* 10.100.0.1 */

			err = lb_add_vip(&lb, vip, CUBE_AF_INET, 80, IPPROTO_UDP, 0, 1);
		}
		for (uint32_t i = 0; i < 255 && !err; i++) {
			ids[i] = i;
			mac[5] = (uint8_t)i;
			err = lb_set_backend(&lb, i, MAGLEV_BACKEND_ACTIVE, mac, cfg.dmac,
					     L2REWRITE_VLAN_KEEP, 0);
		}
		if (!err)
			err = lb_install_ring(&lb, 1, ids, NULL, 255, 65537, NULL);
		if (!err)
			err = netdev_attach(lb.parser, d0, ATTACH_XDP_NATIVE);
	} else if (strcmp(argv[3], "dnat") == 0) {
		/* Frames redirected into a veth reach its peer's stack only through
		 * XDP or NAPI: an XDP_PASS keeps the path the stack's own. */
		struct cube pass = {
		    .hook = CUBE_HOOK_XDP,
		    .prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "pass"))};

		err = netdev_attach(&pass, d0, ATTACH_XDP_NATIVE);
	} else {
		die("scenario must be ceiling, chain, mono or dnat", EINVAL);
	}
	if (err)
		die("setting up the DUT", err);

	/* The generator side. */
	if ((err = enter_netns(argv[1])))
		die("entering the generator namespace", err);
	g0 = netdev_index("g0");
	if (!g0 || netdev_mac("g0", cfg.smac))
		die("no g0 in the generator namespace", ENODEV);
	sink_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "sink"));
	gen_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "gen"));
	counter_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "received"));
	{
		struct cube sink = {.hook = CUBE_HOOK_XDP, .prog_fd = sink_fd};

		/* The sink: on g0 for what the DUT bounces, else on s0. */
		if (argc == 7) {
			if ((err = enter_netns(argv[6])) || !(s0 = netdev_index("s0")))
				die("no s0 in the sink namespace", err ? err : ENODEV);
			err = netdev_attach(&sink, s0, ATTACH_XDP_NATIVE);
			enter_netns(argv[1]);
		} else {
			err = netdev_attach(&sink, g0, ATTACH_XDP_NATIVE);
		}
		if (err)
			die("attaching the sink", err);
	}
	cfg.saddr_base = htonl(0xc6120000); /* 198.18.0.0/15, the benchmarking range */
	cfg.n_sources = 65536;
	cfg.daddr_base = htonl(0x0a640001);
	cfg.n_vips = 1;
	cfg.dport = htons(80);
	cfg.frame_len = (uint16_t)frame_len;
	cfg.ifindex = g0;
	bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "gen_cfg")), &zero, &cfg,
			    BPF_ANY);

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)frame_len,
		    .repeat = 1 << 20, .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	got0 = received(counter_fd);
	t0 = now_s();
	while ((t1 = now_s()) - t0 < seconds) {
		if (bpf_prog_test_run_opts(gen_fd, &opts))
			die("running the generator", -errno);
		sent += opts.repeat;
	}
	t1 = now_s();
	usleep(100000); /* let the last frames arrive */
	got1 = received(counter_fd);
	uint64_t received = got1 - got0;

	printf("{\"scenario\": \"%s\", \"frame_len\": %d, \"seconds\": %.2f, "
	       "\"offered_mpps\": %.3f, \"delivered_mpps\": %.3f}\n",
	       argv[3], frame_len + 4, t1 - t0, sent / (t1 - t0) / 1e6, received / (t1 - t0) / 1e6);

	netdev_detach(g0, ATTACH_XDP_NATIVE);
	if (s0 && !enter_netns(argv[6]))
		netdev_detach(s0, ATTACH_XDP_NATIVE);
	enter_netns(argv[2]);
	netdev_detach(d0, ATTACH_XDP_NATIVE);
	if (mono_obj)
		bpf_object__close(mono_obj);
	else
		lb_chain_destroy(&lb);
	cube_shared_close(&shared);
	bpf_object__close(obj);
	return 0;
}
