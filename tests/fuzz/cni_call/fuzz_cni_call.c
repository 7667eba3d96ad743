// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the CNI plugin's reading of a call (config.c, validate.c,
 * result.c): the CNI_* environment, CNI_ARGS and the network config on
 * stdin, with prevResult for CHECK. What must hold besides no crash:
 *
 *  - a refused call has one of the spec's error codes and an error JSON
 *    that can be written (its texts are UTF-8);
 *  - an accepted call holds only what the plugin goes on to use safely:
 *    a supported version, names and ids that pass their own checks, ports
 *    in range and unique, an MTU in range, a socket path that fits, and
 *    strings the registry's JSON body can carry;
 *  - CHECK's prevResult is either refused with the config's error code or
 *    has addresses that parse, of the family of their gateway.
 *
 * Input: lines NAME=VALUE for the environment (CNI_COMMAND, CNI_CONTAINERID,
 * CNI_IFNAME, CNI_NETNS, CNI_PATH, CNI_ARGS), an empty line, then stdin.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "cni.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "cni_call: " __VA_ARGS__);                                         \
		fprintf(stderr, "\n");                                                             \
		abort();                                                                           \
	} while (0)

static const char *const env_names[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_IFNAME",
					"CNI_NETNS",   "CNI_PATH",	  "CNI_ARGS"};
#define N_ENV (sizeof(env_names) / sizeof(env_names[0]))

static int spec_code(int code)
{
	return (code >= 1 && code <= 7) || code == 11 || code == 50 || code == 51;
}

static void check_error(const struct cni_call *call, const struct cni_error *err)
{
	json_t *e;
	char *text;

	if (!spec_code(err->code))
		FAIL("refused with code %d: %s: %s", err->code, err->msg, err->details);
	e = json_pack("{s:s, s:i, s:s, s:s}", "cniVersion", call->version ? call->version : "1.1.0",
		      "code", err->code, "msg", err->msg, "details", err->details);
	text = e ? json_dumps(e, JSON_COMPACT) : NULL;
	if (!text)
		FAIL("the error cannot be written: %s: %s", err->msg, err->details);
	free(text);
	json_decref(e);
}

static void check_text(const char *what, const char *s)
{
	json_t *j;

	if (!s)
		return;
	j = json_string(s);
	if (!j)
		FAIL("%s '%s' cannot go into the registry's JSON", what, s);
	json_decref(j);
}

static int is(const struct cni_call *call, const char *command)
{
	return !strcmp(call->command, command);
}

static void check_ports(const struct cni_call *call)
{
	if (call->n_ports > CNI_MAX_PORTS)
		FAIL("%zu port mappings", call->n_ports);
	for (size_t i = 0; i < call->n_ports; i++) {
		const struct cni_port_mapping *p = &call->ports[i];

		if (p->host_port < 1 || p->host_port > 65535 || p->container_port < 1 ||
		    p->container_port > 65535)
			FAIL("port mapping %zu: %d -> %d", i, p->host_port, p->container_port);
		if (strcmp(p->protocol, "tcp") && strcmp(p->protocol, "udp") &&
		    strcmp(p->protocol, "sctp"))
			FAIL("port mapping %zu: protocol '%s'", i, p->protocol);
		if (p->host_ip[0] && !cni_address_family(p->host_ip, 0))
			FAIL("port mapping %zu: host ip '%s'", i, p->host_ip);
		for (size_t j = 0; j < i; j++)
			if (call->ports[j].host_port == p->host_port &&
			    !strcmp(call->ports[j].protocol, p->protocol))
				FAIL("host port %d/%s twice", p->host_port, p->protocol);
	}
}

/* An attachment ADD could make: its id and interface pass their checks. */
static void check_attachment(const struct cni_call *call)
{
	char host[16];

	if (!call->container_id || cni_container_id_problem(call->container_id) ||
	    strlen(call->container_id) > CNI_MAX_CONTAINER_ID)
		FAIL("container id '%s' accepted", call->container_id);
	if (!call->ifname || cni_ifname_problem(call->ifname))
		FAIL("interface '%s' accepted", call->ifname);
	cni_host_ifname(call, host);
	if (cni_ifname_problem(host))
		FAIL("the node side '%s' of %s/%s is no interface name", host, call->container_id,
		     call->ifname);
	check_text("container id", call->container_id);
	check_text("interface", call->ifname);
}

static void check_prev_result(const struct cni_call *call)
{
	const json_t *prev = json_object_get(call->conf, "prevResult"), *e;
	struct cni_error err = {0};
	size_t i;

	if (!prev)
		return;
	if (cni_result_shape(prev, "prevResult", CNI_ERR_INVALID_CONFIG, &err)) {
		if (err.code != CNI_ERR_INVALID_CONFIG)
			FAIL("prevResult refused with code %d", err.code);
		check_error(call, &err);
		return;
	}
	/* What link.c and registry.c read of it. */
	json_array_foreach(json_object_get(prev, "ips"), i, e)
	{
		const char *addr = json_string_value(json_object_get(e, "address"));
		const char *gw = json_string_value(json_object_get(e, "gateway"));
		int family = addr ? cni_address_family(addr, 1) : 0;

		if (!family ||
		    (json_object_get(e, "gateway") && (!gw || cni_address_family(gw, 0) != family)))
			FAIL("prevResult.ips[%zu] accepted", i);
	}
	json_array_foreach(json_object_get(prev, "routes"), i, e)
	{
		const char *dst = json_string_value(json_object_get(e, "dst"));

		if (!dst || !cni_address_family(dst, 1))
			FAIL("prevResult.routes[%zu] accepted", i);
	}
}

static void check_call(const struct cni_call *call)
{
	int supported = 0;

	for (const char *const *v = cni_supported_versions; *v; v++)
		supported |= call->version && !strcmp(*v, call->version);
	if (!supported)
		FAIL("version '%s' accepted", call->version);
	if (!call->network || cni_network_name_problem(call->network))
		FAIL("network '%s' accepted", call->network);
	check_text("network", call->network);
	if (!call->socket || call->socket[0] != '/' ||
	    strlen(call->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		FAIL("socket '%s' accepted", call->socket);
	if (is(call, "GC")) {
		const json_t *a;
		size_t i;

		if (!json_is_array(call->valid))
			FAIL("GC without a list of valid attachments");
		json_array_foreach(call->valid, i, a)
		{
			const char *cid = json_string_value(json_object_get(a, "containerID"));
			const char *ifn = json_string_value(json_object_get(a, "ifname"));

			if (!cid || !ifn || cni_container_id_problem(cid) ||
			    cni_ifname_problem(ifn))
				FAIL("valid-attachments[%zu] accepted", i);
		}
		return;
	}
	if (is(call, "STATUS") || (is(call, "DEL") && call->never_attached))
		return;
	check_attachment(call);
	if (!call->path || !call->path[0])
		FAIL("no CNI_PATH accepted");
	if (is(call, "DEL"))
		return;
	if (!call->netns || !call->netns[0] || cni_text_problem(call->netns))
		FAIL("netns '%s' accepted", call->netns);
	check_text("netns", call->netns);
	if (call->mtu < 576 || call->mtu > 65535)
		FAIL("MTU %d accepted", call->mtu);
	check_ports(call);
	if (is(call, "ADD") && getenv("CNI_ARGS") && !call->args)
		FAIL("ADD with CNI_ARGS it could not read");
	check_text("pod namespace", call->pod_namespace);
	check_text("pod name", call->pod_name);
	check_text("pod uid", call->pod_uid);
	if (is(call, "CHECK"))
		check_prev_result(call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *p = text, *nl;
	struct cni_call call;
	struct cni_error err = {0};
	size_t len;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < N_ENV; i++)
		unsetenv(env_names[i]);
	/* The environment: NAME=VALUE lines up to an empty one. */
	while ((nl = memchr(p, '\n', size - (size_t)(p - text))) && nl != p) {
		char *eq = memchr(p, '=', (size_t)(nl - p));

		*nl = '\0';
		if (eq) {
			*eq = '\0';
			for (size_t i = 0; i < N_ENV; i++)
				if (!strcmp(p, env_names[i]))
					setenv(p, eq + 1, 1);
		}
		p = nl + 1;
	}
	if (nl)
		p = nl + 1;
	len = size - (size_t)(p - text); /* stdin may hold NUL bytes */
	if (cni_parse_call(&call, p, len, &err))
		check_error(&call, &err);
	else
		check_call(&call);
	cni_call_free(&call);
	free(text);
	return 0;
}
