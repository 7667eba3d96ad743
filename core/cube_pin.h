/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pinning under bpffs, so the datapath outlives the daemon. Pinned prog
 * arrays keep their entries (the kernel empties a prog array when its last
 * user reference goes), so chains keep forwarding while no daemon runs; a
 * daemon that starts again loads fresh programs onto the pinned maps and
 * swaps them in, keeping tables, connections and counters.
 *
 *   ROOT/shared/{cube_meta,cube_slowpath}
 *   ROOT/cubes/HOOK/TYPE/NAME/{<every map>,prog}
 */
#ifndef CUBENET_CUBE_PIN_H
#define CUBENET_CUBE_PIN_H

#include <stddef.h>
#include "cube.h"

/* Open the node's shared maps pinned under root, creating and pinning them
 * if absent or of another shape. 0 or -errno. */
int cube_shared_open_pinned(struct cube_shared *shared, const char *root);

/* The directory an instance pins into. */
void cube_pin_dir(char *out, size_t size, const char *root, const char *name, const char *type,
		  enum cube_hook hook);

/* Load with every map of the instance pinned in dir (reused if there; one
 * pinned with another size is replaced by one of the new size holding its
 * entries), then pin the program too. 0 or -errno. */
int cube_load_pinned(struct cube *cube, const struct cube_shared *shared, const char *dir);

/* Remove an instance's pins (its maps go when nothing else holds them). */
void cube_unpin_dir(const char *dir);

#endif
