/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An L2DSR chain for the datapath tests and the benchmarks: parser ->
 * classifier -> maglev -> l2rewrite -> transmit, loaded and wired here,
 * its entries written with the lb service's own builders (lb_maps.h) and
 * its rings placed by the one Maglev path (maglev_store.h).
 */
#ifndef CUBENET_TEST_LB_FIXTURE_H
#define CUBENET_TEST_LB_FIXTURE_H

#include "cube.h"
#include "maglev_store.h"
#include "map_txn.h"
#include "lib/abi/addr.h"
#include "lib/abi/classifier.h"
#include "lib/abi/l2rewrite.h"
#include "lib/abi/maglev.h"

struct lb_chain {
	enum cube_hook hook;
	struct cube *parser, *classifier, *maglev, *l2rewrite;
	struct maglev_store store;
	struct map_txn txn;
	uint32_t states[4096]; /* each backend's state, kept for lb_install_ring */
	uint32_t owners[4096]; /* the service whose ring last claimed it, + 1 */
};

/* Load and wire the four cubes (ids first_id..first_id+3); 0 or -errno. */
int lb_chain_build(struct lb_chain *lb, enum cube_hook hook, uint32_t miss_verdict,
		   const struct cube_shared *shared, uint32_t first_id);
void lb_chain_destroy(struct lb_chain *lb);
/* Program the cubes lb already names (the benchmark's one-program build). */
int lb_chain_open(struct lb_chain *lb);

int lb_add_vip(struct lb_chain *lb, union cube_addr vip, uint8_t family, uint16_t port,
	       uint8_t proto, uint16_t vlan, uint32_t service_id);
int lb_set_cfg(struct lb_chain *lb, uint32_t classifier_flags);
int lb_set_service(struct lb_chain *lb, uint32_t service_id, uint32_t flags);
/* smac: the source MAC to write, or NULL to leave it. */
int lb_set_backend(struct lb_chain *lb, uint32_t backend_id, uint32_t state, const uint8_t mac[6],
		   const uint8_t *smac, uint8_t vlan_action, uint16_t vlan_id);
/* Build the Maglev table over ids[0..n) (weights 1 unless given; each
 * backend named "be<id>", placed by its name as the lb service places
 * backends), claim the backends for the service and install the table; the
 * table is returned in table_out if not NULL. */
int lb_install_ring(struct lb_chain *lb, uint32_t service_id, const uint32_t *ids,
		    const uint32_t *weights, size_t n, uint32_t size, uint32_t *table_out);

#endif
