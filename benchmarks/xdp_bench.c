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
 *   attached whatever the caller attached to d0 (cubenetd's lb chain)
 *   chain    cubenet's L2DSR chain loaded here through core/lb_chain.c
 *   mono     the same four cubes built as one program (mono.bpf.c)
 *   dnat     nothing in XDP: the DUT's kernel stack forwards with whatever
 *            iptables rules the caller set, out to s0 in SINK_NS, where the
 *            sink counts
 * chain and mono serve --vips VIPs (10.100.0.1 up, UDP port 80) sharing
 * --backends backends, each VIP's Maglev table of --table slots, with the
 * connection table if --conn. The generator spreads packets over the same
 * VIPs. FRAME_LEN is 60..1514 (without FCS) or "imix".
 *
 * --dut-cpu N pins the DUT's threaded NAPI (the caller turns it on) to CPU
 * N, so the DUT has a core of its own while the generator keeps CPU 0.
 *
 *   xdp-bench [OPTIONS] GEN_NS DUT_NS SCENARIO FRAME_LEN SECONDS [SINK_NS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lb_fixture.h"
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

struct lb_shape {
	uint32_t vips, backends, table;
	int conn;
};

/* VIPs 10.100.0.1.. each with its share of the backends and a ring. */
static int program_lb(struct lb_chain *lb, const struct lb_shape *shape, const uint8_t *smac)
{
	uint32_t per_vip = shape->backends / shape->vips, *ids = calloc(per_vip + 1, 4);
	uint8_t mac[6] = {0x02, 0xbe, 0, 0, 0, 0};
	int err = ids ? 0 : -ENOMEM;

	for (uint32_t b = 0; b < shape->backends && !err; b++) {
		mac[3] = (uint8_t)(b >> 16);
		mac[4] = (uint8_t)(b >> 8);
		mac[5] = (uint8_t)b;
		err =
		    lb_set_backend(lb, b, MAGLEV_BACKEND_ACTIVE, mac, smac, L2REWRITE_VLAN_KEEP, 0);
	}
	for (uint32_t v = 0; v < shape->vips && !err; v++) {
		union cube_addr vip = {.ip4 = htonl(0x0a640001 + v)};

		for (uint32_t i = 0; i < per_vip; i++)
			ids[i] = v * per_vip + i;
		err = lb_add_vip(lb, vip, CUBE_AF_INET, 80, IPPROTO_UDP, 0, v);
		if (!err)
			err = lb_set_service(lb, v, shape->conn ? MAGLEV_SVC_F_CONN_TABLE : 0);
		if (!err)
			err = lb_install_ring(lb, v, ids, NULL, per_vip, shape->table, NULL);
	}
	free(ids);
	return err;
}

/* Pin the kernel threads named napi/DEV-* to cpu. */
static int pin_napi(const char *dev, int cpu)
{
	char prefix[32], path[300], comm[64];
	struct dirent *e;
	DIR *d = opendir("/proc");
	cpu_set_t set;
	int pinned = 0;

	snprintf(prefix, sizeof(prefix), "napi/%s-", dev);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	while (d && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, prefix, strlen(prefix)) &&
		    !sched_setaffinity(atoi(e->d_name), sizeof(set), &set))
			pinned++;
		fclose(f);
	}
	if (d)
		closedir(d);
	return pinned;
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

	struct lb_shape shape = {.vips = 1, .backends = 255, .table = 65537};
	static const struct option longopts[] = {
	    {"vips", required_argument, NULL, 'V'},    {"backends", required_argument, NULL, 'B'},
	    {"table", required_argument, NULL, 'M'},   {"conn", no_argument, NULL, 'c'},
	    {"dut-cpu", required_argument, NULL, 'D'}, {NULL, 0, NULL, 0}};
	int opt, dut_cpu = -1, imix;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			shape.vips = (uint32_t)atoi(optarg);
			break;
		case 'B':
			shape.backends = (uint32_t)atoi(optarg);
			break;
		case 'M':
			shape.table = (uint32_t)atoi(optarg);
			break;
		case 'c':
			shape.conn = 1;
			break;
		case 'D':
			dut_cpu = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: xdp-bench [--vips N] [--backends N] [--table M] [--conn] "
				"[--dut-cpu N] GEN_NS DUT_NS attached|ceiling|chain|mono|dnat "
				"FRAME_LEN|imix SECONDS [SINK_NS]\n");
		return 2;
	}
	imix = strcmp(argv[4], "imix") == 0;
	frame_len = imix ? 1514 : atoi(argv[4]);
	seconds = atoi(argv[5]);
	if (frame_len < 60 || frame_len > 1514 || seconds < 1)
		die("frame length 60..1514 and seconds >= 1", EINVAL);
	if (!shape.vips || shape.backends < shape.vips)
		die("at least one VIP and a backend per VIP", EINVAL);
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
			if (!err)
				err = lb_chain_open(&lb);
		} else {
			err = cube_shared_create(&shared);
			if (!err)
				err = lb_chain_build(&lb, CUBE_HOOK_XDP, CLASSIFIER_MISS_PASS,
						     &shared, 1);
		}
		if (!err)
			err = program_lb(&lb, &shape, cfg.dmac);
		if (!err)
			err = netdev_attach(lb.parser, d0, ATTACH_XDP_NATIVE);
	} else if (strcmp(argv[3], "attached") == 0) {
		err = 0; /* the caller's program is on d0 */
	} else if (strcmp(argv[3], "dnat") == 0) {
		/* Frames redirected into a veth reach its peer's stack only through
		 * XDP or NAPI: an XDP_PASS keeps the path the stack's own. */
		struct cube pass = {
		    .hook = CUBE_HOOK_XDP,
		    .prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "pass"))};

		err = netdev_attach(&pass, d0, ATTACH_XDP_NATIVE);
	} else {
		die("scenario must be attached, ceiling, chain, mono or dnat", EINVAL);
	}
	if (err)
		die("setting up the DUT", err);
	if (dut_cpu >= 0 && pin_napi("d0", dut_cpu) == 0)
		die("no threaded NAPI on d0 to pin (ethtool -K d0 gro on; echo 1 > "
		    "/sys/class/net/d0/threaded)",
		    ENOENT);

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
	cfg.n_vips = shape.vips;
	cfg.flags = imix ? GEN_F_IMIX : 0;
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

	/* Mean frame on the wire with FCS: IMIX is (7 x 64 + 4 x 594 + 1518) / 12. */
	double mean_frame = imix ? (7 * 64 + 4 * 594 + 1518) / 12.0 : frame_len + 4;
	double delivered = received / (t1 - t0) / 1e6;

	printf("{\"scenario\": \"%s\", \"frame\": \"%s\", \"frame_len\": %.1f, "
	       "\"vips\": %u, \"backends\": %u, \"conn\": %s, \"seconds\": %.2f, "
	       "\"offered_mpps\": %.3f, \"delivered_mpps\": %.3f, \"delivered_gbps\": %.3f}\n",
	       argv[3], imix ? "imix" : argv[4], mean_frame, shape.vips, shape.backends,
	       shape.conn ? "true" : "false", t1 - t0, sent / (t1 - t0) / 1e6, delivered,
	       delivered * mean_frame * 8 / 1e3);

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
