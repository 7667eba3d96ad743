// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/if_addr.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/veth.h>
#include "netdev.h"

struct nl_sock *netdev_rtnl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static struct rtnl_link *link_get(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = NULL;

	if (rtnl_link_get_kernel(sk, 0, name, &link) < 0)
		return NULL;
	return link;
}

uint32_t netdev_index(const char *name)
{
	struct nl_sock *sk = netdev_rtnl_open();
	struct rtnl_link *link;
	uint32_t ifindex = 0;

	if (!sk)
		return 0;
	link = link_get(sk, name);
	if (link) {
		ifindex = (uint32_t)rtnl_link_get_ifindex(link);
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return ifindex;
}

int netdev_mac(const char *name, uint8_t mac[6])
{
	struct nl_sock *sk = netdev_rtnl_open();
	struct rtnl_link *link;
	struct nl_addr *lladdr;
	int err = -ENODEV;

	if (!sk)
		return -ENOTCONN;
	link = link_get(sk, name);
	if (link) {
		lladdr = rtnl_link_get_addr(link);
		if (lladdr && nl_addr_get_len(lladdr) == 6) {
			memcpy(mac, nl_addr_get_binary_addr(lladdr), 6);
			err = 0;
		} else {
			err = -EADDRNOTAVAIL;
		}
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return err;
}

int netdev_veth_elsewhere(const char *name)
{
	struct nl_sock *sk = netdev_rtnl_open();
	struct rtnl_link *link;
	int32_t nsid;
	int ret = -ENODEV;

	if (!sk)
		return -ENOTCONN;
	link = link_get(sk, name);
	if (link) {
		/* The kernel names the other end's namespace only when it is
		 * not this one. */
		ret = rtnl_link_is_veth(link) && rtnl_link_get_link_netnsid(link, &nsid) == 0;
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return ret;
}

int netdev_addr(const char *name, int family, union cube_addr *addr)
{
	int af = family == CUBE_AF_INET6 ? AF_INET6 : AF_INET;
	struct nl_sock *sk = netdev_rtnl_open();
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	uint32_t ifindex;
	int err = -EADDRNOTAVAIL;

	if (!sk)
		return -ENOTCONN;
	ifindex = netdev_index(name);
	if (!ifindex) {
		err = -ENODEV;
		goto out;
	}
	if (rtnl_addr_alloc_cache(sk, &cache) < 0) {
		err = -ENOMEM;
		goto out;
	}
	memset(addr, 0, sizeof(*addr));
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj;
		struct nl_addr *local = rtnl_addr_get_local(a);

		if ((uint32_t)rtnl_addr_get_ifindex(a) != ifindex ||
		    rtnl_addr_get_family(a) != af || !local)
			continue;
		if (af == AF_INET6) {
			const struct in6_addr *in6 = nl_addr_get_binary_addr(local);
			unsigned flags = rtnl_addr_get_flags(a);

			/* A stable address: not a privacy one, nor one going or
			 * not yet usable. */
			if (IN6_IS_ADDR_LINKLOCAL(in6) ||
			    (flags & (IFA_F_TEMPORARY | IFA_F_DEPRECATED | IFA_F_TENTATIVE |
				      IFA_F_DADFAILED)))
				continue;
			memcpy(addr->bytes, in6, 16);
		} else {
			memcpy(&addr->ip4, nl_addr_get_binary_addr(local), 4);
		}
		err = 0;
		break;
	}
	nl_cache_free(cache);
out:
	nl_socket_free(sk);
	return err;
}

int netdev_delete(const char *name)
{
	struct nl_sock *sk = netdev_rtnl_open();
	struct rtnl_link *link = rtnl_link_alloc();
	int err;

	if (!sk || !link) {
		rtnl_link_put(link);
		if (sk)
			nl_socket_free(sk);
		return -ENOMEM;
	}
	rtnl_link_set_name(link, name);
	err = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND ? -EIO : 0;
}
