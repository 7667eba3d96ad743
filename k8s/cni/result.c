// SPDX-License-Identifier: Apache-2.0
/* The ADD result in the version the runtime asked for: 0.3.x and 0.4.0
 * give each IP a "version"; 1.x does not. And the results the plugin is
 * given, checked before anything acts on them. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "cni.h"

json_t *cni_result(const struct cni_call *call, const struct cni_ipam *ipam, const char *host_mac,
		   const char *pod_mac)
{
	int old = !cni_version_at_least(call->version, "1.0.0");
	json_t *ips = json_array();
	char host[16];

	cni_host_ifname(call, host);
	for (size_t i = 0; i < ipam->n_ips; i++) {
		json_t *ip =
		    json_pack("{s:s, s:i}", "address", ipam->ips[i].address, "interface", 1);

		if (ipam->ips[i].gateway[0])
			json_object_set_new(ip, "gateway", json_string(ipam->ips[i].gateway));
		if (old)
			json_object_set_new(ip, "version",
					    json_string(ipam->ips[i].family == 6 ? "6" : "4"));
		json_array_append_new(ips, ip);
	}
	return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s, s:s}], s:o, s:o, s:o}", "cniVersion",
			 call->version, "interfaces", "name", host, "mac", host_mac, "name",
			 call->ifname, "mac", pod_mac, "sandbox", call->netns, "ips", ips, "routes",
			 ipam->routes ? json_incref(ipam->routes) : json_array(), "dns",
			 ipam->dns ? json_incref(ipam->dns) : json_object());
}

int cni_address_family(const char *s, int cidr)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t len = cidr && slash ? (size_t)(slash - s) : strlen(s);
	int family, max;

	if ((cidr && !slash) || len >= sizeof(addr))
		return 0;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		family = 4, max = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		family = 6, max = 128;
	else
		return 0;
	if (cidr) {
		const char *p = slash + 1;
		int prefix = 0;

		if (!*p || strlen(p) > 3)
			return 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return 0;
			prefix = prefix * 10 + (*p - '0');
		}
		if (prefix > max)
			return 0;
	}
	return family;
}

size_t cni_address_bytes(const char *text, unsigned char out[16], int *plen)
{
	char addr[INET6_ADDRSTRLEN];
	size_t len = strcspn(text, "/");

	if (len >= sizeof(addr))
		return 0;
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (plen)
		*plen = text[len] ? atoi(text + len + 1) : -1;
	if (inet_pton(AF_INET, addr, out) == 1)
		return 4;
	return inet_pton(AF_INET6, addr, out) == 1 ? 16 : 0;
}

/* What keeps the address a (of size bytes) from being a pod's or a
 * gateway's, or NULL. */
static const char *unusable(const unsigned char *a, size_t size)
{
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
	unsigned char zero[16] = {0};

	if (!memcmp(a, zero, size))
		return "is unspecified";
	if (size == 4)
		return a[0] == 127			   ? "is a loopback address"
		       : a[0] >= 224 && a[0] <= 239	   ? "is a multicast address"
		       : !memcmp(a, "\xff\xff\xff\xff", 4) ? "is the broadcast address"
							   : NULL;
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return "is the loopback address";
	if (a[0] == 0xff)
		return "is a multicast address";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "is link-local";
	if (!memcmp(a, mapped, sizeof(mapped)))
		return "is an IPv4-mapped address";
	return NULL;
}

const char *cni_ip_problem(const struct cni_ip *ip, const char **which)
{
	unsigned char addr[16], gw[16];
	int plen = -1;
	size_t size = cni_address_bytes(ip->address, addr, &plen);
	const char *problem;

	*which = "address";
	if (!size)
		return "is not an address";
	if ((problem = unusable(addr, size)))
		return problem;
	if (plen <= 0)
		return "has no prefix a node can route";
	if (!ip->gateway[0])
		return NULL;
	*which = "gateway";
	if (cni_address_bytes(ip->gateway, gw, NULL) != size)
		return "is not of the address's family";
	if ((problem = unusable(gw, size)))
		return problem;
	if (!memcmp(gw, addr, size))
		return "is the pod's own address";
	/* On the pod's link: in the address's prefix. */
	for (int bit = 0; bit < plen; bit++)
		if ((gw[bit / 8] ^ addr[bit / 8]) & (0x80 >> (bit % 8)))
			return "is outside the address's prefix";
	return NULL;
}

/* member of entry i of list is an address (cidr: with a prefix) of family
 * (0: any); its family, or 0 with err set. */
static int address_member(const json_t *entry, const char *member, int cidr, int family,
			  const char *what, const char *list, size_t i, int code,
			  struct cni_error *err)
{
	const char *s = json_string_value(json_object_get(entry, member));
	int got = s ? cni_address_family(s, cidr) : 0;

	if (!got || (family && got != family)) {
		cni_fail(err, code, "invalid result", "%s: %s[%zu].%s is not %s%s", what, list, i,
			 member,
			 family == 6   ? "an IPv6 "
			 : family == 4 ? "an IPv4 "
				       : "an ",
			 cidr ? "address/prefix" : "address");
		return 0;
	}
	return got;
}

int cni_result_shape(const json_t *result, const char *what, int code, struct cni_error *err)
{
	const json_t *ips = json_object_get(result, "ips"), *routes, *dns, *e;
	size_t i;

	if (!json_is_object(result))
		return cni_fail(err, code, "invalid result", "%s is not a JSON object", what);
	routes = json_object_get(result, "routes");
	dns = json_object_get(result, "dns");
	if ((ips && !json_is_array(ips)) || (routes && !json_is_array(routes)) ||
	    (dns && !json_is_object(dns)))
		return cni_fail(err, code, "invalid result",
				"%s: ips and routes must be lists, dns an object", what);
	json_array_foreach(ips, i, e)
	{
		int family = address_member(e, "address", 1, 0, what, "ips", i, code, err);

		if (!family)
			return -1;
		if (json_object_get(e, "gateway") &&
		    !address_member(e, "gateway", 0, family, what, "ips", i, code, err))
			return -1;
	}
	json_array_foreach(routes, i, e)
	{
		int family = address_member(e, "dst", 1, 0, what, "routes", i, code, err);

		if (!family)
			return -1;
		if (json_object_get(e, "gw") &&
		    !address_member(e, "gw", 0, family, what, "routes", i, code, err))
			return -1;
	}
	return 0;
}
