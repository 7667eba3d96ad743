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

/* A pod range of the family among cidrs. */
static int has_family(json_t *cidrs, int family)
{
	json_t *v;
	size_t i;

	json_array_foreach(cidrs, i, v) if ((strchr(json_string_value(v), ':') != NULL) ==
					    (family == 6)) return 1;
	return 0;
}

void translate_peer(const char *name, json_t *node, int native, struct peer_translation *t)
{
	char v4[64], v6[64], bad[128];
	json_t *cidrs;

	memset(t, 0, sizeof(*t));
	if (node_internal_ips(node, v4, v6, sizeof(v4), bad, sizeof(bad))) {
		t->problem = 1u << PROBLEM_BAD_VALUE;
		snprintf(t->message, sizeof(t->message),
			 "InternalIP %s is not an IP address: not a peer, its pods unreachable",
			 bad);
		return;
	}
	if (!v4[0]) {
		t->problem = 1u << PROBLEM_NO_ADDRESS;
		if (v6[0])
			snprintf(t->message, sizeof(t->message),
				 "only an IPv6 InternalIP (%s), and a peer needs an IPv4 one: "
				 "not a peer, its pods unreachable",
				 v6);
		else
			snprintf(t->message, sizeof(t->message),
				 "no IPv4 InternalIP in status.addresses: not a peer, its pods "
				 "unreachable");
		return;
	}
	cidrs = node_pod_cidrs(node, 0, bad, sizeof(bad));
	if (bad[0]) {
		t->problem = 1u << PROBLEM_BAD_VALUE;
		snprintf(t->message, sizeof(t->message),
			 "pod range %s is not an IPv4 or IPv6 CIDR: not a peer, its pods "
			 "unreachable",
			 bad);
		json_decref(cidrs);
		return;
	}
	if (!json_array_size(cidrs)) {
		t->problem = 1u << PROBLEM_NO_POD_CIDR;
		snprintf(t->message, sizeof(t->message),
			 "no spec.podCIDR(s): not a peer, its pods unreachable");
		json_decref(cidrs);
		return;
	}
	if (json_array_size(cidrs) > PEER_MAX_CIDRS) {
		t->problem = 1u << PROBLEM_TOO_MANY;
		snprintf(t->message, sizeof(t->message),
			 "%zu pod ranges, more than the %d a peer holds: not a peer",
			 json_array_size(cidrs), PEER_MAX_CIDRS);
		json_decref(cidrs);
		return;
	}
	if (native && !v6[0] && has_family(cidrs, 6)) {
		t->problem = 1u << PROBLEM_NO_ADDRESS;
		snprintf(t->message, sizeof(t->message),
			 "IPv6 pod ranges but no IPv6 InternalIP, their next hop when routed "
			 "natively: not a peer, its pods unreachable");
		json_decref(cidrs);
		return;
	}
	t->entry = json_pack("{ssssso}", "name", name, "address", v4, "pod-cidr", cidrs);
	if (v6[0])
		json_object_set_new(t->entry, "address6", json_string(v6));
	peer_normalize(t->entry);
}

json_t *peers_desired(json_t *nodes, const char *self, int native, json_t *problems)
{
	json_t *out = json_object(), *node;
	const char *name;

	json_object_foreach(nodes, name, node)
	{
		struct peer_translation t;

		if (self && strcmp(name, self) == 0)
			continue;
		translate_peer(name, node, native, &t);
		if (t.entry)
			json_object_set_new(out, name, t.entry);
		else if (problems)
			json_object_set_new(
			    problems, name,
			    json_pack("{siss}", "bits", (int)t.problem, "message", t.message));
	}
	return out;
}
