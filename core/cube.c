// SPDX-License-Identifier: Apache-2.0
/* Loading and wiring cube instances with libbpf. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "cube.h"
#include "lib/abi/meta.h"
#include "lib/abi/slowpath.h"

int cube_shared_create(struct cube_shared *shared)
{
	shared->meta_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "cube_meta", sizeof(uint32_t),
					 sizeof(struct cube_meta), 1, NULL);
	if (shared->meta_fd < 0)
		return -errno;
	shared->slowpath_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "cube_slowpath", 0, 0,
					     CUBE_SLOWPATH_RING_BYTES, NULL);
	if (shared->slowpath_fd < 0) {
		int err = -errno;

		close(shared->meta_fd);
		shared->meta_fd = -1;
		return err;
	}
	return 0;
}

void cube_shared_close(struct cube_shared *shared)
{
	if (shared->meta_fd >= 0)
		close(shared->meta_fd);
	if (shared->slowpath_fd >= 0)
		close(shared->slowpath_fd);
	shared->meta_fd = shared->slowpath_fd = -1;
}

int cube_open(struct cube **out, const char *type_name, enum cube_hook hook, uint32_t id)
{
	const struct cube_type *type = cube_type_find(type_name);
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char obj_name[64];
	struct cube *cube;
	const void *bytes;
	size_t size;
	int err;

	if (!type)
		return -ENOENT;
	if (hook < 0 || hook >= CUBE_HOOK_MAX)
		return -EINVAL;
	cube = calloc(1, sizeof(*cube));
	if (!cube)
		return -ENOMEM;
	cube->type = type;
	cube->hook = hook;
	cube->id = id;
	cube->prog_fd = -1;

	snprintf(obj_name, sizeof(obj_name), "%s", type->name);
	opts.object_name = obj_name;
	bytes = type->elf_bytes[hook](&size);
	cube->obj = bpf_object__open_mem(bytes, size, &opts);
	if (!cube->obj) {
		err = -errno;
		goto cleanup;
	}
	cube->prog = bpf_object__find_program_by_name(cube->obj, type->prog_name);
	if (!cube->prog) {
		err = -ENOENT;
		goto cleanup;
	}
	err = cube_set_const(cube, "cube_id", &id, sizeof(id));
	if (err)
		goto cleanup;
	*out = cube;
	return 0;

cleanup:
	cube_destroy(cube);
	return err;
}

int cube_set_map_size(struct cube *cube, const char *map_name, uint32_t max_entries)
{
	struct bpf_map *map = bpf_object__find_map_by_name(cube->obj, map_name);

	if (!map)
		return -ENOENT;
	return bpf_map__set_max_entries(map, max_entries);
}

static struct bpf_map *find_rodata(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
	{
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);

		if (len >= 7 && strcmp(name + len - 7, ".rodata") == 0)
			return map;
	}
	return NULL;
}

/* Find a const volatile global through BTF and write its initial value. */
int cube_set_const(struct cube *cube, const char *var_name, const void *value, size_t size)
{
	struct btf *btf = bpf_object__btf(cube->obj);
	const struct btf_var_secinfo *vsi;
	const struct btf_type *sec;
	struct bpf_map *rodata;
	const void *initial;
	size_t data_size;
	char *data;
	int sec_id, err;

	rodata = find_rodata(cube->obj);
	if (!btf || !rodata)
		return -ENOENT;
	sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (sec_id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, sec_id);
	initial = bpf_map__initial_value(rodata, &data_size);
	if (!initial)
		return -ENOENT;
	vsi = btf_var_secinfos(sec);
	for (unsigned int i = 0; i < btf_vlen(sec); i++, vsi++) {
		const struct btf_type *var = btf__type_by_id(btf, vsi->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), var_name) != 0)
			continue;
		if (vsi->size != size || vsi->offset + size > data_size)
			return -EINVAL;
		/* libbpf 1.1 hands out the image read-only: edit a copy. */
		data = malloc(data_size);
		if (!data)
			return -ENOMEM;
		memcpy(data, initial, data_size);
		memcpy(data + vsi->offset, value, size);
		err = bpf_map__set_initial_value(rodata, data, data_size);
		free(data);
		return err;
	}
	return -ENOENT;
}

static int reuse_shared(struct cube *cube, const char *name, int fd)
{
	struct bpf_map *map = bpf_object__find_map_by_name(cube->obj, name);

	if (!map)
		return -ENOENT;
	return bpf_map__reuse_fd(map, fd);
}

int cube_load(struct cube *cube, const struct cube_shared *shared)
{
	int err;

	if (shared) {
		err = reuse_shared(cube, "cube_meta", shared->meta_fd);
		if (!err)
			err = reuse_shared(cube, "cube_slowpath", shared->slowpath_fd);
		if (err)
			return err;
	}
	err = bpf_object__load(cube->obj);
	if (err)
		return err;
	cube->prog_fd = bpf_program__fd(cube->prog);
	return 0;
}

int cube_map_fd(const struct cube *cube, const char *map_name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(cube->obj, map_name);

	if (!map)
		return -ENOENT;
	return bpf_map__fd(map);
}

static int port_cfg_write(struct cube *cube, uint32_t port, enum cube_port_kind kind,
			  uint32_t ifindex)
{
	struct cube_port_cfg cfg = {.kind = kind, .ifindex = ifindex};
	int fd = cube_map_fd(cube, "cube_port_cfg");

	if (fd < 0)
		return fd;
	return bpf_map_update_elem(fd, &port, &cfg, BPF_ANY) ? -errno : 0;
}

/*
 * Wire port -> cube. The configuration says "cube" before the program goes
 * in: until the jump is live, packets are counted as TAIL_CALL_FAILED, never
 * handled by a stale verdict.
 */
int cube_connect_cube(struct cube *from, uint32_t port, const struct cube *to)
{
	int ports_fd = cube_map_fd(from, "cube_ports");
	int err;

	if (port >= CUBE_MAX_PORTS)
		return -ERANGE;
	if (ports_fd < 0)
		return ports_fd;
	if (from->hook != to->hook)
		return -EINVAL;
	err = port_cfg_write(from, port, CUBE_PORT_CUBE, 0);
	if (err)
		return err;
	return bpf_map_update_elem(ports_fd, &port, &to->prog_fd, BPF_ANY) ? -errno : 0;
}

int cube_connect_port(struct cube *cube, uint32_t port, enum cube_port_kind kind, uint32_t ifindex)
{
	int ports_fd = cube_map_fd(cube, "cube_ports");
	int err;

	if (port >= CUBE_MAX_PORTS)
		return -ERANGE;
	if (kind == CUBE_PORT_CUBE)
		return -EINVAL;
	if (ports_fd < 0)
		return ports_fd;
	/* Verdict first, then drop the jump: no moment sees neither. */
	err = port_cfg_write(cube, port, kind, ifindex);
	if (err)
		return err;
	if (bpf_map_delete_elem(ports_fd, &port) && errno != ENOENT)
		return -errno;
	return 0;
}

int cube_disconnect(struct cube *cube, uint32_t port)
{
	return cube_connect_port(cube, port, CUBE_PORT_UNCONNECTED, 0);
}

void cube_destroy(struct cube *cube)
{
	if (!cube)
		return;
	bpf_object__close(cube->obj);
	free(cube);
}
