// SPDX-License-Identifier: Apache-2.0
/* The cube types this build ships, each with its XDP and TC objects. */
#include <string.h>
#include "cube.h"

#include "parser_xdp.skel.h"
#include "parser_tc.skel.h"
#include "classifier_xdp.skel.h"
#include "classifier_tc.skel.h"
#include "maglev_xdp.skel.h"
#include "maglev_tc.skel.h"
#include "l2rewrite_xdp.skel.h"
#include "l2rewrite_tc.skel.h"
#include "router_xdp.skel.h"
#include "router_tc.skel.h"
#include "nat_xdp.skel.h"
#include "nat_tc.skel.h"
#include "tunnel_xdp.skel.h"
#include "tunnel_tc.skel.h"

#define CUBE_TYPE(n, desc)                                                                         \
	{                                                                                          \
		.name = #n, .description = desc, .prog_name = "cube_" #n,                          \
		.elf_bytes = {                                                                     \
		    [CUBE_HOOK_XDP] = n##_xdp__elf_bytes, [CUBE_HOOK_TC] = n##_tc__elf_bytes},     \
	}

static const struct cube_type cube_types[] = {
    CUBE_TYPE(parser, "validates and parses L2-L4 headers, writes per-packet metadata"),
    CUBE_TYPE(classifier, "maps (VIP, port, protocol[, VLAN]) to a service id"),
    CUBE_TYPE(maglev, "picks a backend through the service's Maglev table"),
    CUBE_TYPE(l2rewrite, "rewrites MACs and VLAN tag to the chosen backend (L2DSR)"),
    CUBE_TYPE(router, "LPM routing with neighbours, TTL and ARP for its addresses"),
    CUBE_TYPE(nat, "SNAT, masquerade and DNAT with connection tracking"),
    CUBE_TYPE(tunnel, "sets the tunnel key to the next hop a router chose, for a VXLAN device"),
};

const struct cube_type *cube_type_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cube_types) / sizeof(cube_types[0]); i++)
		if (strcmp(cube_types[i].name, name) == 0)
			return &cube_types[i];
	return NULL;
}

const struct cube_type *cube_type_at(size_t i)
{
	return i < sizeof(cube_types) / sizeof(cube_types[0]) ? &cube_types[i] : NULL;
}
