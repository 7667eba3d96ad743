// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "map_sync.h"

static int wanted(const void *keys, size_t n, size_t key_size, const void *key)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp((const char *)keys + i * key_size, key, key_size) == 0)
			return 1;
	return 0;
}

int map_sync(int fd, const void *keys, const void *values, size_t n, size_t key_size,
	     size_t value_size)
{
	char *key = malloc(key_size), *next = malloc(key_size), *stale = NULL;
	size_t n_stale = 0;
	int err = 0;

	if (!key || !next) {
		err = -ENOMEM;
		goto cleanup;
	}
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
		if (wanted(keys, n, key_size, key))
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
	return err;
}
