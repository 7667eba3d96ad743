/* SPDX-License-Identifier: Apache-2.0 */
/* The router's neighbour resolution through the slow path. */
#ifndef CUBENET_ROUTER_NEIGH_H
#define CUBENET_ROUTER_NEIGH_H

#include "service.h"

void router_packet_in(struct runtime *rt, struct cube *from, const struct cube_slowpath_hdr *rec);
int router_neigh_start(struct runtime *rt, struct cn_error *err);
void router_neigh_stop(struct runtime *rt);

#endif
