/* SPDX-License-Identifier: Apache-2.0 */
/* The L2DSR chain (parser -> classifier -> maglev -> l2rewrite -> transmit),
 * wired through real tail calls, and helpers to program it. */
#ifndef CUBENET_TEST_LB_FIXTURE_H
#define CUBENET_TEST_LB_FIXTURE_H

#include "harness.h"
#include "lib/abi/classifier.h"
#include "lib/abi/maglev.h"
#include "lib/abi/l2rewrite.h"

struct lb_chain {
	enum cube_hook hook;
	struct cube *parser, *classifier, *maglev, *l2rewrite;
};

int lb_chain_build(struct lb_chain *lb, enum cube_hook hook, uint32_t miss_verdict);
void lb_chain_destroy(struct lb_chain *lb);

int lb_add_vip(struct lb_chain *lb, union cube_addr vip, uint8_t family, uint16_t port,
	       uint8_t proto, uint16_t vlan, uint32_t service_id);
int lb_set_cfg(struct lb_chain *lb, uint32_t classifier_flags);
int lb_set_service(struct lb_chain *lb, uint32_t service_id, uint32_t flags);
int lb_set_backend(struct lb_chain *lb, uint32_t backend_id, uint32_t state, const char *mac,
		   uint8_t vlan_action, uint16_t vlan_id);
/* Build a Maglev table over ids[0..n) (weights 1 unless given) and install it;
 * the table is returned in table_out if not NULL. */
int lb_install_ring(struct lb_chain *lb, uint32_t service_id, const uint32_t *ids,
		    const uint32_t *weights, size_t n, uint32_t size, uint32_t *table_out);

#endif
