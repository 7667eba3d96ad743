// SPDX-License-Identifier: Apache-2.0
/* The pod's entry in cubenetd's cubenet-pods list, over its unix socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cni.h"
#include "restconf_client.h"

#define PODS "/restconf/data/cubenet-pods:pods"

void cni_registry_path(const struct cni_call *call, char *out, size_t size)
{
	char cid[400], ifn[64];

	restconf_encode_key(call->container_id, cid, sizeof(cid));
	restconf_encode_key(call->ifname, ifn, sizeof(ifn));
	snprintf(out, size, PODS "/pod=%s,%s", cid, ifn);
}

/* Send; the status, or -1 with err set when the daemon cannot be reached. */
static long send_req(const struct cni_call *call, const char *method, const char *path,
		     const json_t *body, json_t **reply, struct cni_error *err)
{
	struct client c = {.socket_path = call->socket};
	struct response resp;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	long status;

	if (reply)
		*reply = NULL;
	if (client_request(&c, method, path, text, &resp)) {
		free(text);
		cni_fail(err, CNI_ERR_TRY_AGAIN, "cubenetd is not reachable", "%s", resp.error);
		response_free(&resp);
		return -1;
	}
	status = resp.status;
	json_t *answer = resp.body[0] ? json_loads(resp.body, 0, NULL) : NULL;

	if (status >= 300 && status != 404) {
		json_t *e = json_array_get(
		    json_object_get(json_object_get(answer, "ietf-restconf:errors"), "error"), 0);

		cni_fail(err, CNI_ERR_IO, "cubenetd refused the pod", "%s %s: HTTP %ld %s", method,
			 path, status,
			 json_string_value(json_object_get(e, "error-message")) ?: "");
	}
	if (reply)
		*reply = answer;
	else
		json_decref(answer);
	free(text);
	response_free(&resp);
	return status;
}

json_t *cni_registry_body(const struct cni_call *call, const struct cni_ipam *ipam,
			  const char *pod_mac)
{
	char host[16];
	json_t *pod, *addrs = json_array(), *ports = json_array();

	cni_host_ifname(call, host);
	for (size_t i = 0; i < ipam->n_ips; i++) { /* without the prefix length */
		char addr[64];

		snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(ipam->ips[i].address, "/"),
			 ipam->ips[i].address);
		json_array_append_new(addrs, json_string(addr));
	}
	pod = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "container-id", call->container_id,
			"interface", call->ifname, "network", call->network, "netns", call->netns,
			"host-interface", host, "address", addrs);
	if (pod_mac && pod_mac[0])
		json_object_set_new(pod, "mac", json_string(pod_mac));
	if (call->pod_namespace[0])
		json_object_set_new(pod, "namespace", json_string(call->pod_namespace));
	if (call->pod_name[0])
		json_object_set_new(pod, "name", json_string(call->pod_name));
	if (call->pod_uid[0])
		json_object_set_new(pod, "uid", json_string(call->pod_uid));
	for (size_t i = 0; i < call->n_ports; i++) {
		json_t *p = json_pack("{s:i, s:i, s:s}", "host-port", call->ports[i].host_port,
				      "container-port", call->ports[i].container_port, "protocol",
				      call->ports[i].protocol);

		if (call->ports[i].host_ip[0])
			json_object_set_new(p, "host-ip", json_string(call->ports[i].host_ip));
		json_array_append_new(ports, p);
	}
	if (json_array_size(ports))
		json_object_set(pod, "port-mapping", ports);
	json_decref(ports);
	return json_pack("{s:[o]}", "cubenet-pods:pod", pod);
}

int cni_register(const struct cni_call *call, const struct cni_ipam *ipam, const char *pod_mac,
		 struct cni_error *err)
{
	json_t *body = cni_registry_body(call, ipam, pod_mac);
	char path[600];
	long status;

	cni_registry_path(call, path, sizeof(path));
	status = send_req(call, "PUT", path, body, NULL, err);
	json_decref(body);
	return status >= 200 && status < 300 ? 0 : -1;
}

int cni_unregister(const struct cni_call *call, struct cni_error *err)
{
	char path[600];
	long status;

	cni_registry_path(call, path, sizeof(path));
	status = send_req(call, "DELETE", path, NULL, NULL, err);
	/* 404: gone already. send_req recorded no error for it, and clearing
	 * one here would drop an earlier step's (GC deletes many). */
	return status == 404 || (status >= 200 && status < 300) ? 0 : -1;
}

int cni_registry_check(const struct cni_call *call, const json_t *prev, struct cni_error *err)
{
	char path[600], host[16];
	json_t *reply = NULL, *pod, *ip;
	long status;
	size_t i;
	int rc = 0;

	cni_registry_path(call, path, sizeof(path));
	status = send_req(call, "GET", path, NULL, &reply, err);
	if (status < 0)
		return -1;
	pod = json_array_get(json_object_get(reply, "cubenet-pods:pod"), 0);
	cni_host_ifname(call, host);
	if (status == 404 || !pod)
		rc = cni_fail(err, CNI_ERR_IO, "the daemon has no port for the pod",
			      "no %s in cubenet-pods", path);
	else if (strcmp(json_string_value(json_object_get(pod, "host-interface")) ?: "", host))
		rc = cni_fail(err, CNI_ERR_IO, "the pod's port changed",
			      "cubenetd has host-interface %s, not %s",
			      json_string_value(json_object_get(pod, "host-interface")), host);
	json_array_foreach(json_object_get(prev, "ips"), i, ip)
	{
		const char *want = json_string_value(json_object_get(ip, "address"));
		json_t *have;
		size_t j;
		int found = 0;

		json_array_foreach(json_object_get(pod, "address"), j, have) found |=
		    want && !strncmp(json_string_value(have) ?: "", want, strcspn(want, "/")) &&
		    strlen(json_string_value(have)) == strcspn(want, "/");
		if (!rc && !found)
			rc = cni_fail(err, CNI_ERR_IO, "the pod's port changed",
				      "cubenetd does not have address %s for the pod", want);
	}
	json_decref(reply);
	return rc;
}

json_t *cni_registry_list(const struct cni_call *call, struct cni_error *err)
{
	json_t *reply = NULL, *out = json_array(), *pod;
	size_t i;
	long status = send_req(call, "GET", PODS "?content=config", NULL, &reply, err);

	if (status < 0) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(json_object_get(json_object_get(reply, "cubenet-pods:pods"), "pod"), i,
			   pod)
	{
		const char *net = json_string_value(json_object_get(pod, "network"));

		if (net && !strcmp(net, call->network))
			json_array_append(out, pod);
	}
	json_decref(reply);
	return out;
}

int cni_registry_ready(const struct cni_call *call, struct cni_error *err)
{
	long status = send_req(call, "GET", PODS "?depth=1", NULL, NULL, err);

	if (status < 0) {
		err->code = 0;
		return cni_fail(err, CNI_ERR_NOT_AVAILABLE, "cubenetd is not ready",
				"cannot reach it on %s", call->socket);
	}
	return status == 200 || status == 404 ? 0 : -1;
}
