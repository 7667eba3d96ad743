/* SPDX-License-Identifier: Apache-2.0 */
/* The median of a few timing runs: what the benchmarks report. */
#ifndef CUBENET_BENCH_MEDIAN_H
#define CUBENET_BENCH_MEDIAN_H

#include <stddef.h>
#include <stdint.h>

/* Sorts t in place (n is a handful) and returns its median. */
static inline uint32_t median_u32(uint32_t *t, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && t[j] < t[j - 1]; j--) {
			uint32_t x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[n / 2];
}

#endif
