/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A service: a YANG module whose config becomes the map contents of cubes
 * of one type. The runtime calls apply() with the whole candidate config
 * once the cubes are loaded and wired, before anything is attached; apply()
 * makes the maps match and fails with a clear error if the config cannot
 * be realised (a missing netdev, too many entries).
 */
#ifndef CUBENETD_SERVICE_H
#define CUBENETD_SERVICE_H

#include <libyang/libyang.h>
#include "cube.h"
#include "error.h"

/* The instance a cube name maps to in the config being applied. */
typedef struct cube *(*service_find_cube)(void *arg, const char *name);

struct service {
	const char *module;    /* its YANG module */
	const char *cube_type; /* the cubes it configures */
	int (*apply)(const struct lyd_node *config, const char *cube_name, struct cube *cube,
		     struct cn_error *err);
};

extern const struct service router_service;
extern const struct service nat_service;

/* Every service the daemon serves, NULL-terminated. */
extern const struct service *const services[];

#endif
