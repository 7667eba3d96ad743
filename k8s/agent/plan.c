// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>
#include "daemon_client.h"
#include "entry.h"
#include "plan.h"
#include "restconf_client.h"

/* Edits in one YANG Patch: cubenetd takes up to 4,096; a body stays well
 * inside max_bytes anyway. */
#define MAX_EDITS 2048

void service_path(const char *prefix, const char *key, char *out, size_t size)
{
	const char *slash = strchr(key, '/');
	char ns[200], name[200], nsk[600], namek[600];

	snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - key) : 0, key);
	snprintf(name, sizeof(name), "%s", slash ? slash + 1 : key);
	restconf_encode_key(ns, nsk, sizeof(nsk));
	restconf_encode_key(name, namek, sizeof(namek));
	snprintf(out, size, "%s/service=%s,%s", prefix, nsk, namek);
}

void peer_path(const char *prefix, const char *name, char *out, size_t size)
{
	char key[600];

	restconf_encode_key(name, key, sizeof(key));
	snprintf(out, size, "%s/peer=%s", prefix, key);
}

static json_t *request(const char *method, const char *path, const char *type, json_t *body)
{
	json_t *r = json_pack("{ssss}", "method", method, "path", path);

	if (body) {
		json_object_set_new(r, "content-type", json_string(type));
		json_object_set_new(r, "body", body);
	}
	json_object_set_new(r, "keys", json_array());
	return r;
}

static size_t size_of(const json_t *v)
{
	return json_dumpb(v, NULL, 0, JSON_COMPACT);
}

/* The node's changes: parts to merge, to replace, to remove. */
static void node_changes(const json_t *shadow, const json_t *desired, json_t *merge,
			 json_t *replace, json_t *remove)
{
	for (int i = 0; i < NODE_PARTS; i++) {
		const char *part = node_parts[i];
		json_t *have = json_object_get(shadow, part),
		       *want = json_object_get(desired, part);

		if (!want && have)
			json_array_append_new(remove, json_string(part));
		else if (want && !json_equal(have, want)) {
			if (!have || !json_is_object(want) || entry_within(have, want))
				json_object_set(merge, part, want);
			else
				json_object_set(replace, part, want);
		}
	}
}

static json_t *additive_peers(json_t *peers, json_t *names)
{
	json_t *r = request("PATCH", "/restconf/data", MEDIA_YANG_DATA,
			    json_pack("{s{so}}", "cubenet-pods:peers", "peer", peers));

	json_object_set_new(r, "peers", names);
	return r;
}

/* The peers' requests, plain: removals, replacements of those that lost a
 * pod range, and the rest merged in as few PATCHes as max_bytes allows. */
static void plain_peers(json_t *out, const json_t *shadow, const json_t *changes, size_t max_bytes)
{
	json_t *additive = json_array(), *names = json_array(), *v, *r;
	const char *name;
	char path[700];
	size_t bytes = 0;

	/* Removals first: an address or a pod range may pass to another peer. */
	for (int pass = 0; pass < 2; pass++) {
		json_object_foreach((json_t *)changes, name, v)
		{
			json_t *have = json_object_get(shadow, name);

			if (json_is_null(v) != (pass == 0) || !have ||
			    (pass == 1 && entry_within(have, v)))
				continue;
			peer_path(PEERS_PATH, name, path, sizeof(path));
			r = pass == 0 ? request("DELETE", path, NULL, NULL)
				      : request("PUT", path, MEDIA_YANG_DATA,
						json_pack("{s[O]}", "cubenet-pods:peer", v));
			json_object_set_new(r, "peers", json_pack("[s]", name));
			json_array_append_new(out, r);
		}
	}
	json_object_foreach((json_t *)changes, name, v)
	{
		json_t *have = json_object_get(shadow, name);
		size_t n;

		if (json_is_null(v) || (have && !entry_within(have, v)))
			continue;
		n = size_of(v) + 1;
		if (json_array_size(additive) && bytes + n > max_bytes) {
			json_array_append_new(out, additive_peers(additive, names));
			additive = json_array();
			names = json_array();
			bytes = 0;
		}
		json_array_append(additive, v);
		json_array_append_new(names, json_string(name));
		bytes += n;
	}
	if (json_array_size(additive)) {
		json_array_append_new(out, additive_peers(additive, names));
	} else {
		json_decref(additive);
		json_decref(names);
	}
}

static json_t *plan_plain(const json_t *shadow, const json_t *node_shadow, const json_t *changes,
			  const json_t *node_desired, const json_t *peer_shadow,
			  const json_t *peer_changes, size_t max_bytes)
{
	json_t *out = json_array(), *merge = json_object(), *replace = json_object();
	json_t *remove = json_array(), *additive = json_array(), *keys = json_array(), *v, *r;
	const char *key;
	char path[1400];
	size_t i, bytes = 0;

	if (node_desired) {
		node_changes(node_shadow, node_desired, merge, replace, remove);
		json_array_foreach(remove, i, v)
		{
			snprintf(path, sizeof(path), NODE_PATH "/%s", json_string_value(v));
			r = request("DELETE", path, NULL, NULL);
			json_object_set_new(r, "node", json_true());
			json_array_append_new(out, r);
		}
		json_object_foreach(replace, key, v)
		{
			char member[96];

			snprintf(path, sizeof(path), NODE_PATH "/%s", key);
			snprintf(member, sizeof(member), "cubenet-pods:%s", key);
			r = request("PUT", path, MEDIA_YANG_DATA, json_pack("{sO}", member, v));
			json_object_set_new(r, "node", json_true());
			json_array_append_new(out, r);
		}
		if (json_object_size(merge)) {
			r = request("PATCH", "/restconf/data", MEDIA_YANG_DATA,
				    json_pack("{sO}", "cubenet-pods:node", merge));
			json_object_set_new(r, "node", json_true());
			json_array_append_new(out, r);
		}
	}
	if (peer_changes)
		plain_peers(out, peer_shadow, peer_changes, max_bytes);
	json_object_foreach((json_t *)changes, key, v)
	{
		json_t *have = json_object_get(shadow, key);

		if (json_is_null(v)) {
			if (!have)
				continue;
			service_path(SERVICES_PATH, key, path, sizeof(path));
			r = request("DELETE", path, NULL, NULL);
			json_array_append_new(json_object_get(r, "keys"), json_string(key));
			json_array_append_new(out, r);
		} else if (have && !entry_within(have, v)) {
			service_path(SERVICES_PATH, key, path, sizeof(path));
			r = request("PUT", path, MEDIA_YANG_DATA,
				    json_pack("{s[O]}", "cubenet-pods:service", v));
			json_array_append_new(json_object_get(r, "keys"), json_string(key));
			json_array_append_new(out, r);
		}
	}
	/* The rest, merged: as few PATCHes as the size bound allows. */
	json_object_foreach((json_t *)changes, key, v)
	{
		json_t *have = json_object_get(shadow, key);
		size_t n;

		if (json_is_null(v) || (have && !entry_within(have, v)))
			continue;
		n = size_of(v) + 1;
		if (json_array_size(additive) && bytes + n > max_bytes) {
			r = request(
			    "PATCH", "/restconf/data", MEDIA_YANG_DATA,
			    json_pack("{s{so}}", "cubenet-pods:services", "service", additive));
			json_object_set_new(r, "keys", keys);
			json_array_append_new(out, r);
			additive = json_array();
			keys = json_array();
			bytes = 0;
		}
		json_array_append(additive, v);
		json_array_append_new(keys, json_string(key));
		bytes += n;
	}
	if (json_array_size(additive)) {
		r = request("PATCH", "/restconf/data", MEDIA_YANG_DATA,
			    json_pack("{s{so}}", "cubenet-pods:services", "service", additive));
		json_object_set_new(r, "keys", keys);
		json_array_append_new(out, r);
	} else {
		json_decref(additive);
		json_decref(keys);
	}
	json_decref(merge);
	json_decref(replace);
	json_decref(remove);
	return out;
}

static json_t *yang_patch_request(json_t *edits, unsigned long *seq)
{
	char id[64];

	snprintf(id, sizeof(id), "cubenet-agent-%lu", ++*seq);
	return request(
	    "PATCH", "/restconf/data", MEDIA_YANG_PATCH,
	    json_pack("{s{ssso}}", "ietf-yang-patch:yang-patch", "patch-id", id, "edit", edits));
}

static void add_edit(json_t *edits, const char *op, const char *target, json_t *value)
{
	char id[16];
	json_t *e;

	snprintf(id, sizeof(id), "%zu", json_array_size(edits) + 1);
	e = json_pack("{ssssss}", "edit-id", id, "operation", op, "target", target);
	if (value)
		json_object_set_new(e, "value", value);
	json_array_append_new(edits, e);
}

/* One YANG Patch of the edits so far, with what they write. */
static void flush_edits(json_t *out, json_t **edits, json_t **keys, json_t **peers, int *node,
			unsigned long *seq)
{
	json_t *r = yang_patch_request(*edits, seq);

	json_object_set_new(r, "keys", *keys);
	if (json_array_size(*peers))
		json_object_set_new(r, "peers", *peers);
	else
		json_decref(*peers);
	if (*node)
		json_object_set_new(r, "node", json_true());
	json_array_append_new(out, r);
	*edits = json_array();
	*keys = json_array();
	*peers = json_array();
	*node = 0;
}

static json_t *plan_yang_patch(const json_t *shadow, const json_t *node_shadow,
			       const json_t *changes, const json_t *node_desired,
			       const json_t *peer_shadow, const json_t *peer_changes,
			       size_t max_bytes, unsigned long *seq)
{
	json_t *out = json_array(), *edits = json_array(), *keys = json_array();
	json_t *peers = json_array(), *v;
	const char *key;
	char target[1400];
	size_t bytes = 0, i;
	int node = 0;

	if (node_desired) {
		json_t *merge = json_object(), *replace = json_object(), *remove = json_array();

		node_changes(node_shadow, node_desired, merge, replace, remove);
		json_array_foreach(remove, i, v)
		{
			snprintf(target, sizeof(target), "/cubenet-pods:node/%s",
				 json_string_value(v));
			add_edit(edits, "remove", target, NULL);
		}
		json_object_foreach(replace, key, v)
		{
			char member[96];

			snprintf(target, sizeof(target), "/cubenet-pods:node/%s", key);
			snprintf(member, sizeof(member), "cubenet-pods:%s", key);
			add_edit(edits, "replace", target, json_pack("{sO}", member, v));
		}
		if (json_object_size(merge))
			add_edit(edits, "merge", "/cubenet-pods:node",
				 json_pack("{sO}", "cubenet-pods:node", merge));
		node = json_array_size(edits) > 0;
		bytes = size_of(edits);
		json_decref(merge);
		json_decref(replace);
		json_decref(remove);
	}
	/* Removals first: a service's NodePort or IP may pass to another, a
	 * peer's address or pod range to another peer. Peers before services,
	 * both after the node: a peer needs the node's address. */
	for (int pass = 0; pass < 2; pass++) {
		for (int is_peer = 1; is_peer >= 0; is_peer--) {
			const json_t *c = is_peer ? peer_changes : changes;
			const json_t *held = is_peer ? peer_shadow : shadow;

			json_object_foreach((json_t *)c, key, v)
			{
				size_t n;

				if (json_is_null(v) != (pass == 0))
					continue;
				if (pass == 0 && !json_object_get(held, key))
					continue;
				n = (pass ? size_of(v) : 0) + 160;
				if (json_array_size(edits) &&
				    (bytes + n > max_bytes ||
				     json_array_size(edits) == MAX_EDITS)) {
					flush_edits(out, &edits, &keys, &peers, &node, seq);
					bytes = 0;
				}
				if (is_peer)
					peer_path("/cubenet-pods:peers", key, target,
						  sizeof(target));
				else
					service_path("/cubenet-pods:services", key, target,
						     sizeof(target));
				if (pass == 0)
					add_edit(edits, "remove", target, NULL);
				else
					add_edit(edits, "replace", target,
						 json_pack("{s[O]}",
							   is_peer ? "cubenet-pods:peer"
								   : "cubenet-pods:service",
							   v));
				json_array_append_new(is_peer ? peers : keys, json_string(key));
				bytes += n;
			}
		}
	}
	if (json_array_size(edits)) {
		flush_edits(out, &edits, &keys, &peers, &node, seq);
	}
	json_decref(edits);
	json_decref(keys);
	json_decref(peers);
	return out;
}

json_t *plan_requests(const json_t *shadow, const json_t *node_shadow, const json_t *changes,
		      const json_t *node_desired, const json_t *peer_shadow,
		      const json_t *peer_changes, int yang_patch, size_t max_bytes,
		      unsigned long *patch_seq)
{
	return yang_patch ? plan_yang_patch(shadow, node_shadow, changes, node_desired, peer_shadow,
					    peer_changes, max_bytes, patch_seq)
			  : plan_plain(shadow, node_shadow, changes, node_desired, peer_shadow,
				       peer_changes, max_bytes);
}
