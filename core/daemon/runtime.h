/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The datapath as configured by cubenet-core: cube instances, their port
 * wiring and netdev attachments, kept in step with the config by
 * reconciling: prepare what is new (load), check every reference, then
 * wire, attach, and only at the end unload what is gone.
 */
#ifndef CUBENETD_RUNTIME_H
#define CUBENETD_RUNTIME_H

#include <libyang/libyang.h>
#include "cube.h"
#include "netdev_attach.h"
#include "error.h"
#include "service.h"

#define RT_MAX_CUBES	   256
#define RT_MAX_ATTACHMENTS 64

struct rt_port {
	uint8_t kind;  /* enum cube_port_kind, CUBE_PORT_UNCONNECTED if none */
	char peer[32]; /* cube name or netdev name */
};

struct rt_cube {
	char name[32];
	struct cube *cube;
	struct rt_port ports[CUBE_MAX_PORTS];
	struct service_map_size sizes[SERVICE_MAX_SIZES];
	size_t n_sizes;
	struct service_const consts[SERVICE_MAX_CONSTS];
	size_t n_consts;
	int composed; /* made by a service */
};

struct rt_attachment {
	uint32_t ifindex;
	enum attach_mode mode;
	char netdev[16];
	char cube[32];
	int optional; /* a service's, on a netdev that may go at any time (a pod's) */
};

struct runtime {
	char bpffs[256]; /* pin root */
	struct cube_shared shared;
	struct rt_cube cubes[RT_MAX_CUBES];
	size_t n_cubes;
	struct rt_attachment attachments[RT_MAX_ATTACHMENTS];
	size_t n_attachments;
	uint32_t next_id;
};

/* Open (or create) the pinned shared maps under bpffs. */
int runtime_init(struct runtime *rt, const char *bpffs, struct cn_error *err);
/* Remove pins no configured cube uses (left by an earlier config). */
void runtime_gc_pins(struct runtime *rt);
/* Close everything but leave the datapath running on its pins. */
void runtime_destroy(struct runtime *rt);

/* ds_apply_fn: make the datapath match `candidate`. */
int runtime_apply(void *rt, const struct lyd_node *running, const struct lyd_node *candidate,
		  struct cn_error *err);
/* ds_state_fn: add counters to a copy of the config. */
void runtime_state(void *rt, struct lyd_node *tree);

/* Counters in Prometheus text exposition format; the caller frees it. */
char *runtime_metrics(struct runtime *rt);

#endif
