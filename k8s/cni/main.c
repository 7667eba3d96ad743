// SPDX-License-Identifier: Apache-2.0
/*
 * cubenet: the CNI plugin (spec 1.1; 0.3.0 to 1.0.0 too). ADD makes the
 * pod's veth, takes addresses from the IPAM plugin, configures both ends
 * and registers the pod with cubenetd; any failure undoes what was done and
 * releases the addresses. DEL always cleans up, whatever is already gone.
 * CHECK compares the pod, the node side and the daemon with prevResult; GC
 * removes attachments the runtime no longer has; STATUS says whether
 * cubenetd can take pods. Errors are the spec's JSON on stdout.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cni.h"

/* All of stdin, up to one byte more than a config may be (so that one too
 * large is seen as such); its length in *len. */
static char *read_stdin(size_t *len)
{
	size_t cap = 8192;
	char *buf = malloc(cap);

	*len = 0;
	for (size_t n; buf && *len <= CNI_MAX_CONFIG &&
		       (n = fread(buf + *len, 1, cap - *len - 1, stdin)) > 0;) {
		*len += n;
		if (cap - *len < 1024) {
			char *grown = realloc(buf, cap *= 2);

			if (!grown) {
				free(buf);
				return NULL;
			}
			buf = grown;
		}
	}
	if (buf)
		buf[*len] = '\0';
	return buf;
}

static int print_json(json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	int rc = s ? 0 : -1;

	if (s)
		puts(s);
	free(s);
	json_decref(v);
	return rc;
}

static int cmd_version(void)
{
	json_t *list = json_array();

	for (const char *const *v = cni_supported_versions; *v; v++)
		json_array_append_new(list, json_string(*v));
	return print_json(
	    json_pack("{s:s, s:o}", "cniVersion", "1.1.0", "supportedVersions", list));
}

/* Runs cmd holding the attachment's lock. */
static int locked(int (*cmd)(struct cni_call *, struct cni_error *), struct cni_call *call,
		  struct cni_error *err)
{
	int fd = cni_lock(call, err), rc;

	if (fd < 0)
		return -1;
	rc = cmd(call, err);
	cni_unlock(call, fd);
	return rc;
}

/* Undoes only what this call made: a veth of the same name that was
 * already there belongs to an ADD that succeeded. */
static int cmd_add(struct cni_call *call, struct cni_error *err)
{
	struct cni_ipam ipam;
	char host_mac[18] = "", pod_mac[18] = "", host[16];
	struct cni_error ignored = {0};
	json_t *result = NULL;

	if (cni_link_exists(call)) {
		cni_host_ifname(call, host);
		return cni_fail(err, CNI_ERR_INVALID_ENV, "the attachment exists",
				"CNI_CONTAINERID %s with CNI_IFNAME %s is attached already "
				"(node side %s)",
				call->container_id, call->ifname, host);
	}
	/* The spec: a delegated plugin that fails an ADD is called with DEL. */
	if (cni_ipam_exec(call, "ADD", &ipam, err))
		goto release;
	if (cni_link_add(call, &ipam, host_mac, pod_mac, err))
		goto free_ipam;
	result = cni_result(call, &ipam, host_mac, pod_mac);
	if (!result) {
		cni_fail(err, CNI_ERR_IO, "cannot build the result", "out of memory");
		goto del_link;
	}
	if (cni_register(call, &ipam, pod_mac, err))
		goto del_link;
	cni_ipam_free(&ipam);
	if (!print_json(result))
		return 0;
	cni_fail(err, CNI_ERR_IO, "cannot write the result", "stdout");
	cni_unregister(call, &ignored);
	result = NULL;
del_link:
	json_decref(result);
	cni_link_del(call, &ignored);
free_ipam:
	cni_ipam_free(&ipam);
release:
	cni_ipam_exec(call, "DEL", NULL, &ignored);
	return -1;
}

/* Every step runs even if one fails, so a retry has less left to do. The
 * daemon lets go of the pod's veth before the veth goes. */
static int cmd_del(struct cni_call *call, struct cni_error *err)
{
	int rc = cni_unregister(call, err);

	rc |= cni_link_del(call, err);
	rc |= cni_ipam_exec(call, "DEL", NULL, err);
	return rc ? -1 : 0;
}

static int cmd_check(struct cni_call *call, struct cni_error *err)
{
	json_t *prev = json_object_get(call->conf, "prevResult");

	if (!prev)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "CHECK needs prevResult",
				"the config has no prevResult");
	if (cni_result_shape(prev, "prevResult", CNI_ERR_INVALID_CONFIG, err))
		return -1;
	if (cni_link_check(call, prev, err) || cni_ipam_exec(call, "CHECK", NULL, err) ||
	    cni_registry_check(call, prev, err))
		return -1;
	return 0;
}

static int is_valid(const json_t *valid, const char *cid, const char *ifn)
{
	const json_t *a;
	size_t i;

	json_array_foreach(valid, i, a)
	{
		if (!strcmp(json_string_value(json_object_get(a, "containerID")), cid) &&
		    !strcmp(json_string_value(json_object_get(a, "ifname")), ifn))
			return 1;
	}
	return 0;
}

/* An IPAM plugin of spec 1.1 is asked too (host-local 1.1 speaks 1.0). */
static int forward(struct cni_call *call, const char *command, struct cni_error *err)
{
	int speaks = cni_ipam_speaks(call, "1.1.0", err);

	if (speaks <= 0)
		return speaks;
	return cni_ipam_exec(call, command, NULL, err);
}

static int cmd_gc(struct cni_call *call, struct cni_error *err)
{
	json_t *pods = cni_registry_list(call, err), *pod;
	size_t i;
	int rc = 0;

	if (!pods)
		return -1;
	json_array_foreach(pods, i, pod)
	{
		const char *cid = json_string_value(json_object_get(pod, "container-id"));
		const char *ifn = json_string_value(json_object_get(pod, "interface"));
		struct cni_call stale = *call;

		if (!cid || !ifn || is_valid(call->valid, cid, ifn))
			continue;
		stale.container_id = cid;
		stale.ifname = ifn;
		stale.netns = "";
		rc |= locked(cmd_del, &stale, err);
	}
	json_decref(pods);
	rc |= forward(call, "GC", err);
	return rc ? -1 : 0;
}

static int cmd_status(struct cni_call *call, struct cni_error *err)
{
	if (cni_registry_ready(call, err))
		return -1;
	return call->path ? forward(call, "STATUS", err) : 0;
}

int main(void)
{
	struct cni_call call = {.netns_fd = -1};
	struct cni_error err = {0};
	char *input = NULL;
	size_t len = 0;
	int rc;

	/* A child or the daemon closing early is an error to report, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("CNI_COMMAND") && !strcmp(getenv("CNI_COMMAND"), "VERSION"))
		return cmd_version() ? 1 : 0;
	input = read_stdin(&len);
	rc = input ? cni_read_call(&call, input, len, &err)
		   : cni_fail(&err, CNI_ERR_IO, "cannot read stdin", "out of memory");
	if (!rc) {
		if (!strcmp(call.command, "ADD"))
			rc = locked(cmd_add, &call, &err);
		else if (!strcmp(call.command, "DEL"))
			rc = call.never_attached ? 0 : locked(cmd_del, &call, &err);
		else if (!strcmp(call.command, "CHECK"))
			rc = locked(cmd_check, &call, &err);
		else if (!strcmp(call.command, "GC"))
			rc = cmd_gc(&call, &err);
		else
			rc = cmd_status(&call, &err);
	}
	free(input);
	if (rc && !err.code)
		cni_fail(&err, CNI_ERR_IO, "internal error", "a step failed without saying why");
	if (rc && print_json(json_pack("{s:s, s:i, s:s, s:s}", "cniVersion",
				       call.version ? call.version : "1.1.0", "code", err.code,
				       "msg", err.msg, "details", err.details)))
		puts("{\"cniVersion\":\"1.1.0\",\"code\":5,\"msg\":\"cannot write the error\","
		     "\"details\":\"out of memory\"}");
	cni_call_free(&call);
	return rc ? 1 : 0;
}
