// SPDX-License-Identifier: Apache-2.0
/*
 * The node agent's translation and write planning, on recorded
 * discovery.k8s.io/v1 objects (hints, zones, nodeName, internalTrafficPolicy,
 * dual stack: what the v1.20 test server cannot produce) and on made-up
 * corner cases; every entry and every request body is validated with
 * libyang against cubenet-pods.yang.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <libyang/libyang.h>
#include "entry.h"
#include "node_config.h"
#include "peers.h"
#include "plan.h"
#include "test.h"
#include "translate.h"

static struct ly_ctx *ctx;

static json_t *load(const char *name)
{
	char path[512];
	json_error_t err;
	json_t *v;

	snprintf(path, sizeof(path), "%s/%s", OBJECTS_DIR, name);
	v = json_load_file(path, 0, &err);
	if (!v)
		fprintf(stderr, "  %s: %s (line %d)\n", path, err.text, err.line);
	return v;
}

/* A datastore body valid against the model: 0, or -1 with the reason printed. */
static int valid(const json_t *data)
{
	char *text = json_dumps(data, JSON_COMPACT);
	struct lyd_node *tree = NULL;
	LY_ERR rc =
	    lyd_parse_data_mem(ctx, text, LYD_JSON, LYD_PARSE_STRICT, LYD_VALIDATE_PRESENT, &tree);

	if (rc) {
		const struct ly_err_item *e = ly_err_last(ctx);

		fprintf(stderr, "  invalid: %s at %s\n  %s\n", e ? e->msg : "?",
			e && e->path ? e->path : "", text);
	}
	lyd_free_all(tree);
	free(text);
	return rc ? -1 : 0;
}

static int valid_entry(const json_t *entry)
{
	json_t *doc = json_pack("{s{s[O]}}", "cubenet-pods:services", "service", entry);
	int rc = valid(doc);

	json_decref(doc);
	return rc;
}

static int valid_peer(const json_t *entry)
{
	json_t *doc = json_pack("{s{s[O]}}", "cubenet-pods:peers", "peer", entry);
	int rc = valid(doc);

	json_decref(doc);
	return rc;
}

/* A request's body as the datastore it makes valid: a PUT of an entry or a
 * node part is wrapped in its parents; YANG Patch edits likewise. */
static int valid_request(const json_t *req)
{
	const char *path = json_string_value(json_object_get(req, "path"));
	json_t *body = json_object_get(req, "body"), *e;
	int rc = 0;
	size_t i;

	if (!body)
		return 0;
	if (json_object_get(body, "ietf-yang-patch:yang-patch")) {
		json_array_foreach(
		    json_object_get(json_object_get(body, "ietf-yang-patch:yang-patch"), "edit"), i,
		    e)
		{
			json_t *v = json_object_get(e, "value"), *svc;

			if (!v)
				continue;
			if ((svc = json_object_get(v, "cubenet-pods:service")))
				rc |= valid_entry(json_array_get(svc, 0));
			else if ((svc = json_object_get(v, "cubenet-pods:peer")))
				rc |= valid_peer(json_array_get(svc, 0));
			else if (json_object_get(v, "cubenet-pods:masquerade")) {
				json_t *doc =
				    json_pack("{s{sO}}", "cubenet-pods:node", "masquerade",
					      json_object_get(v, "cubenet-pods:masquerade"));

				rc |= valid(doc);
				json_decref(doc);
			} else {
				rc |= valid(v);
			}
		}
		return rc;
	}
	if (json_object_get(body, "cubenet-pods:service"))
		return valid_entry(
		    json_array_get(json_object_get(body, "cubenet-pods:service"), 0));
	if (json_object_get(body, "cubenet-pods:peer"))
		return valid_peer(json_array_get(json_object_get(body, "cubenet-pods:peer"), 0));
	if (json_object_get(body, "cubenet-pods:masquerade")) {
		json_t *doc = json_pack("{s{sO}}", "cubenet-pods:node", "masquerade",
					json_object_get(body, "cubenet-pods:masquerade"));

		rc = valid(doc);
		json_decref(doc);
		return rc;
	}
	(void)path;
	return valid(body);
}

static const struct node_identity node_a = {"node-a", NULL};

TEST(recorded_v1_service_and_slices)
{
	json_t *svc = load("v1-service-lb-local.json"), *slices = load("v1-slices-shop.json");
	json_t *want = load("v1-expected-shop.json");
	struct translation t;

	REQUIRE(svc && slices && want, "objects");
	translate_service(svc, slices, &node_a, &t);
	REQUIRE(t.entry, "an entry: %s", t.ignored ? t.ignored : "");
	entry_normalize(t.entry);
	entry_normalize(want);
	if (!json_equal(t.entry, want)) {
		char *got = json_dumps(t.entry, JSON_INDENT(1) | JSON_SORT_KEYS);

		CHECK(0, "the entry differs from v1-expected-shop.json:\n%s", got);
		free(got);
	}
	CHECK(valid_entry(t.entry) == 0, "valid");
	/* FQDN slices, hostname-only and Proxy-mode ingress, hints and zones
	 * are no problem: they are not for the node chain. */
	CHECK_EQ(t.problems, 0);
	CHECK_EQ(json_array_size(t.messages), 0);
	/* Per family, as kube-proxy counts: two ready IPv4 ones on node-a
	 * (the terminating one is not), one IPv6. */
	CHECK_EQ(t.local_ready, 2);
	CHECK_EQ(t.health_check_port, 32101);
	translation_free(&t);

	/* The same slices seen from node-b: other endpoints are local. */
	struct node_identity node_b = {"node-b", NULL};

	translate_service(svc, slices, &node_b, &t);
	CHECK_EQ(t.local_ready, 1);
	translation_free(&t);
	json_decref(svc);
	json_decref(slices);
	json_decref(want);
}

static json_t *simple_service(const char *name, const char *type)
{
	return json_pack("{s{ssss}s{sss[s]s[{sisssi}]}}", "metadata", "namespace", "ns", "name",
			 name, "spec", "type", type, "clusterIPs", "10.96.0.5", "ports", "port", 80,
			 "protocol", "TCP", "targetPort", 8080);
}

TEST(v1beta1_topology_and_nil_conditions)
{
	json_t *svc = simple_service("web", "ClusterIP");
	json_t *eps = json_pack(
	    "[{s[s]s{ss}},{s[s]s{ss}s{sb}},{s[s]sss{ss}}]", "addresses", "10.244.0.1", "topology",
	    "kubernetes.io/hostname", "host-1", "addresses", "10.244.0.2", "topology",
	    "kubernetes.io/hostname", "node-1", "conditions", "ready", 0, "addresses", "10.244.0.3",
	    "nodeName", "node-1", "topology", "kubernetes.io/hostname", "other");
	json_t *slices = json_pack("[{s{ssss}sss[{sssiss}]so}]", "metadata", "namespace", "ns",
				   "name", "s-1", "addressType", "IPv4", "ports", "name", "",
				   "port", 8080, "protocol", "TCP", "endpoints", eps);
	/* The node's hostname label is not its name: topology names the label. */
	struct node_identity id = {"node-1", "host-1"};
	struct translation t;
	json_t *list, *e;
	size_t i;

	translate_service(svc, slices, &id, &t);
	REQUIRE(t.entry, "entry");
	list = json_object_get(t.entry, "endpoint");
	CHECK_EQ(json_array_size(list), 3);
	json_array_foreach(list, i, e)
	{
		const char *a = json_string_value(json_object_get(e, "address"));
		int local = json_is_true(json_object_get(e, "local"));
		int ready = json_is_true(json_object_get(e, "ready"));

		/* No conditions at all: ready and serving, not terminating. */
		CHECK(json_is_true(json_object_get(e, "serving")), "%s serving", a);
		CHECK(json_is_false(json_object_get(e, "terminating")), "%s not terminating", a);
		if (strcmp(a, "10.244.0.1") == 0)
			CHECK(local && ready, "10.244.0.1 is on host-1, ready");
		else if (strcmp(a, "10.244.0.2") == 0)
			CHECK(!local && !ready,
			      "10.244.0.2: topology node-1 is not host-1; not ready");
		else
			CHECK(local && ready, "10.244.0.3: nodeName wins over topology");
	}
	CHECK(valid_entry(t.entry) == 0, "valid");
	translation_free(&t);
	json_decref(svc);
	json_decref(slices);
}

TEST(not_written)
{
	const char *why[] = {"headless", "an ExternalName service", "headless"};
	json_t *svcs[3] = {
	    json_pack("{s{ssss}s{sss[s]}}", "metadata", "namespace", "ns", "name", "h", "spec",
		      "type", "ClusterIP", "clusterIPs", "None"),
	    json_pack("{s{ssss}s{ssss}}", "metadata", "namespace", "ns", "name", "x", "spec",
		      "type", "ExternalName", "externalName", "example.org"),
	    json_pack("{s{ssss}s{ssss}}", "metadata", "namespace", "ns", "name", "e", "spec",
		      "type", "ClusterIP", "clusterIP", ""),
	};
	struct translation t;
	json_t *none = json_array();

	for (int i = 0; i < 3; i++) {
		translate_service(svcs[i], none, &node_a, &t);
		CHECK(!t.entry, "case %d written", i);
		CHECK(t.ignored && strcmp(t.ignored, why[i]) == 0, "case %d: %s", i,
		      t.ignored ? t.ignored : "(none)");
		translation_free(&t);
		json_decref(svcs[i]);
	}
	/* A Service gone: nothing, silently (its slices do not make one). */
	translate_service(NULL, none, &node_a, &t);
	CHECK(!t.entry && !t.ignored, "a deleted service");
	translation_free(&t);
	json_decref(none);
}

TEST(sctp_and_endpoints_without_a_port)
{
	json_t *svc =
	    json_pack("{s{ssss}s{sss[s]s[{sssiss},{sssiss},{sssiss}]}}", "metadata", "namespace",
		      "ns", "name", "m", "spec", "type", "ClusterIP", "clusterIPs", "10.96.0.6",
		      "ports", "name", "web", "port", 80, "protocol", "TCP", "name", "sig", "port",
		      9, "protocol", "SCTP", "name", "dns", "port", 53, "protocol", "UDP");
	/* One slice has both TCP and UDP; one only TCP (its pods lack dns). */
	json_t *slices = json_pack(
	    "[{s{ssss}sss[{sssiss},{sssiss}]s[{s[s]}]},{s{ssss}sss[{sssiss}]s[{s[s]}]}]",
	    "metadata", "namespace", "ns", "name", "m-1", "addressType", "IPv4", "ports", "name",
	    "web", "port", 8080, "protocol", "TCP", "name", "dns", "port", 5353, "protocol", "UDP",
	    "endpoints", "addresses", "10.244.0.8", "metadata", "namespace", "ns", "name", "m-2",
	    "addressType", "IPv4", "ports", "name", "web", "port", 8080, "protocol", "TCP",
	    "endpoints", "addresses", "10.244.0.9");
	struct translation t;
	json_t *ports, *eps;

	translate_service(svc, slices, &node_a, &t);
	REQUIRE(t.entry, "entry");
	ports = json_object_get(t.entry, "port");
	CHECK_EQ(json_array_size(ports), 2);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(ports, 1), "protocol")),
		     "udp") == 0,
	      "dns is udp");
	CHECK(t.problems & (1u << PROBLEM_SCTP), "SCTP reported");
	CHECK(t.problems & (1u << PROBLEM_ENDPOINT_PORT), "the endpoint without dns reported");
	eps = json_object_get(t.entry, "endpoint");
	CHECK_EQ(json_array_size(eps), 1);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(eps, 0), "address")),
		     "10.244.0.8") == 0,
	      "only the endpoint with every port");
	char *messages = json_dumps(t.messages, 0);

	CHECK(strstr(messages, "port sig 9/SCTP: SCTP is not supported") != NULL,
	      "the SCTP message");
	free(messages);
	CHECK(valid_entry(t.entry) == 0, "valid");
	translation_free(&t);
	json_decref(svc);
	json_decref(slices);
}

TEST(more_endpoints_than_the_model_holds)
{
	json_t *svc = simple_service("big", "ClusterIP"), *eps = json_array(), *slices;
	struct translation t;
	json_t *list, *e;
	size_t i, ready = 0;
	char addr[32];

	/* 1,100 endpoints, the last 200 not ready: the 900 ready kept first. */
	for (int n = 0; n < 1100; n++) {
		snprintf(addr, sizeof(addr), "10.244.%d.%d", n / 250, n % 250 + 1);
		json_array_append_new(eps, json_pack("{s[s]s{sb}}", "addresses", addr, "conditions",
						     "ready", n < 900));
	}
	slices = json_pack("[{s{ssss}sss[{sssiss}]so}]", "metadata", "namespace", "ns", "name",
			   "big-1", "addressType", "IPv4", "ports", "name", "", "port", 8080,
			   "protocol", "TCP", "endpoints", eps);
	translate_service(svc, slices, &node_a, &t);
	REQUIRE(t.entry, "entry");
	list = json_object_get(t.entry, "endpoint");
	CHECK_EQ(json_array_size(list), 1000);
	json_array_foreach(list, i, e) ready += json_is_true(json_object_get(e, "ready"));
	CHECK_EQ(ready, 900);
	CHECK(t.problems & (1u << PROBLEM_TOO_MANY), "reported");
	CHECK(valid_entry(t.entry) == 0, "valid: max-elements 1000");
	translation_free(&t);
	json_decref(svc);
	json_decref(slices);
}

TEST(publish_not_ready_affinity_bounds_and_source_ranges)
{
	json_t *svc = json_pack("{s{ssss}s{sss[s]s[{sisi}]sbsss{s{si}}s[s]}s{s{s[{ss}]}}}",
				"metadata", "namespace", "ns", "name", "p", "spec", "type",
				"LoadBalancer", "clusterIPs", "10.96.0.7", "ports", "port", 80,
				"nodePort", 30080, "publishNotReadyAddresses", 1, "sessionAffinity",
				"ClientIP", "sessionAffinityConfig", "clientIP", "timeoutSeconds",
				100000, "loadBalancerSourceRanges", "192.0.2.0/24", "status",
				"loadBalancer", "ingress", "ip", "203.0.113.1");
	json_t *slices =
	    json_pack("[{s{ssss}sss[{sssiss}]s[{s[s]s{sbsbsb}}]}]", "metadata", "namespace", "ns",
		      "name", "p-1", "addressType", "IPv4", "ports", "name", "", "port", 80,
		      "protocol", "TCP", "endpoints", "addresses", "10.244.0.40", "conditions",
		      "ready", 0, "serving", 0, "terminating", 0);
	struct translation t;
	json_t *ep;

	translate_service(svc, slices, &node_a, &t);
	REQUIRE(t.entry, "entry");
	ep = json_array_get(json_object_get(t.entry, "endpoint"), 0);
	CHECK(json_is_true(json_object_get(ep, "ready")), "publishNotReadyAddresses: ready");
	CHECK_EQ(json_integer_value(json_object_get(t.entry, "session-affinity-timeout")), 10800);
	CHECK(t.problems & (1u << PROBLEM_BAD_VALUE), "timeout out of range reported");
	CHECK(!json_object_get(t.entry, "load-balancer-ip"), "source ranges: IPs not served");
	CHECK(t.problems & (1u << PROBLEM_SOURCE_RANGES), "reported");
	CHECK_EQ(json_integer_value(json_object_get(
		     json_array_get(json_object_get(t.entry, "port"), 0), "node-port")),
		 30080);
	CHECK(valid_entry(t.entry) == 0, "valid");
	translation_free(&t);
	json_decref(svc);
	json_decref(slices);
}

static json_t *entry(const char *name, int n_endpoints)
{
	json_t *e = json_pack("{sssss[s]s[{sisssi}]}", "namespace", "ns", "name", name,
			      "cluster-ip", "10.96.1.1", "port", "port", 80, "protocol", "tcp",
			      "target-port", 8080),
	       *eps = json_array();
	char addr[32];

	for (int i = 0; i < n_endpoints; i++) {
		snprintf(addr, sizeof(addr), "10.244.9.%d", i + 1);
		json_array_append_new(eps, json_pack("{ss}", "address", addr));
	}
	json_object_set_new(e, "endpoint", eps);
	entry_normalize(e);
	return e;
}

TEST(normal_form_and_within)
{
	json_t *a = entry("a", 2), *b = entry("a", 3), *got;

	CHECK(entry_within(a, b), "2 endpoints within 3");
	CHECK(!entry_within(b, a), "3 not within 2");
	/* What cubenetd answers: defaults left out, lists in another order. */
	got = json_pack("{sssss[s]s[{sisssi}]s[{ss},{ss}]}", "namespace", "ns", "name", "a",
			"cluster-ip", "10.96.1.1", "port", "port", 80, "protocol", "tcp",
			"target-port", 8080, "endpoint", "address", "10.244.9.2", "address",
			"10.244.9.1");
	entry_normalize(got);
	CHECK(json_equal(got, a), "normalized alike");
	/* A leaf dropped (a node-port gone) is not within. */
	json_object_set_new(json_array_get(json_object_get(b, "port"), 0), "node-port",
			    json_integer(30001));
	json_t *c = entry("a", 3);

	CHECK(!entry_within(b, c), "a node-port lost");
	json_decref(c);
	json_decref(a);
	json_decref(b);
	json_decref(got);
}

static int count_method(json_t *plan, const char *method)
{
	size_t i;
	json_t *r;
	int n = 0;

	json_array_foreach(plan, i, r) n +=
	    strcmp(json_string_value(json_object_get(r, "method")), method) == 0;
	return n;
}

TEST(plan_plain)
{
	json_t *shadow = json_object(), *changes = json_object(), *plan, *r;
	json_t *node_shadow = json_pack("{sss{s[ss]}}", "address", "192.0.2.1", "masquerade",
					"cluster-cidr", "10.244.0.0/16", "10.96.0.0/12");
	json_t *node = json_pack("{sss{s[s]}}", "address", "192.0.2.2", "masquerade",
				 "cluster-cidr", "10.244.0.0/16");
	unsigned long seq = 0;
	size_t i;

	json_object_set_new(shadow, "ns/shrinks", entry("shrinks", 3));
	json_object_set_new(shadow, "ns/grows", entry("grows", 1));
	json_object_set_new(shadow, "ns/gone", entry("gone", 1));
	json_object_set_new(changes, "ns/shrinks", entry("shrinks", 2));
	json_object_set_new(changes, "ns/grows", entry("grows", 2));
	json_object_set_new(changes, "ns/gone", json_null());
	json_object_set_new(changes, "ns/new", entry("new", 1));
	json_object_set_new(changes, "ns/never-there", json_null());
	plan = plan_requests(shadow, node_shadow, changes, node, NULL, NULL, 0, 1 << 20, &seq);
	/* Node: masquerade lost a range (PUT), address changed (merged); then
	 * the removal, the shrink, and one merge for the new and the grown. */
	CHECK_EQ(json_array_size(plan), 5);
	CHECK_EQ(count_method(plan, "PUT"), 2);
	CHECK_EQ(count_method(plan, "DELETE"), 1);
	CHECK_EQ(count_method(plan, "PATCH"), 2);
	r = json_array_get(plan, 0);
	CHECK(strcmp(json_string_value(json_object_get(r, "path")), NODE_PATH "/masquerade") == 0,
	      "node first: %s", json_string_value(json_object_get(r, "path")));
	json_array_foreach(plan, i, r)
	{
		const char *path = json_string_value(json_object_get(r, "path"));
		const char *method = json_string_value(json_object_get(r, "method"));

		CHECK(valid_request(r) == 0, "%s %s valid", method, path);
		if (strcmp(method, "DELETE") == 0)
			CHECK(strcmp(path, SERVICES_PATH "/service=ns,gone") == 0, "%s", path);
		if (strcmp(method, "PUT") == 0 && strstr(path, "service="))
			CHECK(strcmp(path, SERVICES_PATH "/service=ns,shrinks") == 0, "%s", path);
	}
	r = json_array_get(plan, 4);
	CHECK(strcmp(json_string_value(json_object_get(r, "path")), "/restconf/data") == 0,
	      "the merge is of the datastore");
	CHECK_EQ(
	    json_array_size(json_object_get(
		json_object_get(json_object_get(r, "body"), "cubenet-pods:services"), "service")),
	    2);
	json_decref(plan);

	/* YANG Patch: all of it in one request, removals first. */
	plan = plan_requests(shadow, node_shadow, changes, node, NULL, NULL, 1, 1 << 20, &seq);
	CHECK_EQ(json_array_size(plan), 1);
	r = json_array_get(plan, 0);
	CHECK(valid_request(r) == 0, "yang patch valid");
	CHECK(strcmp(json_string_value(json_object_get(r, "content-type")),
		     "application/yang-patch+json") == 0,
	      "its media type");
	{
		json_t *edits = json_object_get(json_object_get(json_object_get(r, "body"),
								"ietf-yang-patch:yang-patch"),
						"edit"),
		       *e;
		const char *want[][2] = {
		    {"replace", "/cubenet-pods:node/masquerade"},
		    {"merge", "/cubenet-pods:node"},
		    {"remove", "/cubenet-pods:services/service=ns,gone"},
		    {"replace", NULL},
		    {"replace", NULL},
		    {"replace", NULL},
		};

		CHECK_EQ(json_array_size(edits), 6);
		json_array_foreach(edits, i, e)
		{
			if (i >= 6)
				break;
			CHECK(strcmp(json_string_value(json_object_get(e, "operation")),
				     want[i][0]) == 0,
			      "edit %zu operation", i);
			if (want[i][1])
				CHECK(strcmp(json_string_value(json_object_get(e, "target")),
					     want[i][1]) == 0,
				      "edit %zu target %s", i,
				      json_string_value(json_object_get(e, "target")));
		}
	}
	json_decref(plan);
	json_decref(shadow);
	json_decref(changes);
	json_decref(node);
	json_decref(node_shadow);
}

TEST(plan_bounded_bodies)
{
	json_t *changes = json_object(), *shadow = json_object(), *plan, *r, *k;
	json_t *seen = json_object();
	unsigned long seq = 0;
	char name[32];
	size_t i, j, limit = 16384;

	for (int n = 0; n < 200; n++) {
		snprintf(name, sizeof(name), "s%03d", n);
		char key[40];

		snprintf(key, sizeof(key), "ns/%s", name);
		json_object_set_new(changes, key, entry(name, 10));
	}
	for (int yp = 0; yp < 2; yp++) {
		json_object_clear(seen);
		plan = plan_requests(shadow, NULL, changes, NULL, NULL, NULL, yp, limit, &seq);
		CHECK(json_array_size(plan) > 1, "more than one request");
		json_array_foreach(plan, i, r)
		{
			size_t bytes =
			    json_dumpb(json_object_get(r, "body"), NULL, 0, JSON_COMPACT);

			CHECK(bytes <= limit + 1024, "request %zu: %zu bytes", i, bytes);
			CHECK(valid_request(r) == 0, "request %zu valid", i);
			json_array_foreach(json_object_get(r, "keys"), j, k)
			{
				CHECK(!json_object_get(seen, json_string_value(k)), "once each");
				json_object_set_new(seen, json_string_value(k), json_true());
			}
		}
		CHECK_EQ(json_object_size(seen), 200);
		json_decref(plan);
	}
	/* 5,000 new services in YANG Patches of at most 2,048 edits. */
	json_object_clear(changes);
	for (int n = 0; n < 5000; n++) {
		char key[40];

		snprintf(name, sizeof(name), "m%04d", n);
		snprintf(key, sizeof(key), "ns/%s", name);
		json_object_set_new(changes, key, entry(name, 1));
	}
	plan = plan_requests(shadow, NULL, changes, NULL, NULL, NULL, 1, 64 << 20, &seq);
	CHECK_EQ(json_array_size(plan), 3);
	json_array_foreach(plan, i, r)
	{
		json_t *edits = json_object_get(
		    json_object_get(json_object_get(r, "body"), "ietf-yang-patch:yang-patch"),
		    "edit");

		CHECK(json_array_size(edits) <= 2048, "request %zu: %zu edits", i,
		      json_array_size(edits));
	}
	json_decref(plan);
	json_decref(seen);
	json_decref(changes);
	json_decref(shadow);
}

/* A Node as the store keeps it: addresses [(type, address)], pod CIDRs. */
static json_t *node_obj(const char *name, const char *const *addrs, const char *pod_cidr,
			const char *const *pod_cidrs)
{
	json_t *n =
	    json_pack("{s{ss}s{}s{s[]}}", "metadata", "name", name, "spec", "status", "addresses");
	json_t *a = json_object_get(json_object_get(n, "status"), "addresses");

	for (int i = 0; addrs && addrs[i]; i += 2)
		json_array_append_new(
		    a, json_pack("{ssss}", "type", addrs[i], "address", addrs[i + 1]));
	if (pod_cidr)
		json_object_set_new(json_object_get(n, "spec"), "podCIDR", json_string(pod_cidr));
	if (pod_cidrs) {
		json_t *l = json_array();

		for (int i = 0; pod_cidrs[i]; i++)
			json_array_append_new(l, json_string(pod_cidrs[i]));
		json_object_set_new(json_object_get(n, "spec"), "podCIDRs", l);
	}
	return n;
}

static long problem_bits(json_t *problems, const char *name)
{
	return (long)json_integer_value(json_object_get(json_object_get(problems, name), "bits"));
}

static const char *problem_text(json_t *problems, const char *name)
{
	const char *m =
	    json_string_value(json_object_get(json_object_get(problems, name), "message"));

	return m ? m : "";
}

TEST(peers_from_nodes)
{
	static const char *const ip_b[] = {"Hostname", "b", "InternalIP", "192.0.2.2", NULL};
	static const char *const ip_c[] = {"ExternalIP", "203.0.113.3", "InternalIP", "fd00::3",
					   "InternalIP", "192.0.2.3",	NULL};
	static const char *const ip_e[] = {"InternalIP", "192.0.2.5", NULL};
	static const char *const ext_d[] = {"ExternalIP", "203.0.113.4", NULL};
	static const char *const v6_only[] = {"InternalIP", "fd00::7", "Hostname", "g", NULL};
	/* Several of each family, the IPv6 ones not canonical: the first of each. */
	static const char *const ip_h[] = {"InternalIP", "FD00:0:0::8", "InternalIP",
					   "192.0.2.8",	 "InternalIP",	"fd00::88",
					   "InternalIP", "192.0.2.88",	NULL};
	static const char *const bad_v4[] = {"InternalIP", "192.0.2.300", "InternalIP",
					     "192.0.2.10", NULL};
	static const char *const zoned[] = {"InternalIP", "192.0.2.11", "InternalIP",
					    "fe80::1%eth0", NULL};
	static const char *const mapped[] = {"InternalIP", "192.0.2.12", "InternalIP",
					     "::ffff:192.0.2.12", NULL};
	static const char *const dual[] = {"fd00:10:244:2::/64", "10.244.2.0/24", NULL};
	static const char *const v6[] = {"fd00:10:244:6::/64", NULL};
	static const char *const host_bits6[] = {"10.244.8.0/24", "fd00:10:244:8::1/64", NULL};
	static const char *const long6[] = {"10.244.9.0/24", "fd00:10:244:9::/129", NULL};
	static const char *const mapped6[] = {"10.244.13.0/24", "::ffff:10.244.13.0/120", NULL};
	static const char *const signed6[] = {"10.244.14.0/24", "fd00:10:244:14::/+64", NULL};
	static const char *const no_len6[] = {"fd00:10:244:15::", NULL};
	static const char *const nine[] = {"10.244.16.0/28",	  "10.244.16.16/28",
					   "10.244.16.32/28",	  "10.244.16.48/28",
					   "10.244.16.64/28",	  "fd00:10:244:16::/64",
					   "fd00:10:244:17::/64", "fd00:10:244:18::/64",
					   "fd00:10:244:19::/64", NULL};
	static const char *const eight[] = {
	    "10.244.20.0/28",	   "10.244.20.16/28",	  "10.244.20.32/28",
	    "10.244.20.48/28",	   "fd00:10:244:20::/64", "fd00:10:244:21::/64",
	    "fd00:10:244:22::/64", "fd00:10:244:23::/64", NULL};
	json_t *nodes = json_object(), *problems = json_object(), *desired, *want, *v;
	const char *name;

	json_object_set_new(nodes, "node-a", node_obj("node-a", ip_b, "10.244.1.0/24", NULL));
	json_object_set_new(nodes, "node-b", node_obj("node-b", ip_b, NULL, dual));
	/* Host bits set in podCIDR: the prefix itself. */
	json_object_set_new(nodes, "node-c", node_obj("node-c", ip_c, "10.244.3.7/24", NULL));
	json_object_set_new(nodes, "node-d", node_obj("node-d", ext_d, "10.244.4.0/24", NULL));
	json_object_set_new(nodes, "node-e", node_obj("node-e", ip_e, NULL, NULL));
	json_object_set_new(nodes, "node-f", node_obj("node-f", ip_e, NULL, v6));
	json_object_set_new(nodes, "node-g", node_obj("node-g", v6_only, NULL, dual));
	json_object_set_new(nodes, "node-h", node_obj("node-h", ip_h, NULL, host_bits6));
	json_object_set_new(nodes, "node-i", node_obj("node-i", ip_h, NULL, long6));
	json_object_set_new(nodes, "node-j", node_obj("node-j", bad_v4, "10.244.10.0/24", NULL));
	json_object_set_new(nodes, "node-k", node_obj("node-k", zoned, "10.244.11.0/24", NULL));
	json_object_set_new(nodes, "node-l", node_obj("node-l", mapped, "10.244.12.0/24", NULL));
	json_object_set_new(nodes, "node-m", node_obj("node-m", ip_h, NULL, mapped6));
	json_object_set_new(nodes, "node-n", node_obj("node-n", ip_h, NULL, signed6));
	json_object_set_new(nodes, "node-o", node_obj("node-o", ip_h, NULL, no_len6));
	json_object_set_new(nodes, "node-p", node_obj("node-p", ip_h, NULL, nine));
	json_object_set_new(nodes, "node-q", node_obj("node-q", ip_h, NULL, eight));
	desired = peers_desired(nodes, "node-a", 0, problems);
	want = json_pack("{s{sssss[ss]}s{sssssss[s]}s{sssss[s]}s{sssssss[ss]}s{sssssss[ssssssss]}}",
			 "node-b", "name", "node-b", "address", "192.0.2.2", "pod-cidr",
			 "10.244.2.0/24", "fd00:10:244:2::/64", "node-c", "name", "node-c",
			 "address", "192.0.2.3", "address6", "fd00::3", "pod-cidr", "10.244.3.0/24",
			 "node-f", "name", "node-f", "address", "192.0.2.5", "pod-cidr",
			 "fd00:10:244:6::/64", "node-h", "name", "node-h", "address", "192.0.2.8",
			 "address6", "fd00::8", "pod-cidr", "10.244.8.0/24", "fd00:10:244:8::/64",
			 "node-q", "name", "node-q", "address", "192.0.2.8", "address6", "fd00::8",
			 "pod-cidr", "10.244.20.0/28", "10.244.20.16/28", "10.244.20.32/28",
			 "10.244.20.48/28", "fd00:10:244:20::/64", "fd00:10:244:21::/64",
			 "fd00:10:244:22::/64", "fd00:10:244:23::/64");
	{
		char *got = json_dumps(desired, JSON_SORT_KEYS | JSON_COMPACT);

		CHECK(json_equal(desired, want), "peers b, c, f, h and q (node-a is this node): %s",
		      got);
		free(got);
	}
	json_object_foreach(desired, name, v) CHECK(valid_peer(v) == 0, "%s valid", name);
	CHECK_EQ(json_object_size(problems), 11);
	CHECK_EQ(problem_bits(problems, "node-d"), 1 << PROBLEM_NO_ADDRESS);
	CHECK(strstr(problem_text(problems, "node-d"), "no IPv4 InternalIP") != NULL,
	      "the message names what is missing");
	CHECK_EQ(problem_bits(problems, "node-e"), 1 << PROBLEM_NO_POD_CIDR);
	CHECK_EQ(problem_bits(problems, "node-g"), 1 << PROBLEM_NO_ADDRESS);
	CHECK(strstr(problem_text(problems, "node-g"), "only an IPv6 InternalIP (fd00::7)") != NULL,
	      "an IPv6-only Node says so: %s", problem_text(problems, "node-g"));
	CHECK_EQ(problem_bits(problems, "node-i"), 1 << PROBLEM_BAD_VALUE);
	CHECK(strstr(problem_text(problems, "node-i"), "fd00:10:244:9::/129") != NULL,
	      "the bad range named: %s", problem_text(problems, "node-i"));
	CHECK_EQ(problem_bits(problems, "node-j"), 1 << PROBLEM_BAD_VALUE);
	CHECK(strstr(problem_text(problems, "node-j"), "InternalIP 192.0.2.300") != NULL,
	      "the bad address named: %s", problem_text(problems, "node-j"));
	CHECK_EQ(problem_bits(problems, "node-k"), 1 << PROBLEM_BAD_VALUE);
	CHECK_EQ(problem_bits(problems, "node-l"), 1 << PROBLEM_BAD_VALUE);
	CHECK_EQ(problem_bits(problems, "node-m"), 1 << PROBLEM_BAD_VALUE);
	CHECK_EQ(problem_bits(problems, "node-n"), 1 << PROBLEM_BAD_VALUE);
	CHECK_EQ(problem_bits(problems, "node-o"), 1 << PROBLEM_BAD_VALUE);
	CHECK_EQ(problem_bits(problems, "node-p"), 1 << PROBLEM_TOO_MANY);
	json_decref(want);
	json_decref(desired);

	/* Native routing: IPv6 ranges need the IPv6 InternalIP as next hop. */
	json_object_clear(problems);
	desired = peers_desired(nodes, "node-a", 1, problems);
	CHECK(!json_object_get(desired, "node-b") && !json_object_get(desired, "node-f"),
	      "IPv6 ranges without an IPv6 InternalIP: not a peer when native");
	CHECK(json_object_get(desired, "node-c") && json_object_get(desired, "node-h") &&
		  json_object_get(desired, "node-q"),
	      "the others are");
	CHECK_EQ(problem_bits(problems, "node-b"), 1 << PROBLEM_NO_ADDRESS);
	CHECK(strstr(problem_text(problems, "node-f"), "no IPv6 InternalIP") != NULL,
	      "says why: %s", problem_text(problems, "node-f"));
	CHECK_EQ(json_object_size(problems), 13);
	json_decref(desired);

	/* cubenetd's answer, ranges in another order: normalized alike. */
	v = json_pack("{sssss[ss]}", "name", "x", "address", "192.0.2.9", "pod-cidr", "10.9.0.0/24",
		      "10.8.0.0/24");
	peer_normalize(v);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(v, "pod-cidr"), 0)),
		     "10.8.0.0/24") == 0,
	      "ranges sorted");
	json_decref(v);
	json_decref(problems);
	json_decref(nodes);
}

/* This node's settings: both InternalIPs, both families' ranges from the
 * flags or, without --cluster-cidr, from every Node. */
TEST(node_settings_dual_stack)
{
	static const char *const self[] = {"InternalIP", "127.0.0.1", "InternalIP", "::1",
					   "InternalIP", "fd00::99",  NULL};
	static const char *const v6_self[] = {"InternalIP", "0:0::1", NULL};
	static const char *const other[] = {"InternalIP", "192.0.2.2", NULL};
	static const char *const dual_a[] = {"10.244.1.0/24", "fd00:10:244:1::/64", NULL};
	static const char *const dual_b[] = {"10.244.2.0/24", "fd00:10:244:2::5/64", "bogus", NULL};
	struct node_options o = {.name = "node-a",
				 .cluster_cidrs = {"10.244.0.0/16", "FD00:10:244::/56"},
				 .n_cluster_cidrs = 2,
				 .service_cidrs = {"10.96.0.0/12", "fd00:10:96::/112"},
				 .n_service_cidrs = 2,
				 .port_min = 30000,
				 .port_max = 32767,
				 .masquerade = 1};
	json_t *nodes = json_object(), *node, *want, *doc;
	char address[64];

	json_object_set_new(nodes, "node-a", node_obj("node-a", self, NULL, dual_a));
	json_object_set_new(nodes, "node-b", node_obj("node-b", other, NULL, dual_b));
	node = node_desired(nodes, &o, address, sizeof(address));
	want = json_pack("{sssssss{sisi}s{sssisi}s{s[ssss]}}", "address", "127.0.0.1", "address6",
			 "::1", "uplink", "lo", "node-port-range", "min", 30000, "max", 32767,
			 "tunnel", "mode", "vxlan", "vni", 1, "port", 8472, "masquerade",
			 "cluster-cidr", "10.244.0.0/16", "fd00:10:244::/56", "10.96.0.0/12",
			 "fd00:10:96::/112");
	CHECK(json_equal(node, want), "the flags' ranges of both families, both addresses");
	CHECK(strcmp(address, "127.0.0.1") == 0, "the IPv4 address: %s", address);
	doc = json_pack("{sO}", "cubenet-pods:node", node);
	CHECK(valid(doc) == 0, "valid against the model");
	json_decref(doc);
	json_decref(want);
	json_decref(node);

	/* No --cluster-cidr: every Node's ranges, both families; what is not a
	 * CIDR left out. */
	o.n_cluster_cidrs = 0;
	o.n_service_cidrs = 0;
	node = node_desired(nodes, &o, address, sizeof(address));
	doc = node_normalize(node); /* the leaf-list sorted */
	want = json_pack("[ssss]", "10.244.1.0/24", "10.244.2.0/24", "fd00:10:244:1::/64",
			 "fd00:10:244:2::/64");
	CHECK(json_equal(json_object_get(json_object_get(doc, "masquerade"), "cluster-cidr"), want),
	      "every Node's ranges");
	json_decref(want);
	json_decref(doc);
	json_decref(node);

	/* An IPv6-only node: address6 and the uplink holding it; no address. */
	json_object_set_new(nodes, "node-a", node_obj("node-a", v6_self, NULL, dual_a));
	o.masquerade = 0;
	node = node_desired(nodes, &o, address, sizeof(address));
	want = json_pack("{sssss{sisi}s{sssisi}}", "address6", "::1", "uplink", "lo",
			 "node-port-range", "min", 30000, "max", 32767, "tunnel", "mode", "vxlan",
			 "vni", 1, "port", 8472);
	CHECK(json_equal(node, want), "IPv6 only: address6, uplink lo");
	CHECK(address[0] == '\0', "no IPv4 address");
	json_decref(want);
	json_decref(node);
	json_decref(nodes);
}

static json_t *peer(const char *name, const char *address, const char *cidr1, const char *cidr2)
{
	json_t *p = json_pack("{sssss[s]}", "name", name, "address", address, "pod-cidr", cidr1);

	if (cidr2)
		json_array_append_new(json_object_get(p, "pod-cidr"), json_string(cidr2));
	return p;
}

static const char *str_at(json_t *r, const char *field, size_t i)
{
	return json_string_value(json_array_get(json_object_get(r, field), i));
}

TEST(plan_peers)
{
	json_t *peer_shadow = json_object(), *peer_changes = json_object();
	json_t *shadow = json_object(), *changes = json_object(), *plan, *r, *e, *edits;
	json_t *node_shadow = json_pack("{ss}", "address", "192.0.2.1");
	json_t *node = json_pack("{ss}", "address", "192.0.2.11");
	unsigned long seq = 0;
	size_t i;

	json_object_set_new(peer_shadow, "moved",
			    peer("moved", "192.0.2.2", "10.244.2.0/24", NULL));
	json_object_set_new(peer_shadow, "shrinks",
			    peer("shrinks", "192.0.2.3", "10.244.3.0/24", "10.245.3.0/24"));
	json_object_set_new(peer_shadow, "gone", peer("gone", "192.0.2.4", "10.244.4.0/24", NULL));
	json_object_set_new(peer_changes, "moved",
			    peer("moved", "192.0.2.12", "10.244.2.0/24", NULL));
	json_object_set_new(peer_changes, "shrinks",
			    peer("shrinks", "192.0.2.3", "10.244.3.0/24", NULL));
	json_object_set_new(peer_changes, "gone", json_null());
	json_object_set_new(peer_changes, "new", peer("new", "192.0.2.5", "10.244.5.0/24", NULL));
	json_object_set_new(peer_changes, "never-there", json_null());
	json_object_set_new(shadow, "ns/old", entry("old", 1));
	json_object_set_new(changes, "ns/old", json_null());
	json_object_set_new(changes, "ns/web", entry("web", 1));

	/* Plain: the node, then the peer removed, the one that lost a range
	 * (PUT), one merge of the moved and the new; then services. */
	plan = plan_requests(shadow, node_shadow, changes, node, peer_shadow, peer_changes, 0,
			     1 << 20, &seq);
	CHECK_EQ(json_array_size(plan), 6);
	json_array_foreach(plan, i, r) CHECK(valid_request(r) == 0, "request %zu valid", i);
	r = json_array_get(plan, 0);
	CHECK(json_is_true(json_object_get(r, "node")), "the node first");
	r = json_array_get(plan, 1);
	CHECK(strcmp(json_string_value(json_object_get(r, "method")), "DELETE") == 0 &&
		  strcmp(json_string_value(json_object_get(r, "path")), PEERS_PATH "/peer=gone") ==
		      0 &&
		  strcmp(str_at(r, "peers", 0), "gone") == 0,
	      "then the peer gone");
	r = json_array_get(plan, 2);
	CHECK(strcmp(json_string_value(json_object_get(r, "method")), "PUT") == 0 &&
		  strcmp(json_string_value(json_object_get(r, "path")),
			 PEERS_PATH "/peer=shrinks") == 0,
	      "then the peer that lost a range, replaced");
	r = json_array_get(plan, 3);
	CHECK(strcmp(json_string_value(json_object_get(r, "method")), "PATCH") == 0 &&
		  json_array_size(json_object_get(r, "peers")) == 2 &&
		  json_array_size(json_object_get(
		      json_object_get(json_object_get(r, "body"), "cubenet-pods:peers"), "peer")) ==
		      2,
	      "then the moved and the new, merged in one");
	r = json_array_get(plan, 4);
	CHECK(strcmp(json_string_value(json_object_get(r, "method")), "DELETE") == 0 &&
		  !json_object_get(r, "peers") && strcmp(str_at(r, "keys", 0), "ns/old") == 0,
	      "then services");
	json_decref(plan);

	/* YANG Patch: one transaction; removals first, peers before services. */
	plan = plan_requests(shadow, node_shadow, changes, node, peer_shadow, peer_changes, 1,
			     1 << 20, &seq);
	CHECK_EQ(json_array_size(plan), 1);
	r = json_array_get(plan, 0);
	CHECK(valid_request(r) == 0, "yang patch valid");
	CHECK(json_is_true(json_object_get(r, "node")), "it writes the node");
	CHECK_EQ(json_array_size(json_object_get(r, "peers")), 4);
	CHECK_EQ(json_array_size(json_object_get(r, "keys")), 2);
	edits = json_object_get(
	    json_object_get(json_object_get(r, "body"), "ietf-yang-patch:yang-patch"), "edit");
	{
		const char *want[][2] = {
		    {"merge", "/cubenet-pods:node"},
		    {"remove", "/cubenet-pods:peers/peer=gone"},
		    {"remove", "/cubenet-pods:services/service=ns,old"},
		    {"replace", "/cubenet-pods:peers/peer=moved"},
		    {"replace", "/cubenet-pods:peers/peer=shrinks"},
		    {"replace", "/cubenet-pods:peers/peer=new"},
		    {"replace", "/cubenet-pods:services/service=ns,web"},
		};

		CHECK_EQ(json_array_size(edits), 7);
		json_array_foreach(edits, i, e)
		{
			if (i >= 7)
				break;
			CHECK(strcmp(json_string_value(json_object_get(e, "operation")),
				     want[i][0]) == 0 &&
				  strcmp(json_string_value(json_object_get(e, "target")),
					 want[i][1]) == 0,
			      "edit %zu: %s %s", i,
			      json_string_value(json_object_get(e, "operation")),
			      json_string_value(json_object_get(e, "target")));
		}
	}
	json_decref(plan);
	/* No peer changes: no peer in any request. */
	plan =
	    plan_requests(shadow, node_shadow, changes, NULL, peer_shadow, NULL, 1, 1 << 20, &seq);
	CHECK(!json_object_get(json_array_get(plan, 0), "peers"), "no peers");
	json_decref(plan);
	json_decref(shadow);
	json_decref(changes);
	json_decref(peer_shadow);
	json_decref(peer_changes);
	json_decref(node);
	json_decref(node_shadow);
}

int main(void)
{
	static const struct test_case cases[] = {
	    TEST_ENTRY(recorded_v1_service_and_slices),
	    TEST_ENTRY(v1beta1_topology_and_nil_conditions),
	    TEST_ENTRY(not_written),
	    TEST_ENTRY(sctp_and_endpoints_without_a_port),
	    TEST_ENTRY(more_endpoints_than_the_model_holds),
	    TEST_ENTRY(publish_not_ready_affinity_bounds_and_source_ranges),
	    TEST_ENTRY(normal_form_and_within),
	    TEST_ENTRY(plan_plain),
	    TEST_ENTRY(plan_bounded_bodies),
	    TEST_ENTRY(peers_from_nodes),
	    TEST_ENTRY(node_settings_dual_stack),
	    TEST_ENTRY(plan_peers),
	};

	if (ly_ctx_new(YANG_DIRS, 0, &ctx) ||
	    !ly_ctx_load_module(ctx, "cubenet-pods", NULL, NULL)) {
		fprintf(stderr, "cannot load cubenet-pods from %s\n", YANG_DIRS);
		return 1;
	}
	ly_log_options(LY_LOSTORE_LAST);
	int rc = test_run_all("agent_translate", cases, sizeof(cases) / sizeof(*cases));

	ly_ctx_destroy(ctx);
	return rc;
}
