/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A reference for the parser cube, written in userspace from the rules
 * (cubes/lib/parse.h's header comments, abi/meta.h, abi/drop_reasons.h),
 * not from the BPF code: for a frame, the drop reason the parser must give,
 * or 0 and the metadata it must leave.
 */
#ifndef CUBENET_FUZZ_REF_PARSE_H
#define CUBENET_FUZZ_REF_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "lib/abi/meta.h"
#include "lib/abi/drop_reasons.h"

/* The metadata after a forward: version back to 0 once the chain's verdict
 * is given, every other field as the parser wrote it. ifindex: what the
 * test run reports as the ingress netdev. */
enum cube_drop_reason ref_parse(const uint8_t *frame, size_t len, uint32_t ifindex,
				struct cube_meta *meta);

#endif
