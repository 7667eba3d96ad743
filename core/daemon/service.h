/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A service: a YANG module whose config becomes cubes' map contents.
 *
 * A simple service configures cubes the user made in cubenet-core, one at a
 * time: the runtime calls apply() for every cube of cube_type. A composing
 * service (the lb) also makes cubes itself: compose() declares the cubes,
 * their wiring and their attachments that its config asks for, and
 * apply_composed() programs them. Both run once the cubes are loaded and
 * wired, before anything is attached; they make the maps match the config
 * and fail with a clear error if it cannot be realised (a missing netdev,
 * too many entries). state() adds the service's counters to a GET.
 */
#ifndef CUBENETD_SERVICE_H
#define CUBENETD_SERVICE_H

#include <libyang/libyang.h>
#include "cube.h"
#include "netdev_attach.h"
#include "error.h"

/* The loaded instance of a cube by name, or NULL. */
typedef struct cube *(*service_find_cube)(void *arg, const char *name);

/* A map of a composed cube sized for what the config holds. */
struct service_map_size {
	const char *map;
	uint32_t max_entries;
};

#define SERVICE_MAX_SIZES 8

/* A const volatile of a composed cube, set before load (a u32). */
struct service_const {
	const char *name;
	uint32_t value;
};

#define SERVICE_MAX_CONSTS 4

/* What compose() declares; the runtime adds it to the user's cubes. */
struct service_builder {
	void *arg;
	int (*cube)(void *arg, const char *name, const char *type, enum cube_hook hook,
		    const struct service_map_size *sizes, size_t n_sizes, struct cn_error *err);
	/* After cube(): a constant of that cube. */
	int (*set_const)(void *arg, const char *cube, const char *name, uint32_t value,
			 struct cn_error *err);
	/* peer: a cube name for CUBE_PORT_CUBE, a netdev for CUBE_PORT_NETDEV. */
	int (*wire)(void *arg, const char *cube, uint32_t port, enum cube_port_kind kind,
		    const char *peer, struct cn_error *err);
	/* optional: the netdev may vanish at any time (a pod's veth); if it is
	 * gone the attachment is skipped instead of failing the apply. */
	int (*attach)(void *arg, const char *cube, const char *netdev, enum attach_mode mode,
		      int optional, struct cn_error *err);
};

struct service {
	const char *module;    /* its YANG module */
	const char *cube_type; /* the user's cubes it configures, or NULL */
	int (*apply)(const struct lyd_node *config, const char *cube_name, struct cube *cube,
		     struct cn_error *err);
	int (*compose)(const struct lyd_node *config, const struct service_builder *b,
		       struct cn_error *err);
	int (*apply_composed)(const struct lyd_node *config, service_find_cube find, void *arg,
			      struct cn_error *err);
	void (*state)(struct lyd_node *tree, service_find_cube find, void *arg);
};

extern const struct service router_service;
extern const struct service nat_service;
extern const struct service lb_service;
extern const struct service pods_service;

/* Every service the daemon serves, NULL-terminated. */
extern const struct service *const services[];

/* Where services keep what must outlive the daemon beside the config
 * (the lb's backend ids); set once at start. */
extern const char *service_state_dir;

#endif
