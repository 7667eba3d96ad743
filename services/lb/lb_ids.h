/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stable ids for an lb's VIPs and backends. The datapath indexes arrays and
 * remembers flows by these ids, so an id stays with its VIP or backend as
 * long as that exists, through any other change and across daemon
 * restarts (the table is saved beside the config). Ids are dense per
 * namespace ("lb0/vip", "lb0/backend"): the lowest free one is handed out,
 * so map sizes follow what is configured.
 */
#ifndef CUBENET_LB_IDS_H
#define CUBENET_LB_IDS_H

#include <stddef.h>
#include <stdint.h>

struct lb_id_entry;
struct lb_id_space;

struct lb_ids {
	struct lb_id_entry *slots; /* open addressing on (ns, key) */
	size_t cap, n;
	struct lb_id_space *spaces; /* per namespace: which ids are taken */
	size_t n_spaces;
};

/* Read a saved table; a missing file is an empty table. 0 or -errno. */
int lb_ids_load(struct lb_ids *t, const char *path);
/* Write it atomically (temporary file, fsync, rename). 0 or -errno. */
int lb_ids_save(const struct lb_ids *t, const char *path);
void lb_ids_free(struct lb_ids *t);

/* Start a pass over a config: every entry is unused until asked for. */
void lb_ids_begin(struct lb_ids *t);
/* The id of key in ns, a new one if it has none (is_new set). 0 or -errno. */
int lb_ids_get(struct lb_ids *t, const char *ns, const char *key, uint32_t *id, int *is_new);
/* The id of key in ns if it has one. */
int lb_ids_find(const struct lb_ids *t, const char *ns, const char *key, uint32_t *id);
/* End the pass: entries not asked for since lb_ids_begin() are forgotten
 * and their ids free again. */
void lb_ids_end(struct lb_ids *t);
/* The largest id in use in ns, or -1 if none. */
int64_t lb_ids_max(const struct lb_ids *t, const char *ns);
/* A value the caller keeps with an entry while it lives (not saved, 0 at
 * first), or NULL if key has no id. Valid until the next lb_ids_get(). */
uint64_t *lb_ids_note(struct lb_ids *t, const char *ns, const char *key);

#endif
