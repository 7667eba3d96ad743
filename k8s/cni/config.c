// SPDX-License-Identifier: Apache-2.0
/* The runtime's call: environment variables and the network config on
 * stdin, checked before anything is done. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cni.h"

#define DEFAULT_SOCKET "/run/cubenet/cubenetd.sock"

const char *const cni_supported_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL};

int cni_fail(struct cni_error *err, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	if (err->code)
		return -1;
	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_version(const char *v, int out[3])
{
	out[0] = out[1] = out[2] = 0;
	return v && sscanf(v, "%d.%d.%d", &out[0], &out[1], &out[2]) >= 2 ? 0 : -1;
}

int cni_version_at_least(const char *version, const char *least)
{
	int a[3], b[3];

	if (parse_version(version, a) || parse_version(least, b))
		return 0;
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] > b[i];
	return 1;
}

/* K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;IgnoreUnknown=1 in any order. */
static void parse_args(struct cni_call *call, const char *args)
{
	char *copy = strdup(args ? args : ""), *save = NULL;

	for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			continue;
		*eq = '\0';
		if (!strcmp(kv, "K8S_POD_NAMESPACE"))
			snprintf(call->pod_namespace, sizeof(call->pod_namespace), "%s", eq + 1);
		else if (!strcmp(kv, "K8S_POD_NAME"))
			snprintf(call->pod_name, sizeof(call->pod_name), "%s", eq + 1);
		else if (!strcmp(kv, "K8S_POD_UID"))
			snprintf(call->pod_uid, sizeof(call->pod_uid), "%s", eq + 1);
	}
	free(copy);
}

/* A member by either spelling runtimes use ("hostPort" or "HostPort"). */
static json_t *either(const json_t *obj, const char *lower, const char *upper)
{
	json_t *v = json_object_get(obj, lower);

	return v ? v : json_object_get(obj, upper);
}

static int parse_port_mappings(struct cni_call *call, struct cni_error *err)
{
	json_t *list =
		   json_object_get(json_object_get(call->conf, "runtimeConfig"), "portMappings"),
	       *m;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > CNI_MAX_PORTS)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid portMappings",
				"runtimeConfig.portMappings must be a list of at most %d",
				CNI_MAX_PORTS);
	json_array_foreach(list, i, m)
	{
		struct cni_port_mapping *p = &call->ports[call->n_ports++];
		json_t *hp = either(m, "hostPort", "HostPort");
		json_t *cp = either(m, "containerPort", "ContainerPort");
		const char *proto = json_string_value(either(m, "protocol", "Protocol"));
		const char *ip = json_string_value(either(m, "hostIP", "HostIP"));

		if (!json_is_integer(hp) || !json_is_integer(cp) || json_integer_value(hp) < 1 ||
		    json_integer_value(hp) > 65535 || json_integer_value(cp) < 1 ||
		    json_integer_value(cp) > 65535)
			return cni_fail(
			    err, CNI_ERR_INVALID_CONFIG, "invalid port mapping",
			    "portMappings[%zu]: hostPort and containerPort are 1..65535", i);
		p->host_port = (int)json_integer_value(hp);
		p->container_port = (int)json_integer_value(cp);
		snprintf(p->protocol, sizeof(p->protocol), "%s", proto ? proto : "tcp");
		for (char *c = p->protocol; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		if (strcmp(p->protocol, "tcp") && strcmp(p->protocol, "udp") &&
		    strcmp(p->protocol, "sctp"))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid port mapping",
					"portMappings[%zu]: protocol %s", i, p->protocol);
		snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip ? ip : "");
	}
	return 0;
}

static const char *need_env(const char *name, struct cni_error *err)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		cni_fail(err, CNI_ERR_INVALID_ENV, "missing environment variable", "%s is not set",
			 name);
		return NULL;
	}
	return v;
}

int cni_read_call(struct cni_call *call, const char *stdin_text, struct cni_error *err)
{
	json_error_t jerr;
	json_t *mtu, *ipam;
	int supported = 0;

	memset(call, 0, sizeof(*call));
	call->command = getenv("CNI_COMMAND");
	if (!call->command || !*call->command)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "missing environment variable",
				"CNI_COMMAND is not set");
	if (!strcmp(call->command, "VERSION"))
		return 0; /* needs nothing else */
	call->conf = json_loads(stdin_text, 0, &jerr);
	if (!json_is_object(call->conf))
		return cni_fail(err, CNI_ERR_DECODE, "cannot decode the network configuration",
				"stdin, line %d: %s", jerr.line, jerr.text);
	call->version = json_string_value(json_object_get(call->conf, "cniVersion"));
	for (const char *const *v = cni_supported_versions; *v; v++)
		supported |= call->version && !strcmp(*v, call->version);
	if (!supported)
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI version",
				"cniVersion %s; supported: 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0",
				call->version ? call->version : "(none)");
	call->network = json_string_value(json_object_get(call->conf, "name"));
	if (!call->network || !*call->network)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"name\" is missing");
	call->socket = json_string_value(json_object_get(call->conf, "socket"));
	if (!call->socket)
		call->socket = DEFAULT_SOCKET;
	mtu = json_object_get(call->conf, "mtu");
	call->mtu = mtu ? (int)json_integer_value(mtu) : 1500;
	if (mtu && (!json_is_integer(mtu) || call->mtu < 576 || call->mtu > 65535))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"mtu\" must be an integer in 576..65535");
	call->path = getenv("CNI_PATH");
	if (!strcmp(call->command, "STATUS") || !strcmp(call->command, "GC")) {
		if (!cni_version_at_least(call->version, "1.1.0"))
			return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
					"incompatible CNI version", "%s needs cniVersion 1.1.0",
					call->command);
		return !strcmp(call->command, "GC") && !need_env("CNI_PATH", err) ? -1 : 0;
	}
	if (strcmp(call->command, "ADD") && strcmp(call->command, "DEL") &&
	    strcmp(call->command, "CHECK"))
		return cni_fail(err, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND", "%s",
				call->command);
	if (!strcmp(call->command, "CHECK") && !cni_version_at_least(call->version, "0.4.0"))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI version",
				"CHECK needs cniVersion 0.4.0 or later");
	ipam = json_object_get(call->conf, "ipam");
	if (!json_is_string(json_object_get(ipam, "type")))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"ipam\" with a \"type\" is required");
	if (!(call->container_id = need_env("CNI_CONTAINERID", err)) ||
	    !(call->ifname = need_env("CNI_IFNAME", err)) ||
	    !(call->path = need_env("CNI_PATH", err)))
		return -1;
	if (strlen(call->ifname) > 15)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME",
				"%s is longer than 15 characters", call->ifname);
	call->netns = getenv("CNI_NETNS");
	if (strcmp(call->command, "DEL") && (!call->netns || !*call->netns))
		return cni_fail(err, CNI_ERR_INVALID_ENV, "missing environment variable",
				"CNI_NETNS is not set");
	parse_args(call, getenv("CNI_ARGS"));
	return parse_port_mappings(call, err);
}
