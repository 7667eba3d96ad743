/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lb's map entries as the lb service writes them. The datapath tests
 * and the benchmarks build their chains' entries with these too (and
 * program rings through core/maglev_store.h), so what they measure is
 * what the daemon builds.
 */
#ifndef CUBENET_LB_MAPS_H
#define CUBENET_LB_MAPS_H

#include <stdint.h>
#include "maglev_table.h"
#include "lib/abi/addr.h"
#include "lib/abi/classifier.h"
#include "lib/abi/l2rewrite.h"

/* A VIP's classifier key (port 0: every port; vlan 0: any VLAN). */
struct classifier_key lb_vip_key(const union cube_addr *addr, uint8_t family, uint16_t port,
				 uint8_t proto, uint16_t vlan);
/* A backend's L2 target: its MAC, the lb's source MAC (NULL: keep the
 * frame's), and what happens to the VLAN tag. */
struct l2rewrite_target lb_backend_target(const uint8_t mac[6], const uint8_t *smac,
					  uint8_t vlan_action, uint16_t vlan_id);
/* A backend's place in its VIP's Maglev table: its name places it, so the
 * same set of names gives the same table on every node, whatever the ids. */
void lb_backend_spec(struct maglev_backend_spec *spec, uint32_t id, const char *name,
		     uint32_t weight);

#endif
