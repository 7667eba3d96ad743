// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "str_map.h"

static char gone_marker;
#define GONE (&gone_marker)

static uint64_t hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h;
}

static struct str_map_slot *find(const struct str_map *m, const char *key, uint64_t h)
{
	if (!m->n_slots)
		return NULL;
	for (size_t at = h & (m->n_slots - 1);; at = (at + 1) & (m->n_slots - 1)) {
		struct str_map_slot *s = &m->slots[at];

		if (!s->key)
			return NULL;
		if (s->key != GONE && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

static int resize(struct str_map *m, size_t n_slots)
{
	struct str_map_slot *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_slots; i++) {
		struct str_map_slot *s = &m->slots[i];

		if (!s->key || s->key == GONE)
			continue;
		size_t at = s->hash & (n_slots - 1);

		while (slots[at].key)
			at = (at + 1) & (n_slots - 1);
		slots[at] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->n_slots = n_slots;
	m->n_gone = 0;
	return 0;
}

int str_map_set(struct str_map *m, const char *key, uint32_t value)
{
	uint64_t h = hash(key);
	struct str_map_slot *s = find(m, key, h);

	if (s) {
		s->value = value;
		return 0;
	}
	/* At most half full, counting removed slots (they end probe runs late). */
	if (2 * (m->n + m->n_gone + 1) > m->n_slots &&
	    resize(m, m->n_slots && 4 * (m->n + 1) > m->n_slots ? 2 * m->n_slots
								: (m->n_slots ? m->n_slots : 64)))
		return -ENOMEM;
	char *copy = strdup(key);

	if (!copy)
		return -ENOMEM;
	size_t at = h & (m->n_slots - 1);

	while (m->slots[at].key && m->slots[at].key != GONE)
		at = (at + 1) & (m->n_slots - 1);
	if (m->slots[at].key == GONE)
		m->n_gone--;
	m->slots[at] = (struct str_map_slot){copy, value, h};
	m->n++;
	return 0;
}

int str_map_get(const struct str_map *m, const char *key, uint32_t *value)
{
	const struct str_map_slot *s = find(m, key, hash(key));

	if (!s)
		return -ENOENT;
	*value = s->value;
	return 0;
}

void str_map_del(struct str_map *m, const char *key)
{
	struct str_map_slot *s = find(m, key, hash(key));

	if (!s)
		return;
	free(s->key);
	s->key = GONE;
	m->n--;
	m->n_gone++;
}

void str_map_free(struct str_map *m)
{
	for (size_t i = 0; i < m->n_slots; i++)
		if (m->slots[i].key && m->slots[i].key != GONE)
			free(m->slots[i].key);
	free(m->slots);
	*m = (struct str_map){0};
}
