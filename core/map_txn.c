// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "map_txn.h"

/*
 * A record: its header, the key, then the old value when there was one.
 * Records are read back to front, so the header's size of the whole record
 * sits at its end too.
 */
struct record {
	int fd;
	uint32_t key_size, value_size;
	uint8_t had_value;
};

static size_t record_size(uint32_t key_size, uint32_t value_size, int had)
{
	return sizeof(struct record) + key_size + (had ? value_size : 0) + sizeof(size_t);
}

static int reserve(struct map_txn *t, size_t more)
{
	if (t->len + more <= t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 4096;

	while (cap < t->len + more)
		cap *= 2;
	unsigned char *grown = realloc(t->log, cap);

	if (!grown)
		return -ENOMEM;
	t->log = grown;
	t->cap = cap;
	return 0;
}

/* Append the record that restores key as it is now. */
static int remember(struct map_txn *t, int fd, const void *key, size_t key_size, size_t value_size)
{
	size_t worst = record_size((uint32_t)key_size, (uint32_t)value_size, 1), size;
	struct record r = {fd, (uint32_t)key_size, (uint32_t)value_size, 0};
	unsigned char *p;
	int e = reserve(t, worst);

	if (e)
		return e;
	p = t->log + t->len;
	/* Per-CPU maps are not written through this log: one value per key. */
	if (!bpf_map_lookup_elem(fd, key, p + sizeof(r) + key_size))
		r.had_value = 1;
	else if (errno != ENOENT)
		return -errno;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), key, key_size);
	size = record_size(r.key_size, r.value_size, r.had_value);
	memcpy(p + size - sizeof(size_t), &size, sizeof(size_t));
	t->len += size;
	return 0;
}

int map_txn_update(struct map_txn *t, int fd, const void *key, size_t key_size, const void *value,
		   size_t value_size)
{
	size_t mark = t->len;
	int e = remember(t, fd, key, key_size, value_size);

	if (e)
		return e;
	/* Already so (a restart finding the maps as the config wants them):
	 * nothing to write, nothing to undo. */
	struct record r;

	memcpy(&r, t->log + mark, sizeof(r));
	if (r.had_value &&
	    !memcmp(t->log + mark + sizeof(struct record) + key_size, value, value_size)) {
		t->len = mark;
		return 0;
	}
	if (bpf_map_update_elem(fd, key, value, BPF_ANY)) {
		e = -errno;
		t->len = mark;
		return e;
	}
	t->n_writes++;
	return 0;
}

int map_txn_delete(struct map_txn *t, int fd, const void *key, size_t key_size, size_t value_size)
{
	size_t mark = t->len;
	int e = remember(t, fd, key, key_size, value_size);

	if (e)
		return e;
	if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
		e = -errno;
		t->len = mark;
		return e;
	}
	t->n_writes++;
	return 0;
}

int map_txn_abort(struct map_txn *t)
{
	int first = 0;

	while (t->len) {
		size_t size;
		struct record r;
		unsigned char *p;

		memcpy(&size, t->log + t->len - sizeof(size_t), sizeof(size_t));
		p = t->log + t->len - size;
		memcpy(&r, p, sizeof(r));
		int e = r.had_value ? bpf_map_update_elem(r.fd, p + sizeof(r),
							  p + sizeof(r) + r.key_size, BPF_ANY)
				    : bpf_map_delete_elem(r.fd, p + sizeof(r));

		if (e && !(errno == ENOENT && !r.had_value) && !first)
			first = -errno;
		t->len -= size;
	}
	t->n_writes = 0;
	return first;
}

void map_txn_commit(struct map_txn *t)
{
	t->len = 0;
	t->n_writes = 0;
}

void map_txn_free(struct map_txn *t)
{
	free(t->log);
	*t = (struct map_txn){0};
}
