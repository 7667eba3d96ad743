// SPDX-License-Identifier: Apache-2.0
/* Delegating addresses to the IPAM plugin the config names (host-local):
 * found on CNI_PATH, run with the same environment and config, its result
 * or its error taken as the spec says. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cni.h"

static int find_plugin(const char *path_list, const char *type, char *out, size_t size)
{
	char *copy = strdup(path_list ? path_list : ""), *save = NULL;
	int found = 0;

	for (char *dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		/* A path cut short could name another file. */
		if ((size_t)snprintf(out, size, "%s/%s", dir, type) >= size)
			continue;
		found = access(out, X_OK) == 0;
	}
	free(copy);
	return found ? 0 : -1;
}

/* Run plugin with CNI_COMMAND=command and input on stdin; its stdout in *out. */
static int run(const struct cni_call *call, const char *plugin, const char *command,
	       const char *input, char **out, int *status)
{
	int in[2], res[2];
	size_t len = 0, cap = 4096;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(res, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(res[1], 1);
		/* The attachment is the call's (GC asks for others than its own). */
		setenv("CNI_COMMAND", command, 1);
		if (call->container_id)
			setenv("CNI_CONTAINERID", call->container_id, 1);
		if (call->ifname)
			setenv("CNI_IFNAME", call->ifname, 1);
		setenv("CNI_NETNS", call->netns ? call->netns : "", 1);
		/* host-local refuses args it does not know (K8S_POD_*) unless told. */
		if (!call->args || !*call->args) {
			unsetenv("CNI_ARGS");
		} else if (!strstr(call->args, "IgnoreUnknown=")) {
			char *with = malloc(strlen(call->args) + 32);

			if (with) {
				sprintf(with, "IgnoreUnknown=1;%s", call->args);
				setenv("CNI_ARGS", with, 1);
			}
		}
		execl(plugin, plugin, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	/* Configs are small: the pipe takes them whole before the child reads. */
	if (write(in[1], input, strlen(input)) < 0)
		(void)0; /* the child's exit status says what happened */
	close(in[1]);
	*out = malloc(cap);
	for (ssize_t n; *out && (n = read(res[0], *out + len, cap - len - 1)) > 0;) {
		len += (size_t)n;
		if (cap - len < 1024) {
			char *grown = realloc(*out, cap *= 2);

			if (!grown)
				break;
			*out = grown;
		}
	}
	if (*out)
		(*out)[len] = '\0';
	close(res[0]);
	waitpid(pid, status, 0);
	return *out ? 0 : -ENOMEM;
}

/* The newest version both we and the plugin speak, no newer than ours
 * (host-local 1.1 stops at 1.0.0, whose result is the same as 1.1.0's). */
static const char *common_version(const struct cni_call *call, const char *plugin, const char *ours)
{
	static char chosen[16];
	char *out = NULL;
	json_t *reply = NULL, *s;
	int status, found = 0;
	size_t i;

	snprintf(chosen, sizeof(chosen), "%s", ours);
	if (!run(call, plugin, "VERSION", "{}", &out, &status))
		reply = json_loads(out, 0, NULL);
	json_array_foreach(json_object_get(reply, "supportedVersions"), i, s)
	{
		const char *v = json_string_value(s);

		if (!v || !cni_version_at_least(v, "0.3.0") || !cni_version_at_least(ours, v))
			continue;
		if (!found || cni_version_at_least(v, chosen))
			snprintf(chosen, sizeof(chosen), "%s", v);
		found = 1;
	}
	json_decref(reply);
	free(out);
	return chosen;
}

int cni_ipam_exec(const struct cni_call *call, const char *command, struct cni_ipam *out,
		  struct cni_error *err)
{
	const char *type =
	    json_string_value(json_object_get(json_object_get(call->conf, "ipam"), "type"));
	char plugin[PATH_MAX], *input = NULL, *output = NULL;
	json_t *conf = json_deep_copy(call->conf), *result = NULL, *ips, *ip;
	int status = 0, rc = -1;
	size_t i;

	if (out)
		memset(out, 0, sizeof(*out));
	if (find_plugin(call->path, type, plugin, sizeof(plugin))) {
		cni_fail(err, CNI_ERR_INVALID_CONFIG, "IPAM plugin not found",
			 "no executable '%s' in CNI_PATH (%s)", type, call->path ? call->path : "");
		goto cleanup;
	}
	/* Our version first; only a plugin that refuses it (code 1) is asked
	 * which it speaks, so the common case costs one run. */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt) {
			json_object_set_new(
			    conf, "cniVersion",
			    json_string(common_version(call, plugin, call->version)));
			json_decref(result);
			free(input);
			free(output);
			result = NULL;
			output = NULL;
		}
		input = json_dumps(conf, JSON_COMPACT);
		if (run(call, plugin, command, input, &output, &status)) {
			cni_fail(err, CNI_ERR_IO, "cannot run the IPAM plugin", "%s", plugin);
			goto cleanup;
		}
		result = json_loads(output, 0, NULL);
		if (json_integer_value(json_object_get(result, "code")) !=
		    CNI_ERR_INCOMPATIBLE_VERSION)
			break;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		json_t *code = json_object_get(result, "code");
		const char *msg = json_string_value(json_object_get(result, "msg"));
		const char *details = json_string_value(json_object_get(result, "details"));

		cni_fail(err, json_is_integer(code) ? (int)json_integer_value(code) : CNI_ERR_IO,
			 msg ? msg : "the IPAM plugin failed", "%s %s: %s", type, command,
			 details ? details : output);
		goto cleanup;
	}
	if (!out || strcmp(command, "ADD")) {
		rc = 0;
		goto cleanup;
	}
	ips = json_object_get(result, "ips");
	json_array_foreach(ips, i, ip)
	{
		const char *addr = json_string_value(json_object_get(ip, "address"));
		const char *gw = json_string_value(json_object_get(ip, "gateway"));
		struct cni_ip *o;

		if (!addr || out->n_ips == CNI_MAX_IPS)
			continue;
		o = &out->ips[out->n_ips++];
		snprintf(o->address, sizeof(o->address), "%s", addr);
		snprintf(o->gateway, sizeof(o->gateway), "%s", gw ? gw : "");
		o->family = strchr(addr, ':') ? 6 : 4;
	}
	if (!out->n_ips) {
		cni_fail(err, CNI_ERR_IO, "IPAM gave no address", "%s", output);
		goto cleanup;
	}
	out->routes = json_incref(json_object_get(result, "routes"));
	out->dns = json_incref(json_object_get(result, "dns"));
	rc = 0;
cleanup:
	json_decref(result);
	json_decref(conf);
	free(input);
	free(output);
	return rc;
}

int cni_ipam_speaks(const struct cni_call *call, const char *version, struct cni_error *err)
{
	const char *type =
	    json_string_value(json_object_get(json_object_get(call->conf, "ipam"), "type"));
	char plugin[PATH_MAX], *out = NULL;
	json_t *reply = NULL, *v;
	int status, found = 0;
	size_t i;

	if (find_plugin(call->path, type, plugin, sizeof(plugin)))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "IPAM plugin not found",
				"no executable '%s' in CNI_PATH (%s)", type,
				call->path ? call->path : "");
	if (!run(call, plugin, "VERSION", "{}", &out, &status))
		reply = json_loads(out, 0, NULL);
	json_array_foreach(json_object_get(reply, "supportedVersions"), i, v) found |=
	    json_is_string(v) && !strcmp(json_string_value(v), version);
	json_decref(reply);
	free(out);
	return found;
}

void cni_ipam_free(struct cni_ipam *ipam)
{
	json_decref(ipam->routes);
	json_decref(ipam->dns);
	ipam->routes = ipam->dns = NULL;
}
