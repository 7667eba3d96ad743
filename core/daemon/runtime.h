/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The datapath as the config asks for it: cube instances, their port
 * wiring and netdev attachments, from cubenet-core and from what services
 * compose. Each change is reconciled in phases that follow the datastore's
 * transaction (service_registry.c drives them):
 *
 *   runtime_begin    read what is wanted, check every reference
 *   runtime_load     load what is new or changed (adopting pins), wire
 *   runtime_attach   attach heads to netdevs
 *   runtime_commit   unload what nothing uses any more
 *   runtime_abort    put wiring and attachments back, drop what was loaded
 *
 * Only what differs costs a syscall: a kept cube with the same wiring is
 * not rewired, an attachment that is already there is not redone.
 */
#ifndef CUBENETD_RUNTIME_H
#define CUBENETD_RUNTIME_H

#include <libyang/libyang.h>
#include "cube.h"
#include "netdev_attach.h"
#include "error.h"
#include "service.h"
#include "name_index.h"

struct rt_port {
	uint8_t kind;  /* enum cube_port_kind, CUBE_PORT_UNCONNECTED if none */
	char peer[64]; /* cube name or netdev name */
};

struct rt_cube {
	char name[64];
	char type[32];
	enum cube_hook hook;
	struct cube *cube;
	struct rt_port ports[CUBE_MAX_PORTS];
	struct service_map_size sizes[SERVICE_MAX_SIZES];
	size_t n_sizes;
	struct service_const consts[SERVICE_MAX_CONSTS];
	size_t n_consts;
	int composed; /* made by a service */
	int fresh;    /* loaded by the change in flight */
	int new_pins; /* and its pin directory is new too */
};

struct rt_attachment {
	char key[24]; /* netdev/hook: one chain per hook of a netdev */
	char netdev[16];
	enum attach_mode mode;
	char cube[64];
	uint32_t ifindex;
	int optional;	   /* a service's, on a netdev that may go at any time (a pod's) */
	int applied;	   /* attached; 0: its netdev is missing, retried when it appears */
	struct cube *head; /* the instance attached */
};

/* A set of cubes and attachments: what runs, or what a change wants. */
struct rt_set {
	struct rt_cube *cubes;
	size_t n_cubes, cap_cubes;
	struct rt_attachment *attachments;
	size_t n_attachments, cap_attachments;
	struct name_index cube_index, attachment_index;
};

struct runtime {
	char bpffs[256]; /* pin root */
	struct cube_shared shared;
	/* What runs (the arrays are readable as rt->cubes[i]). */
	struct rt_cube *cubes;
	size_t n_cubes;
	struct rt_set live;
	struct rt_set *want; /* the change in flight, or NULL */
	uint32_t next_id;
	int restoring; /* a restore: a missing netdev is pending, not an error */
};

/* Open (or create) the pinned shared maps under bpffs. */
int runtime_init(struct runtime *rt, const char *bpffs, struct cn_error *err);
/* Remove pins no configured cube uses (left by an earlier config). */
void runtime_gc_pins(struct runtime *rt);
/* Close everything but leave the datapath running on its pins. */
void runtime_destroy(struct runtime *rt);

int runtime_begin(struct runtime *rt, const struct lyd_node *config, struct cn_error *err);
int runtime_load(struct runtime *rt, struct cn_error *err);
int runtime_attach(struct runtime *rt, struct cn_error *err);
void runtime_commit(struct runtime *rt);
void runtime_abort(struct runtime *rt);

/* For services, during a change: the instance of name that runs once the
 * change commits (NULL if none), and whether this change loaded it. Outside
 * a change: what runs. */
struct cube *rt_cube(struct runtime *rt, const char *name);
int rt_cube_fresh(struct runtime *rt, const char *name);
/* Loaded by this change with maps of its own, empty (not adopted from pins,
 * nor copied from the instance it replaces, as a resize copies them). */
int rt_cube_empty(struct runtime *rt, const char *name);
/* The cube that heads the chain on a netdev's XDP (or TC ingress) hook. */
struct cube *rt_head_on(struct runtime *rt, uint32_t ifindex);
struct cube *rt_cube_by_id(struct runtime *rt, uint32_t id);

/* Attachments whose netdev was missing: try again (they appear later). */
void runtime_retry_pending(struct runtime *rt);

/* ds_state_fn: counters of the user's cubes and the services' state. */
void runtime_state(void *rt, struct lyd_node *tree);
/* Counters in Prometheus text exposition format; the caller frees it. */
char *runtime_metrics(struct runtime *rt);

#endif
