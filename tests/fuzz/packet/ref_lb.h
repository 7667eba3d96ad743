/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A reference for the L2DSR chain (parser -> classifier -> maglev ->
 * l2rewrite -> transmit, classifier miss -> pass), from the rules of each
 * step: what the chain must answer for a frame, and the bytes it sends.
 */
#ifndef CUBENET_FUZZ_REF_LB_H
#define CUBENET_FUZZ_REF_LB_H

#include <stddef.h>
#include <stdint.h>
#include "cube.h"
#include "lib/abi/addr.h"
#include "lib/abi/drop_reasons.h"
#include "lib/abi/meta.h"

#define REF_LB_MAX_BACKENDS 4
#define REF_LB_FRAME_MAX    4096

struct ref_backend {
	uint32_t id;
	uint8_t mac[6];
	const uint8_t *smac; /* NULL: the source MAC is left */
	uint8_t vlan_action; /* enum l2rewrite_vlan_action */
	uint16_t vlan_id;
};

struct ref_vip {
	union cube_addr addr;
	uint8_t family, proto;
	uint16_t port; /* host order; 0: every port */
	uint16_t vlan; /* 0: any */
	uint32_t service_id;
	uint32_t flags; /* enum maglev_service_flags */
	uint32_t backends[REF_LB_MAX_BACKENDS];
	size_t n_backends;
	uint32_t ring_size;
	uint32_t *ring; /* the Maglev table userspace built for it */
};

struct ref_lb_config {
	struct ref_vip *vips;
	size_t n_vips;
	const struct ref_backend *backends;
	size_t n_backends;
	uint32_t classifier_flags; /* enum classifier_cfg_flags, as the lb service sets them */
};

enum ref_lb_verdict {
	REF_LB_DROP,
	REF_LB_PASS,
	REF_LB_TX,
};

struct ref_lb_result {
	enum ref_lb_verdict verdict;
	enum cube_drop_reason reason; /* REF_LB_DROP: counted by the parser */
	uint32_t service_id, backend_id;
	struct cube_meta meta; /* REF_LB_TX: what the chain leaves */
	uint8_t out[REF_LB_FRAME_MAX];
	size_t out_len;
};

void ref_lb(const struct ref_lb_config *cfg, enum cube_hook hook, const uint8_t *frame, size_t len,
	    uint32_t ifindex, struct ref_lb_result *res);

#endif
