// SPDX-License-Identifier: Apache-2.0
/* The runtime's call: environment variables and the network config on
 * stdin, checked before anything is done. A command checks what it uses:
 * DEL uses the network, the container id and interface, and nothing else,
 * so an MTU, port mappings or CNI_ARGS that ADD would refuse never keep a
 * DEL from succeeding; and an attachment ADD refuses was never made, so its
 * DEL succeeds with nothing to do. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include "cni.h"
#include "cubenetd_socket.h"

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
	/* Also mends a character the buffer's end cut in two. */
	cni_utf8_clean(err->msg);
	cni_utf8_clean(err->details);
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

/* KEY=VALUE pairs separated by ';', as libcni writes them and the
 * delegated plugins parse them: each pair has one '=' after a key. */
static int parse_args(struct cni_call *call, const char *args, struct cni_error *err)
{
	static const struct {
		const char *key;
		size_t offset, size;
	} known[] = {
	    {"K8S_POD_NAMESPACE", offsetof(struct cni_call, pod_namespace),
	     sizeof(call->pod_namespace)},
	    {"K8S_POD_NAME", offsetof(struct cni_call, pod_name), sizeof(call->pod_name)},
	    {"K8S_POD_UID", offsetof(struct cni_call, pod_uid), sizeof(call->pod_uid)},
	};
	const char *problem = cni_text_problem(args);
	int seen[3] = {0}, rc = 0;
	char *copy;

	if (problem)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS", "CNI_ARGS %s",
				problem);
	if (!*args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return cni_fail(err, CNI_ERR_IO, "out of memory", "reading CNI_ARGS");
	/* strsep, not strtok: an empty pair (";;", a trailing ';') is an error. */
	for (char *rest = copy, *kv; !rc && (kv = strsep(&rest, ";"));) {
		char *eq = strchr(kv, '=');

		if (!eq || eq == kv || strchr(eq + 1, '=')) {
			rc = cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
				      "CNI_ARGS: \"%s\" is not KEY=VALUE", kv);
			break;
		}
		*eq = '\0';
		for (size_t i = 0; !rc && i < sizeof(known) / sizeof(known[0]); i++) {
			if (strcmp(kv, known[i].key))
				continue;
			if (seen[i]++)
				rc = cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
					      "CNI_ARGS: %s is given twice", kv);
			else if (strlen(eq + 1) >= known[i].size)
				rc = cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
					      "CNI_ARGS: %s is longer than %zu characters", kv,
					      known[i].size - 1);
			else
				strcpy((char *)call + known[i].offset, eq + 1);
		}
	}
	free(copy);
	return rc;
}

/* A member by either spelling runtimes use ("hostPort" or "HostPort"). */
static json_t *either(const json_t *obj, const char *lower, const char *upper)
{
	json_t *v = json_object_get(obj, lower);

	return v ? v : json_object_get(obj, upper);
}

static int is_port(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 65535;
}

static int parse_port_mappings(struct cni_call *call, struct cni_error *err)
{
	json_t *runtime = json_object_get(call->conf, "runtimeConfig"), *list, *m;
	size_t i;

	if (runtime && !json_is_object(runtime))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid runtimeConfig",
				"runtimeConfig must be an object");
	list = json_object_get(runtime, "portMappings");
	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > CNI_MAX_PORTS)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid portMappings",
				"runtimeConfig.portMappings must be a list of at most %d",
				CNI_MAX_PORTS);
	json_array_foreach(list, i, m)
	{
		struct cni_port_mapping *p = &call->ports[call->n_ports++];
		json_t *proto = either(m, "protocol", "Protocol");
		json_t *ip = either(m, "hostIP", "HostIP");

		if (!json_is_object(m) || !is_port(either(m, "hostPort", "HostPort")) ||
		    !is_port(either(m, "containerPort", "ContainerPort")))
			return cni_fail(
			    err, CNI_ERR_INVALID_CONFIG, "invalid port mapping",
			    "portMappings[%zu]: hostPort and containerPort are 1..65535", i);
		p->host_port = (int)json_integer_value(either(m, "hostPort", "HostPort"));
		p->container_port =
		    (int)json_integer_value(either(m, "containerPort", "ContainerPort"));
		if (proto &&
		    (!json_is_string(proto) || json_string_length(proto) >= sizeof(p->protocol)))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid port mapping",
					"portMappings[%zu]: protocol is tcp, udp or sctp", i);
		snprintf(p->protocol, sizeof(p->protocol), "%s",
			 proto ? json_string_value(proto) : "tcp");
		for (char *c = p->protocol; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		if (strcmp(p->protocol, "tcp") && strcmp(p->protocol, "udp") &&
		    strcmp(p->protocol, "sctp"))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid port mapping",
					"portMappings[%zu]: protocol %s", i, p->protocol);
		/* An empty hostIP is podman's "any address". */
		if (ip && (!json_is_string(ip) || (json_string_length(ip) &&
						   !cni_address_family(json_string_value(ip), 0))))
			return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid port mapping",
					"portMappings[%zu]: hostIP is not an IP address", i);
		snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip ? json_string_value(ip) : "");
		for (size_t j = 0; j + 1 < call->n_ports; j++)
			if (call->ports[j].host_port == p->host_port &&
			    !strcmp(call->ports[j].protocol, p->protocol))
				return cni_fail(
				    err, CNI_ERR_INVALID_CONFIG, "invalid port mapping",
				    "portMappings[%zu]: host port %d/%s is mapped twice", i,
				    p->host_port, p->protocol);
	}
	return 0;
}

/* cni.dev/valid-attachments: what GC keeps. Without a list that makes
 * sense, GC cannot tell stale from live and removes nothing. */
static int check_valid_attachments(struct cni_call *call, struct cni_error *err)
{
	const json_t *list = json_object_get(call->conf, "cni.dev/valid-attachments"), *a;
	size_t i;

	if (!json_is_array(list))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"GC needs cni.dev/valid-attachments, a list of "
				"{containerID, ifname}");
	json_array_foreach(list, i, a)
	{
		const char *cid = json_string_value(json_object_get(a, "containerID"));
		const char *ifn = json_string_value(json_object_get(a, "ifname"));
		const char *problem = !cid   ? "has no containerID string"
				      : !ifn ? "has no ifname string"
					     : cni_container_id_problem(cid);

		if (!problem && cni_ifname_problem(ifn))
			problem = "has an ifname no interface can have";
		if (problem)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG,
					"invalid network configuration",
					"cni.dev/valid-attachments[%zu] %s", i, problem);
	}
	call->valid = list;
	return 0;
}

static int check_mtu(struct cni_call *call, struct cni_error *err)
{
	json_t *mtu = json_object_get(call->conf, "mtu");

	call->mtu = 1500;
	if (!mtu)
		return 0;
	/* Compared as given: a cast first would take 2^32 + 1500 for 1500. */
	if (!json_is_integer(mtu) || json_integer_value(mtu) < 576 ||
	    json_integer_value(mtu) > 65535)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"mtu\" must be an integer in 576..65535");
	call->mtu = (int)json_integer_value(mtu);
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

/* What every command but VERSION needs from the config. */
static int check_network(struct cni_call *call, const char *stdin_text, size_t len,
			 struct cni_error *err)
{
	json_error_t jerr;
	json_t *version, *name, *socket, *ipam, *type;
	const char *problem;
	int supported = 0;

	if (len > CNI_MAX_CONFIG)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"stdin holds more than %d bytes", CNI_MAX_CONFIG);
	/* The length, not the first NUL: bytes after one are not ignored. */
	call->conf = json_loadb(stdin_text, len, 0, &jerr);
	if (!call->conf)
		return cni_fail(err, CNI_ERR_DECODE, "cannot decode the network configuration",
				"stdin, line %d: %s", jerr.line, jerr.text);
	if (!json_is_object(call->conf))
		return cni_fail(err, CNI_ERR_DECODE, "cannot decode the network configuration",
				"stdin is JSON but not an object");
	version = json_object_get(call->conf, "cniVersion");
	if (version && !json_is_string(version))
		return cni_fail(err, CNI_ERR_DECODE, "cannot decode the network configuration",
				"\"cniVersion\" must be a string");
	for (const char *const *v = cni_supported_versions; version && *v; v++)
		supported |= !strcmp(*v, json_string_value(version));
	if (!supported)
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI version",
				"cniVersion %.32s; supported: 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0",
				version ? json_string_value(version) : "(none)");
	call->version = json_string_value(version);
	name = json_object_get(call->conf, "name");
	problem = !json_is_string(name) ? "must be a string"
					: cni_network_name_problem(json_string_value(name));
	if (problem)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"name\" %s", problem);
	call->network = json_string_value(name);
	socket = json_object_get(call->conf, "socket");
	if (socket && (!json_is_string(socket) || json_string_value(socket)[0] != '/' ||
		       json_string_length(socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"socket\" must be an absolute path shorter than %zu bytes",
				sizeof(((struct sockaddr_un *)0)->sun_path));
	call->socket = socket ? json_string_value(socket) : CUBENETD_SOCKET;
	ipam = json_object_get(call->conf, "ipam");
	type = json_object_get(ipam, "type");
	if (!json_is_object(ipam) || !json_is_string(type))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"ipam\" with a \"type\" is required");
	if ((problem = cni_plugin_name_problem(json_string_value(type))))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"ipam \"type\" %s", problem);
	return 0;
}

/* CNI_CONTAINERID and CNI_IFNAME: set, and an attachment ADD can make. */
static int check_attachment(struct cni_call *call, struct cni_error *err)
{
	static const char too_long[] =
	    "is longer than the " CNI_STR(CNI_MAX_CONTAINER_ID) " characters cubenetd keeps";
	const char *problem;

	if (!(call->container_id = need_env("CNI_CONTAINERID", err)) ||
	    !(call->ifname = need_env("CNI_IFNAME", err)))
		return -1;
	problem = cni_container_id_problem(call->container_id);
	if (!problem && strlen(call->container_id) > CNI_MAX_CONTAINER_ID)
		problem = too_long;
	if (problem) {
		if (!strcmp(call->command, "DEL"))
			return call->never_attached = 1, 0;
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_CONTAINERID",
				"CNI_CONTAINERID %s", problem);
	}
	if ((problem = cni_ifname_problem(call->ifname))) {
		if (!strcmp(call->command, "DEL"))
			return call->never_attached = 1, 0;
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME",
				"CNI_IFNAME \"%s\" %s", call->ifname, problem);
	}
	return 0;
}

int cni_parse_call(struct cni_call *call, const char *stdin_text, size_t len, struct cni_error *err)
{
	const char *args, *problem;

	memset(call, 0, sizeof(*call));
	call->netns_fd = -1;
	call->command = getenv("CNI_COMMAND");
	if (!call->command || !*call->command)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "missing environment variable",
				"CNI_COMMAND is not set");
	if (strcmp(call->command, "ADD") && strcmp(call->command, "DEL") &&
	    strcmp(call->command, "CHECK") && strcmp(call->command, "GC") &&
	    strcmp(call->command, "STATUS"))
		return cni_fail(err, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND",
				"CNI_COMMAND %.64s", call->command);
	if (check_network(call, stdin_text, len, err))
		return -1;
	call->path = getenv("CNI_PATH");
	if (!strcmp(call->command, "STATUS") || !strcmp(call->command, "GC")) {
		if (!cni_version_at_least(call->version, "1.1.0"))
			return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
					"incompatible CNI version", "%s needs cniVersion 1.1.0",
					call->command);
		if (!strcmp(call->command, "STATUS"))
			return 0;
		return !need_env("CNI_PATH", err) || check_valid_attachments(call, err) ? -1 : 0;
	}
	if (!strcmp(call->command, "CHECK") && !cni_version_at_least(call->version, "0.4.0"))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI version",
				"CHECK needs cniVersion 0.4.0 or later");
	if (check_attachment(call, err))
		return -1;
	if (call->never_attached)
		return 0;
	if (!(call->path = need_env("CNI_PATH", err)))
		return -1;
	/* ADD refuses malformed args. CHECK and DEL do not use them and pass
	 * them on to IPAM only when well-formed: the delegated plugins refuse
	 * malformed ones, and a DEL must not fail on them. */
	args = getenv("CNI_ARGS");
	if (args) {
		struct cni_error args_err = {0};

		if (!parse_args(call, args, &args_err))
			call->args = args;
		else if (!strcmp(call->command, "ADD"))
			return *err = args_err, -1;
	}
	call->netns = getenv("CNI_NETNS");
	if (!strcmp(call->command, "DEL"))
		return 0;
	if (!call->netns || !*call->netns)
		return cni_fail(err, CNI_ERR_INVALID_ENV, "missing environment variable",
				"CNI_NETNS is not set");
	if ((problem = cni_text_problem(call->netns)))
		return cni_fail(err, CNI_ERR_INVALID_ENV, "invalid CNI_NETNS", "CNI_NETNS %s",
				problem);
	return check_mtu(call, err) || parse_port_mappings(call, err) ? -1 : 0;
}

int cni_read_call(struct cni_call *call, const char *stdin_text, size_t len, struct cni_error *err)
{
	if (cni_parse_call(call, stdin_text, len, err))
		return -1;
	/* ADD and CHECK use the netns: the one check that looks outside the call. */
	if (!strcmp(call->command, "ADD") || !strcmp(call->command, "CHECK")) {
		call->netns_fd = cni_open_netns(call->netns, err);
		if (call->netns_fd < 0)
			return -1;
	}
	return 0;
}

void cni_call_free(struct cni_call *call)
{
	if (call->netns_fd >= 0)
		close(call->netns_fd);
	json_decref(call->conf);
}
