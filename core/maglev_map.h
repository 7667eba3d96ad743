/* SPDX-License-Identifier: Apache-2.0 */
/* Installing a Maglev table into a maglev cube. */
#ifndef CUBENET_MAGLEV_MAP_H
#define CUBENET_MAGLEV_MAP_H

#include <stdint.h>

/*
 * Build a fresh ring map (slot 0 = size, then the table) and swap it in
 * with one update of the cube's maglev_rings: packets see the old table or
 * the new one, never a mix. Returns 0 or a negative errno.
 */
int maglev_ring_install(int rings_fd, uint32_t service_id, const uint32_t *table, uint32_t size);
int maglev_ring_remove(int rings_fd, uint32_t service_id);

/* The same for many services at once, as an apply of many VIPs needs:
 * create each ring (an fd, or -errno), then swap them all in one batch. */
int maglev_ring_create(const uint32_t *table, uint32_t size);
int maglev_rings_swap(int rings_fd, const uint32_t *service_ids, const int *ring_fds, uint32_t n);
int maglev_rings_remove(int rings_fd, const uint32_t *service_ids, uint32_t n);

#endif
