/* SPDX-License-Identifier: Apache-2.0 */
/* Attaching a chain's head cube to a netdev: XDP (native or generic) or TC
 * clsact ingress / egress. Functions return 0 or a negative errno. */
#ifndef CUBENET_NETDEV_ATTACH_H
#define CUBENET_NETDEV_ATTACH_H

#include <stdint.h>
#include "cube.h"

enum attach_mode {
	ATTACH_XDP_NATIVE = 0,
	ATTACH_XDP_GENERIC,
	ATTACH_TC_INGRESS,
	ATTACH_TC_EGRESS,
};

/*
 * The cube must be loaded for the matching hook (XDP modes: CUBE_HOOK_XDP).
 * Attaching over an earlier attachment swaps programs in one operation
 * (XDP: replace; TC: same handle and priority), so no packet goes unhandled.
 */
int netdev_attach(const struct cube *head, uint32_t ifindex, enum attach_mode mode);
int netdev_detach(uint32_t ifindex, enum attach_mode mode);
const char *attach_mode_name(enum attach_mode mode);

static inline int attach_is_xdp(enum attach_mode mode)
{
	return mode == ATTACH_XDP_NATIVE || mode == ATTACH_XDP_GENERIC;
}

#endif
