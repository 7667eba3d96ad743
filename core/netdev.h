/* SPDX-License-Identifier: Apache-2.0 */
/* Netdevs as the kernel reports them, through libnl-3 (rtnetlink). */
#ifndef CUBENET_NETDEV_H
#define CUBENET_NETDEV_H

#include <stdint.h>
#include "lib/abi/addr.h"

/* ifindex of a netdev, 0 if there is none of that name. */
uint32_t netdev_index(const char *name);
/* Its MAC address; 0 or -errno. */
int netdev_mac(const char *name, uint8_t mac[6]);
/* Whether it is a veth whose other end is in another network namespace:
 * 1 or 0, or -errno. */
int netdev_veth_elsewhere(const char *name);
/* Its first address of a family (CUBE_AF_INET or CUBE_AF_INET6; of IPv6, the
 * first stable global one: not link-local, temporary, deprecated or
 * tentative); 0 or -errno. */
int netdev_addr(const char *name, int family, union cube_addr *addr);

/* Delete the netdev of that name; none of that name is no error.
 * 0 or -errno. */
int netdev_delete(const char *name);

/* A connected rtnetlink socket (libnl), or NULL; the caller frees it with
 * nl_socket_free(). One per call: these run at config time. */
struct nl_sock;
struct nl_sock *netdev_rtnl_open(void);

#endif
