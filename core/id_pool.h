/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dense ids (0 .. max-1) for what the datapath indexes arrays by: service
 * ports, VIPs, backends. An id stays with its object for the object's life;
 * a freed id is not handed out again until a grace period has passed, so a
 * packet that read a table a moment before it changed never finds the id
 * already meaning another object. Allocation is O(1).
 *
 * Transactional: ids taken in a transaction go back on abort; ids freed in
 * it are freed only on commit.
 */
#ifndef CUBENET_ID_POOL_H
#define CUBENET_ID_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Longer than any program run holds a table it read. */
#define ID_POOL_GRACE_NS (100ull * 1000 * 1000)

struct id_fifo {
	uint32_t *ids;
	uint64_t *at;
	size_t head, len, cap;
};

struct id_pool {
	uint32_t max;
	uint32_t top;		   /* ids >= top were never used */
	uint8_t *used;		   /* per id: 1 while an object holds it (or a txn took it) */
	uint32_t n_used;	   /* objects holding an id */
	struct id_fifo quarantine; /* freed, oldest first */
	uint32_t *taken, *dropped; /* this transaction's */
	size_t n_taken, n_dropped, cap_taken, cap_dropped;
};

int id_pool_init(struct id_pool *p, uint32_t max);
void id_pool_free_all(struct id_pool *p);
/* A free id, or -ENOSPC when all max are held or waiting out their grace. */
int id_pool_alloc(struct id_pool *p, uint32_t *id);
/* Give id back (at commit). */
int id_pool_release(struct id_pool *p, uint32_t id);
/* Mark id held, outside any transaction (adopting a datapath at start). */
int id_pool_reserve(struct id_pool *p, uint32_t id);
int id_pool_is_used(const struct id_pool *p, uint32_t id);
void id_pool_commit(struct id_pool *p);
void id_pool_abort(struct id_pool *p);

#endif
