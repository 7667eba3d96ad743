// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "name_index.h"

static uint32_t hash(const char *p)
{
	uint32_t h = 2166136261u;

	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

static int rehash(struct name_index *ix, name_index_key_fn name_of, const void *arg, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < ix->n_slots; i++) {
		if (!ix->slots[i])
			continue;
		size_t at = hash(name_of(arg, ix->slots[i] - 1)) & (n_slots - 1);

		while (slots[at])
			at = (at + 1) & (n_slots - 1);
		slots[at] = ix->slots[i];
	}
	free(ix->slots);
	ix->slots = slots;
	ix->n_slots = n_slots;
	return 0;
}

int name_index_add(struct name_index *ix, name_index_key_fn name_of, const void *arg, size_t pos)
{
	if (2 * (ix->n + 1) > ix->n_slots &&
	    rehash(ix, name_of, arg, ix->n_slots ? 2 * ix->n_slots : 64))
		return -ENOMEM;
	size_t at = hash(name_of(arg, pos)) & (ix->n_slots - 1);

	while (ix->slots[at])
		at = (at + 1) & (ix->n_slots - 1);
	ix->slots[at] = (uint32_t)pos + 1;
	ix->n++;
	return 0;
}

long name_index_find(const struct name_index *ix, name_index_key_fn name_of, const void *arg,
		     const char *name)
{
	if (!ix->n_slots)
		return -1;
	for (size_t at = hash(name) & (ix->n_slots - 1); ix->slots[at];
	     at = (at + 1) & (ix->n_slots - 1))
		if (strcmp(name_of(arg, ix->slots[at] - 1), name) == 0)
			return (long)ix->slots[at] - 1;
	return -1;
}

void name_index_clear(struct name_index *ix)
{
	if (ix->slots)
		memset(ix->slots, 0, ix->n_slots * sizeof(*ix->slots));
	ix->n = 0;
}

void name_index_free(struct name_index *ix)
{
	free(ix->slots);
	*ix = (struct name_index){0};
}
