// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: what an ADD the CNI plugin accepts registers with cubenetd.
 * The call (environment and stdin, as for cni_call) and the IPAM answer
 * are read by the plugin's own code; the PUT it would send (registry.c) is
 * then taken as cubenetd takes it (restconf_path.c, restconf_check_body(),
 * ds_edit() on the daemon's schema). What the plugin accepts, the daemon's
 * schema must accept too: otherwise an ADD fails late, after the veth and
 * the addresses were made, for input that could have been refused first.
 *
 * Input: the cni_call format, then a NUL byte and the IPAM plugin's
 * stdout (without one, a valid answer with one address of each family).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cni.h"
#include "datastore.h"
#include "restconf_path.h"
#include "restconf_request.h"
#include "service_registry.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "cni_register: " __VA_ARGS__);                                     \
		fprintf(stderr, "\n");                                                             \
		abort();                                                                           \
	} while (0)

#define DATA_PREFIX "/restconf/data/"

static const char *const env_names[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_IFNAME",
					"CNI_NETNS",   "CNI_PATH",	  "CNI_ARGS"};
static const char default_ipam[] =
    "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.244.0.5/24\",\"gateway\":"
    "\"10.244.0.1\"},{\"address\":\"fd00::5/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],"
    "\"dns\":{}}";

static struct datastore ds;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char **modules = services_modules();
	struct cn_error err = {0};

	(void)argc;
	(void)argv;
	if (!modules || ds_init(&ds, CUBENET_YANG_DIR, modules, NULL, &err) ||
	    services_declare(&ds, &err)) {
		fprintf(stderr, "cni_register: %s\n", err.message);
		exit(1);
	}
	free(modules);
	return 0;
}

/* The environment lines; returns where stdin starts. */
static char *set_env(char *text, size_t size)
{
	char *p = text, *nl;

	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	while ((nl = memchr(p, '\n', size - (size_t)(p - text))) && nl != p) {
		char *eq = memchr(p, '=', (size_t)(nl - p));

		*nl = '\0';
		if (eq) {
			*eq = '\0';
			for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
				if (!strcmp(p, env_names[i]))
					setenv(p, eq + 1, 1);
		}
		p = nl + 1;
	}
	return nl ? nl + 1 : p;
}

static void register_pod(const struct cni_call *call, const struct cni_ipam *ipam)
{
	json_t *body = cni_registry_body(call, ipam, "02:00:00:00:00:02");
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, path[600], xpath[1024];
	struct restconf_request req = {0};
	const struct lysc_node *snode;
	struct cn_error err = {0};
	char new_path[8];
	int created;

	if (!text)
		FAIL("no registry body for %s/%s", call->container_id, call->ifname);
	cni_registry_path(call, path, sizeof(path));
	if (strncmp(path, DATA_PREFIX, strlen(DATA_PREFIX)))
		FAIL("the registry's path %s is no data resource", path);
	if (restconf_path_to_xpath(ds.ctx, path + strlen(DATA_PREFIX), xpath, sizeof(xpath), &snode,
				   &err))
		FAIL("cubenetd refuses the path %s: %s", path, err.message);
	req.body = text;
	req.len = strlen(text);
	if (restconf_check_body(&req, &err))
		FAIL("cubenetd refuses the body of %s: %s\n%s", path, err.message, text);
	lyd_free_all(ds.running);
	ds.running = NULL;
	if (ds_edit(&ds, DS_REPLACE, xpath, text, &created, new_path, sizeof(new_path), &err))
		FAIL("cubenetd refuses what ADD registers: %s (%s)\n%s", err.message, err.path,
		     text);
	free(text);
	json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *in, *nul;
	const char *output;
	struct cni_call call;
	struct cni_ipam ipam;
	struct cni_error err = {0};
	json_t *result;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nul = memchr(text, '\0', size);
	output = nul ? nul + 1 : default_ipam;
	in = set_env(text, nul ? (size_t)(nul - text) : size);
	if (getenv("CNI_COMMAND") && !strcmp(getenv("CNI_COMMAND"), "ADD")) {
		if (!cni_parse_call(&call, in, strlen(in), &err)) {
			result = json_loads(output, 0, NULL);
			if (!cni_ipam_answer("host-local", "ADD", result, output, 0, &ipam, &err)) {
				register_pod(&call, &ipam);
				cni_ipam_free(&ipam);
			}
			json_decref(result);
		}
		cni_call_free(&call);
	}
	free(text);
	return 0;
}
