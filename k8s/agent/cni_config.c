// SPDX-License-Identifier: Apache-2.0
/* --write-cni-config: the conflist with this node's own pod range. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "kube_request.h"
#include "log.h"
#include "modes.h"
#include "node_config.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* This node's Node (list verb, as the agent's role allows), or NULL. */
static json_t *get_node(struct kube_config *kc, const char *name, char *why, size_t size)
{
	char path[512], *esc = curl_easy_escape(NULL, name, 0);
	struct curl_slist *headers;
	char *text = NULL;
	size_t len = 0;
	long status = 0;
	CURL *curl;
	CURLcode rc;
	json_t *doc, *node = NULL;

	snprintf(path, sizeof(path), "/api/v1/nodes?fieldSelector=metadata.name%%3D%s", esc);
	curl_free(esc);
	curl = kube_request(kc, path, &headers);
	if (!curl)
		return NULL;
	FILE *f = open_memstream(&text, &len);

	curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	rc = curl_easy_perform(curl);
	fclose(f);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK)
		snprintf(why, size, "%s", curl_easy_strerror(rc));
	else if (status != 200)
		snprintf(why, size, "HTTP %ld %.200s", status, text ? text : "");
	doc = rc == CURLE_OK && status == 200 ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	node = json_incref(json_array_get(json_object_get(doc, "items"), 0));
	if (doc && !node)
		snprintf(why, size, "no Node %s", name);
	json_decref(doc);
	return node;
}

/* Whether routes (an IPAM's) has one to dst. */
static int has_route(json_t *routes, const char *dst)
{
	json_t *r;
	size_t i;

	json_array_foreach(routes, i, r)
	{
		const char *d = json_string_value(json_object_get(r, "dst"));

		if (d && !strcmp(d, dst))
			return 1;
	}
	return 0;
}

/*
 * The template with every host-local IPAM's ranges set to cidrs, a range
 * set each (one address of each family a pod). With an IPv6 range, a
 * template's IPv4 default route gets its IPv6 twin: the pod's IPv6
 * traffic leaves through the node as its IPv4 traffic does.
 */
static json_t *conflist(const char *template, json_t *cidrs, int ipv6, char *why, size_t size)
{
	json_error_t jerr;
	json_t *conf = json_load_file(template, 0, &jerr), *plugins, *p;
	size_t i, set = 0;

	if (!conf) {
		snprintf(why, size, "%s: %s (line %d)", template, jerr.text, jerr.line);
		return NULL;
	}
	plugins = json_object_get(conf, "plugins");
	if (!json_is_array(plugins))
		plugins = json_pack("[O]", conf);
	else
		json_incref(plugins);
	json_array_foreach(plugins, i, p)
	{
		json_t *ipam = json_object_get(p, "ipam"), *ranges = json_array(), *c;
		const char *type = json_string_value(json_object_get(ipam, "type"));
		size_t j;

		if (!type || strcmp(type, "host-local")) {
			json_decref(ranges);
			continue;
		}
		json_array_foreach(cidrs, j, c)
		    json_array_append_new(ranges, json_pack("[{sO}]", "subnet", c));
		json_object_set_new(ipam, "ranges", ranges);
		json_t *routes = json_object_get(ipam, "routes");

		if (ipv6 && json_is_array(routes) && has_route(routes, "0.0.0.0/0") &&
		    !has_route(routes, "::/0"))
			json_array_append_new(routes, json_pack("{ss}", "dst", "::/0"));
		set++;
	}
	json_decref(plugins);
	if (!set) {
		snprintf(why, size, "%s: no host-local IPAM to give the range to", template);
		json_decref(conf);
		return NULL;
	}
	return conf;
}

/* Written beside, synced, renamed: a runtime never reads half a file. */
static int write_atomically(const char *path, json_t *conf)
{
	char tmp[4096];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.cubenet-new", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	ok = json_dumpf(conf, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF && fflush(f) == 0 &&
	     fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return 0;
	unlink(tmp);
	return -1;
}

int write_cni_config(struct options *o)
{
	struct kube_config kc;
	char err[512], why[512] = "", last[512] = "";
	double backoff = 0.5;
	json_t *node, *cidrs = NULL, *conf, *v6 = NULL;
	int rc = 1;

	if (o->kubeconfig ? kube_config_load(&kc, o->kubeconfig, o->context, err, sizeof(err))
			  : kube_config_in_cluster(&kc, o->serviceaccount_dir, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop) {
		node = get_node(&kc, o->node.name, why, sizeof(why));
		if (node) {
			cidrs = node_pod_cidrs(node, 4, NULL, 0);
			v6 = node_pod_cidrs(node, 6, NULL, 0);
			json_decref(node);
			/* IPv4 or dual stack: the node side needs IPv4. */
			if (json_array_size(cidrs))
				break;
			snprintf(why, sizeof(why), "node %s has no IPv4 podCIDR yet", o->node.name);
			json_decref(cidrs);
			json_decref(v6);
			cidrs = v6 = NULL;
		}
		if (strcmp(why, last))
			log_warn("waiting for node %s's pod range: %s", o->node.name, why);
		snprintf(last, sizeof(last), "%s", why);
		usleep((useconds_t)(backoff * 1e6));
		backoff = backoff * 2 > o->max_backoff ? o->max_backoff : backoff * 2;
	}
	if (!cidrs)
		goto out;
	json_array_extend(cidrs, v6);
	conf = conflist(o->cni_template, cidrs, json_array_size(v6) > 0, why, sizeof(why));
	if (!conf) {
		log_error("%s", why);
		goto out;
	}
	if (write_atomically(o->cni_conf_out, conf)) {
		log_error("cannot write %s: %s", o->cni_conf_out, strerror(errno));
	} else {
		char *text = json_dumps(cidrs, JSON_COMPACT);

		log_info("wrote %s with node %s's pod ranges %s", o->cni_conf_out, o->node.name,
			 text);
		free(text);
		rc = 0;
	}
	json_decref(conf);
out:
	json_decref(cidrs);
	json_decref(v6);
	kube_config_free(&kc);
	return rc;
}
