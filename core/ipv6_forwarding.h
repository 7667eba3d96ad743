/* SPDX-License-Identifier: Apache-2.0 */
/* Turning IPv6 forwarding on without losing router advertisements. */
#ifndef CUBENET_IPV6_FORWARDING_H
#define CUBENET_IPV6_FORWARDING_H

/*
 * net.ipv6.conf.all.forwarding = 1, with every interface that takes router
 * advertisements (accept_ra 1, the default one included) set to take them
 * while forwarding (accept_ra 2): a forwarding node ignores them at 1, and
 * a node whose IPv6 default route or addresses come from them would lose
 * those. 0, or a negative errno.
 */
int ipv6_forwarding_on(void);

#endif
