/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service contract. A service is a YANG module plus C that registers
 * itself with CUBENET_SERVICE(); the daemon core names no service.
 *
 * Every write reaches the services as a diff (datastore.h: struct
 * ds_change) in phases, in the spirit of sysrepo's change callbacks:
 *
 *   validate  check what YANG cannot (uniqueness across entries, capacity,
 *             the datapath's limits) and work out what the change needs;
 *             nothing is written yet
 *   compose   (services that make cubes) declare the cubes, wiring and
 *             attachments the config asks for; the runtime loads what is
 *             new before apply
 *   apply     write the maps the diff touches, and only those, through
 *             transactions that can be taken back (map_txn.h, id_pool.h,
 *             maglev_store.h)
 *   commit    the change is in the journal: release what it replaced
 *   abort     a later phase or service failed: put back what apply wrote
 *
 * A service that configures the user's cubes of a type (cube_type) also
 * gets told which of them were (re)loaded by this change (rt_cube_fresh):
 * those start from whatever their pinned maps hold and are programmed in
 * full. At start the saved config arrives as one change with restore set,
 * against a datapath adopted from its pins: a service reads back what the
 * maps hold and writes only what differs.
 */
#ifndef CUBENETD_SERVICE_H
#define CUBENETD_SERVICE_H

#include <stdio.h>
#include <jansson.h>
#include <libyang/libyang.h>
#include "cube.h"
#include "netdev_attach.h"
#include "error.h"
#include "datastore.h"
#include "lib/abi/slowpath.h"

struct runtime;

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

/* What compose() declares; the runtime reconciles it with what runs. */
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
	 * gone the attachment is skipped instead of failing the change. */
	int (*attach)(void *arg, const char *cube, const char *netdev, enum attach_mode mode,
		      int optional, struct cn_error *err);
};

/* An RPC of the service's module ("module:name"): input is the parsed
 * input node; output gets the output leaves. */
struct service_operation {
	const char *name;
	int (*run)(struct runtime *rt, const struct lyd_node *input, json_t *output,
		   struct cn_error *err);
};

struct service {
	const char *name;   /* what users call it: cubectl help NAME */
	const char *module; /* its YANG module */
	/* Lists whose entries are valid on their own (ds_scope.h), by schema
	 * path, NULL-terminated: a write validates and diffs only the entries
	 * it touches. */
	const char *const *independent;
	/* The user's cubes it configures (cubenet-core cubes of this type). */
	const char *cube_type;

	/* Every phase optional. */
	int (*validate)(struct runtime *rt, const struct ds_change *c, struct cn_error *err);
	int (*compose)(struct runtime *rt, const struct lyd_node *config,
		       const struct service_builder *b, struct cn_error *err);
	int (*apply)(struct runtime *rt, const struct ds_change *c, struct cn_error *err);
	void (*commit)(struct runtime *rt, const struct ds_change *c);
	void (*abort)(struct runtime *rt, const struct ds_change *c);

	/* Add state data to the config nodes tree holds (only those: a GET of
	 * one entry costs that entry). */
	void (*state)(struct runtime *rt, struct lyd_node *tree);
	/* Prometheus lines of its own. */
	void (*metrics)(struct runtime *rt, FILE *out);
	const struct service_operation *operations; /* NULL-name terminated */
	/* A packet its cubes sent to the slow path. */
	void (*packet_in)(struct runtime *rt, struct cube *from,
			  const struct cube_slowpath_hdr *rec);
	/* Its own threads and sockets, once the datapath is adopted. */
	int (*start)(struct runtime *rt, struct cn_error *err);
	void (*stop)(struct runtime *rt);
};

/* Registration: one line in the service's own file. */
#define CUBENET_SERVICE(svc)                                                                       \
	static const struct service *const cubenet_service_##svc                                   \
	    __attribute__((used, section("cubenet_services"), aligned(sizeof(void *)))) = &svc

/* Every registered service, in no particular order. */
size_t service_count(void);
const struct service *service_at(size_t i);
/* By user-facing name or module; NULL if none. */
const struct service *service_find(const char *name);

#endif
