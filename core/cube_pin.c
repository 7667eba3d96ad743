// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cube_pin.h"
#include "lib/abi/meta.h"
#include "lib/abi/slowpath.h"

static int mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* A pinned map of the expected shape, or a new one pinned in its place. */
static int open_or_create(const char *path, enum bpf_map_type type, const char *name,
			  uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == (uint32_t)type &&
		    info.key_size == key_size && info.value_size == value_size &&
		    info.max_entries == max_entries)
			return fd;
		close(fd);
		unlink(path);
	}
	fd = bpf_map_create(type, name, key_size, value_size, max_entries, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int cube_shared_open_pinned(struct cube_shared *shared, const char *root)
{
	char dir[256], path[320];
	int err;

	shared->meta_fd = shared->slowpath_fd = -1;
	snprintf(dir, sizeof(dir), "%s/shared", root);
	err = mkdirs(dir);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/cube_meta", dir);
	shared->meta_fd = open_or_create(path, BPF_MAP_TYPE_PERCPU_ARRAY, "cube_meta",
					 sizeof(uint32_t), sizeof(struct cube_meta), 1);
	if (shared->meta_fd < 0)
		return shared->meta_fd;
	snprintf(path, sizeof(path), "%s/cube_slowpath", dir);
	shared->slowpath_fd = open_or_create(path, BPF_MAP_TYPE_RINGBUF, "cube_slowpath", 0, 0,
					     CUBE_SLOWPATH_RING_BYTES);
	if (shared->slowpath_fd < 0) {
		err = shared->slowpath_fd;
		cube_shared_close(shared);
		return err;
	}
	return 0;
}

void cube_pin_dir(char *out, size_t size, const char *root, const char *name, const char *type,
		  enum cube_hook hook)
{
	/* Nested, not joined with dots: bpffs refuses names with a '.'. */
	snprintf(out, size, "%s/cubes/%s/%s/%s", root, hook == CUBE_HOOK_TC ? "tc" : "xdp", type,
		 name);
}

/* A mapped array is copied as memory (the slots of Maglev rings: millions). */
static int copy_mapped(int from, int to, const struct bpf_map_info *a, const struct bpf_map_info *b)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), elem = ((size_t)a->value_size + 7) / 8 * 8;
	size_t n = a->max_entries < b->max_entries ? a->max_entries : b->max_entries;
	size_t len_a = ((size_t)a->max_entries * elem + page - 1) / page * page;
	size_t len_b = ((size_t)b->max_entries * elem + page - 1) / page * page;
	void *src = mmap(NULL, len_a, PROT_READ, MAP_SHARED, from, 0);
	void *dst = mmap(NULL, len_b, PROT_READ | PROT_WRITE, MAP_SHARED, to, 0);
	int e = src == MAP_FAILED || dst == MAP_FAILED ? -errno : 0;

	if (!e)
		memcpy(dst, src, n * elem);
	if (src != MAP_FAILED)
		munmap(src, len_a);
	if (dst != MAP_FAILED)
		munmap(dst, len_b);
	return e;
}

/* Batches of entries at a time, a syscall each way (0: not supported). */
#define COPY_BATCH 8192

static int copy_batched(int from, int to, const struct bpf_map_info *info, size_t vsize)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	void *keys = malloc((size_t)COPY_BATCH * info->key_size);
	void *values = malloc((size_t)COPY_BATCH * vsize);
	/* The position between batches: a bucket index for hash maps, a
	 * whole key for the maps the kernel batches by their next key (an
	 * LPM trie's: 20 bytes for IPv6). */
	void *token = calloc(1, info->key_size > 8 ? info->key_size : 8);
	int first = 1, e = 0;

	if (!keys || !values || !token) {
		e = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t count = COPY_BATCH, put;
		int rc = bpf_map_lookup_batch(from, first ? NULL : token, token, keys, values,
					      &count, &opts);

		if (rc && errno != ENOENT) {
			e = -errno;
			break;
		}
		first = 0;
		put = count;
		/* Past a smaller end, updates fail with E2BIG: what fits is in. */
		if (count)
			bpf_map_update_batch(to, keys, values, &put, &opts);
		if (rc) /* ENOENT: that was the last batch */
			break;
	}
out:
	free(keys);
	free(values);
	free(token);
	return e;
}

/* Entries of an adopted map that the new load made bigger or smaller: every
 * key that fits is carried over; map-in-map values travel as inner fds. */
static void copy_entries(int from, int to)
{
	struct bpf_map_info info = {0}, to_info = {0};
	uint32_t len = sizeof(info);
	int ncpu = libbpf_num_possible_cpus();
	size_t vsize;
	void *key, *next, *value;
	int of_maps, per_cpu;

	if (bpf_obj_get_info_by_fd(from, &info, &len) || ncpu < 1)
		return;
	len = sizeof(to_info);
	if (bpf_obj_get_info_by_fd(to, &to_info, &len))
		return;
	if ((info.map_flags & BPF_F_MMAPABLE) && (to_info.map_flags & BPF_F_MMAPABLE) &&
	    !copy_mapped(from, to, &info, &to_info))
		return;
	of_maps = info.type == BPF_MAP_TYPE_HASH_OF_MAPS || info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS;
	per_cpu = info.type == BPF_MAP_TYPE_PERCPU_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_HASH ||
		  info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	vsize = per_cpu ? ((info.value_size + 7) / 8) * 8 * (size_t)ncpu : info.value_size;
	if (!of_maps && !copy_batched(from, to, &info, vsize))
		return;
	key = calloc(1, info.key_size);
	next = calloc(1, info.key_size);
	value = calloc(1, vsize < 4 ? 4 : vsize);
	if (!key || !next || !value)
		goto cleanup;
	for (void *prev = NULL; !bpf_map_get_next_key(from, prev, next); prev = key) {
		memcpy(key, next, info.key_size);
		if (bpf_map_lookup_elem(from, key, value))
			continue;
		if (of_maps) {
			int inner = bpf_map_get_fd_by_id(*(uint32_t *)value);

			if (inner < 0)
				continue;
			bpf_map_update_elem(to, key, &inner, BPF_ANY);
			close(inner);
		} else {
			bpf_map_update_elem(to, key, value, BPF_ANY); /* E2BIG past a smaller end */
		}
	}
cleanup:
	free(key);
	free(next);
	free(value);
}

struct resized {
	struct bpf_map *map;
	int old_fd;
};

/* A load that failed puts back the pins it took away. */
static void repin(const struct resized *r)
{
	const char *path = bpf_map__pin_path(r->map);

	if (path) {
		unlink(path); /* what the failed load may have pinned */
		bpf_obj_pin(r->old_fd, path);
	}
}

int cube_load_pinned(struct cube *cube, const struct cube_shared *shared, const char *dir)
{
	struct resized resized[32];
	size_t n_resized = 0;
	struct bpf_map *map;
	char path[512];
	int err = mkdirs(dir);

	if (err)
		return err;
	bpf_object__for_each_map(map, cube->obj)
	{
		const char *name = bpf_map__name(map);
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		int fd;

		/* Internal maps (.rodata, .bss) are per load; shared maps come by fd. */
		if (strchr(name, '.') || strcmp(name, "cube_meta") == 0 ||
		    strcmp(name, "cube_slowpath") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		/* A pinned map sized otherwise than this load asks is replaced by
		 * a new one holding its entries; whoever still uses the old one
		 * (the instance being replaced) keeps it until it goes. */
		fd = bpf_obj_get(path);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.max_entries != bpf_map__max_entries(map) && n_resized < 32) {
			unlink(path);
			resized[n_resized++] = (struct resized){map, fd};
		} else if (fd >= 0) {
			close(fd);
		}
		err = bpf_map__set_pin_path(map, path);
		if (err)
			goto cleanup;
	}
	err = cube_load(cube, shared);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < n_resized; i++)
		copy_entries(resized[i].old_fd, bpf_map__fd(resized[i].map));
	snprintf(path, sizeof(path), "%s/prog", dir);
	unlink(path); /* the previous daemon's program, now replaced */
	err = bpf_program__pin(cube->prog, path);
cleanup:
	for (size_t i = 0; i < n_resized; i++) {
		if (err)
			repin(&resized[i]);
		close(resized[i].old_fd);
	}
	return err;
}

void cube_unpin_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[768];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
