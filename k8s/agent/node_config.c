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
	struct in_addr want;
	int rc = -1;

	if (inet_pton(AF_INET, address, &want) != 1 || getifaddrs(&ifs))
		return -1;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == want.s_addr) {
			snprintf(out, size, "%s", i->ifa_name);
			rc = 0;
			break;
		}
	}
	freeifaddrs(ifs);
	return rc;
}

int canonical_cidr(const char *in, int family, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN + 8], canon[INET6_ADDRSTRLEN];
	const char *slash = in ? strchr(in, '/') : NULL;
	char *end;
	long len;

	if (!slash || (size_t)(slash - in) >= sizeof(ip))
		return -1;
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - in), in);
	len = strtol(slash + 1, &end, 10);
	if (*end || slash[1] == '\0' || canonical_ip(ip, canon, sizeof(canon)) != family ||
	    len < 0 || len > (family == 4 ? 32 : 128))
		return -1;
	if (family == 4) {
		/* The prefix itself: host bits cleared. */
		struct in_addr a;

		inet_pton(AF_INET, canon, &a);
		a.s_addr &= len ? htonl(~0u << (32 - len)) : 0;
		inet_ntop(AF_INET, &a, canon, sizeof(canon));
	}
	snprintf(out, size, "%s/%ld", canon, len);
	return 0;
}

json_t *node_pod_cidrs(json_t *node, int family)
{
	json_t *spec = json_object_get(node, "spec"), *list = json_object_get(spec, "podCIDRs");
	json_t *out = json_array(), *v;
	char cidr[64];
	size_t i;

	if (!json_array_size(list) && json_object_get(spec, "podCIDR"))
		list = json_pack("[O]", json_object_get(spec, "podCIDR"));
	else
		json_incref(list);
	json_array_foreach(list, i, v)
	{
		if (!canonical_cidr(json_string_value(v), family, cidr, sizeof(cidr)))
			json_array_append_new(out, json_string(cidr));
	}
	json_decref(list);
	return out;
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
	json_t *node = json_object_get(nodes, o->name), *out, *a, *cidrs;
	const char *internal = NULL;
	char canon[INET6_ADDRSTRLEN], cidr[64], netdev[IF_NAMESIZE + 1];
	size_t i;

	address[0] = '\0';
	if (!node)
		return NULL;
	json_array_foreach(json_object_get(json_object_get(node, "status"), "addresses"), i, a)
	{
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *ip = json_string_value(json_object_get(a, "address"));

		if (type && strcmp(type, "InternalIP") == 0 &&
		    canonical_ip(ip, canon, sizeof(canon)) == 4) {
			internal = ip;
			break;
		}
	}
	out = json_object();
	if (internal) {
		snprintf(address, size, "%s", canon);
		json_object_set_new(out, "address", json_string(canon));
	}
	if (o->uplink)
		json_object_set_new(out, "uplink", json_string(o->uplink));
	else if (internal && !netdev_with_address(canon, netdev, sizeof(netdev)))
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
			if (!canonical_cidr(o->cluster_cidrs[c], 4, cidr, sizeof(cidr)))
				add_unique(cidrs, cidr);
	} else {
		const char *name;
		json_t *n, *v;

		json_object_foreach(nodes, name, n)
		{
			json_t *pods = node_pod_cidrs(n, 4);

			json_array_foreach(pods, i, v) add_unique(cidrs, json_string_value(v));
			json_decref(pods);
		}
	}
	for (int c = 0; c < o->n_service_cidrs; c++)
		if (!canonical_cidr(o->service_cidrs[c], 4, cidr, sizeof(cidr)))
			add_unique(cidrs, cidr);
	if (json_array_size(cidrs))
		json_object_set_new(out, "masquerade", json_pack("{so}", "cluster-cidr", cidrs));
	else
		json_decref(cidrs);
	return out;
}
