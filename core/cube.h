/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cube instances in userspace: open a cube type for a hook, size its maps
 * and set its constants, load it sharing the node-wide maps, and wire its
 * ports. Functions return 0 or a negative errno.
 */
#ifndef CUBENET_CUBE_H
#define CUBENET_CUBE_H

#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "lib/abi/ports.h"
#include "lib/abi/stats.h"

enum cube_hook {
	CUBE_HOOK_XDP = 0,
	CUBE_HOOK_TC,
	CUBE_HOOK_MAX,
};

/* A kind of cube, with its compiled objects embedded in the binary. */
struct cube_type {
	const char *name;
	const char *description;
	const char *prog_name; /* the entry point in the object */
	const void *(*elf_bytes[CUBE_HOOK_MAX])(size_t *size);
};

const struct cube_type *cube_type_find(const char *name);
const struct cube_type *cube_type_at(size_t i); /* NULL past the last */

/* Maps every cube of a node shares: per-packet metadata and the slow path. */
struct cube_shared {
	int meta_fd;
	int slowpath_fd;
};

int cube_shared_create(struct cube_shared *shared);
void cube_shared_close(struct cube_shared *shared);

struct cube {
	const struct cube_type *type;
	enum cube_hook hook;
	uint32_t id;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int prog_fd; /* valid after cube_load() */
};

int cube_open(struct cube **out, const char *type_name, enum cube_hook hook, uint32_t id);
/* Before load. */
int cube_set_map_size(struct cube *cube, const char *map_name, uint32_t max_entries);
int cube_set_const(struct cube *cube, const char *var_name, const void *value, size_t size);
int cube_load(struct cube *cube, const struct cube_shared *shared);
/* After load. */
int cube_map_fd(const struct cube *cube, const char *map_name);
int cube_connect_cube(struct cube *from, uint32_t port, const struct cube *to);
int cube_connect_port(struct cube *cube, uint32_t port, enum cube_port_kind kind, uint32_t ifindex);
int cube_disconnect(struct cube *cube, uint32_t port);
void cube_destroy(struct cube *cube);

/* Counters summed over CPUs. */
/* Sum a per-CPU value made only of u64 counters (size a multiple of 8). */
int cube_percpu_sum(int map_fd, uint32_t key, void *out, size_t size);
int cube_read_stats(const struct cube *cube, struct cube_stats *out);
int cube_reset_stats(const struct cube *cube);
const char *cube_drop_reason_name(unsigned int reason);
const char *cube_drop_reason_text(unsigned int reason);
const char *cube_verdict_name(unsigned int verdict);

#endif
