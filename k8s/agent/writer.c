// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "entry.h"
#include "log.h"
#include "peers.h"
#include "agent_metrics.h"
#include "plan.h"
#include "reflector.h"
#include "writer.h"

enum outcome { DONE, TRANSIENT, NO_YANG_PATCH };

static json_t *entry_text(const json_t *entry)
{
	char *text = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *s = text ? json_string(text) : NULL;

	free(text);
	return s;
}

int writer_init(struct writer *w, const char *socket_path, enum write_mode mode, size_t max_bytes)
{
	memset(w, 0, sizeof(*w));
	w->mode = mode;
	w->yang_patch = mode != WRITE_PLAIN;
	w->max_bytes = max_bytes;
	w->shadow = json_object();
	w->refused = json_object();
	w->node_shadow = json_object();
	w->peer_shadow = json_object();
	w->peer_refused = json_object();
	return daemon_client_init(&w->d, socket_path);
}

void writer_free(struct writer *w)
{
	daemon_client_free(&w->d);
	json_decref(w->shadow);
	json_decref(w->node_shadow);
	json_decref(w->refused);
	json_decref(w->node_refused);
	json_decref(w->peer_shadow);
	json_decref(w->peer_refused);
}

static enum daemon_request request_kind(const char *method, const char *type)
{
	if (type && strcmp(type, MEDIA_YANG_PATCH) == 0)
		return DREQ_YANG_PATCH;
	return strcmp(method, "GET") == 0     ? DREQ_GET
	       : strcmp(method, "PUT") == 0   ? DREQ_PUT
	       : strcmp(method, "PATCH") == 0 ? DREQ_PATCH
					      : DREQ_DELETE;
}

/* GET path; the JSON (or NULL when there is no such data, 404). -1 when
 * cubenetd cannot be reached or fails. */
static int get_json(struct writer *w, const char *path, json_t **out)
{
	struct daemon_reply reply;
	int rc = 0;

	*out = NULL;
	if (daemon_request(&w->d, "GET", path, NULL, NULL, &reply)) {
		snprintf(w->error, sizeof(w->error), "cubenetd unreachable: %.400s", reply.error);
		metrics_daemon_request(DREQ_GET, 0);
		daemon_reply_free(&reply);
		return -1;
	}
	metrics_daemon_request(DREQ_GET, reply.status == 200 || reply.status == 404);
	if (reply.status == 200) {
		*out = json_loads(reply.body.data, 0, NULL);
		if (!*out) {
			snprintf(w->error, sizeof(w->error), "GET %s: not JSON", path);
			rc = -1;
		}
	} else if (reply.status != 404) {
		char msg[300];

		daemon_error_message(&reply, msg, sizeof(msg));
		snprintf(w->error, sizeof(w->error), "GET %.100s: %.300s", path, msg);
		rc = -1;
	}
	daemon_reply_free(&reply);
	return rc;
}

/* cubenetd's cubenet-pods revision, from its YANG library. */
static int check_model(struct writer *w)
{
	json_t *lib, *sets, *set, *mod;
	const char *rev = NULL;
	size_t i, j;

	if (get_json(w, "/restconf/data/ietf-yang-library:yang-library", &lib))
		return -1;
	sets =
	    json_object_get(json_object_get(lib, "ietf-yang-library:yang-library"), "module-set");
	json_array_foreach(sets, i, set)
	{
		json_array_foreach(json_object_get(set, "module"), j, mod)
		{
			const char *name = json_string_value(json_object_get(mod, "name"));

			if (name && strcmp(name, "cubenet-pods") == 0)
				rev = json_string_value(json_object_get(mod, "revision"));
		}
	}
	if (!rev || strcmp(rev, PODS_REVISION) < 0) {
		snprintf(w->error, sizeof(w->error),
			 "cubenetd implements cubenet-pods revision %s; the agent writes revision "
			 "%s (Kubernetes Service semantics): cubenetd needs an upgrade",
			 rev ? rev : "(none)", PODS_REVISION);
		json_decref(lib);
		return -2;
	}
	snprintf(w->revision, sizeof(w->revision), "%s", rev);
	w->peers = strcmp(rev, PEERS_REVISION) >= 0;
	json_decref(lib);
	return 0;
}

/* The peers cubenetd holds, normalized: name -> entry. */
static int load_peers(struct writer *w, json_t **out)
{
	json_t *doc, *e;
	size_t i;

	*out = json_object();
	if (!w->peers)
		return 0;
	if (get_json(w, PEERS_PATH "?content=config", &doc))
		return -1;
	json_array_foreach(json_object_get(json_object_get(doc, "cubenet-pods:peers"), "peer"), i,
			   e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *copy;

		if (!name)
			continue;
		copy = json_deep_copy(e);
		peer_normalize(copy);
		json_object_set_new(*out, name, copy);
	}
	json_decref(doc);
	return 0;
}

int writer_load(struct writer *w)
{
	json_t *doc, *list, *e, *shadow = json_object(), *peers = NULL;
	size_t i;
	char key[300];
	int rc = check_model(w);

	if (rc)
		goto fail;
	rc = get_json(w, SERVICES_PATH "?content=config", &doc);
	if (rc)
		goto fail;
	list = json_object_get(json_object_get(doc, "cubenet-pods:services"), "service");
	json_array_foreach(list, i, e)
	{
		const char *ns = json_string_value(json_object_get(e, "namespace"));
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *copy;

		if (!ns || !name)
			continue;
		snprintf(key, sizeof(key), "%s/%s", ns, name);
		copy = json_deep_copy(e);
		entry_normalize(copy);
		json_object_set_new(shadow, key, entry_text(copy));
		json_decref(copy);
	}
	json_decref(doc);
	rc = get_json(w, NODE_PATH "?content=config", &doc);
	if (rc)
		goto fail;
	json_decref(w->node_shadow);
	w->node_shadow = node_normalize(json_object_get(doc, "cubenet-pods:node"));
	json_decref(doc);
	rc = load_peers(w, &peers);
	if (rc)
		goto fail;
	json_decref(w->peer_shadow);
	w->peer_shadow = peers;
	json_object_clear(w->peer_refused);
	json_decref(w->shadow);
	w->shadow = shadow;
	json_object_clear(w->refused);
	json_decref(w->node_refused);
	w->node_refused = NULL;
	/* Try YANG Patch again: this cubenetd may be a newer one. */
	w->yang_patch = w->mode != WRITE_PLAIN;
	metrics_services((unsigned)json_object_size(w->shadow));
	metrics_peers((unsigned)json_object_size(w->peer_shadow));
	return 0;
fail:
	json_decref(shadow);
	json_decref(peers);
	return rc;
}

int writer_holds(const struct writer *w, const char *key, const json_t *entry)
{
	json_t *have = json_object_get(w->shadow, key);
	char *text;
	int same;

	if (!entry || !have)
		return !entry && !have;
	text = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
	same = text && strcmp(text, json_string_value(have)) == 0;
	free(text);
	return same;
}

void writer_retry_refused(struct writer *w, const json_t *node, json_t *keys)
{
	const char *key;
	json_t *v;

	if (!node || json_equal(node, w->node_shadow) ||
	    (w->node_refused && json_equal(node, w->node_refused)))
		return;
	json_object_foreach(w->refused, key, v) json_object_set_new(keys, key, json_true());
	json_object_clear(w->refused);
	json_object_clear(w->peer_refused);
}

int writer_refused(const struct writer *w, const char *key, const json_t *entry)
{
	json_t *r = json_object_get(w->refused, key);

	return r && json_equal(r, entry ? entry : json_null());
}

json_t *writer_peer_changes(const struct writer *w, const json_t *desired)
{
	json_t *out = json_object(), *v, *r;
	const char *name;

	json_object_foreach((json_t *)desired, name, v)
	{
		r = json_object_get(w->peer_refused, name);
		if (!json_equal(json_object_get(w->peer_shadow, name), v) &&
		    !(r && json_equal(r, v)))
			json_object_set(out, name, v);
	}
	json_object_foreach(w->peer_shadow, name, v)
	{
		r = json_object_get(w->peer_refused, name);
		if (!json_object_get(desired, name) && !(r && json_is_null(r)))
			json_object_set_new(out, name, json_null());
	}
	return out;
}

static void commit(struct writer *w, json_t *req, json_t *changes, json_t *node_desired,
		   json_t *peer_changes, unsigned *changed)
{
	size_t i;
	json_t *k;

	json_array_foreach(json_object_get(req, "keys"), i, k)
	{
		const char *key = json_string_value(k);
		json_t *v = json_object_get(changes, key);

		if (json_is_null(v))
			json_object_del(w->shadow, key);
		else
			json_object_set_new(w->shadow, key, entry_text(v));
		json_object_del(w->refused, key);
		(*changed)++;
	}
	json_array_foreach(json_object_get(req, "peers"), i, k)
	{
		const char *name = json_string_value(k);
		json_t *v = json_object_get(peer_changes, name);

		if (json_is_null(v))
			json_object_del(w->peer_shadow, name);
		else
			json_object_set_new(w->peer_shadow, name, json_deep_copy(v));
		json_object_del(w->peer_refused, name);
	}
	if (json_is_true(json_object_get(req, "node"))) {
		json_decref(w->node_shadow);
		w->node_shadow = json_deep_copy(node_desired);
	}
}

static enum outcome run(struct writer *w, json_t *changes, json_t *node_desired,
			json_t *peer_changes, unsigned *changed);

/* cubenetd refused a request: split it until the entry at fault is alone.
 * What it writes, in order: the node, peers, services; the node stays in
 * the first half (peers need its address). */
static enum outcome refused(struct writer *w, json_t *req, json_t *changes, json_t *node_desired,
			    json_t *peer_changes, const char *msg, unsigned *changed)
{
	json_t *keys = json_object_get(req, "keys"), *peers = json_object_get(req, "peers");
	size_t nk = json_array_size(keys), np = json_array_size(peers);
	int node = json_is_true(json_object_get(req, "node"));
	size_t n = (size_t)node + np + nk;

	if (n > 1) {
		json_t *svc[2] = {json_object(), json_object()};
		json_t *peer[2] = {json_object(), json_object()};
		enum outcome o;

		for (size_t i = (size_t)node; i < n; i++) {
			int h = i >= (n + 1) / 2;
			size_t j = i - (size_t)node;

			if (j < np) {
				const char *name = json_string_value(json_array_get(peers, j));

				json_object_set(peer[h], name, json_object_get(peer_changes, name));
			} else {
				const char *key = json_string_value(json_array_get(keys, j - np));

				json_object_set(svc[h], key, json_object_get(changes, key));
			}
		}
		o = run(w, svc[0], node ? node_desired : NULL, peer[0], changed);
		if (o == DONE)
			o = run(w, svc[1], NULL, peer[1], changed);
		for (int h = 0; h < 2; h++) {
			json_decref(svc[h]);
			json_decref(peer[h]);
		}
		return o;
	}
	metrics_problem(PROBLEM_REFUSED);
	if (node) {
		log_error("node settings: cubenetd refused them: %s", msg);
		json_decref(w->node_refused);
		w->node_refused = json_deep_copy(node_desired);
		return DONE;
	}
	if (np) {
		const char *name = json_string_value(json_array_get(peers, 0));
		json_t *v = json_object_get(peer_changes, name);

		log_error("Node %s: cubenetd refused %s as a peer: %s", name,
			  json_is_null(v) ? "its removal" : "it", msg);
		json_object_set(w->peer_refused, name, v);
		return DONE;
	}
	const char *key = json_string_value(json_array_get(keys, 0));
	json_t *v = json_object_get(changes, key);

	log_error("service %s: cubenetd refused %s: %s", key,
		  json_is_null(v) ? "its removal" : "it", msg);
	json_object_set(w->refused, key, v);
	return DONE;
}

static enum outcome send_one(struct writer *w, json_t *req, json_t *changes, json_t *node_desired,
			     json_t *peer_changes, unsigned *changed)
{
	const char *method = json_string_value(json_object_get(req, "method"));
	const char *path = json_string_value(json_object_get(req, "path"));
	const char *type = json_string_value(json_object_get(req, "content-type"));
	json_t *body = json_object_get(req, "body");
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	enum daemon_request kind = request_kind(method, type);
	struct daemon_reply reply;
	enum outcome o = DONE;
	char msg[400];

	double t0 = monotonic_seconds();

	if (daemon_request(&w->d, method, path, type, text, &reply)) {
		snprintf(w->error, sizeof(w->error), "cubenetd unreachable: %.400s", reply.error);
		metrics_daemon_request(kind, 0);
		o = TRANSIENT;
		goto out;
	}
	metrics_daemon_request(kind, reply.status < 300);
	log_debug("%s %s: %ld (%zu bytes, %.1f ms)", method, path, reply.status,
		  text ? strlen(text) : 0, (monotonic_seconds() - t0) * 1e3);
	if (reply.status < 300 || (reply.status == 404 && strcmp(method, "DELETE") == 0)) {
		commit(w, req, changes, node_desired, peer_changes, changed);
		goto out;
	}
	daemon_error_message(&reply, msg, sizeof(msg));
	if (kind == DREQ_YANG_PATCH &&
	    (reply.status == 415 || (reply.status == 400 && strstr(msg, "media type")))) {
		log_info("cubenetd does not take YANG Patch (%s): writing with PUT, PATCH and "
			 "DELETE",
			 msg);
		w->yang_patch = 0;
		o = NO_YANG_PATCH;
		goto out;
	}
	if (reply.status >= 500 || reply.status == 401 || reply.status == 403) {
		snprintf(w->error, sizeof(w->error), "%.10s %.150s: %.300s", method, path, msg);
		o = TRANSIENT;
		goto out;
	}
	o = refused(w, req, changes, node_desired, peer_changes, msg, changed);
out:
	daemon_reply_free(&reply);
	free(text);
	return o;
}

/* What cubenetd holds of the changed entries, as trees, for the plan. */
static json_t *held(struct writer *w, json_t *changes)
{
	json_t *out = json_object(), *v, *have;
	const char *key;

	json_object_foreach(changes, key, v)
	{
		if ((have = json_object_get(w->shadow, key)))
			json_object_set_new(out, key, json_loads(json_string_value(have), 0, NULL));
	}
	return out;
}

static enum outcome run(struct writer *w, json_t *changes, json_t *node_desired,
			json_t *peer_changes, unsigned *changed)
{
	json_t *old = held(w, changes);
	json_t *plan = plan_requests(old, w->node_shadow, changes, node_desired, w->peer_shadow,
				     peer_changes, w->yang_patch, w->max_bytes, &w->patch_seq);
	enum outcome o = DONE;
	size_t i;
	json_t *req;

	json_array_foreach(plan, i, req)
	{
		o = send_one(w, req, changes, node_desired, peer_changes, changed);
		if (o != DONE)
			break;
	}
	json_decref(plan);
	json_decref(old);
	return o;
}

int writer_write(struct writer *w, json_t *changes, json_t *node_desired, json_t *peer_changes,
		 unsigned *changed)
{
	enum outcome o;

	*changed = 0;
	if (!w->peers)
		peer_changes = NULL;
	if (node_desired && w->node_refused && json_equal(node_desired, w->node_refused))
		node_desired = NULL;
	if (node_desired && json_equal(node_desired, w->node_shadow))
		node_desired = NULL;
	o = run(w, changes, node_desired, peer_changes, changed);
	if (o == NO_YANG_PATCH)
		o = run(w, changes, node_desired, peer_changes, changed);
	metrics_services((unsigned)json_object_size(w->shadow));
	metrics_peers((unsigned)json_object_size(w->peer_shadow));
	return o == DONE ? 0 : -1;
}
