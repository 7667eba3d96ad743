/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The L2DSR load-balancer chain: parser -> classifier -> maglev -> l2rewrite
 * -> transmit, wired through tail calls, and the calls that program it. Used
 * by the lb service, the tests, the demo and the benchmarks.
 */
#ifndef CUBENET_LB_CHAIN_H
#define CUBENET_LB_CHAIN_H

#include "cube.h"
#include "lib/abi/addr.h"
#include "lib/abi/classifier.h"
#include "lib/abi/maglev.h"
#include "lib/abi/l2rewrite.h"

struct lb_chain {
	enum cube_hook hook;
	struct cube *parser, *classifier, *maglev, *l2rewrite;
};

/* Load and wire the four cubes (ids first_id..first_id+3); 0 or -errno. */
int lb_chain_build(struct lb_chain *lb, enum cube_hook hook, uint32_t miss_verdict,
		   const struct cube_shared *shared, uint32_t first_id);
void lb_chain_destroy(struct lb_chain *lb);

int lb_add_vip(struct lb_chain *lb, union cube_addr vip, uint8_t family, uint16_t port,
	       uint8_t proto, uint16_t vlan, uint32_t service_id);
int lb_set_cfg(struct lb_chain *lb, uint32_t classifier_flags);
int lb_set_service(struct lb_chain *lb, uint32_t service_id, uint32_t flags);
/* smac: the source MAC to write (the LB's own, so switches do not learn the
 * client's MAC on the LB's port), or NULL to leave it. */
int lb_set_backend(struct lb_chain *lb, uint32_t backend_id, uint32_t state, const uint8_t mac[6],
		   const uint8_t *smac, uint8_t vlan_action, uint16_t vlan_id);
/* Build a Maglev table over ids[0..n) (weights 1 unless given) and install it;
 * the table is returned in table_out if not NULL. */
int lb_install_ring(struct lb_chain *lb, uint32_t service_id, const uint32_t *ids,
		    const uint32_t *weights, size_t n, uint32_t size, uint32_t *table_out);

#endif
