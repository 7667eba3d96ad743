/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Programming one maglev cube: every service's Maglev ring, its descriptor
 * and its backends' states. The one path the lb and pods services, the
 * datapath tests and the benchmarks all use.
 *
 * Rings live side by side in the cube's maglev_slots array. Changing a ring
 * never writes a slot a packet may be reading: the new table goes into a
 * free region, then one update of the service's descriptor (a hash map
 * element, replaced whole) points packets at it, and the old region is
 * reused only after a grace period. So a packet sees the old ring or the
 * new one, and never a slot that meanwhile belongs to another service.
 * Nothing here waits for an RCU grace period in the kernel, and the slots
 * are written through a mapping of the array, so a ring costs a memcpy and
 * one descriptor update however many services there are.
 *
 * Writes go through a map_txn (abort puts descriptors and states back) and
 * regions follow the same transaction: taken ones return on abort, replaced
 * ones are released on commit.
 */
#ifndef CUBENET_MAGLEV_STORE_H
#define CUBENET_MAGLEV_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "maglev_table.h"
#include "map_txn.h"
#include "lib/abi/maglev.h"

struct region {
	uint32_t offset, size;
};

struct maglev_store {
	int services_fd, slots_fd, backends_fd;
	uint32_t n_slots; /* capacity of maglev_slots */
	uint32_t *slots;  /* maglev_slots, mapped */
	size_t map_len;
	uint32_t top; /* slots >= top never used */
	/* Free regions by size, each list oldest first, with when freed. */
	struct free_list {
		uint32_t size;
		struct region_fifo {
			uint32_t *offsets;
			uint64_t *at;
			size_t head, len, cap;
		} fifo;
	} * free;
	size_t n_free;
	/* Per service id: its region (size 0: none). */
	struct region *rings;
	uint32_t n_rings;
	/* This transaction's. */
	struct region *taken, *dropped;
	size_t n_taken, n_dropped, cap_taken, cap_dropped;
	struct pending_ring {
		uint32_t service_id;
		struct region before;
	} * pending;
	size_t n_pending, cap_pending;
	uint8_t *pending_mark; /* per service id: in pending */
};

/* The smallest size of MAGLEV_TABLE_SIZES above 100 x backends (Cilium's
 * advice for little disruption), the largest for more. */
uint32_t maglev_auto_size(size_t n_backends);

/* Open on a loaded maglev cube's maps; reads back what the maps hold (a
 * datapath adopted from pins): rings in use, and the slots they take.
 * n_slots: the slots of maglev_slots (MAGLEV_SLOTS_PER_ENTRY per entry). */
int maglev_store_open(struct maglev_store *s, int services_fd, int slots_fd, int backends_fd,
		      uint32_t n_slots, uint32_t max_services);
void maglev_store_close(struct maglev_store *s);

/*
 * Build service_id's table over backends (size: a prime, or 0 for
 * maglev_auto_size()), put it in a fresh region and point the service's
 * descriptor at it with flags and affinity timeout. Backends must be
 * written (maglev_store_set_backend) before. 0, -ENOSPC (no room in the
 * slots), -EINVAL (size), -EEXIST (two backends with one key), -errno.
 */
int maglev_store_set_ring(struct maglev_store *s, struct map_txn *t, uint32_t service_id,
			  const struct maglev_service *desc,
			  const struct maglev_backend_spec *backends, size_t n, uint32_t size);
/* The same in two steps: build the table (size 0: automatic; *size gets
 * what was used; the caller frees *table), then install it. */
int maglev_store_build(const struct maglev_backend_spec *backends, size_t n, uint32_t *size,
		       uint32_t **table);
int maglev_store_set_table(struct maglev_store *s, struct map_txn *t, uint32_t service_id,
			   const struct maglev_service *desc, const uint32_t *table, uint32_t size);
/* Change only a service's flags / affinity, keeping its ring. */
int maglev_store_set_flags(struct maglev_store *s, struct map_txn *t, uint32_t service_id,
			   uint32_t flags, uint32_t affinity_timeout_s);
/* The service goes: its descriptor, then (at commit) its region. */
int maglev_store_remove(struct maglev_store *s, struct map_txn *t, uint32_t service_id);
int maglev_store_set_backend(struct maglev_store *s, struct map_txn *t, uint32_t backend_id,
			     uint32_t service_id, uint32_t state);
/* The region service_id uses (size 0: none). */
struct region maglev_store_ring(const struct maglev_store *s, uint32_t service_id);
/* The slots up to the highest a ring ever took: those in use, those of
 * replaced rings still in their grace period and those free again. A
 * change's new rings fit in maglev_slots sized with this plus their sizes,
 * however fast changes come (callers size maglev_slots with it). */
uint64_t maglev_store_slots_spanned(const struct maglev_store *s);
/* Whether service_id's ring already holds exactly table (a restart that
 * finds the datapath as the config wants it writes nothing). */
int maglev_store_ring_is(const struct maglev_store *s, uint32_t service_id, const uint32_t *table,
			 uint32_t size);
/* Whether service_id's ring has the given size and names exactly the
 * backend ids given, each at least once: for backends of equal weight,
 * the ring a build would make (a restart checks an adopted ring so, in a
 * pass over its slots, instead of building one to compare). No, too, when
 * the ids lie too far apart to tell cheaply. */
int maglev_store_ring_over(const struct maglev_store *s, uint32_t service_id, const uint32_t *ids,
			   size_t n, uint32_t size);

void maglev_store_commit(struct maglev_store *s);
void maglev_store_abort(struct maglev_store *s);

#endif
