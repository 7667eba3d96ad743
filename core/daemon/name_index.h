/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hash index from names to positions in an array the caller owns, so
 * that finding one of a thousand attachments does not walk them all.
 */
#ifndef CUBENETD_NAME_INDEX_H
#define CUBENETD_NAME_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct name_index {
	uint32_t *slots; /* position + 1; 0 is free */
	size_t n_slots, n;
};

/* name_of(arg, pos) gives the name at a position of the caller's array. */
typedef const char *(*name_index_key_fn)(const void *arg, size_t pos);

/* Add position pos (its name must not be there yet). 0 or -ENOMEM. */
int name_index_add(struct name_index *ix, name_index_key_fn name_of, const void *arg, size_t pos);
/* The position of name, or -1. */
long name_index_find(const struct name_index *ix, name_index_key_fn name_of, const void *arg,
		     const char *name);
void name_index_clear(struct name_index *ix);
void name_index_free(struct name_index *ix);

#endif
