// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "node_config.h"
#include "peers.h"
#include "translate.h"

static int cmp_text(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

void peer_normalize(json_t *entry)
{
	json_t *cidrs = json_object_get(entry, "pod-cidr");
	size_t n = json_array_size(cidrs);
	json_t *items[PEER_MAX_CIDRS];

	if (!n) {
		json_object_del(entry, "pod-cidr");
		return;
	}
	if (n > PEER_MAX_CIDRS)
		return; /* more than the model holds: never written */
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(cidrs, i));
	qsort(items, n, sizeof(*items), cmp_text);
	json_array_clear(cidrs);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cidrs, items[i]);
}

/* The Node's first IPv4 InternalIP, canonical, into out; -1 when none. */
static int internal_ip(json_t *node, char *out, size_t size)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(node, "status"), "addresses"), i, a)
	{
		const char *type = json_string_value(json_object_get(a, "type"));

		if (type && strcmp(type, "InternalIP") == 0 &&
		    canonical_ip(json_string_value(json_object_get(a, "address")), out, size) == 4)
			return 0;
	}
	return -1;
}

void translate_peer(const char *name, json_t *node, struct peer_translation *t)
{
	char address[64];
	json_t *cidrs;

	memset(t, 0, sizeof(*t));
	if (internal_ip(node, address, sizeof(address))) {
		t->problem = 1u << PROBLEM_NO_ADDRESS;
		snprintf(
		    t->message, sizeof(t->message),
		    "no IPv4 InternalIP in status.addresses: not a peer, its pods unreachable");
		return;
	}
	cidrs = node_pod_cidrs(node, 4);
	if (!json_array_size(cidrs)) {
		t->problem = 1u << PROBLEM_NO_POD_CIDR;
		snprintf(t->message, sizeof(t->message),
			 "no IPv4 spec.podCIDR(s): not a peer, its pods unreachable");
		json_decref(cidrs);
		return;
	}
	if (json_array_size(cidrs) > PEER_MAX_CIDRS) {
		t->problem = 1u << PROBLEM_TOO_MANY;
		snprintf(t->message, sizeof(t->message),
			 "%zu IPv4 pod ranges, more than the %d a peer holds: not a peer",
			 json_array_size(cidrs), PEER_MAX_CIDRS);
		json_decref(cidrs);
		return;
	}
	t->entry = json_pack("{ssssso}", "name", name, "address", address, "pod-cidr", cidrs);
	peer_normalize(t->entry);
}

json_t *peers_desired(json_t *nodes, const char *self, json_t *problems)
{
	json_t *out = json_object(), *node;
	const char *name;

	json_object_foreach(nodes, name, node)
	{
		struct peer_translation t;

		if (self && strcmp(name, self) == 0)
			continue;
		translate_peer(name, node, &t);
		if (t.entry)
			json_object_set_new(out, name, t.entry);
		else if (problems)
			json_object_set_new(
			    problems, name,
			    json_pack("{siss}", "bits", (int)t.problem, "message", t.message));
	}
	return out;
}
