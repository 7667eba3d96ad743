/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Map writes that can be taken back. A service's apply phase writes its
 * cubes' maps through a transaction log: each update or delete first reads
 * what the entry held, so abort puts every entry back as it was, newest
 * first, and commit simply forgets. Each single write stays atomic for the
 * datapath, as a plain bpf_map_update_elem() is.
 */
#ifndef CUBENET_MAP_TXN_H
#define CUBENET_MAP_TXN_H

#include <stddef.h>
#include <stdint.h>

struct map_txn {
	unsigned char *log; /* records, appended */
	size_t len, cap;
	size_t n_writes;
};

/* Set key to value (BPF_ANY); an entry that holds value already is not
 * written. 0 or -errno; on error nothing was written. */
int map_txn_update(struct map_txn *t, int fd, const void *key, size_t key_size, const void *value,
		   size_t value_size);
/* Delete key; a missing key is not an error. 0 or -errno. */
int map_txn_delete(struct map_txn *t, int fd, const void *key, size_t key_size, size_t value_size);
/* Undo every write, newest first. Returns the first error met, if any
 * (every record is still tried). The log is empty afterwards. */
int map_txn_abort(struct map_txn *t);
/* Keep the writes; the log is empty afterwards. */
void map_txn_commit(struct map_txn *t);
void map_txn_free(struct map_txn *t);

#endif
