// SPDX-License-Identifier: Apache-2.0
/*
 * cubenet-lb-demo: the L2DSR chain on a real netdev, without the daemon.
 * Loads parser -> classifier -> maglev -> l2rewrite, programs one VIP and
 * its backends, attaches in XDP, and on SIGINT/SIGTERM prints per-backend
 * and per-cube counters, detaches and exits.
 *
 *   cubenet-lb-demo DEV VIP PORT tcp|udp NAME=MAC[@WEIGHT] ...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lb_chain.h"
#include "netdev.h"
#include "netdev_attach.h"
#include "lib/abi/maglev.h"

#define DEMO_SERVICE_ID	  1
#define DEMO_RING_SIZE	  65537 /* prime, >= 100 x backends for an even spread */
#define DEMO_MAX_BACKENDS 16

struct demo_backend {
	char name[32];
	uint8_t mac[6];
	uint32_t weight;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_backend(const char *arg, struct demo_backend *b)
{
	unsigned int m[6], weight = 1;
	const char *eq = strchr(arg, '=');

	if (!eq || eq - arg >= (long)sizeof(b->name))
		return -EINVAL;
	memcpy(b->name, arg, (size_t)(eq - arg));
	b->name[eq - arg] = '\0';
	if (sscanf(eq + 1, "%x:%x:%x:%x:%x:%x@%u", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
		   &weight) < 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 0xff)
			return -EINVAL;
		b->mac[i] = (uint8_t)m[i];
	}
	b->weight = weight;
	return 0;
}

static void print_report(struct lb_chain *lb, const struct demo_backend *backends, size_t n)
{
	int fd = cube_map_fd(lb->maglev, "maglev_backend_stats");
	uint64_t total = 0, packets[DEMO_MAX_BACKENDS] = {0};
	const struct cube *cubes[] = {lb->parser, lb->classifier, lb->maglev, lb->l2rewrite};

	for (uint32_t i = 0; i < n; i++) {
		struct maglev_counters c;

		if (cube_percpu_sum(fd, i, &c, sizeof(c)))
			continue;
		packets[i] = c.packets;
		total += packets[i];
	}
	printf("\nLB datapath: packets steered per backend (Maglev, M=%u)\n", DEMO_RING_SIZE);
	printf("  %-10s %-17s %6s %10s %7s\n", "backend", "mac", "weight", "packets", "share");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *m = backends[i].mac;

		printf("  %-10s %02x:%02x:%02x:%02x:%02x:%02x %6u %10llu %6.1f%%\n",
		       backends[i].name, m[0], m[1], m[2], m[3], m[4], m[5], backends[i].weight,
		       (unsigned long long)packets[i], total ? 100.0 * packets[i] / total : 0.0);
	}
	printf("\nCube counters\n  %-11s %8s %8s %8s %8s %8s  drops by reason\n", "cube", "rx",
	       "forward", "tx", "pass", "drop");
	for (size_t c = 0; c < sizeof(cubes) / sizeof(cubes[0]); c++) {
		struct cube_stats st;

		if (cube_read_stats(cubes[c], &st))
			continue;
		printf("  %-11s %8llu %8llu %8llu %8llu %8llu ", cubes[c]->type->name,
		       (unsigned long long)st.rx_packets,
		       (unsigned long long)st.verdict[CUBE_VERDICT_FORWARD],
		       (unsigned long long)st.verdict[CUBE_VERDICT_TX],
		       (unsigned long long)st.verdict[CUBE_VERDICT_PASS],
		       (unsigned long long)st.verdict[CUBE_VERDICT_DROP]);
		for (int r = 1; r < CUBE_DROP_MAX; r++)
			if (st.drop[r])
				printf(" %s=%llu", cube_drop_reason_name(r),
				       (unsigned long long)st.drop[r]);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct demo_backend backends[DEMO_MAX_BACKENDS];
	uint32_t ids[DEMO_MAX_BACKENDS], weights[DEMO_MAX_BACKENDS];
	struct cube_shared shared = {-1, -1};
	struct lb_chain lb = {0};
	union cube_addr vip = {0};
	uint8_t own_mac[6];
	enum attach_mode mode = ATTACH_XDP_NATIVE;
	unsigned int ifindex;
	size_t n = 0;
	uint8_t proto;
	int err, port;

	if (argc < 6) {
		fprintf(stderr, "usage: %s DEV VIP PORT tcp|udp NAME=MAC[@WEIGHT] ...\n", argv[0]);
		return 2;
	}
	ifindex = netdev_index(argv[1]);
	port = atoi(argv[3]);
	proto = strcmp(argv[4], "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	if (!ifindex || inet_pton(AF_INET, argv[2], &vip.ip4) != 1 || port <= 0 || port > 65535) {
		fprintf(stderr, "%s: bad device, VIP or port\n", argv[0]);
		return 2;
	}
	for (int i = 5; i < argc && n < DEMO_MAX_BACKENDS; i++, n++) {
		if (parse_backend(argv[i], &backends[n])) {
			fprintf(stderr, "%s: bad backend '%s' (want NAME=MAC[@WEIGHT])\n", argv[0],
				argv[i]);
			return 2;
		}
		ids[n] = (uint32_t)n;
		weights[n] = backends[n].weight;
	}

	err = cube_shared_create(&shared);
	if (!err)
		err = lb_chain_build(&lb, CUBE_HOOK_XDP, CLASSIFIER_MISS_PASS, &shared, 1);
	if (err) {
		fprintf(stderr, "loading the chain: %s\n", strerror(-err));
		goto cleanup;
	}
	/* The LB's own MAC goes out as the source of steered frames. */
	err = netdev_mac(argv[1], own_mac);
	if (!err)
		err = lb_add_vip(&lb, vip, CUBE_AF_INET, (uint16_t)port, proto, 0, DEMO_SERVICE_ID);
	for (size_t i = 0; i < n && !err; i++)
		err = lb_set_backend(&lb, ids[i], MAGLEV_BACKEND_ACTIVE, backends[i].mac, own_mac,
				     L2REWRITE_VLAN_KEEP, 0);
	if (!err)
		err = lb_install_ring(&lb, DEMO_SERVICE_ID, ids, weights, n, DEMO_RING_SIZE, NULL);
	if (err) {
		fprintf(stderr, "programming the chain: %s\n", strerror(-err));
		goto cleanup;
	}
	if (getenv("CUBENET_XDP_GENERIC"))
		mode = ATTACH_XDP_GENERIC;
	err = netdev_attach(lb.parser, ifindex, mode);
	if (err && mode == ATTACH_XDP_NATIVE) {
		mode = ATTACH_XDP_GENERIC;
		err = netdev_attach(lb.parser, ifindex, mode);
	}
	if (err) {
		fprintf(stderr, "attaching to %s: %s\n", argv[1], strerror(-err));
		goto cleanup;
	}
	printf("cubenet L2DSR chain attached to %s (%s): VIP %s:%d/%s, %zu backends\n", argv[1],
	       attach_mode_name(mode), argv[2], port, argv[4], n);
	fflush(stdout);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop)
		sleep(1); /* a signal cuts it short */
	print_report(&lb, backends, n);
	netdev_detach(ifindex, mode);
cleanup:
	lb_chain_destroy(&lb);
	cube_shared_close(&shared);
	return err ? 1 : 0;
}
