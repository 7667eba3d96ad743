/* SPDX-License-Identifier: Apache-2.0 */
/* Reading values out of validated service config, shared by the services. */
#ifndef CUBENET_SERVICES_COMMON_H
#define CUBENET_SERVICES_COMMON_H

#include <stdint.h>
#include <libyang/libyang.h>
#include "lib/abi/addr.h"

/* The first node an absolute XPath selects in the config, or NULL. */
const struct lyd_node *svc_find(const struct lyd_node *config, const char *xpath);
/* The value of the leaf at a path below parent, or NULL. */
const char *svc_leaf(const struct lyd_node *parent, const char *path);
int svc_parse_mac(const char *text, uint8_t mac[6]);
/* "10.1.0.0/16" or "2001:db8::/32"; "10.0.0.1" for an address. 0 or -1. */
int svc_parse_prefix(const char *text, int *family, union cube_addr *addr, uint32_t *plen);
int svc_parse_addr(const char *text, int *family, union cube_addr *addr);

#endif
