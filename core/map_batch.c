// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "map_batch.h"

void map_batch_init(struct map_batch *b, int fd, size_t key_size, size_t value_size)
{
	*b = (struct map_batch){.fd = fd, .key_size = key_size, .value_size = value_size};
}

int map_batch_add(struct map_batch *b, const void *key, const void *value)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;
		unsigned char *k = realloc(b->keys, cap * b->key_size);

		if (!k)
			return -ENOMEM;
		b->keys = k;
		unsigned char *v = realloc(b->values, cap * b->value_size);

		if (!v)
			return -ENOMEM;
		b->values = v;
		b->cap = cap;
	}
	memcpy(b->keys + b->n * b->key_size, key, b->key_size);
	if (value)
		memcpy(b->values + b->n * b->value_size, value, b->value_size);
	else
		memset(b->values + b->n * b->value_size, 0, b->value_size);
	b->n++;
	return 0;
}

int map_batch_flush(struct map_batch *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t done = 0;
	int e = 0;

	while (done < b->n && !e) {
		uint32_t count = (uint32_t)(b->n - done);

		if (bpf_map_update_batch(b->fd, b->keys + done * b->key_size,
					 b->values + done * b->value_size, &count, &opts)) {
			e = -errno;
			/* A kernel or map without batches: one at a time. */
			if (e == -EINVAL || e == -EOPNOTSUPP || e == -524 /* ENOTSUPP */) {
				e = 0;
				for (; done < b->n && !e; done++)
					if (bpf_map_update_elem(b->fd, b->keys + done * b->key_size,
								b->values + done * b->value_size,
								BPF_ANY))
						e = -errno;
				break;
			}
		}
		done += count;
	}
	b->n = 0;
	return e;
}

void map_batch_free(struct map_batch *b)
{
	free(b->keys);
	free(b->values);
	b->keys = b->values = NULL;
	b->n = b->cap = 0;
}

int map_batch_read_array(int fd, uint32_t first, uint32_t count, size_t value_size, void *values)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	unsigned char *out = values;
	uint32_t *keys = malloc((count ? count : 1) * sizeof(*keys));
	uint32_t done = 0, in = first - 1, next = 0;
	int e = 0;

	if (!keys)
		return -ENOMEM;
	/* The cursor is the last key read: reading goes on after it. */
	while (done < count && !e) {
		uint32_t n = count - done;

		if (bpf_map_lookup_batch(fd, done || first ? &in : NULL, &next, keys,
					 out + (size_t)done * value_size, &n, &opts)) {
			e = -errno;
			if (e == -ENOENT) { /* the end of the map: n are valid */
				e = done + n < count ? -ENOENT : 0;
			} else if (e == -EINVAL || e == -EOPNOTSUPP || e == -524 /* ENOTSUPP */) {
				e = 0;
				for (; done < count && !e; done++) {
					uint32_t key = first + done;

					if (bpf_map_lookup_elem(fd, &key,
								out + (size_t)done * value_size))
						e = -errno;
				}
				break;
			}
		}
		done += n;
		in = next;
	}
	free(keys);
	return e;
}
