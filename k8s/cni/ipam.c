// SPDX-License-Identifier: Apache-2.0
/* Delegating addresses to the IPAM plugin the config names (host-local):
 * found on CNI_PATH, run with the same environment and config, its result
 * or its error taken as the spec says. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cni.h"

/* More than any IPAM result needs; a plugin that writes more is stopped. */
#define IPAM_OUTPUT_MAX (1 << 20)

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

static void exec_plugin(const struct cni_call *call, const char *plugin, const char *command)
{
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
	signal(SIGPIPE, SIG_DFL);
	execl(plugin, plugin, (char *)NULL);
	printf("{\"code\":%d,\"msg\":\"cannot run the IPAM plugin\",\"details\":\"%s\"}",
	       CNI_ERR_IO, strerror(errno));
	fflush(stdout);
	_exit(127);
}

/* Run plugin with CNI_COMMAND=command and input on stdin; its stdout in
 * *out. Input and output flow at once, so neither side waits on a full pipe
 * for the other. -EFBIG: the plugin wrote more than IPAM_OUTPUT_MAX. */
static int run(const struct cni_call *call, const char *plugin, const char *command,
	       const char *input, char **out, int *status)
{
	size_t len = 0, cap = 4096, sent = 0, size = strlen(input);
	int in[2], res[2], rc = 0;
	struct pollfd fds[2];
	pid_t pid;

	*out = NULL;
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(res, O_CLOEXEC)) {
		rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(res[1], 1);
		exec_plugin(call, plugin, command);
	}
	close(in[0]);
	close(res[1]);
	if (pid < 0) {
		rc = -errno;
		close(in[1]);
		close(res[0]);
		return rc;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fds[0] = (struct pollfd){.fd = size ? in[1] : -1, .events = POLLOUT};
	fds[1] = (struct pollfd){.fd = res[0], .events = POLLIN};
	if (!size)
		close(in[1]);
	*out = malloc(cap);
	if (!*out)
		rc = -ENOMEM;
	while (!rc && fds[1].fd >= 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno != EINTR)
				rc = -errno;
			continue;
		}
		if (fds[0].revents) {
			ssize_t n = write(in[1], input + sent, size - sent);

			if (n > 0)
				sent += (size_t)n;
			/* A plugin that stops reading has all it wants. */
			if ((n < 0 && errno != EAGAIN) || sent == size) {
				close(in[1]);
				fds[0].fd = -1;
			}
		}
		if (fds[1].revents) {
			ssize_t n = read(res[0], *out + len, cap - len - 1);

			if (n <= 0) {
				if (n == 0 || errno != EINTR)
					fds[1].fd = -1;
				continue;
			}
			len += (size_t)n;
			if (len > IPAM_OUTPUT_MAX) {
				rc = -EFBIG;
			} else if (cap - len < 1024) {
				char *grown = realloc(*out, cap *= 2);

				if (!grown)
					rc = -ENOMEM;
				else
					*out = grown;
			}
		}
	}
	if (fds[0].fd >= 0)
		close(in[1]);
	close(res[0]);
	if (rc)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (!*out)
		return -ENOMEM;
	(*out)[len] = '\0';
	return rc;
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

/* The plugin's error as ours: its code if it is one (1 and up), else I/O. */
static void take_error(const json_t *result, const char *type, const char *command,
		       const char *output, struct cni_error *err)
{
	json_t *code = json_object_get(result, "code");
	const char *msg = json_string_value(json_object_get(result, "msg"));
	const char *details = json_string_value(json_object_get(result, "details"));
	int valid = json_is_integer(code) && json_integer_value(code) >= 1 &&
		    json_integer_value(code) <= INT_MAX;

	cni_fail(err, valid ? (int)json_integer_value(code) : CNI_ERR_IO,
		 msg ? msg : "the IPAM plugin failed", "%s %s: %s", type, command,
		 details ? details : output);
}

/* Whether two valid addresses are one, whatever their prefixes or
 * spelling: a pod holds each once. */
static int same_address(const struct cni_ip *a, const struct cni_ip *b)
{
	unsigned char x[16], y[16];
	size_t size = cni_address_bytes(a->address, x, NULL);

	return size && cni_address_bytes(b->address, y, NULL) == size && !memcmp(x, y, size);
}

/* The addresses, routes and DNS of IPAM's ADD result, which must make sense
 * before anything is built from them. */
static int take_result(const json_t *result, const char *output, struct cni_ipam *out,
		       struct cni_error *err)
{
	const json_t *ips = json_object_get(result, "ips"), *ip;
	const char *problem, *which;
	size_t i;

	if (cni_result_shape(result, "the IPAM result", CNI_ERR_IO, err))
		return -1;
	if (!json_array_size(ips) || json_array_size(ips) > CNI_MAX_IPS)
		return cni_fail(err, CNI_ERR_IO, "invalid IPAM result",
				"%zu addresses, not 1 to %d: %.200s", json_array_size(ips),
				CNI_MAX_IPS, output);
	json_array_foreach(ips, i, ip)
	{
		const char *addr = json_string_value(json_object_get(ip, "address"));
		const char *gw = json_string_value(json_object_get(ip, "gateway"));
		struct cni_ip *o = &out->ips[out->n_ips++];

		snprintf(o->address, sizeof(o->address), "%s", addr);
		snprintf(o->gateway, sizeof(o->gateway), "%s", gw ? gw : "");
		o->family = cni_address_family(addr, 1);
		if ((problem = cni_ip_problem(o, &which)))
			return cni_fail(err, CNI_ERR_IO, "invalid IPAM result", "ips[%zu].%s %s %s",
					i, which, !strcmp(which, "address") ? addr : gw, problem);
		for (size_t j = 0; j + 1 < out->n_ips; j++)
			if (same_address(&out->ips[j], o))
				return cni_fail(err, CNI_ERR_IO, "invalid IPAM result",
						"ips[%zu].address %s is ips[%zu]'s again", i, addr,
						j);
	}
	out->routes = json_incref(json_object_get(result, "routes"));
	out->dns = json_incref(json_object_get(result, "dns"));
	return 0;
}

int cni_ipam_answer(const char *type, const char *command, const json_t *result, const char *output,
		    int status, struct cni_ipam *out, struct cni_error *err)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		take_error(result, type, command, output, err);
		return -1;
	}
	if (!out || strcmp(command, "ADD"))
		return 0;
	memset(out, 0, sizeof(*out));
	if (!result)
		return cni_fail(err, CNI_ERR_DECODE, "invalid IPAM result",
				"%s ADD wrote no JSON: %.200s", type, output);
	if (!take_result(result, output, out, err))
		return 0;
	cni_ipam_free(out);
	return -1;
}

int cni_ipam_exec(const struct cni_call *call, const char *command, struct cni_ipam *out,
		  struct cni_error *err)
{
	const char *type =
	    json_string_value(json_object_get(json_object_get(call->conf, "ipam"), "type"));
	char plugin[PATH_MAX], *input = NULL, *output = NULL;
	json_t *conf = json_deep_copy(call->conf), *result = NULL;
	int status = 0, rc = -1, ran;

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
		ran = input ? run(call, plugin, command, input, &output, &status) : -ENOMEM;
		if (ran == -EFBIG) {
			cni_fail(err, CNI_ERR_IO, "invalid IPAM result",
				 "%s %s wrote more than %d bytes", type, command, IPAM_OUTPUT_MAX);
			goto cleanup;
		}
		if (ran) {
			cni_fail(err, CNI_ERR_IO, "cannot run the IPAM plugin", "%s: %s", plugin,
				 strerror(-ran));
			goto cleanup;
		}
		result = json_loads(output, 0, NULL);
		if (json_integer_value(json_object_get(result, "code")) !=
		    CNI_ERR_INCOMPATIBLE_VERSION)
			break;
	}
	rc = cni_ipam_answer(type, command, result, output, status, out, err);
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
