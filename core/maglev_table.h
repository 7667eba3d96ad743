/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maglev lookup tables (Eisenbud et al., NSDI 2016), with weights.
 *
 * Each backend walks its own permutation of the M slots, starting at
 * offset and stepping by skip, both from independent hashes of its identity
 * (key). Backends take turns claiming their next free slot; a backend of
 * weight w accumulates w per turn and claims a slot each time its credit
 * reaches the largest weight, so slot counts follow the weights (1:2 gets a
 * third and two thirds). Weight 0 claims nothing: the backend is drained.
 *
 * Input order does not matter: backends are ordered by key first, so every
 * node builds the same table from the same set.
 */
#ifndef CUBENET_MAGLEV_TABLE_H
#define CUBENET_MAGLEV_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/abi/maglev.h"

/* Slot value when no backend can take traffic (all weights 0), and the
 * sizes accepted: the datapath's own limits. */
#define MAGLEV_EMPTY	MAGLEV_SLOT_EMPTY
#define MAGLEV_SIZE_MIN MAGLEV_RING_MIN
#define MAGLEV_SIZE_MAX MAGLEV_RING_MAX
#define MAGLEV_KEY_MAX	64

/* Sizes chosen when the config names none (Cilium's list), smallest first. */
#define MAGLEV_TABLE_SIZES                                                                         \
	{                                                                                          \
		251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071                      \
	}

struct maglev_backend_spec {
	uint32_t id;		     /* what the table stores */
	uint32_t weight;	     /* 0 = drained */
	uint8_t key[MAGLEV_KEY_MAX]; /* identity hashed for offset and skip */
	size_t key_len;
};

bool maglev_is_prime(uint32_t n);

/*
 * Fill table[0..size) with backend ids. size must be a prime in
 * [MAGLEV_SIZE_MIN, MAGLEV_SIZE_MAX]. Returns 0, -EINVAL for a bad size or
 * key, -EEXIST for two backends with one key, -ENOMEM.
 */
int maglev_build(const struct maglev_backend_spec *backends, size_t n, uint32_t size,
		 uint32_t *table);

#endif
