// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "lb_ids.h"

#define LB_IDS_FORMAT 1

struct lb_id_entry {
	char *ns; /* NULL: empty slot */
	char *key;
	uint32_t id;
	int used;      /* asked for in the current pass */
	uint64_t note; /* the caller's, not saved */
};

/* Which ids of a namespace are taken, for handing out the lowest free. */
struct lb_id_space {
	char *ns;
	uint8_t *taken;
	uint32_t cap;
	uint32_t lowest_free; /* no free id below this */
};

static uint64_t hash_of(const char *ns, const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (const char *p = ns; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h;
}

static struct lb_id_entry *slot_of(const struct lb_ids *t, const char *ns, const char *key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = hash_of(ns, key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct lb_id_entry *e = &t->slots[i];

		if (!e->ns || (strcmp(e->ns, ns) == 0 && strcmp(e->key, key) == 0))
			return e;
	}
}

static int grow(struct lb_ids *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct lb_ids bigger = {.cap = cap, .slots = calloc(cap, sizeof(*t->slots))};

	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].ns)
			*slot_of(&bigger, t->slots[i].ns, t->slots[i].key) = t->slots[i];
	free(t->slots);
	t->slots = bigger.slots;
	t->cap = cap;
	return 0;
}

static struct lb_id_space *space_of(struct lb_ids *t, const char *ns)
{
	struct lb_id_space *grown;

	for (size_t i = 0; i < t->n_spaces; i++)
		if (strcmp(t->spaces[i].ns, ns) == 0)
			return &t->spaces[i];
	grown = realloc(t->spaces, (t->n_spaces + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	t->spaces = grown;
	memset(&grown[t->n_spaces], 0, sizeof(*grown));
	grown[t->n_spaces].ns = strdup(ns);
	if (!grown[t->n_spaces].ns)
		return NULL;
	return &t->spaces[t->n_spaces++];
}

static int take(struct lb_ids *t, const char *ns, uint32_t id)
{
	struct lb_id_space *sp = space_of(t, ns);

	if (!sp)
		return -ENOMEM;
	if (id >= sp->cap) {
		uint32_t cap = sp->cap ? sp->cap : 256;
		uint8_t *grown;

		while (cap <= id)
			cap *= 2;
		grown = realloc(sp->taken, cap);
		if (!grown)
			return -ENOMEM;
		memset(grown + sp->cap, 0, cap - sp->cap);
		sp->taken = grown;
		sp->cap = cap;
	}
	sp->taken[id] = 1;
	return 0;
}

static int insert(struct lb_ids *t, const char *ns, const char *key, uint32_t id, int used)
{
	struct lb_id_entry *e;

	if ((t->n + 1) * 2 > t->cap && grow(t))
		return -ENOMEM;
	e = slot_of(t, ns, key);
	if (e->ns)
		return -EEXIST;
	e->ns = strdup(ns);
	e->key = strdup(key);
	if (!e->ns || !e->key) {
		free(e->ns);
		free(e->key);
		e->ns = NULL;
		return -ENOMEM;
	}
	e->id = id;
	e->used = used;
	t->n++;
	return take(t, ns, id);
}

/* The lowest id no entry of ns holds. */
static int lowest_free(struct lb_ids *t, const char *ns, uint32_t *id)
{
	struct lb_id_space *sp = space_of(t, ns);

	if (!sp)
		return -ENOMEM;
	while (sp->lowest_free < sp->cap && sp->taken[sp->lowest_free])
		sp->lowest_free++;
	*id = sp->lowest_free;
	return 0;
}

int lb_ids_get(struct lb_ids *t, const char *ns, const char *key, uint32_t *id, int *is_new)
{
	struct lb_id_entry *e = slot_of(t, ns, key);
	int err;

	*is_new = 0;
	if (e && e->ns) {
		e->used = 1;
		*id = e->id;
		return 0;
	}
	err = lowest_free(t, ns, id);
	if (!err)
		err = insert(t, ns, key, *id, 1);
	*is_new = !err;
	return err;
}

int lb_ids_find(const struct lb_ids *t, const char *ns, const char *key, uint32_t *id)
{
	struct lb_id_entry *e = slot_of(t, ns, key);

	if (!e || !e->ns)
		return -ENOENT;
	*id = e->id;
	return 0;
}

void lb_ids_begin(struct lb_ids *t)
{
	for (size_t i = 0; i < t->cap; i++)
		t->slots[i].used = 0;
}

void lb_ids_end(struct lb_ids *t)
{
	struct lb_ids kept = {0};

	for (size_t i = 0; i < t->cap; i++) {
		struct lb_id_entry *e = &t->slots[i];

		if (e->ns && e->used && insert(&kept, e->ns, e->key, e->id, 1)) {
			lb_ids_free(&kept);
			return; /* out of memory: keep everything, nothing is lost */
		}
		if (e->ns && e->used)
			slot_of(&kept, e->ns, e->key)->note = e->note;
	}
	lb_ids_free(t);
	*t = kept;
}

int64_t lb_ids_max(const struct lb_ids *t, const char *ns)
{
	for (size_t i = 0; i < t->n_spaces; i++) {
		const struct lb_id_space *sp = &t->spaces[i];

		if (strcmp(sp->ns, ns))
			continue;
		for (int64_t id = (int64_t)sp->cap - 1; id >= 0; id--)
			if (sp->taken[id])
				return id;
	}
	return -1;
}

uint64_t *lb_ids_note(struct lb_ids *t, const char *ns, const char *key)
{
	struct lb_id_entry *e = slot_of(t, ns, key);

	return e && e->ns ? &e->note : NULL;
}

void lb_ids_free(struct lb_ids *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		free(t->slots[i].ns);
		free(t->slots[i].key);
	}
	free(t->slots);
	for (size_t i = 0; i < t->n_spaces; i++) {
		free(t->spaces[i].ns);
		free(t->spaces[i].taken);
	}
	free(t->spaces);
	memset(t, 0, sizeof(*t));
}

int lb_ids_load(struct lb_ids *t, const char *path)
{
	json_error_t jerr;
	json_t *root, *list, *item;
	size_t i;
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (access(path, F_OK))
		return 0;
	root = json_load_file(path, 0, &jerr);
	if (!root)
		return -EINVAL;
	list = json_object_get(root, "ids");
	if (json_integer_value(json_object_get(root, "format")) != LB_IDS_FORMAT ||
	    !json_is_array(list)) {
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(list, i, item)
	{
		const char *ns = json_string_value(json_object_get(item, "ns"));
		const char *key = json_string_value(json_object_get(item, "key"));
		json_t *id = json_object_get(item, "id");

		if (!ns || !key || !json_is_integer(id)) {
			err = -EINVAL;
			break;
		}
		err = insert(t, ns, key, (uint32_t)json_integer_value(id), 1);
		if (err)
			break;
	}
	json_decref(root);
	if (err)
		lb_ids_free(t);
	return err;
}

int lb_ids_save(const struct lb_ids *t, const char *path)
{
	json_t *root = json_object(), *list = json_array();
	char tmp[512];
	int fd, err = 0;

	if (!root || !list) {
		json_decref(root);
		json_decref(list);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].ns)
			json_array_append_new(
			    list, json_pack("{s:s, s:s, s:I}", "ns", t->slots[i].ns, "key",
					    t->slots[i].key, "id", (json_int_t)t->slots[i].id));
	json_object_set_new(root, "format", json_integer(LB_IDS_FORMAT));
	json_object_set_new(root, "ids", list);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
	} else {
		if (json_dumpfd(root, fd, JSON_COMPACT | JSON_SORT_KEYS) || fsync(fd))
			err = -EIO;
		close(fd);
		if (!err && rename(tmp, path))
			err = -errno;
	}
	json_decref(root);
	return err;
}
