// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "node_config.h"
#include "translate.h"

int netdev_with_address(const char *address, char *out, size_t size)
{
	struct ifaddrs *ifs, *i;
	unsigned char want[16];
	int family = strchr(address, ':') ? AF_INET6 : AF_INET, rc = -1;

	if (inet_pton(family, address, want) != 1 || getifaddrs(&ifs))
		return -1;
	for (i = ifs; i; i = i->ifa_next) {
		const void *have;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family)
			continue;
		have = family == AF_INET
			   ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
			   : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (memcmp(have, want, family == AF_INET ? 4 : 16) == 0) {
			snprintf(out, size, "%s", i->ifa_name);
			rc = 0;
			break;
		}
	}
	freeifaddrs(ifs);
	return rc;
}

/* An IPv6 address that holds an IPv4 one (::ffff:a.b.c.d): Kubernetes
 * reads it as IPv4, the kernel as IPv6; cubenet takes it as neither. */
static int v4_mapped(const char *canon)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, canon, &a) == 1 && IN6_IS_ADDR_V4MAPPED(&a);
}

int canonical_cidr(const char *in, int family, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN + 8], canon[INET6_ADDRSTRLEN];
	const char *slash = in ? strchr(in, '/') : NULL;
	unsigned char a[16];
	size_t digits;
	int len, bits = family == 4 ? 32 : 128;

	if (!slash || (size_t)(slash - in) >= sizeof(ip))
		return -1;
	/* The length: decimal digits alone ("+24", " 24", "024" are not). */
	digits = strspn(slash + 1, "0123456789");
	if (digits < 1 || digits > 3 || slash[1 + digits] || (digits > 1 && slash[1] == '0'))
		return -1;
	len = atoi(slash + 1);
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - in), in);
	if (canonical_ip(ip, canon, sizeof(canon)) != family || len > bits ||
	    (family == 6 && v4_mapped(canon)))
		return -1;
	/* The prefix itself: host bits cleared. */
	inet_pton(family == 4 ? AF_INET : AF_INET6, canon, a);
	for (int b = len; b < bits; b++)
		a[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, canon, sizeof(canon));
	snprintf(out, size, "%s/%d", canon, len);
	return 0;
}

json_t *node_pod_cidrs(json_t *node, int family, char *bad, size_t size)
{
	json_t *spec = json_object_get(node, "spec"), *list = json_object_get(spec, "podCIDRs");
	json_t *out = json_array(), *v;
	char cidr[64];
	size_t i;

	if (bad)
		bad[0] = '\0';
	if (!json_array_size(list) && json_object_get(spec, "podCIDR"))
		list = json_pack("[O]", json_object_get(spec, "podCIDR"));
	else
		json_incref(list);
	json_array_foreach(list, i, v)
	{
		const char *text = json_string_value(v);

		if ((family != 6 && !canonical_cidr(text, 4, cidr, sizeof(cidr))) ||
		    (family != 4 && !canonical_cidr(text, 6, cidr, sizeof(cidr))))
			json_array_append_new(out, json_string(cidr));
		else if (bad && !bad[0] &&
			 (canonical_cidr(text, 4, cidr, sizeof(cidr)) &&
			  canonical_cidr(text, 6, cidr, sizeof(cidr))))
			snprintf(bad, size, "%.100s", text ? text : "(not a string)");
	}
	json_decref(list);
	return out;
}

int node_internal_ips(json_t *node, char *v4, char *v6, size_t size, char *bad, size_t bad_size)
{
	json_t *a;
	size_t i;
	char canon[INET6_ADDRSTRLEN];
	int rc = 0;

	v4[0] = v6[0] = '\0';
	json_array_foreach(json_object_get(json_object_get(node, "status"), "addresses"), i, a)
	{
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *ip = json_string_value(json_object_get(a, "address"));
		int family;

		if (!type || strcmp(type, "InternalIP") != 0)
			continue;
		family = canonical_ip(ip, canon, sizeof(canon));
		if (!family || (family == 6 && v4_mapped(canon))) {
			if (!rc)
				snprintf(bad, bad_size, "%.100s", ip ? ip : "(not a string)");
			rc = -1;
			continue;
		}
		/* The first of each family, in kubelet's order. */
		if (family == 4 && !v4[0])
			snprintf(v4, size, "%s", canon);
		else if (family == 6 && !v6[0])
			snprintf(v6, size, "%s", canon);
	}
	return rc;
}

const char *node_hostname(json_t *nodes, const char *name)
{
	json_t *node = json_object_get(nodes, name);

	return json_string_value(
	    json_object_get(json_object_get(json_object_get(node, "metadata"), "labels"),
			    "kubernetes.io/hostname"));
}

static void add_unique(json_t *list, const char *cidr)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) if (strcmp(json_string_value(v), cidr) == 0) return;
	json_array_append_new(list, json_string(cidr));
}

json_t *node_desired(json_t *nodes, const struct node_options *o, char *address, size_t size)
{
	json_t *node = json_object_get(nodes, o->name), *out, *cidrs;
	char v4[INET6_ADDRSTRLEN], v6[INET6_ADDRSTRLEN], bad[128], cidr[64],
	    netdev[IF_NAMESIZE + 1];
	size_t i;

	address[0] = '\0';
	if (!node)
		return NULL;
	/* This node's own: an InternalIP that is not an address is passed over. */
	node_internal_ips(node, v4, v6, sizeof(v4), bad, sizeof(bad));
	out = json_object();
	if (v4[0]) {
		snprintf(address, size, "%s", v4);
		json_object_set_new(out, "address", json_string(v4));
	}
	if (v6[0])
		json_object_set_new(out, "address6", json_string(v6));
	if (o->uplink)
		json_object_set_new(out, "uplink", json_string(o->uplink));
	else if ((v4[0] && !netdev_with_address(v4, netdev, sizeof(netdev))) ||
		 (v6[0] && !netdev_with_address(v6, netdev, sizeof(netdev))))
		json_object_set_new(out, "uplink", json_string(netdev));
	json_object_set_new(out, "node-port-range",
			    json_pack("{sisi}", "min", o->port_min, "max", o->port_max));
	json_object_set_new(out, "tunnel",
			    json_pack("{sssisi}", "mode", o->tunnel ? o->tunnel : "vxlan", "vni",
				      o->vni ? o->vni : 1, "port",
				      o->vxlan_port ? o->vxlan_port : 8472));
	if (!o->masquerade)
		return out;
	cidrs = json_array();
	if (o->n_cluster_cidrs) {
		for (int c = 0; c < o->n_cluster_cidrs; c++)
			if (!canonical_cidr(o->cluster_cidrs[c], 4, cidr, sizeof(cidr)) ||
			    !canonical_cidr(o->cluster_cidrs[c], 6, cidr, sizeof(cidr)))
				add_unique(cidrs, cidr);
	} else {
		const char *name;
		json_t *n, *v;

		json_object_foreach(nodes, name, n)
		{
			json_t *pods = node_pod_cidrs(n, 0, NULL, 0);

			json_array_foreach(pods, i, v) add_unique(cidrs, json_string_value(v));
			json_decref(pods);
		}
	}
	for (int c = 0; c < o->n_service_cidrs; c++)
		if (!canonical_cidr(o->service_cidrs[c], 4, cidr, sizeof(cidr)) ||
		    !canonical_cidr(o->service_cidrs[c], 6, cidr, sizeof(cidr)))
			add_unique(cidrs, cidr);
	if (json_array_size(cidrs))
		json_object_set_new(out, "masquerade", json_pack("{so}", "cluster-cidr", cidrs));
	else
		json_decref(cidrs);
	return out;
}
