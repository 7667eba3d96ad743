// SPDX-License-Identifier: Apache-2.0
/*
 * meta-bench: ns per packet of a four-program chain keeping its metadata in
 * a per-CPU array against the same chain keeping it in the XDP metadata
 * area (meta_bench.bpf.c), through BPF_PROG_TEST_RUN.
 *
 *   meta-bench [REPEAT]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "median.h"
#include <bpf/libbpf.h>

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -1;
}

static int wire(struct bpf_object *obj, const char *map, const char *prefix)
{
	int fd = bpf_map__fd(bpf_object__find_map_by_name(obj, map));
	char name[32];

	for (uint32_t i = 1; i <= 3; i++) {
		int pfd;

		snprintf(name, sizeof(name), "%s_hop%u", prefix, i);
		pfd = prog_fd(obj, name);
		if (pfd < 0 || bpf_map_update_elem(fd, &i, &pfd, BPF_ANY))
			return -1;
	}
	return 0;
}

/* Median of five runs of `repeat`, ns per run; 0 if the chain misbehaves. */
static uint32_t time_chain(int fd, uint32_t repeat)
{
	uint8_t frame[64] = {0};
	uint32_t t[5];

	for (int i = 0; i < 5; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = repeat);

		if (bpf_prog_test_run_opts(fd, &opts) || opts.retval != XDP_PASS) {
			fprintf(stderr, "meta-bench: chain returned %u (%s)\n", opts.retval,
				strerror(errno));
			return 0;
		}
		t[i] = opts.duration;
	}
	return median_u32(t, 5);
}

int main(int argc, char **argv)
{
	uint32_t repeat = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	struct bpf_object *obj = bpf_object__open_file(META_BENCH_OBJ, NULL);

	if (!obj || bpf_object__load(obj) || wire(obj, "percpu_chain", "percpu") ||
	    wire(obj, "percpu32_chain", "percpu32") || wire(obj, "area_chain", "area")) {
		fprintf(stderr, "meta-bench: cannot load %s\n", META_BENCH_OBJ);
		return 1;
	}
	printf("| metadata in | run 1 | run 2 | run 3 |\n|---|---|---|---|\n");
	static const char *const heads[][2] = {
	    {"per-CPU array, 96 B (the cubes' struct cube_meta)", "percpu_head"},
	    {"per-CPU array, 32 B", "percpu32_head"},
	    {"XDP metadata area, 32 B (its maximum)", "area_head"},
	};
	for (int h = 0; h < 3; h++) {
		printf("| %s |", heads[h][0]);
		for (int round = 0; round < 3; round++)
			printf(" %u |", time_chain(prog_fd(obj, heads[h][1]), repeat));
		printf("\n");
	}
	bpf_object__close(obj);
	return 0;
}
