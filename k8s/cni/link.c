// SPDX-License-Identifier: Apache-2.0
/*
 * The pod's veth over libnl-route-3. The pod end is created inside the
 * pod's netns with its final name; the host end carries each IPAM gateway
 * as a /32 or /128 (so the pod's ARP or neighbour solicitation for it is
 * answered on the link) and a /32 or /128 route to each pod address. Pods
 * on one subnet reach each other through the node: IPv4 by proxy ARP on
 * the host end, IPv6 because the pod's address has no prefix route, only
 * its gateway is on the link. The node's neighbour for the pod's IPv6
 * address is written, not solicited.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include "cni.h"
#include "ipv6_forwarding.h"
#include "net_sysctl.h"

void cni_host_ifname(const struct cni_call *call, char out[16])
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a of the attachment */

	for (const char *p = call->container_id; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ '/') * 1099511628211ull;
	for (const char *p = call->ifname; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	snprintf(out, 16, "cn%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

static struct nl_sock *nl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int link_up(struct nl_sock *sk, const char *name, char mac[18])
{
	struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
	int rc = rtnl_link_get_kernel(sk, 0, name, &link);

	if (!rc) {
		rtnl_link_set_flags(change, IFF_UP);
		rc = rtnl_link_change(sk, link, change, 0);
		if (mac && rtnl_link_get_addr(link))
			nl_addr2str(rtnl_link_get_addr(link), mac, 18);
	}
	rtnl_link_put(change);
	rtnl_link_put(link);
	return rc;
}

/* flags: IFA_F_* (IPv6 only: IPv4 ignores them). */
static int add_addr(struct nl_sock *sk, int ifindex, const char *cidr, unsigned int flags)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	int rc = nl_addr_parse(cidr, AF_UNSPEC, &local);

	if (!rc) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, local);
		if (flags && nl_addr_get_family(local) == AF_INET6)
			rtnl_addr_set_flags(a, flags);
		rc = rtnl_addr_add(sk, a, 0);
		if (rc == -NLE_EXIST)
			rc = 0;
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return rc;
}

/* The node's route to a pod is a fallback: cubenetd's route through its
 * host device (metric 0) wins while it is there. */
#define POD_ROUTE_METRIC 100

/* dst via gw (NULL: on the link) out of ifindex; metric 0 is the default. */
static int add_route(struct nl_sock *sk, int ifindex, const char *dst, const char *gw,
		     uint32_t metric)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = NULL, *g = NULL;
	int rc = nl_addr_parse(dst, AF_UNSPEC, &d);

	if (!rc && gw && *gw)
		rc = nl_addr_parse(gw, AF_UNSPEC, &g);
	if (!rc) {
		rtnl_route_set_family(r, nl_addr_get_family(d));
		rtnl_route_set_dst(r, d);
		rtnl_route_set_scope(r, g ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
		if (metric)
			rtnl_route_set_priority(r, metric);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		if (g)
			rtnl_route_nh_set_gateway(nh, g);
		rtnl_route_add_nexthop(r, nh);
		nh = NULL;
		rc = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	rtnl_route_put(r);
	return rc;
}

/* addr (its prefix ignored) is at mac on ifindex, for good. */
static int add_neigh(struct nl_sock *sk, int ifindex, const char *cidr, const char *mac)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = NULL, *ll = NULL;
	char addr[64];
	int rc;

	snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(cidr, "/"), cidr);
	rc = nl_addr_parse(addr, AF_UNSPEC, &dst);
	if (!rc)
		rc = nl_addr_parse(mac, AF_LLC, &ll);
	if (!rc) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_lladdr(n, ll);
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		rc = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE);
	}
	nl_addr_put(dst);
	nl_addr_put(ll);
	rtnl_neigh_put(n);
	return rc;
}

/* Opened once and checked, then used by that descriptor only: the path
 * cannot be swapped for another between the check and the use. The node's
 * own netns is refused, or the pod's address, routes and default route
 * would be put on the node. */
int cni_open_netns(const char *path, struct cni_error *err)
{
	struct stat pod, node;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return cni_fail(err,
				errno == ENOENT ? CNI_ERR_UNKNOWN_CONTAINER : CNI_ERR_INVALID_ENV,
				"no such netns", "CNI_NETNS %s: %s", path, strerror(errno));
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_NETNS",
				"CNI_NETNS %s is not a network namespace", path);
	}
	if (fstat(fd, &pod) || stat("/proc/self/ns/net", &node) ||
	    (pod.st_dev == node.st_dev && pod.st_ino == node.st_ino)) {
		close(fd);
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_NETNS",
				"CNI_NETNS %s is the node's own network namespace", path);
	}
	return fd;
}

/* Run fn inside the pod's netns, then come back. */
static int in_netns(const struct cni_call *call, int (*fn)(void *), void *arg,
		    struct cni_error *err)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc;

	if (self < 0)
		return cni_fail(err, CNI_ERR_IO, "cannot open the node's netns",
				"/proc/self/ns/net: %s", strerror(errno));
	if (setns(call->netns_fd, CLONE_NEWNET)) {
		close(self);
		return cni_fail(err, CNI_ERR_IO, "cannot enter the pod's netns", "%s: %s",
				call->netns, strerror(errno));
	}
	rc = fn(arg);
	if (setns(self, CLONE_NEWNET)) {
		/* Nothing after this is safe to do in the wrong namespace. */
		fprintf(stderr, "cubenet: cannot return to the node's netns: %s\n",
			strerror(errno));
		exit(1);
	}
	close(self);
	return rc;
}

struct pod_setup {
	const struct cni_call *call;
	const struct cni_ipam *ipam;
	char *mac;
	struct cni_error *err;
};

static int setup_in_pod(void *arg)
{
	struct pod_setup *s = arg;
	struct nl_sock *sk = nl_open();
	size_t i;
	json_t *route;
	int rc, ifindex;

	if (!sk)
		return cni_fail(s->err, CNI_ERR_IO, "netlink", "cannot open a netlink socket");
	rc = link_up(sk, "lo", NULL);
	if (!rc)
		rc = link_up(sk, s->call->ifname, s->mac);
	ifindex = (int)if_nametoindex(s->call->ifname);
	for (i = 0; !rc && i < s->ipam->n_ips; i++) {
		const struct cni_ip *ip = &s->ipam->ips[i];

		/* IPv6: no route to the prefix, so every packet, one for a
		 * pod on the same /64 too, goes to the gateway and through
		 * the node chain (IPv4 gets there by the node's proxy ARP);
		 * the gateway itself is on the link. No DAD: the link's one
		 * other end is the node's, and a tentative address could
		 * not be used for the pod's first second. */
		rc = add_addr(sk, ifindex, ip->address, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
		if (!rc && ip->family == 6 && ip->gateway[0]) {
			char gw[64];

			snprintf(gw, sizeof(gw), "%s/128", ip->gateway);
			rc = add_route(sk, ifindex, gw, NULL, 0);
		}
	}
	json_array_foreach(s->ipam->routes, i, route)
	{
		const char *dst = json_string_value(json_object_get(route, "dst"));
		const char *gw = json_string_value(json_object_get(route, "gw"));
		int v6 = dst && strchr(dst, ':');

		if (rc || !dst)
			continue;
		/* No gw: the IPAM gateway of the same family. */
		for (size_t k = 0; !gw && k < s->ipam->n_ips; k++)
			if ((s->ipam->ips[k].family == 6) == v6 && s->ipam->ips[k].gateway[0])
				gw = s->ipam->ips[k].gateway;
		rc = add_route(sk, ifindex, dst, gw, 0);
	}
	nl_socket_free(sk);
	if (rc)
		return cni_fail(s->err, CNI_ERR_IO, "cannot configure the pod's interface",
				"%s: %s", s->call->ifname, nl_geterror(rc));
	return 0;
}

int cni_link_add(const struct cni_call *call, const struct cni_ipam *ipam, char host_mac[18],
		 char pod_mac[18], struct cni_error *err)
{
	struct nl_sock *sk = nl_open();
	struct rtnl_link *veth = rtnl_link_veth_alloc(), *peer;
	char host[16], path[128];
	int rc, ifindex;

	cni_host_ifname(call, host);
	if (!sk || !veth) {
		rc = cni_fail(err, CNI_ERR_IO, "netlink", "cannot open netlink");
		goto cleanup;
	}
	rtnl_link_set_name(veth, host);
	rtnl_link_set_mtu(veth, (unsigned int)call->mtu);
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(peer, call->ifname);
	rtnl_link_set_mtu(peer, (unsigned int)call->mtu);
	rtnl_link_set_ns_fd(peer, call->netns_fd);
	rtnl_link_put(peer);
	rc = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (rc == -NLE_EXIST && !cni_link_exists(call)) {
		/* Not ours to remove, and no retry makes the name free. */
		rc = cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME",
			      "CNI_IFNAME %s exists in CNI_NETNS %s already", call->ifname,
			      call->netns);
		goto cleanup;
	}
	if (rc) {
		rc = cni_fail(err, CNI_ERR_IO, "cannot create the pod's veth", "%s/%s: %s", host,
			      call->ifname, nl_geterror(rc));
		goto cleanup;
	}
	/* From here on, failing removes the pair. */
	rc = link_up(sk, host, host_mac);
	ifindex = (int)if_nametoindex(host);
	snprintf(path, sizeof(path), "ipv4/conf/%s/proxy_arp", host);
	if (!rc && (net_sysctl(path, "1") || net_sysctl("ipv4/ip_forward", "1")))
		rc = -NLE_FAILURE;
	/* Answer proxy ARP at once, not after the default random delay. */
	snprintf(path, sizeof(path), "ipv4/neigh/%s/proxy_delay", host);
	if (!rc && net_sysctl(path, "0"))
		rc = -NLE_FAILURE;
	/* A NodePort reply leaves the pod translated to come from the node's
	 * own address: the node must route it, not drop it as a martian. */
	snprintf(path, sizeof(path), "ipv4/conf/%s/accept_local", host);
	if (!rc && net_sysctl(path, "1"))
		rc = -NLE_FAILURE;
	/* A pod with an IPv6 address: IPv6 forwarding, as IPv4's above
	 * (router advertisements still taken where they were). */
	for (size_t i = 0; !rc && i < ipam->n_ips; i++)
		if (ipam->ips[i].family == 6 && ipv6_forwarding_on())
			rc = -NLE_FAILURE;
	for (size_t i = 0; !rc && i < ipam->n_ips; i++) {
		const struct cni_ip *ip = &ipam->ips[i];
		int bits = ip->family == 6 ? 128 : 32;
		char host_route[72];

		snprintf(host_route, sizeof(host_route), "%.*s/%d", (int)strcspn(ip->address, "/"),
			 ip->address, bits);
		rc = add_route(sk, ifindex, host_route, NULL, POD_ROUTE_METRIC);
		if (!rc && ip->gateway[0]) {
			char gw[64];

			/* The pod's gateway is the node's end of the link. */
			snprintf(gw, sizeof(gw), "%s/%d", ip->gateway, bits);
			rc = add_addr(sk, ifindex, gw, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
		}
	}
	if (rc) {
		cni_fail(err, CNI_ERR_IO, "cannot configure the node side", "%s: %s", host,
			 nl_geterror(rc));
	} else {
		struct pod_setup s = {call, ipam, pod_mac, err};

		rc = in_netns(call, setup_in_pod, &s, err);
	}
	/* The node's neighbour for the pod's IPv6 address is known from the
	 * start, and permanent: no solicitation before the first packet to
	 * a pod, and no advertisement can move it. */
	for (size_t i = 0; !rc && i < ipam->n_ips; i++)
		if (ipam->ips[i].family == 6 &&
		    (rc = add_neigh(sk, ifindex, ipam->ips[i].address, pod_mac)))
			cni_fail(err, CNI_ERR_IO, "cannot configure the node side",
				 "%s: neighbour %s: %s", host, ipam->ips[i].address,
				 nl_geterror(rc));
	if (rc) {
		struct cni_error ignored = {0};

		cni_link_del(call, &ignored);
		rc = -1;
	}
cleanup:
	rtnl_link_put(veth);
	if (sk)
		nl_socket_free(sk);
	return rc;
}

int cni_link_exists(const struct cni_call *call)
{
	char host[16];

	cni_host_ifname(call, host);
	return if_nametoindex(host) != 0;
}

int cni_link_del(const struct cni_call *call, struct cni_error *err)
{
	struct nl_sock *sk = nl_open();
	struct rtnl_link *link = rtnl_link_alloc();
	char host[16];
	int rc;

	cni_host_ifname(call, host);
	if (!sk)
		return cni_fail(err, CNI_ERR_IO, "netlink", "cannot open netlink");
	rtnl_link_set_name(link, host);
	rc = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	if (rc && rc != -NLE_NODEV && rc != -NLE_OBJ_NOTFOUND)
		return cni_fail(err, CNI_ERR_IO, "cannot remove the pod's veth", "%s: %s", host,
				nl_geterror(rc));
	return 0;
}

struct pod_check {
	const struct cni_call *call;
	const json_t *prev;
	struct cni_error *err;
};

static int has_addr(struct nl_cache *addrs, int ifindex, const char *cidr)
{
	struct nl_addr *want = NULL;
	int found = 0;

	if (nl_addr_parse(cidr, AF_UNSPEC, &want))
		return 0;
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;

		found |= rtnl_addr_get_ifindex(a) == ifindex &&
			 !nl_addr_cmp(rtnl_addr_get_local(a), want) &&
			 rtnl_addr_get_prefixlen(a) == (int)nl_addr_get_prefixlen(want);
	}
	nl_addr_put(want);
	return found;
}

/* A route to cidr (exactly) out of ifindex, in any table. */
static int has_route(struct nl_sock *sk, int ifindex, const char *cidr)
{
	struct nl_cache *routes = NULL;
	struct nl_addr *want = NULL;
	int found = 0;

	if (nl_addr_parse(cidr, AF_UNSPEC, &want) ||
	    rtnl_route_alloc_cache(sk, nl_addr_get_family(want), 0, &routes)) {
		nl_addr_put(want);
		return 0;
	}
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);

		found |= nh && rtnl_route_nh_get_ifindex(nh) == ifindex &&
			 !nl_addr_cmp(rtnl_route_get_dst(r), want);
	}
	nl_cache_free(routes);
	nl_addr_put(want);
	return found;
}

/* cidr's address alone (/32, /128) and its family, from prevResult's. */
static int host_cidr(const char *cidr, char *out, size_t size)
{
	int family = cni_address_family(cidr, strchr(cidr, '/') != NULL);

	snprintf(out, size, "%.*s/%d", (int)strcspn(cidr, "/"), cidr, family == 6 ? 128 : 32);
	return family;
}

/* The node's end: the gateway address and the route to each pod address
 * that ADD put there, of both families. */
static int check_host(const struct cni_call *call, const json_t *prev, struct cni_error *err)
{
	struct nl_sock *sk = nl_open();
	struct nl_cache *addrs = NULL;
	char host[16], want[72];
	int rc = 0, ifindex;
	json_t *ip;
	size_t i;

	cni_host_ifname(call, host);
	ifindex = (int)if_nametoindex(host);
	if (!sk || rtnl_addr_alloc_cache(sk, &addrs))
		rc = cni_fail(err, CNI_ERR_IO, "netlink", "cannot list the node's addresses");
	json_array_foreach(json_object_get(prev, "ips"), i, ip)
	{
		const char *addr = json_string_value(json_object_get(ip, "address"));
		const char *gw = json_string_value(json_object_get(ip, "gateway"));

		if (rc || !addr)
			continue;
		host_cidr(addr, want, sizeof(want));
		if (!has_route(sk, ifindex, want))
			rc = cni_fail(err, CNI_ERR_IO, "route missing",
				      "the node has no route to %s through %s", want, host);
		if (!rc && gw) {
			host_cidr(gw, want, sizeof(want));
			if (!has_addr(addrs, ifindex, want))
				rc = cni_fail(err, CNI_ERR_IO, "address missing",
					      "the node side %s has no address %s", host, want);
		}
	}
	nl_cache_free(addrs);
	if (sk)
		nl_socket_free(sk);
	return rc;
}

static int check_in_pod(void *arg)
{
	struct pod_check *c = arg;
	struct nl_sock *sk = nl_open();
	struct nl_cache *addrs = NULL;
	struct rtnl_link *link = NULL;
	json_t *ip;
	size_t i;
	int rc = 0;

	if (!sk)
		return cni_fail(c->err, CNI_ERR_IO, "netlink", "cannot open netlink");
	if (rtnl_link_get_kernel(sk, 0, c->call->ifname, &link)) {
		rc = cni_fail(c->err, CNI_ERR_IO, "interface missing", "%s is not in %s",
			      c->call->ifname, c->call->netns);
		goto out;
	}
	if (!(rtnl_link_get_flags(link) & IFF_UP))
		rc = cni_fail(c->err, CNI_ERR_IO, "interface down", "%s is down", c->call->ifname);
	if (!rc && (int)rtnl_link_get_mtu(link) != c->call->mtu)
		rc = cni_fail(c->err, CNI_ERR_IO, "interface changed", "%s has MTU %u, not %d",
			      c->call->ifname, rtnl_link_get_mtu(link), c->call->mtu);
	if (!rc && rtnl_addr_alloc_cache(sk, &addrs))
		rc = cni_fail(c->err, CNI_ERR_IO, "netlink", "cannot list addresses");
	json_array_foreach(json_object_get(c->prev, "ips"), i, ip)
	{
		const char *addr = json_string_value(json_object_get(ip, "address"));

		const char *gw = json_string_value(json_object_get(ip, "gateway"));
		char on_link[72];

		if (!rc && addr && !has_addr(addrs, rtnl_link_get_ifindex(link), addr))
			rc = cni_fail(c->err, CNI_ERR_IO, "address missing", "%s has no address %s",
				      c->call->ifname, addr);
		/* IPv6: the gateway's route on the link ADD made. */
		if (!rc && gw && host_cidr(gw, on_link, sizeof(on_link)) == 6 &&
		    !has_route(sk, rtnl_link_get_ifindex(link), on_link))
			rc = cni_fail(c->err, CNI_ERR_IO, "route missing",
				      "no route to the gateway %s on %s in %s", on_link,
				      c->call->ifname, c->call->netns);
	}
	json_array_foreach(json_object_get(c->prev, "routes"), i, ip)
	{
		const char *dst = json_string_value(json_object_get(ip, "dst"));
		struct nl_cache *routes = NULL;
		struct nl_addr *want = NULL;
		int found = 0;

		if (rc || !dst || nl_addr_parse(dst, AF_UNSPEC, &want) ||
		    rtnl_route_alloc_cache(sk, nl_addr_get_family(want), 0, &routes)) {
			nl_addr_put(want);
			continue;
		}
		for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o))
			found |= !nl_addr_cmp(rtnl_route_get_dst((struct rtnl_route *)o), want) ||
				 (nl_addr_get_prefixlen(want) == 0 &&
				  nl_addr_get_prefixlen(
				      rtnl_route_get_dst((struct rtnl_route *)o)) == 0);
		nl_cache_free(routes);
		nl_addr_put(want);
		if (!found)
			rc = cni_fail(c->err, CNI_ERR_IO, "route missing", "no route to %s in %s",
				      dst, c->call->netns);
	}
out:
	nl_cache_free(addrs);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return rc ? -1 : 0;
}

int cni_link_check(const struct cni_call *call, const json_t *prev, struct cni_error *err)
{
	struct pod_check c = {call, prev, err};
	char host[16];

	cni_host_ifname(call, host);
	if (!cni_link_exists(call))
		return cni_fail(err, CNI_ERR_IO, "interface missing",
				"the node side %s of the pod's veth is gone", host);
	if (check_host(call, prev, err))
		return -1;
	return in_netns(call, check_in_pod, &c, err);
}
