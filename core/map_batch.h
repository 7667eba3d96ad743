/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes gathered and made in one syscall per map (bpf_map_update_batch):
 * for entries nothing points at yet (fresh ids), which need no undo, when
 * a change brings thousands of them at once.
 */
#ifndef CUBENET_MAP_BATCH_H
#define CUBENET_MAP_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct map_batch {
	int fd;
	size_t key_size, value_size; /* value_size: all CPUs' for a per-CPU map */
	unsigned char *keys, *values;
	size_t n, cap;
};

void map_batch_init(struct map_batch *b, int fd, size_t key_size, size_t value_size);
/* 0 or -ENOMEM. */
int map_batch_add(struct map_batch *b, const void *key, const void *value);
/* Write what was added; 0 or -errno. The batch is empty afterwards. */
int map_batch_flush(struct map_batch *b);
void map_batch_free(struct map_batch *b);

/* Read count values of an array map, keys first .. first + count - 1,
 * into values (count x value_size bytes) in as few syscalls as the kernel
 * allows: a restart reads what a million-entry array holds in
 * milliseconds, not a second of lookups. 0 or -errno. */
int map_batch_read_array(int fd, uint32_t first, uint32_t count, size_t value_size, void *values);

#endif
