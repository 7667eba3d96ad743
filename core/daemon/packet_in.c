// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "packet_in.h"
#include "log.h"
#include "service.h"
#include "lib/abi/slowpath.h"

#define TICK_NS 1000000000ull /* retry what waits for a netdev this often */

struct packet_in {
	struct datastore *ds;
	struct runtime *rt;
	struct ring_buffer *ring;
	pthread_t thread;
	volatile int stop;
	uint64_t last_tick;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_record(void *arg, void *data, size_t size)
{
	struct packet_in *pi = arg;
	const struct cube_slowpath_hdr *rec = data;
	struct cube *from;

	if (size < sizeof(*rec) || rec->cap_len > CUBE_SLOWPATH_SNAPLEN ||
	    rec->cap_len > rec->pkt_len)
		return 0;
	pthread_mutex_lock(&pi->ds->lock); /* the runtime's cubes are stable under it */
	from = rt_cube_by_id(pi->rt, rec->cube_id);
	for (size_t i = 0; from && i < service_count(); i++) {
		const struct service *s = service_at(i);

		if (s->packet_in && s->cube_type && !strcmp(s->cube_type, from->type->name))
			s->packet_in(pi->rt, from, rec);
	}
	pthread_mutex_unlock(&pi->ds->lock);
	return 0;
}

static void *run(void *arg)
{
	struct packet_in *pi = arg;

	while (!pi->stop) {
		ring_buffer__poll(pi->ring, 200);
		if (now_ns() - pi->last_tick >= TICK_NS) {
			pi->last_tick = now_ns();
			pthread_mutex_lock(&pi->ds->lock);
			runtime_retry_pending(pi->rt);
			pthread_mutex_unlock(&pi->ds->lock);
		}
	}
	return NULL;
}

struct packet_in *packet_in_start(struct datastore *ds, struct runtime *rt)
{
	struct packet_in *pi = calloc(1, sizeof(*pi));

	if (!pi)
		return NULL;
	pi->ds = ds;
	pi->rt = rt;
	pi->ring = ring_buffer__new(rt->shared.slowpath_fd, on_record, pi, NULL);
	if (!pi->ring || pthread_create(&pi->thread, NULL, run, pi)) {
		if (pi->ring)
			ring_buffer__free(pi->ring);
		free(pi);
		return NULL;
	}
	return pi;
}

void packet_in_stop(struct packet_in *pi)
{
	if (!pi)
		return;
	pi->stop = 1;
	pthread_join(pi->thread, NULL);
	ring_buffer__free(pi->ring);
	free(pi);
}

int packet_in_inject(struct runtime *rt, uint32_t ifindex, const void *frame, size_t len)
{
	struct cube *head = rt_head_on(rt, ifindex);
	struct xdp_md ctx_in = {.data_end = (uint32_t)len, .ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (!head || head->hook != CUBE_HOOK_XDP)
		return -ENOENT;
	if (bpf_prog_test_run_opts(head->prog_fd, &opts)) {
		int e = -errno;

		cn_log(CN_LOG_WARNING, "packet-out on ifindex %u: %s", ifindex, strerror(-e));
		return e;
	}
	return 0;
}
