// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>
#include "harness.h"
#include "test.h"

struct cube_shared harness_shared = {-1, -1};
static struct ring_buffer *slowpath_ring;
static struct cube_slowpath_hdr slowpath_last;
static int slowpath_have;
static int harness_cpu;

static int on_slowpath(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size < sizeof(slowpath_last))
		return 0;
	memcpy(&slowpath_last, data, sizeof(slowpath_last));
	slowpath_have = 1;
	return 1; /* one record per poll */
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void harness_init(const char *suite)
{
	cpu_set_t set;
	int err;

	if (geteuid() != 0)
		test_skip(suite, "needs root for BPF_PROG_TEST_RUN");
	libbpf_set_print(silent_print);
	/* Metadata is per CPU: run every program on one known CPU. */
	harness_cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(harness_cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	err = cube_shared_create(&harness_shared);
	if (err)
		test_skip(suite, "cannot create BPF maps (is BPF available?)");
	slowpath_ring = ring_buffer__new(harness_shared.slowpath_fd, on_slowpath, NULL, NULL);
	if (!slowpath_ring)
		test_skip(suite, "cannot open the slow-path ring buffer");
}

struct cube *harness_cube(const char *type, enum cube_hook hook, harness_setup_fn setup, void *arg)
{
	static uint32_t next_id = 1;
	struct cube *cube = NULL;
	int err;

	err = cube_open(&cube, type, hook, next_id++);
	if (err) {
		fprintf(stderr, "  cube_open(%s, %s): %s\n", type, hook_name(hook), strerror(-err));
		test_failures++;
		return NULL;
	}
	if (setup && (err = setup(cube, arg))) {
		fprintf(stderr, "  setup of %s: %s\n", type, strerror(-err));
		test_failures++;
		cube_destroy(cube);
		return NULL;
	}
	err = cube_load(cube, &harness_shared);
	if (err) {
		fprintf(stderr, "  cube_load(%s, %s): %s\n", type, hook_name(hook), strerror(-err));
		test_failures++;
		cube_destroy(cube);
		return NULL;
	}
	return cube;
}

int harness_run(const struct cube *cube, const void *frame, size_t len, struct run_result *res)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	memset(res, 0, sizeof(*res));
	opts.data_in = frame;
	opts.data_size_in = (uint32_t)len;
	opts.data_out = res->out;
	opts.data_size_out = sizeof(res->out);
	opts.repeat = 1;
	res->err = bpf_prog_test_run_opts(cube->prog_fd, &opts) ? -errno : 0;
	res->retval = opts.retval;
	res->out_len = opts.data_size_out;
	return res->err;
}

uint32_t harness_time(const struct cube *cube, const void *frame, size_t len, uint32_t repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	opts.data_in = frame;
	opts.data_size_in = (uint32_t)len;
	opts.repeat = repeat;
	if (bpf_prog_test_run_opts(cube->prog_fd, &opts))
		return 0;
	return opts.duration;
}

static struct cube_meta *meta_percpu(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cube_meta *all = calloc(ncpu, sizeof(*all));
	uint32_t zero = 0;

	if (all && bpf_map_lookup_elem(harness_shared.meta_fd, &zero, all)) {
		free(all);
		return NULL;
	}
	return all;
}

int harness_meta(struct cube_meta *meta)
{
	struct cube_meta *all = meta_percpu();

	if (!all)
		return -errno;
	*meta = all[harness_cpu];
	free(all);
	return 0;
}

int harness_meta_set(const struct cube_meta *meta)
{
	struct cube_meta *all = meta_percpu();
	uint32_t zero = 0;
	int err = 0;

	if (!all)
		return -ENOMEM;
	all[harness_cpu] = *meta;
	if (bpf_map_update_elem(harness_shared.meta_fd, &zero, all, BPF_ANY))
		err = -errno;
	free(all);
	return err;
}

void harness_meta_clear(void)
{
	struct cube_meta zero = {0};

	harness_meta_set(&zero);
}

int harness_slowpath_next(struct cube_slowpath_hdr *rec)
{
	slowpath_have = 0;
	ring_buffer__consume(slowpath_ring);
	if (!slowpath_have)
		return -ENOENT;
	*rec = slowpath_last;
	return 0;
}

struct cube_stats harness_stats(const struct cube *cube)
{
	struct cube_stats st;

	if (cube_read_stats(cube, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

uint32_t hook_ret_pass(enum cube_hook hook)
{
	return hook == CUBE_HOOK_TC ? TC_ACT_OK : XDP_PASS;
}

uint32_t hook_ret_drop(enum cube_hook hook)
{
	return hook == CUBE_HOOK_TC ? TC_ACT_SHOT : XDP_DROP;
}

uint32_t hook_ret_tx(enum cube_hook hook)
{
	/* TC "transmit back" is a redirect to the ingress device. */
	return hook == CUBE_HOOK_TC ? TC_ACT_REDIRECT : XDP_TX;
}

uint32_t hook_ret_redirect(enum cube_hook hook)
{
	return hook == CUBE_HOOK_TC ? TC_ACT_REDIRECT : XDP_REDIRECT;
}

const char *hook_name(enum cube_hook hook)
{
	return hook == CUBE_HOOK_TC ? "tc" : "xdp";
}

int harness_run_hooks(const char *suite, const struct test_case *cases, size_t n,
		      enum cube_hook *hook)
{
	int rc = 0;

	harness_init(suite);
	for (*hook = 0; *hook < CUBE_HOOK_MAX; (*hook)++) {
		char name[64];

		snprintf(name, sizeof(name), "%s-%s", suite, hook_name(*hook));
		rc |= test_run_all(name, cases, n);
	}
	return rc;
}
