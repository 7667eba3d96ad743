// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "id_pool.h"
#include "maglev_store.h"

static const uint32_t table_sizes[] = MAGLEV_TABLE_SIZES;
#define N_TABLE_SIZES (sizeof(table_sizes) / sizeof(table_sizes[0]))

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t maglev_auto_size(size_t n_backends)
{
	for (size_t i = 0; i < N_TABLE_SIZES; i++)
		if (table_sizes[i] > 100 * (uint64_t)n_backends)
			return table_sizes[i];
	return table_sizes[N_TABLE_SIZES - 1];
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;

	while (c < need)
		c *= 2;
	void *grown = realloc(*arr, c * elem);

	if (!grown)
		return -ENOMEM;
	*arr = grown;
	*cap = c;
	return 0;
}

static struct free_list *free_list_of(struct maglev_store *s, uint32_t size, int create)
{
	for (size_t i = 0; i < s->n_free; i++)
		if (s->free[i].size == size)
			return &s->free[i];
	if (!create)
		return NULL;
	struct free_list *grown = realloc(s->free, (s->n_free + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	s->free = grown;
	s->free[s->n_free] = (struct free_list){.size = size};
	return &s->free[s->n_free++];
}

static int fifo_push(struct region_fifo *f, uint32_t offset, uint64_t at)
{
	if (f->len == f->cap) {
		size_t c = f->cap ? 2 * f->cap : 16;
		uint32_t *offs = malloc(c * sizeof(*offs));
		uint64_t *ats = malloc(c * sizeof(*ats));

		if (!offs || !ats) {
			free(offs);
			free(ats);
			return -ENOMEM;
		}
		for (size_t i = 0; i < f->len; i++) {
			offs[i] = f->offsets[(f->head + i) % f->cap];
			ats[i] = f->at[(f->head + i) % f->cap];
		}
		free(f->offsets);
		free(f->at);
		f->offsets = offs;
		f->at = ats;
		f->head = 0;
		f->cap = c;
	}
	f->offsets[(f->head + f->len) % f->cap] = offset;
	f->at[(f->head + f->len) % f->cap] = at;
	f->len++;
	return 0;
}

/* A region of size slots: a freed one past its grace, else new slots. */
static int region_take(struct maglev_store *s, uint32_t size, struct region *out)
{
	struct free_list *fl = free_list_of(s, size, 0);

	if (fl && fl->fifo.len && now_ns() - fl->fifo.at[fl->fifo.head] >= ID_POOL_GRACE_NS) {
		out->offset = fl->fifo.offsets[fl->fifo.head];
		fl->fifo.head = (fl->fifo.head + 1) % fl->fifo.cap;
		fl->fifo.len--;
	} else if ((uint64_t)s->top + size <= s->n_slots) {
		out->offset = s->top;
		s->top += size;
	} else {
		return -ENOSPC;
	}
	out->size = size;
	if (grow((void **)&s->taken, &s->cap_taken, s->n_taken + 1, sizeof(*s->taken))) {
		struct free_list *back = free_list_of(s, size, 1);

		if (back)
			fifo_push(&back->fifo, out->offset, 0);
		return -ENOMEM;
	}
	s->taken[s->n_taken++] = *out;
	return 0;
}

static void region_give_back(struct maglev_store *s, struct region r, uint64_t at)
{
	struct free_list *fl = free_list_of(s, r.size, 1);

	/* Out of memory: the slots stay unused rather than reused early. */
	if (fl)
		fifo_push(&fl->fifo, r.offset, at);
}

static int ring_slot(struct maglev_store *s, uint32_t service_id, struct region **out)
{
	if (service_id >= s->n_rings)
		return -ERANGE;
	*out = &s->rings[service_id];
	return 0;
}

/* The slots array, mapped: a ring is written with a memcpy. */
static int map_slots(struct maglev_store *s)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	s->map_len = ((size_t)s->n_slots * sizeof(uint32_t) + page - 1) / page * page;
	/* Two slots to an 8-byte element, low half first: a u32 array. */
	s->slots = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->slots_fd, 0);
	if (s->slots == MAP_FAILED) {
		s->slots = NULL;
		return -errno;
	}
	return 0;
}

int maglev_store_open(struct maglev_store *s, int services_fd, int slots_fd, int backends_fd,
		      uint32_t n_slots, uint32_t max_services)
{
	uint32_t key, next;
	int rc;

	memset(s, 0, sizeof(*s));
	s->services_fd = services_fd;
	s->slots_fd = slots_fd;
	s->backends_fd = backends_fd;
	s->n_slots = n_slots;
	s->n_rings = max_services;
	s->rings = calloc(max_services ? max_services : 1, sizeof(*s->rings));
	s->pending_mark = calloc(max_services ? max_services : 1, 1);
	if (!s->rings || !s->pending_mark) {
		free(s->rings);
		free(s->pending_mark);
		s->rings = NULL;
		return -ENOMEM;
	}
	if ((rc = map_slots(s))) {
		free(s->rings);
		s->rings = NULL;
		return rc;
	}
	/* Adopted maps: the rings in use and where they sit. */
	for (rc = bpf_map_get_next_key(services_fd, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(services_fd, &key, &next)) {
		struct maglev_service desc;

		key = next;
		if (bpf_map_lookup_elem(services_fd, &key, &desc) || !desc.ring_size ||
		    key >= max_services || (uint64_t)desc.ring_offset + desc.ring_size > n_slots)
			continue;
		s->rings[key] = (struct region){desc.ring_offset, desc.ring_size};
		if (desc.ring_offset + desc.ring_size > s->top)
			s->top = desc.ring_offset + desc.ring_size;
	}
	/* Gaps between adopted rings are lost until the map is rebuilt; they
	 * are what a restart costs, not what a change costs. */
	return 0;
}

void maglev_store_close(struct maglev_store *s)
{
	if (s->slots)
		munmap(s->slots, s->map_len);
	for (size_t i = 0; i < s->n_free; i++) {
		free(s->free[i].fifo.offsets);
		free(s->free[i].fifo.at);
	}
	free(s->free);
	free(s->rings);
	free(s->pending_mark);
	free(s->taken);
	free(s->dropped);
	free(s->pending);
	memset(s, 0, sizeof(*s));
}

/* Remember service_id's region before this transaction changed it (once:
 * pending_mark says it is remembered already). */
static int note_pending(struct maglev_store *s, uint32_t service_id, struct region before)
{
	if (s->pending_mark[service_id])
		return 0;
	if (grow((void **)&s->pending, &s->cap_pending, s->n_pending + 1, sizeof(*s->pending)))
		return -ENOMEM;
	s->pending[s->n_pending++] = (struct pending_ring){service_id, before};
	s->pending_mark[service_id] = 1;
	return 0;
}

static void clear_pending(struct maglev_store *s)
{
	for (size_t i = 0; i < s->n_pending; i++)
		s->pending_mark[s->pending[i].service_id] = 0;
	s->n_pending = 0;
}

static int drop_region(struct maglev_store *s, struct region r)
{
	if (!r.size)
		return 0;
	if (grow((void **)&s->dropped, &s->cap_dropped, s->n_dropped + 1, sizeof(*s->dropped)))
		return -ENOMEM;
	s->dropped[s->n_dropped++] = r;
	return 0;
}

int maglev_store_set_table(struct maglev_store *s, struct map_txn *t, uint32_t service_id,
			   const struct maglev_service *desc, const uint32_t *table, uint32_t size)
{
	struct maglev_service d = *desc;
	struct region *slot, fresh;
	int e;

	if ((e = ring_slot(s, service_id, &slot)))
		return e;
	if ((e = note_pending(s, service_id, *slot)) || (e = region_take(s, size, &fresh)))
		return e;
	/* Fill the new region, then point the service at it (the update is a
	 * syscall: the slots are written before any packet can see them). */
	memcpy(s->slots + fresh.offset, table, (size_t)size * sizeof(*table));
	d.ring_offset = fresh.offset;
	d.ring_size = fresh.size;
	e = map_txn_update(t, s->services_fd, &service_id, sizeof(service_id), &d, sizeof(d));
	if (e)
		return e; /* the fresh region goes back with the transaction */
	e = drop_region(s, *slot);
	*slot = fresh;
	return e;
}

int maglev_store_build(const struct maglev_backend_spec *backends, size_t n, uint32_t *size,
		       uint32_t **table)
{
	int e;

	if (!*size)
		*size = maglev_auto_size(n);
	if (!maglev_is_prime(*size) || *size < MAGLEV_RING_MIN || *size > MAGLEV_RING_MAX)
		return -EINVAL;
	*table = malloc(*size * sizeof(**table));
	if (!*table)
		return -ENOMEM;
	e = maglev_build(backends, n, *size, *table);
	if (e) {
		free(*table);
		*table = NULL;
	}
	return e;
}

int maglev_store_set_ring(struct maglev_store *s, struct map_txn *t, uint32_t service_id,
			  const struct maglev_service *desc,
			  const struct maglev_backend_spec *backends, size_t n, uint32_t size)
{
	uint32_t *table = NULL;
	int e = maglev_store_build(backends, n, &size, &table);

	if (!e)
		e = maglev_store_set_table(s, t, service_id, desc, table, size);
	free(table);
	return e;
}

int maglev_store_set_flags(struct maglev_store *s, struct map_txn *t, uint32_t service_id,
			   uint32_t flags, uint32_t affinity_timeout_s)
{
	struct maglev_service d = {0};
	struct region *slot;
	int e;

	if ((e = ring_slot(s, service_id, &slot)))
		return e;
	d.ring_offset = slot->offset;
	d.ring_size = slot->size;
	d.flags = flags;
	d.affinity_timeout_s = affinity_timeout_s;
	return map_txn_update(t, s->services_fd, &service_id, sizeof(service_id), &d, sizeof(d));
}

int maglev_store_remove(struct maglev_store *s, struct map_txn *t, uint32_t service_id)
{
	struct region *slot;
	int e;

	if ((e = ring_slot(s, service_id, &slot)) || (e = note_pending(s, service_id, *slot)))
		return e;
	e = map_txn_delete(t, s->services_fd, &service_id, sizeof(service_id),
			   sizeof(struct maglev_service));
	if (!e)
		e = drop_region(s, *slot);
	if (!e)
		*slot = (struct region){0};
	return e;
}

int maglev_store_set_backend(struct maglev_store *s, struct map_txn *t, uint32_t backend_id,
			     uint32_t service_id, uint32_t state)
{
	struct maglev_backend b = {.state = state, .service_id = service_id};

	return map_txn_update(t, s->backends_fd, &backend_id, sizeof(backend_id), &b, sizeof(b));
}

struct region maglev_store_ring(const struct maglev_store *s, uint32_t service_id)
{
	return service_id < s->n_rings ? s->rings[service_id] : (struct region){0};
}

uint64_t maglev_store_slots_spanned(const struct maglev_store *s)
{
	return s->top;
}

void maglev_store_commit(struct maglev_store *s)
{
	uint64_t now = now_ns();

	for (size_t i = 0; i < s->n_dropped; i++)
		region_give_back(s, s->dropped[i], now);
	s->n_taken = s->n_dropped = 0;
	clear_pending(s);
}

void maglev_store_abort(struct maglev_store *s)
{
	uint64_t now = now_ns();

	/* Packets may have read the taken regions while applied. */
	for (size_t i = 0; i < s->n_taken; i++)
		region_give_back(s, s->taken[i], now);
	for (size_t i = 0; i < s->n_pending; i++)
		s->rings[s->pending[i].service_id] = s->pending[i].before;
	s->n_taken = s->n_dropped = 0;
	clear_pending(s);
}

int maglev_store_ring_over(const struct maglev_store *s, uint32_t service_id, const uint32_t *ids,
			   size_t n, uint32_t size)
{
	struct region r = maglev_store_ring(s, service_id);
	uint32_t lo = UINT32_MAX, hi = 0;
	uint8_t *where;
	int over = 0;

	if (!n || r.size != size || !s->slots)
		return 0;
	for (size_t i = 0; i < n; i++) {
		lo = ids[i] < lo ? ids[i] : lo;
		hi = ids[i] > hi ? ids[i] : hi;
	}
	/* Ids a service holds lie close together: a table over their range,
	 * each entry 0 (not one of them), 1 (unseen) or 2 (seen); a range
	 * too wide for one is answered no (the caller builds and compares). */
	if (hi - lo >= 1u << 20)
		return 0;
	where = calloc((size_t)(hi - lo) + 1, 1);
	if (!where)
		return 0;
	for (size_t i = 0; i < n; i++)
		where[ids[i] - lo] = 1;
	for (uint32_t i = 0; i < size; i++) {
		uint32_t id = s->slots[r.offset + i];

		if (id < lo || id > hi || !where[id - lo])
			goto out;
		where[id - lo] = 2;
	}
	/* Every id given named somewhere (a repeated id counts once). */
	for (size_t i = 0; i < n; i++)
		if (where[ids[i] - lo] != 2)
			goto out;
	over = 1;
out:
	free(where);
	return over;
}

int maglev_store_ring_is(const struct maglev_store *s, uint32_t service_id, const uint32_t *table,
			 uint32_t size)
{
	struct region r = maglev_store_ring(s, service_id);

	return r.size == size && s->slots &&
	       !memcmp(s->slots + r.offset, table, (size_t)size * sizeof(*table));
}
