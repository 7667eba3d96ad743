// SPDX-License-Identifier: Apache-2.0
/* Maglev table construction; see maglev.h for the method. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "maglev_table.h"

bool maglev_is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (uint32_t d = 3; (uint64_t)d * d <= n; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

/* FNV-1a over the key, then the splitmix64 finalizer so every input bit
 * reaches every output bit. Two seeds give the two independent hashes. */
static uint64_t key_hash(const uint8_t *key, size_t len, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= key[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

#define OFFSET_SEED 0x6d61676c65766f66ull /* "maglevof" */
#define SKIP_SEED   0x6d61676c65767370ull /* "maglevsp" */

static int key_cmp(const struct maglev_backend_spec *a, const struct maglev_backend_spec *b)
{
	size_t len = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, len);

	if (c)
		return c;
	return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static int by_key(const void *a, const void *b)
{
	return key_cmp(*(const struct maglev_backend_spec *const *)a,
		       *(const struct maglev_backend_spec *const *)b);
}

struct permutation {
	uint32_t offset;
	uint32_t skip;
	uint32_t next;	 /* how far along its permutation the backend is */
	uint64_t credit; /* accumulated weight */
};

int maglev_build(const struct maglev_backend_spec *backends, size_t n, uint32_t size,
		 uint32_t *table)
{
	const struct maglev_backend_spec **order = NULL;
	struct permutation *perm = NULL;
	uint32_t max_weight = 0, filled = 0;
	int err = 0;

	if (size < MAGLEV_SIZE_MIN || size > MAGLEV_SIZE_MAX || !maglev_is_prime(size))
		return -EINVAL;
	for (uint32_t i = 0; i < size; i++)
		table[i] = MAGLEV_EMPTY;
	if (n == 0)
		return 0;

	order = calloc(n, sizeof(*order));
	perm = calloc(n, sizeof(*perm));
	if (!order || !perm) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (backends[i].key_len == 0 || backends[i].key_len > MAGLEV_KEY_MAX) {
			err = -EINVAL;
			goto cleanup;
		}
		order[i] = &backends[i];
		if (backends[i].weight > max_weight)
			max_weight = backends[i].weight;
	}
	qsort(order, n, sizeof(*order), by_key);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && key_cmp(order[i - 1], order[i]) == 0) {
			err = -EEXIST;
			goto cleanup;
		}
		perm[i].offset = key_hash(order[i]->key, order[i]->key_len, OFFSET_SEED) % size;
		perm[i].skip =
		    key_hash(order[i]->key, order[i]->key_len, SKIP_SEED) % (size - 1) + 1;
	}
	if (max_weight == 0)
		goto cleanup; /* everything drained: the table stays empty */

	while (filled < size) {
		for (size_t i = 0; i < n && filled < size; i++) {
			struct permutation *p = &perm[i];
			uint32_t slot;

			if (order[i]->weight == 0)
				continue;
			p->credit += order[i]->weight;
			if (p->credit < max_weight)
				continue;
			p->credit -= max_weight;
			/* The permutation visits every slot once (size is prime), so a
			 * free one is found within size steps. */
			do {
				slot = (uint32_t)((p->offset + (uint64_t)p->next * p->skip) % size);
				p->next++;
			} while (table[slot] != MAGLEV_EMPTY);
			table[slot] = order[i]->id;
			filled++;
		}
	}

cleanup:
	free(order);
	free(perm);
	return err;
}
