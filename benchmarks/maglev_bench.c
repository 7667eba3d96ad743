// SPDX-License-Identifier: Apache-2.0
/*
 * maglev-bench: how long core/maglev.c takes to build a table, against the
 * number of backends and the table size (the control plane's share of a
 * backend change). One JSON object per line; the median of 5 builds.
 *
 *   maglev-bench [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "maglev_table.h"
#include "median.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	static const uint32_t full_backends[] = {10, 100, 255, 1000, 4000};
	static const uint32_t full_sizes[] = {3079, 65537, 131071};
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	size_t n_backends = quick ? 2 : 5, n_sizes = quick ? 1 : 3;

	for (size_t s = 0; s < n_sizes; s++) {
		uint32_t size = quick ? 65537 : full_sizes[s];
		uint32_t *table = malloc(size * sizeof(*table));

		for (size_t b = 0; b < n_backends && table; b++) {
			uint32_t n = full_backends[b], us[5];
			struct maglev_backend_spec *specs = calloc(n, sizeof(*specs));

			if (!specs || n > size)
				break;
			for (uint32_t i = 0; i < n; i++) {
				specs[i].id = i;
				specs[i].weight = 1 + i % 3; /* weights at work too */
				specs[i].key_len = (size_t)snprintf(
				    (char *)specs[i].key, MAGLEV_KEY_MAX, "backend-%u", i);
			}
			for (int r = 0; r < 5; r++) {
				double t0 = now_us();

				if (maglev_build(specs, n, size, table)) {
					fprintf(stderr, "maglev-bench: build failed\n");
					return 1;
				}
				us[r] = (uint32_t)(now_us() - t0);
			}
			printf("{\"backends\": %u, \"table_size\": %u, \"build_us\": %u}\n", n,
			       size, median_u32(us, 5));
			free(specs);
		}
		free(table);
	}
	return 0;
}
