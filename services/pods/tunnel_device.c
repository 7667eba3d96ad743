// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include "net_sysctl.h"
#include "netdev.h"
#include "tunnel_device.h"
#include "lib/abi/tunnel.h"

static const uint8_t device_mac[6] = TUNNEL_DEVICE_MAC;

/* Whether link is a collect-metadata VXLAN device on port, with our MAC. */
static int is_ours(struct rtnl_link *link, uint16_t port)
{
	struct nl_addr *mac = rtnl_link_get_addr(link);
	uint32_t have = 0;

	return rtnl_link_is_vxlan(link) && rtnl_link_vxlan_get_collect_metadata(link) == 1 &&
	       !rtnl_link_vxlan_get_port(link, &have) && have == port && mac &&
	       nl_addr_get_len(mac) == 6 && !memcmp(nl_addr_get_binary_addr(mac), device_mac, 6);
}

static int create(struct nl_sock *sk, const char *name, uint16_t port)
{
	struct rtnl_link *link = rtnl_link_vxlan_alloc();
	struct nl_addr *mac = nl_addr_build(AF_LLC, device_mac, sizeof(device_mac));
	int err = -NLE_NOMEM;

	if (!link || !mac)
		goto out;
	rtnl_link_set_name(link, name);
	rtnl_link_set_addr(link, mac);
	if ((err = rtnl_link_vxlan_set_collect_metadata(link, 1)) ||
	    (err = rtnl_link_vxlan_set_port(link, port)) ||
	    (err = rtnl_link_vxlan_set_learning(link, 0)))
		goto out;
	err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
out:
	nl_addr_put(mac);
	rtnl_link_put(link);
	return err;
}

int tunnel_device_ensure(const char *name, uint16_t port)
{
	struct nl_sock *sk = netdev_rtnl_open();
	struct rtnl_link *link = NULL, *change;
	char path[96];
	int err = 0;

	if (!sk)
		return -ENOMEM;
	if (!rtnl_link_get_kernel(sk, 0, name, &link) && !is_ours(link, port)) {
		err = rtnl_link_delete(sk, link); /* another port or kind: made anew */
		rtnl_link_put(link);
		link = NULL;
		if (err)
			goto out;
	}
	if (!link) {
		err = create(sk, name, port);
		if (err && err != -NLE_EXIST)
			goto out;
		err = rtnl_link_get_kernel(sk, 0, name, &link);
		if (err)
			goto out;
	}
	/* No IPv6 address of its own (every node's device has this MAC), set
	 * while it is down, before the kernel makes one. */
	snprintf(path, sizeof(path), "ipv6/conf/%s/addr_gen_mode", name);
	net_sysctl(path, "1" /* IN6_ADDR_GEN_MODE_NONE */);
	/* A NodePort reply from another node's pod comes out of it, translated
	 * back to come from this node's address: routed on, not dropped as a
	 * martian. */
	snprintf(path, sizeof(path), "ipv4/conf/%s/accept_local", name);
	net_sysctl(path, "1");
	change = rtnl_link_alloc();
	if (!change) {
		err = -NLE_NOMEM;
		goto out;
	}
	rtnl_link_set_flags(change, IFF_UP | IFF_NOARP);
	err = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err ? -EIO : 0;
}
