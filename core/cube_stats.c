// SPDX-License-Identifier: Apache-2.0
/* Reading a cube's per-CPU counters and naming them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cube.h"

int cube_read_stats(const struct cube *cube, struct cube_stats *out)
{
	int fd = cube_map_fd(cube, "cube_stats");
	int ncpu = libbpf_num_possible_cpus();
	struct cube_stats *percpu;
	uint32_t zero = 0;
	int err = 0;

	if (fd < 0)
		return fd;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, percpu)) {
		err = -errno;
		goto cleanup;
	}
	memset(out, 0, sizeof(*out));
	/* Every field is a u64 counter: sum them word by word. */
	for (int cpu = 0; cpu < ncpu; cpu++) {
		const uint64_t *src = (const uint64_t *)&percpu[cpu];
		uint64_t *dst = (uint64_t *)out;

		for (size_t w = 0; w < sizeof(*out) / sizeof(uint64_t); w++)
			dst[w] += src[w];
	}
cleanup:
	free(percpu);
	return err;
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
