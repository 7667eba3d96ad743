/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packet target's structured inputs: a frame built from a description
 * in bytes (tags, headers and their fields, lengths that mostly agree),
 * then perhaps damaged and cut, so that mutations reach every header of the
 * parser and the lb chain's VIPs rather than stopping at the first check.
 */
#ifndef CUBENET_FUZZ_FRAME_GEN_H
#define CUBENET_FUZZ_FRAME_GEN_H

#include <stddef.h>
#include <stdint.h>
#include "lib/abi/addr.h"

/* Addresses and ports the built frames aim at, some of the time. */
struct frame_targets {
	const union cube_addr *v4, *v6;
	size_t n_v4, n_v6;
	const uint16_t *ports; /* host order */
	size_t n_ports;
};

/* Returns the frame's length (at most max). */
size_t frame_gen(const uint8_t *desc, size_t size, const struct frame_targets *t, uint8_t *out,
		 size_t max);

#endif
