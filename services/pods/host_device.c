// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include "host_device.h"
#include "net_sysctl.h"
#include "netdev.h"

int host_device_ensure(const char *name)
{
	struct nl_sock *sk = netdev_rtnl_open();
	struct rtnl_link *link = NULL, *change;
	int err = 0;

	if (!sk)
		return -ENOMEM;
	if (rtnl_link_get_kernel(sk, 0, name, &link) < 0) {
		/* A veth, not a dummy: kernels without CONFIG_DUMMY exist (this
		 * one). What reaches the peer, with no chain to take it, drops. */
		struct rtnl_link *peer;
		char peer_name[IFNAMSIZ];

		snprintf(peer_name, sizeof(peer_name), "%.11s-end", name);
		link = rtnl_link_veth_alloc();
		rtnl_link_set_name(link, name);
		peer = rtnl_link_veth_get_peer(link);
		rtnl_link_set_name(peer, peer_name);
		rtnl_link_put(peer);
		err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(link);
		link = NULL;
		if (err && err != -NLE_EXIST)
			goto out;
		err = rtnl_link_get_kernel(sk, 0, name, &link);
		if (err)
			goto out;
	}
	/* No ARP: the chain's router writes the pod's MACs, nothing answers
	 * here. Both ends up, so the kernel sees a carrier. */
	change = rtnl_link_alloc();
	rtnl_link_set_flags(change, IFF_UP | IFF_NOARP);
	err = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	if (!err) {
		struct rtnl_link *peer = NULL;
		char peer_name[IFNAMSIZ];

		snprintf(peer_name, sizeof(peer_name), "%.11s-end", name);
		char path[96];

		/* What reaches the peer (no chain on cubenet0) must not be
		 * routed back out of cubenet0 again: it is dropped there. */
		snprintf(path, sizeof(path), "ipv4/conf/%s/forwarding", peer_name);
		net_sysctl(path, "0");
		if (!rtnl_link_get_kernel(sk, 0, peer_name, &peer)) {
			change = rtnl_link_alloc();
			rtnl_link_set_flags(change, IFF_UP);
			err = rtnl_link_change(sk, peer, change, 0);
			rtnl_link_put(change);
			rtnl_link_put(peer);
		}
	}
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err ? -EIO : 0;
}

/* The CNI plugin's route to a pod through its veth is a fallback at
 * metric 100 (k8s/cni/link.c); these must come first. IPv4's is 0; IPv6
 * has no metric 0 (the kernel makes it 1024, behind the fallback), so the
 * lowest it has. */
#define HOST_ROUTE6_METRIC 1

/* plen < 0: the address alone (/32, /128). */
static struct rtnl_route *host_route(int ifindex, const union cube_addr *addr, int family, int plen)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	int af = family == CUBE_AF_INET6 ? AF_INET6 : AF_INET;
	struct nl_addr *dst = nl_addr_build(af, addr->bytes, af == AF_INET ? 4 : 16);

	if (plen >= 0)
		nl_addr_set_prefixlen(dst, plen);
	rtnl_route_set_family(r, (uint8_t)af);
	rtnl_route_set_dst(r, dst);
	rtnl_route_set_scope(r, RT_SCOPE_LINK);
	if (af == AF_INET6)
		rtnl_route_set_priority(r, HOST_ROUTE6_METRIC);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(r, nh);
	nl_addr_put(dst);
	return r;
}

int host_device_routes(const char *name, const struct router_neigh_key *hosts, size_t n)
{
	int ifindex = (int)if_nametoindex(name), err = 0;
	struct nl_sock *sk = netdev_rtnl_open();
	struct nl_cache *routes = NULL;

	if (!ifindex || !sk) {
		if (sk)
			nl_socket_free(sk);
		return -ENODEV;
	}
	/* Replace: a pod's /32 route through its veth, if any, moves here. */
	for (size_t i = 0; i < n && !err; i++) {
		struct rtnl_route *r =
		    host_route(ifindex, &hosts[i].addr, (int)hosts[i].family, -1);

		err = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE);
		rtnl_route_put(r);
	}
	/* Then what is no longer wanted. */
	if (!err && !rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) {
		for (struct nl_object *o = nl_cache_get_first(routes); o;
		     o = nl_cache_get_next(o)) {
			struct rtnl_route *r = (struct rtnl_route *)o;
			struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
			struct nl_addr *dst = rtnl_route_get_dst(r);
			int wanted = 0;

			if (!nh || rtnl_route_nh_get_ifindex(nh) != ifindex || !dst ||
			    rtnl_route_get_table(r) != RT_TABLE_MAIN)
				continue;
			for (size_t i = 0; i < n && !wanted; i++)
				wanted = nl_addr_get_len(dst) ==
					     (hosts[i].family == CUBE_AF_INET6 ? 16u : 4u) &&
					 !memcmp(nl_addr_get_binary_addr(dst), hosts[i].addr.bytes,
						 nl_addr_get_len(dst));
			if (!wanted)
				rtnl_route_delete(sk, r, 0);
		}
		nl_cache_free(routes);
	}
	nl_socket_free(sk);
	return err ? -EIO : 0;
}

int host_device_route(const char *name, const struct router_neigh_key *host, int add)
{
	return host_device_prefix_route(name, &host->addr, (int)host->family, -1, add);
}

int host_device_prefix_route(const char *name, const union cube_addr *prefix, int family, int plen,
			     int add)
{
	int ifindex = (int)if_nametoindex(name), err;
	struct nl_sock *sk;
	struct rtnl_route *r;

	if (!ifindex)
		return add ? -ENODEV : 0;
	if (!(sk = netdev_rtnl_open()))
		return -EIO;
	r = host_route(ifindex, prefix, family, plen);
	err =
	    add ? rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE) : rtnl_route_delete(sk, r, 0);
	rtnl_route_put(r);
	nl_socket_free(sk);
	if (!add && (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV))
		err = 0;
	return err ? -EIO : 0;
}
