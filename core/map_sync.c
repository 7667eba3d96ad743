// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "map_sync.h"

static int key_cmp(const void *a, const void *b, void *key_size)
{
	return memcmp(a, b, *(size_t *)key_size);
}

/* Binary search in the sorted copy of the wanted keys. */
static int wanted(const char *sorted, size_t n, size_t key_size, const void *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(sorted + mid * key_size, key, key_size);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int map_sync(int fd, const void *keys, const void *values, size_t n, size_t key_size,
	     size_t value_size)
{
	char *key = malloc(key_size), *next = malloc(key_size), *stale = NULL;
	char *sorted = malloc(n ? n * key_size : 1);
	size_t n_stale = 0;
	int err = 0;

	if (!key || !next || !sorted) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* Sorted, so telling stale keys from wanted ones is n log n, not n^2. */
	if (n)
		memcpy(sorted, keys, n * key_size);
	qsort_r(sorted, n, key_size, key_cmp, &key_size);
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size,
					(const char *)values + i * value_size, BPF_ANY)) {
			err = -errno;
			goto cleanup;
		}
	}
	/* Collect first, delete after: deleting while walking skips keys. */
	for (int rc = bpf_map_get_next_key(fd, NULL, next); !rc;
	     rc = bpf_map_get_next_key(fd, key, next)) {
		memcpy(key, next, key_size);
		if (wanted(sorted, n, key_size, key))
			continue;
		char *grown = realloc(stale, (n_stale + 1) * key_size);

		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		stale = grown;
		memcpy(stale + n_stale++ * key_size, key, key_size);
	}
	for (size_t i = 0; i < n_stale; i++)
		if (bpf_map_delete_elem(fd, stale + i * key_size) && errno != ENOENT)
			err = -errno;
cleanup:
	free(key);
	free(next);
	free(stale);
	free(sorted);
	return err;
}
