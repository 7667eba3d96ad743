// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "lb_maps.h"

struct classifier_key lb_vip_key(const union cube_addr *addr, uint8_t family, uint16_t port,
				 uint8_t proto, uint16_t vlan)
{
	return (struct classifier_key){
	    .vip = *addr, .port = htons(port), .proto = proto, .family = family, .vlan_id = vlan};
}

struct l2rewrite_target lb_backend_target(const uint8_t mac[6], const uint8_t *smac,
					  uint8_t vlan_action, uint16_t vlan_id)
{
	struct l2rewrite_target t = {
	    .vlan_id = vlan_id, .vlan_action = vlan_action, .flags = L2REWRITE_F_VALID};

	memcpy(t.dmac, mac, sizeof(t.dmac));
	if (smac) {
		memcpy(t.smac, smac, sizeof(t.smac));
		t.flags |= L2REWRITE_F_SET_SMAC;
	}
	return t;
}

void lb_backend_spec(struct maglev_backend_spec *spec, uint32_t id, const char *name,
		     uint32_t weight)
{
	memset(spec, 0, sizeof(*spec));
	spec->id = id;
	spec->weight = weight;
	spec->key_len = (size_t)snprintf((char *)spec->key, MAGLEV_KEY_MAX, "%s", name);
	if (spec->key_len >= MAGLEV_KEY_MAX)
		spec->key_len = MAGLEV_KEY_MAX - 1;
}
