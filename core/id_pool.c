// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "id_pool.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int push(uint32_t **arr, size_t *n, size_t *cap, uint32_t id)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		uint32_t *grown = realloc(*arr, c * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		*arr = grown;
		*cap = c;
	}
	(*arr)[(*n)++] = id;
	return 0;
}

static int fifo_push(struct id_fifo *f, uint32_t id, uint64_t at)
{
	if (f->len == f->cap) {
		size_t c = f->cap ? 2 * f->cap : 64;
		uint32_t *ids = malloc(c * sizeof(*ids));
		uint64_t *ats = malloc(c * sizeof(*ats));

		if (!ids || !ats) {
			free(ids);
			free(ats);
			return -ENOMEM;
		}
		for (size_t i = 0; i < f->len; i++) {
			ids[i] = f->ids[(f->head + i) % f->cap];
			ats[i] = f->at[(f->head + i) % f->cap];
		}
		free(f->ids);
		free(f->at);
		f->ids = ids;
		f->at = ats;
		f->head = 0;
		f->cap = c;
	}
	f->ids[(f->head + f->len) % f->cap] = id;
	f->at[(f->head + f->len) % f->cap] = at;
	f->len++;
	return 0;
}

int id_pool_init(struct id_pool *p, uint32_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
	p->used = calloc(max ? max : 1, 1);
	return p->used ? 0 : -ENOMEM;
}

void id_pool_free_all(struct id_pool *p)
{
	free(p->used);
	free(p->quarantine.ids);
	free(p->quarantine.at);
	free(p->taken);
	free(p->dropped);
	memset(p, 0, sizeof(*p));
}

int id_pool_alloc(struct id_pool *p, uint32_t *id)
{
	struct id_fifo *q = &p->quarantine;

	/* Freed ids that were reserved again since are stale in the queue. */
	while (q->len && p->used[q->ids[q->head]]) {
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	/* The oldest freed id, once its grace is over; else a new one. */
	if (q->len && now_ns() - q->at[q->head] >= ID_POOL_GRACE_NS) {
		*id = q->ids[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	} else if (p->top < p->max) {
		*id = p->top++;
	} else {
		return -ENOSPC;
	}
	if (push(&p->taken, &p->n_taken, &p->cap_taken, *id)) {
		/* Not handed out after all: keep it where it can be found. */
		fifo_push(q, *id, 0);
		return -ENOMEM;
	}
	p->used[*id] = 1;
	p->n_used++;
	return 0;
}

int id_pool_release(struct id_pool *p, uint32_t id)
{
	if (id >= p->max || !p->used[id])
		return -ENOENT;
	return push(&p->dropped, &p->n_dropped, &p->cap_dropped, id);
}

int id_pool_reserve(struct id_pool *p, uint32_t id)
{
	if (id >= p->max)
		return -ERANGE;
	if (p->used[id])
		return -EEXIST;
	/* Ids skipped over wait out a grace period, as if just freed: a
	 * datapath adopted at start may still have packets on them. */
	for (uint32_t i = p->top; i < id; i++)
		if (fifo_push(&p->quarantine, i, now_ns()))
			return -ENOMEM;
	if (id >= p->top)
		p->top = id + 1;
	p->used[id] = 1; /* if it was queued, alloc skips it */
	p->n_used++;
	return 0;
}

int id_pool_is_used(const struct id_pool *p, uint32_t id)
{
	return id < p->max && p->used[id];
}

void id_pool_commit(struct id_pool *p)
{
	uint64_t now = now_ns();

	for (size_t i = 0; i < p->n_dropped; i++) {
		uint32_t id = p->dropped[i];

		if (!p->used[id])
			continue; /* dropped twice */
		p->used[id] = 0;
		p->n_used--;
		if (fifo_push(&p->quarantine, id, now))
			p->used[id] = 1,
			p->n_used++; /* out of memory: leak it rather than reuse early */
	}
	p->n_taken = p->n_dropped = 0;
}

void id_pool_abort(struct id_pool *p)
{
	uint64_t now = now_ns();

	/* The datapath may have seen these ids while the transaction was
	 * applied: they wait out the grace period like freed ones. */
	for (size_t i = p->n_taken; i-- > 0;) {
		uint32_t id = p->taken[i];

		p->used[id] = 0;
		p->n_used--;
		if (fifo_push(&p->quarantine, id, now))
			p->used[id] = 1, p->n_used++;
	}
	p->n_taken = p->n_dropped = 0;
}
