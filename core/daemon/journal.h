/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The saved config: a snapshot of the whole config and, after it, a journal
 * of the diffs committed since, each appended and fsync'd before the write
 * it belongs to is answered. A write therefore costs what it changes; the
 * journal is folded into a new snapshot when it outgrows it (the cost of one
 * full save, once per several snapshots' worth of changes).
 *
 *   snapshot   "cubenet-snapshot GEN SCHEMA CRC\n" then the config as JSON
 *              (SCHEMA: the modules' fingerprint it was validated under,
 *              CRC: of the JSON; both hex)
 *   journal    records "cubenet-diff GEN LEN CRC\n" + LEN bytes of diff JSON + "\n"
 *
 * A snapshot of generation G holds every diff up to G; restore replays the
 * journal's records above G in order and stops at the first torn or corrupt
 * record (a crash while appending: that write was never answered), which it
 * cuts off. Snapshot and journal are replaced by write-temp, fsync, rename,
 * so a crash at any point leaves a state restore understands, and a temp
 * file left behind never blocks a later save.
 */
#ifndef CUBENETD_JOURNAL_H
#define CUBENETD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <libyang/libyang.h>
#include "error.h"

struct journal {
	char dir[256];
	int fd;		     /* the journal, open for appending */
	uint64_t generation; /* of the last record written or replayed */
	uint64_t snapshot_generation;
	size_t journal_bytes, snapshot_bytes;
	uint64_t schema; /* the fingerprint of the modules this daemon validates with */
	/* What journal_open read was validated under this very schema and is
	 * intact (snapshot CRC, record CRCs): it need not be validated again. */
	int trusted;
};

/* Open the state in dir and read it back: *config gets the snapshot with
 * the journal applied (NULL if nothing is saved); schema: see struct
 * journal. 0 or -1. */
int journal_open(struct journal *j, const char *dir, const struct ly_ctx *ctx, uint64_t schema,
		 struct lyd_node **config, struct cn_error *err);
void journal_close(struct journal *j);

/* Append one committed diff (fsync'd): a diff of explicit data only
 * (lyd_diff without LYD_DIFF_DEFAULTS), as the snapshot holds. On failure
 * nothing of it remains in the journal. 0 or -1 (ENOSPC reported as such). */
int journal_append(struct journal *j, const struct lyd_node *diff, struct cn_error *err);
/* Whether the journal has grown enough to be folded into a snapshot. */
int journal_wants_snapshot(const struct journal *j);
/* Save config (which includes every appended diff) as the new snapshot and
 * start an empty journal. 0 or -1. */
int journal_snapshot(struct journal *j, const struct lyd_node *config, struct cn_error *err);

#endif
