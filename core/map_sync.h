/* SPDX-License-Identifier: Apache-2.0 */
/* Make a BPF hash or LPM map hold exactly a given set of entries: update
 * what is wanted (each update is atomic), then delete what is not. Packets
 * never see the map empty in between. */
#ifndef CUBENET_MAP_SYNC_H
#define CUBENET_MAP_SYNC_H

#include <stddef.h>

/* keys and values are arrays of n entries. 0 or -errno. */
int map_sync(int fd, const void *keys, const void *values, size_t n, size_t key_size,
	     size_t value_size);

#endif
