/* SPDX-License-Identifier: Apache-2.0 */
/* A hash map from strings to u32 values, with removal: the indexes the
 * services keep of what their maps hold (a frontend's owner, an entry's
 * id), looked up in O(1) whatever the config's size. */
#ifndef CUBENETD_STR_MAP_H
#define CUBENETD_STR_MAP_H

#include <stddef.h>
#include <stdint.h>

struct str_map {
	struct str_map_slot {
		char *key; /* NULL: free; STR_MAP_GONE: removed */
		uint32_t value;
		uint64_t hash; /* of key: probes and resizes compare and move it */
	} * slots;
	size_t n_slots, n, n_gone;
};

/* 0 or -ENOMEM; replaces the value of a key that is there. */
int str_map_set(struct str_map *m, const char *key, uint32_t value);
/* 0 and *value, or -ENOENT. */
int str_map_get(const struct str_map *m, const char *key, uint32_t *value);
void str_map_del(struct str_map *m, const char *key);
void str_map_free(struct str_map *m);

#endif
