// SPDX-License-Identifier: Apache-2.0
/* Reading a cube's per-CPU counters and naming them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cube.h"

int cube_percpu_sum(int map_fd, uint32_t key, void *out, size_t size)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (size + 7) & ~(size_t)7; /* per-CPU values are 8-byte aligned */
	uint8_t *all;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (size % sizeof(uint64_t))
		return -EINVAL;
	all = calloc(ncpu, stride);
	if (!all)
		return -ENOMEM;
	memset(out, 0, size);
	if (bpf_map_lookup_elem(map_fd, &key, all)) {
		err = -errno;
		goto cleanup;
	}
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (size_t w = 0; w < size / sizeof(uint64_t); w++)
			((uint64_t *)out)[w] += ((const uint64_t *)(all + cpu * stride))[w];
cleanup:
	free(all);
	return err;
}

int cube_read_stats(const struct cube *cube, struct cube_stats *out)
{
	int fd = cube_map_fd(cube, "cube_stats");

	return fd < 0 ? fd : cube_percpu_sum(fd, 0, out, sizeof(*out));
}

int cube_reset_stats(const struct cube *cube)
{
	int fd = cube_map_fd(cube, "cube_stats");
	int ncpu = libbpf_num_possible_cpus();
	struct cube_stats *zeros;
	uint32_t zero = 0;
	int err = 0;

	if (fd < 0)
		return fd;
	if (ncpu <= 0)
		return -EINVAL;
	zeros = calloc(ncpu, sizeof(*zeros));
	if (!zeros)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &zero, zeros, BPF_ANY))
		err = -errno;
	free(zeros);
	return err;
}

static const char *const drop_names[] = {
#define CUBE_DROP_NAME(code, name, text) [code] = #name,
    CUBE_DROP_REASONS(CUBE_DROP_NAME)
#undef CUBE_DROP_NAME
};

static const char *const drop_texts[] = {
#define CUBE_DROP_TEXT(code, name, text) [code] = text,
    CUBE_DROP_REASONS(CUBE_DROP_TEXT)
#undef CUBE_DROP_TEXT
};

const char *cube_drop_reason_name(unsigned int reason)
{
	return reason < CUBE_DROP_MAX ? drop_names[reason] : "UNKNOWN";
}

const char *cube_drop_reason_text(unsigned int reason)
{
	return reason < CUBE_DROP_MAX ? drop_texts[reason] : "unknown drop reason";
}

const char *cube_verdict_name(unsigned int verdict)
{
	static const char *const names[CUBE_VERDICT_MAX] = {
	    [CUBE_VERDICT_FORWARD] = "forward", [CUBE_VERDICT_REDIRECT] = "redirect",
	    [CUBE_VERDICT_TX] = "tx",		[CUBE_VERDICT_PASS] = "pass",
	    [CUBE_VERDICT_DROP] = "drop",	[CUBE_VERDICT_SLOWPATH] = "slowpath",
	};

	return verdict < CUBE_VERDICT_MAX ? names[verdict] : "unknown";
}
