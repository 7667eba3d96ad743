// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "translate.h"

/* The model's bounds (cubenet-pods.yang). */
#define MAX_CLUSTER_IPS	     2
#define MAX_EXTERNAL_IPS     16
#define MAX_PORTS	     256
#define MAX_ENDPOINTS	     1000
#define DEFAULT_AFFINITY_TTL 10800
#define MAX_MESSAGES	     16
#define MAX_AFFINITY_TTL     86400

int canonical_ip(const char *in, char *out, size_t size)
{
	unsigned char bin[16];

	if (!in)
		return 0;
	if (inet_pton(AF_INET, in, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)size) ? 4 : 0;
	if (inet_pton(AF_INET6, in, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, (socklen_t)size) ? 6 : 0;
	return 0;
}

__attribute__((format(printf, 3, 4))) static void problem(struct translation *t, enum problem p,
							  const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->problems |= 1u << p;
	/* Enough to tell what is wrong; not one line per endpoint of 1,000. */
	if (json_array_size(t->messages) < MAX_MESSAGES)
		json_array_append_new(t->messages, json_string(msg));
}

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A boolean condition, with its value when nil. */
static int condition(json_t *conds, const char *key, int nil)
{
	json_t *v = json_object_get(conds, key);

	return json_is_boolean(v) ? json_is_true(v) : nil;
}

static int array_has_string(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) if (strcmp(json_string_value(v), s) == 0) return 1;
	return 0;
}

/* Valid addresses of `list` (strings), canonical, once each, at most max. */
static json_t *addresses(struct translation *t, json_t *list, size_t max, const char *what)
{
	json_t *out = json_array(), *v;
	size_t i;
	char ip[INET6_ADDRSTRLEN];

	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v);

		if (!canonical_ip(s, ip, sizeof(ip))) {
			problem(t, PROBLEM_BAD_VALUE, "%s %s is not an IP address; not written",
				what, s ? s : "(not a string)");
			continue;
		}
		if (array_has_string(out, ip))
			continue;
		if (json_array_size(out) == max) {
			problem(t, PROBLEM_TOO_MANY, "more than %zu %ss; %s and later not written",
				max, what, ip);
			break;
		}
		json_array_append_new(out, json_string(ip));
	}
	return out;
}

/* A service port as translation sees it. */
struct svc_port {
	const char *name; /* "" when unnamed */
	const char *protocol;
	int port, node_port;
	int target;		 /* by number; 0 when by name */
	const char *target_name; /* by name */
	int resolved;		 /* the entry's target-port */
};

/* An endpoint merged over the slices. */
struct endpoint {
	char address[INET6_ADDRSTRLEN];
	int ready, serving, terminating, local;
	int *ports; /* per service port: the number on this endpoint, 0 if none */
	int usable; /* 0 excluded */
};

static int endpoint_cmp(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;

	return strcmp(x->address, y->address);
}

/* Ready first, then serving and terminating, then the rest. */
static int endpoint_rank(const struct endpoint *e)
{
	return e->ready ? 0 : e->serving && e->terminating ? 1 : 2;
}

static int endpoint_priority_cmp(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;
	int d = endpoint_rank(x) - endpoint_rank(y);

	return d ? d : strcmp(x->address, y->address);
}

static const char *protocol_of(json_t *obj)
{
	const char *p = str(obj, "protocol");

	return p ? p : "TCP";
}

static const char *lower_protocol(const char *p)
{
	return strcmp(p, "UDP") == 0 ? "udp" : "tcp";
}

static int port_number(json_t *v)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;

	return n >= 1 && n <= 65535 ? (int)n : 0;
}

static int is_local(json_t *ep, const struct node_identity *node)
{
	const char *node_name = str(ep, "nodeName");
	const char *host = str(json_object_get(ep, "topology"), "kubernetes.io/hostname");

	if (!node->name)
		return 0;
	if (node_name)
		return strcmp(node_name, node->name) == 0;
	return host && strcmp(host, node->hostname ? node->hostname : node->name) == 0;
}

/* Endpoints of every slice, merged by address: a ready one wins over one
 * that is not, local over not; port numbers are merged. */
static size_t collect_endpoints(struct translation *t, json_t *slices, int publish_not_ready,
				struct svc_port *ports, size_t nports,
				const struct node_identity *node, struct endpoint **out)
{
	struct endpoint *eps = NULL;
	size_t n = 0, cap = 0, i;
	json_t *slice;

	json_array_foreach(slices, i, slice)
	{
		const char *type = str(slice, "addressType");
		json_t *sports = json_object_get(slice, "ports"), *ep;
		int family = type && strcmp(type, "IPv4") == 0	 ? 4
			     : type && strcmp(type, "IPv6") == 0 ? 6
								 : 0;
		int numbers[MAX_PORTS];
		size_t j;

		if (!family)
			continue; /* FQDN slices: kube-proxy ignores them too */
		for (size_t p = 0; p < nports; p++) {
			json_t *sp;
			size_t k;

			numbers[p] = 0;
			json_array_foreach(sports, k, sp)
			{
				const char *name = str(sp, "name");

				if (strcmp(name ? name : "", ports[p].name) == 0 &&
				    strcmp(protocol_of(sp), ports[p].protocol) == 0) {
					numbers[p] = port_number(json_object_get(sp, "port"));
					break;
				}
			}
		}
		json_array_foreach(json_object_get(slice, "endpoints"), j, ep)
		{
			const char *addr =
			    json_string_value(json_array_get(json_object_get(ep, "addresses"), 0));
			json_t *conds = json_object_get(ep, "conditions");
			struct endpoint e = {0}, *have = NULL;

			if (canonical_ip(addr, e.address, sizeof(e.address)) != family) {
				problem(t, PROBLEM_BAD_VALUE,
					"endpoint %s in an %s slice is not such an address; not "
					"written",
					addr ? addr : "(none)", type);
				continue;
			}
			e.ready = publish_not_ready || condition(conds, "ready", 1);
			e.serving = condition(conds, "serving", 1);
			e.terminating = condition(conds, "terminating", 0);
			e.local = is_local(ep, node);
			for (size_t k = 0; k < n; k++)
				if (strcmp(eps[k].address, e.address) == 0)
					have = &eps[k];
			if (!have) {
				if (n == cap) {
					size_t grown = cap ? cap * 2 : 16;
					struct endpoint *g = realloc(eps, grown * sizeof(*eps));

					if (!g)
						break;
					eps = g;
					cap = grown;
				}
				e.ports = calloc(nports ? nports : 1, sizeof(int));
				eps[n] = e;
				have = &eps[n++];
			} else if (e.ready && !have->ready) {
				have->ready = e.ready;
				have->serving = e.serving;
				have->terminating = e.terminating;
			}
			have->local |= e.local;
			for (size_t p = 0; p < nports; p++)
				if (!have->ports[p])
					have->ports[p] = numbers[p];
		}
	}
	*out = eps;
	return n;
}

/* A port by name: the entry's target-port is the number most endpoints
 * have (the smallest of a tie); endpoints with another get their own. */
static int most_common(struct endpoint *eps, size_t n, size_t p)
{
	int best = 0;
	size_t best_count = 0;

	for (size_t i = 0; i < n; i++) {
		size_t count = 0;
		int v = eps[i].ports[p];

		if (!v || !eps[i].usable)
			continue;
		for (size_t j = 0; j < n; j++)
			count += eps[j].usable && eps[j].ports[p] == v;
		if (count > best_count || (count == best_count && v < best)) {
			best = v;
			best_count = count;
		}
	}
	return best;
}

static void build_ports(struct translation *t, json_t *spec, const char *type,
			struct svc_port *ports, size_t *nports)
{
	json_t *list = json_object_get(spec, "ports"), *p;
	int node_ports = strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0;
	size_t i;

	*nports = 0;
	json_array_foreach(list, i, p)
	{
		const char *proto = protocol_of(p), *name = str(p, "name");
		json_t *target = json_object_get(p, "targetPort");
		struct svc_port sp = {.name = name ? name : "", .protocol = proto};

		sp.port = port_number(json_object_get(p, "port"));
		if (strcmp(proto, "SCTP") == 0) {
			problem(t, PROBLEM_SCTP,
				"port %s%s%d/SCTP: SCTP is not supported by the node chain; not "
				"written",
				sp.name, sp.name[0] ? " " : "", sp.port);
			continue;
		}
		if ((strcmp(proto, "TCP") && strcmp(proto, "UDP")) || !sp.port) {
			problem(t, PROBLEM_BAD_VALUE,
				"port %s %d/%s: not a TCP or UDP port; not written", sp.name,
				sp.port, proto);
			continue;
		}
		if (*nports == MAX_PORTS) {
			problem(t, PROBLEM_TOO_MANY,
				"more than %d ports; port %d/%s and later not "
				"written",
				MAX_PORTS, sp.port, proto);
			break;
		}
		if (node_ports)
			sp.node_port = port_number(json_object_get(p, "nodePort"));
		if (json_is_string(target) && json_string_length(target))
			sp.target_name = json_string_value(target);
		else
			sp.target = json_is_integer(target) ? port_number(target) : sp.port;
		if (!sp.target && !sp.target_name) {
			problem(t, PROBLEM_BAD_VALUE,
				"port %d/%s: targetPort out of range; not written", sp.port, proto);
			continue;
		}
		ports[(*nports)++] = sp;
	}
}

void translate_service(json_t *svc, json_t *slices, const struct node_identity *node,
		       struct translation *t)
{
	json_t *spec = json_object_get(svc, "spec"), *meta = json_object_get(svc, "metadata");
	const char *type = str(spec, "type"), *affinity = str(spec, "sessionAffinity");
	json_t *cips = json_object_get(spec, "clusterIPs"), *entry, *list, *ingress, *v;
	struct svc_port ports[MAX_PORTS];
	struct endpoint *eps = NULL;
	size_t nports = 0, neps = 0, i;
	unsigned local_ready[2] = {0, 0}; /* IPv4, IPv6 */
	int pnra = json_is_true(json_object_get(spec, "publishNotReadyAddresses"));

	memset(t, 0, sizeof(*t));
	t->messages = json_array();
	if (!svc)
		return;
	type = type ? type : "ClusterIP";
	if (strcmp(type, "ExternalName") == 0) {
		t->ignored = "an ExternalName service";
		return;
	}
	if (!json_array_size(cips)) {
		cips = json_array();
		if (str(spec, "clusterIP"))
			json_array_append(cips, json_object_get(spec, "clusterIP"));
	} else {
		json_incref(cips);
	}
	v = json_array_get(cips, 0);
	if (!v || !json_string_value(v) || strcmp(json_string_value(v), "None") == 0 ||
	    !json_string_length(v)) {
		json_decref(cips);
		t->ignored = "headless";
		return;
	}
	entry = json_object();
	json_object_set(entry, "namespace", json_object_get(meta, "namespace"));
	json_object_set(entry, "name", json_object_get(meta, "name"));
	list = addresses(t, cips, MAX_CLUSTER_IPS, "clusterIP");
	json_decref(cips);
	if (!json_array_size(list)) {
		json_decref(list);
		json_decref(entry);
		t->ignored = "without a usable clusterIP";
		return;
	}
	json_object_set_new(entry, "cluster-ip", list);

	list = addresses(t, json_object_get(spec, "externalIPs"), MAX_EXTERNAL_IPS, "externalIP");
	if (json_array_size(list))
		json_object_set(entry, "external-ip", list);
	json_decref(list);

	if (strcmp(type, "LoadBalancer") == 0) {
		json_t *ips = json_array(), *in;

		ingress = json_object_get(
		    json_object_get(json_object_get(svc, "status"), "loadBalancer"), "ingress");
		json_array_foreach(ingress, i, in)
		{
			const char *mode = str(in, "ipMode");

			/* ipMode Proxy: the load balancer proxies; the IP is not
			 * for the node to serve (kube-proxy skips it too). */
			if (str(in, "ip") && !(mode && strcmp(mode, "Proxy") == 0))
				json_array_append(ips, json_object_get(in, "ip"));
		}
		list = addresses(t, ips, MAX_EXTERNAL_IPS, "load-balancer IP");
		json_decref(ips);
		if (json_array_size(list) &&
		    json_array_size(json_object_get(spec, "loadBalancerSourceRanges"))) {
			/* The node chain cannot hold the allowed sources: serving the
			 * IPs would open them to everyone, so they are not served. */
			problem(
			    t, PROBLEM_SOURCE_RANGES,
			    "loadBalancerSourceRanges cannot be enforced; its load-balancer IPs "
			    "are not served");
		} else if (json_array_size(list)) {
			json_object_set(entry, "load-balancer-ip", list);
		}
		json_decref(list);
	}

	if (affinity && strcmp(affinity, "ClientIP") == 0) {
		json_t *ttl = json_object_get(
		    json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"),
		    "timeoutSeconds");
		json_int_t secs =
		    json_is_integer(ttl) ? json_integer_value(ttl) : DEFAULT_AFFINITY_TTL;

		if (secs < 1 || secs > MAX_AFFINITY_TTL) {
			problem(
			    t, PROBLEM_BAD_VALUE,
			    "sessionAffinityConfig timeoutSeconds %lld out of 1..%d; %d written",
			    (long long)secs, MAX_AFFINITY_TTL, DEFAULT_AFFINITY_TTL);
			secs = DEFAULT_AFFINITY_TTL;
		}
		json_object_set_new(entry, "session-affinity", json_string("client-ip"));
		json_object_set_new(entry, "session-affinity-timeout", json_integer(secs));
	} else {
		json_object_set_new(entry, "session-affinity", json_string("none"));
		json_object_set_new(entry, "session-affinity-timeout",
				    json_integer(DEFAULT_AFFINITY_TTL));
	}
	v = json_object_get(spec, "externalTrafficPolicy");
	json_object_set_new(entry, "external-traffic-policy",
			    json_string(v && strcmp(json_string_value(v) ?: "", "Local") == 0
					    ? "local"
					    : "cluster"));
	v = json_object_get(spec, "internalTrafficPolicy");
	json_object_set_new(entry, "internal-traffic-policy",
			    json_string(v && strcmp(json_string_value(v) ?: "", "Local") == 0
					    ? "local"
					    : "cluster"));
	t->health_check_port = port_number(json_object_get(spec, "healthCheckNodePort"));
	if (t->health_check_port)
		json_object_set_new(entry, "health-check-node-port",
				    json_integer(t->health_check_port));

	build_ports(t, spec, type, ports, &nports);
	neps = collect_endpoints(t, slices, pnra, ports, nports, node, &eps);

	/* An endpoint must serve every port: the model cannot keep it from
	 * one port only, and a connection must not reach a port it lacks. */
	for (i = 0; i < neps; i++) {
		size_t missing = 0;

		for (size_t p = 0; p < nports; p++)
			missing += !eps[i].ports[p];
		eps[i].usable = nports && !missing;
		if (missing)
			problem(t, PROBLEM_ENDPOINT_PORT,
				"endpoint %s lacks %zu of the service's %zu ports; not written",
				eps[i].address, missing, nports);
	}
	/* Keep the usable, best first, within the model's bound. */
	{
		size_t kept = 0;

		for (i = 0; i < neps; i++) {
			if (eps[i].usable) {
				struct endpoint tmp = eps[kept];

				eps[kept++] = eps[i];
				eps[i] = tmp;
			}
		}
		if (kept) /* eps NULL without endpoints: not for qsort */
			qsort(eps, kept, sizeof(*eps), endpoint_priority_cmp);
		if (kept > MAX_ENDPOINTS) {
			problem(t, PROBLEM_TOO_MANY,
				"%zu endpoints; the best %d written (ready first)", kept,
				MAX_ENDPOINTS);
			for (i = MAX_ENDPOINTS; i < kept; i++)
				eps[i].usable = 0;
			kept = MAX_ENDPOINTS;
		}
		if (kept)
			qsort(eps, kept, sizeof(*eps), endpoint_cmp);
		for (size_t p = 0; p < nports; p++)
			ports[p].resolved =
			    ports[p].target ? ports[p].target : most_common(eps, kept, p);
		for (size_t p = 0; p < nports; p++)
			if (!ports[p].resolved)
				ports[p].resolved = ports[p].port; /* no endpoints to say */

		list = json_array();
		for (size_t p = 0; p < nports; p++) {
			json_t *jp = json_pack("{sisssi}", "port", ports[p].port, "protocol",
					       lower_protocol(ports[p].protocol), "target-port",
					       ports[p].resolved);

			if (ports[p].node_port)
				json_object_set_new(jp, "node-port",
						    json_integer(ports[p].node_port));
			json_array_append_new(list, jp);
		}
		json_object_set_new(entry, "port", list);

		list = json_array();
		for (i = 0; i < kept; i++) {
			struct endpoint *e = &eps[i];
			json_t *je = json_pack("{sssbsbsbsb}", "address", e->address, "ready",
					       e->ready, "serving", e->serving, "terminating",
					       e->terminating, "local", e->local);
			json_t *tps = json_array();

			for (size_t p = 0; p < nports; p++)
				if (e->ports[p] != ports[p].resolved)
					json_array_append_new(
					    tps,
					    json_pack("{sisssi}", "port", ports[p].port, "protocol",
						      lower_protocol(ports[p].protocol), "number",
						      e->ports[p]));
			if (json_array_size(tps))
				json_object_set(je, "target-port", tps);
			json_decref(tps);
			json_array_append_new(list, je);
			local_ready[strchr(e->address, ':') != NULL] += e->local && e->ready;
		}
		json_object_set_new(entry, "endpoint", list);
		/* A dual-stack pod is one endpoint of each family: kube-proxy
		 * counts them per family. */
		t->local_ready = local_ready[0] > local_ready[1] ? local_ready[0] : local_ready[1];
	}
	for (i = 0; i < neps; i++)
		free(eps[i].ports);
	free(eps);
	t->entry = entry;
}

void translation_free(struct translation *t)
{
	json_decref(t->entry);
	json_decref(t->messages);
	t->entry = t->messages = NULL;
}
