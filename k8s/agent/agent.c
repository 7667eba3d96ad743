// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "agent.h"
#include "entry.h"
#include "health_check.h"
#include "peers.h"
#include "kube_request.h"
#include "log.h"
#include "agent_metrics.h"
#include "reflector.h"
#include "status_server.h"
#include "store.h"
#include "translate.h"
#include "writer.h"

#define MAX_POLL_FDS 1024
#define TURN_MS	     1000

struct agent {
	struct options *o;
	struct kube_config kc;
	CURLM *multi;
	struct reflector r[KIND_COUNT];
	int started;
	struct store store;
	struct writer writer;
	struct health_checks hc;
	json_t *messages;      /* service key -> the problems last logged */
	json_t *problem_bits;  /* service key -> enum problem bits */
	json_t *health;	       /* service key -> {"port", "namespace", "name", "local"} */
	json_t *node_last;     /* the node parts last computed */
	json_t *node_problems; /* Node name -> {"bits", "message"}: why it is not a peer */
	char peers_note[256];  /* why peers are not written now, as last logged */
	char address[64];
	int loaded, synced, full_due;
	double next_load, load_backoff, next_write, write_backoff, next_resync;
	double next_discovery, discovery_backoff;
	char load_error[512];
};

static const struct reflector_ops ops;

static void on_replace(void *arg, enum kind kind, json_t *objects)
{
	struct agent *a = arg;

	store_replace(&a->store, kind, objects);
}

static void on_event(void *arg, enum kind kind, enum event_type type, const char *key, json_t *obj)
{
	struct agent *a = arg;

	store_event(&a->store, kind, type, key, obj);
}

static const struct reflector_ops ops = {store_prune, on_replace, on_event};

static double grow(double *backoff, double cap)
{
	*backoff = *backoff ? *backoff * 2 : 0.5;
	if (*backoff > cap)
		*backoff = cap;
	return *backoff;
}

/* The EndpointSlice version the server has: v1, else v1beta1. */
static int discover_slices(struct agent *a, char *version, size_t size)
{
	struct curl_slist *headers;
	CURL *curl = kube_request(&a->kc, "/apis/discovery.k8s.io", &headers);
	struct buf body = {0};
	long status = 0;
	CURLcode rc;
	json_t *doc, *v;
	size_t i;
	int found = -1;

	if (!curl)
		return -1;
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, NULL);
	FILE *f = open_memstream(&body.data, &body.len);

	curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
	rc = curl_easy_perform(curl);
	fclose(f);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK || status != 200) {
		log_warn("API server %s: discovery of discovery.k8s.io: %s", a->kc.server,
			 rc != CURLE_OK ? curl_easy_strerror(rc) : "not HTTP 200");
		metrics_api_error(KIND_SLICE, rc != CURLE_OK ? APIERR_CONNECT : APIERR_HTTP);
		free(body.data);
		return -1;
	}
	doc = json_loadb(body.data, body.len, 0, NULL);
	free(body.data);
	json_array_foreach(json_object_get(doc, "versions"), i, v)
	{
		const char *ver = json_string_value(json_object_get(v, "version"));

		if (ver && strcmp(ver, "v1") == 0)
			found = 1;
		else if (ver && strcmp(ver, "v1beta1") == 0 && found < 0)
			found = 0;
	}
	json_decref(doc);
	if (found < 0) {
		log_error("API server %s serves no EndpointSlice version the agent reads "
			  "(discovery.k8s.io v1 or v1beta1)",
			  a->kc.server);
		return -1;
	}
	snprintf(version, size, "%s", found ? "v1" : "v1beta1");
	return 0;
}

static void start_reflectors(struct agent *a, const char *slice_version)
{
	char path[128];

	snprintf(path, sizeof(path), "/apis/discovery.k8s.io/%s/endpointslices", slice_version);
	reflector_init(&a->r[KIND_SERVICE], KIND_SERVICE, "/api/v1/services", &a->kc, a->multi,
		       &ops, a, a->o->max_backoff);
	reflector_init(&a->r[KIND_SLICE], KIND_SLICE, path, &a->kc, a->multi, &ops, a,
		       a->o->max_backoff);
	reflector_init(&a->r[KIND_NODE], KIND_NODE, "/api/v1/nodes", &a->kc, a->multi, &ops, a,
		       a->o->max_backoff);
	for (int k = 0; k < KIND_COUNT; k++)
		reflector_start(&a->r[k]);
	a->started = 1;
	log_info("watching Services, EndpointSlices (discovery.k8s.io/%s) and Nodes on %s",
		 slice_version, a->kc.server);
}

/* Log a service's problems when they are not the ones last logged. */
static void report(struct agent *a, const char *key, struct translation *t)
{
	json_t *last = json_object_get(a->messages, key);
	size_t i;
	json_t *m;

	if (!json_array_size(t->messages)) {
		if (last)
			json_object_del(a->messages, key);
		json_object_del(a->problem_bits, key);
		return;
	}
	json_object_set_new(a->problem_bits, key, json_integer(t->problems));
	if (last && json_equal(last, t->messages))
		return;
	json_array_foreach(t->messages, i, m) log_warn("service %s: %s", key, json_string_value(m));
	for (int p = 0; p < PROBLEM_COUNT; p++)
		if (t->problems & (1u << p))
			metrics_problem(p);
	json_object_set(a->messages, key, t->messages);
}

static void problem_gauges(struct agent *a)
{
	unsigned counts[PROBLEM_COUNT] = {0};
	const char *key;
	json_t *v;

	json_object_foreach(a->problem_bits, key, v)
	{
		for (int p = 0; p < PROBLEM_COUNT; p++)
			counts[p] += (json_integer_value(v) & (1 << p)) != 0;
	}
	for (int p = 0; p < PROBLEM_COUNT; p++)
		if (p == PROBLEM_REFUSED)
			counts[p] = (unsigned)json_object_size(a->writer.refused);
	metrics_problem_services(counts);
	memset(counts, 0, sizeof(counts));
	json_object_foreach(a->node_problems, key, v)
	{
		for (int p = 0; p < PROBLEM_COUNT; p++)
			counts[p] +=
			    (json_integer_value(json_object_get(v, "bits")) & (1 << p)) != 0;
	}
	counts[PROBLEM_REFUSED] = (unsigned)json_object_size(a->writer.peer_refused);
	metrics_problem_nodes(counts);
}

/* Say once why peers are not written now ("" : they are). */
static void peers_note(struct agent *a, const char *why)
{
	if (strcmp(a->peers_note, why) == 0)
		return;
	snprintf(a->peers_note, sizeof(a->peers_note), "%s", why);
	if (*why)
		log_warn("peers not written: %s", why);
	else
		log_info("peers: written from the other Nodes");
}

/* The peers to write: every other Node that makes one, against what
 * cubenetd holds; the Nodes that do not, logged by name when their problem
 * is new. NULL: peers are not written now. */
static json_t *peer_changes(struct agent *a)
{
	json_t *problems, *desired, *changes, *v;
	const char *name;
	char why[256];

	if (!a->writer.peers) {
		snprintf(why, sizeof(why),
			 "cubenetd implements cubenet-pods revision %s, before peers (%s)",
			 a->writer.revision, PEERS_REVISION);
		peers_note(a, why);
		return NULL;
	}
	if (!a->address[0]) {
		snprintf(why, sizeof(why),
			 "node %.100s has no IPv4 InternalIP yet (peers need this node's address)",
			 a->o->node.name);
		peers_note(a, why);
		return NULL;
	}
	peers_note(a, "");
	problems = json_object();
	desired =
	    peers_desired(a->store.objects[KIND_NODE], a->o->node.name,
			  a->o->node.tunnel && strcmp(a->o->node.tunnel, "native") == 0, problems);
	json_object_foreach(problems, name, v)
	{
		json_t *last = json_object_get(a->node_problems, name);

		if (last && json_equal(last, v))
			continue;
		log_warn("Node %s: %s", name, json_string_value(json_object_get(v, "message")));
		for (int p = 0; p < PROBLEM_COUNT; p++)
			if (json_integer_value(json_object_get(v, "bits")) & (1 << p))
				metrics_problem(p);
	}
	json_object_foreach(a->node_problems, name, v)
	{
		if (!json_object_get(problems, name) && json_object_get(desired, name))
			log_info("Node %s: a peer now", name);
	}
	json_decref(a->node_problems);
	a->node_problems = problems;
	changes = writer_peer_changes(&a->writer, desired);
	json_decref(desired);
	return changes;
}

static void add_keys(json_t *set, json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) json_object_set_new(set, key, json_true());
}

static void serve_health_checks(struct agent *a)
{
	json_t *wanted = json_object(), *v;
	const char *key;
	char port[16];

	json_object_foreach(a->health, key, v)
	{
		snprintf(port, sizeof(port), "%lld",
			 (long long)json_integer_value(json_object_get(v, "port")));
		json_object_set(wanted, port, v);
	}
	health_checks_sync(&a->hc, wanted);
	json_decref(wanted);
}

/* Translate what changed (everything, when full) and write it. */
static void flush(struct agent *a, int full, double now)
{
	json_t *keys = json_object(), *changes = json_object(), *node, *peers = NULL, *v;
	struct node_identity id = {a->o->node.name,
				   node_hostname(a->store.objects[KIND_NODE], a->o->node.name)};
	double since = full ? now : a->store.first_change;
	const char *key;
	unsigned changed = 0;
	int rc, nodes_changed = a->store.nodes_changed;

	if (full) {
		add_keys(keys, a->writer.shadow);
		add_keys(keys, a->store.objects[KIND_SERVICE]);
		add_keys(keys, a->store.slices_of);
		json_object_clear(a->health);
	} else {
		add_keys(keys, a->store.dirty);
	}
	node =
	    node_desired(a->store.objects[KIND_NODE], &a->o->node, a->address, sizeof(a->address));
	a->store.nodes_changed = 0;
	if (!node && full)
		log_error("node %s: no such Node; node settings not written, no endpoint is local",
			  a->o->node.name);
	if (node) {
		json_t *n = node_normalize(node);

		json_decref(node);
		node = n;
		if (!json_equal(node, a->node_last)) {
			char *text = json_dumps(node, JSON_COMPACT | JSON_SORT_KEYS);

			log_info("node %s: settings %s%s", a->o->node.name, text,
				 json_object_get(node, "uplink")
				     ? ""
				     : " (no netdev holds its InternalIP: no uplink)");
			free(text);
			json_decref(a->node_last);
			a->node_last = json_incref(node);
		}
	}
	/* New settings may take away why cubenetd refused an entry (a
	 * NodePort before the node's address was known): every refused one
	 * is sent again, after the settings. */
	writer_retry_refused(&a->writer, node, keys);
	json_object_clear(a->store.dirty);
	json_object_foreach(keys, key, v)
	{
		json_t *svc = store_get(&a->store, KIND_SERVICE, key);
		json_t *slices = store_slices(&a->store, key);
		int held = json_object_get(a->writer.shadow, key) != NULL;
		struct translation t;

		translate_service(svc, slices, &id, &t);
		json_decref(slices);
		json_decref(svc);
		report(a, key, &t);
		if (t.entry && t.health_check_port)
			json_object_set_new(
			    a->health, key,
			    json_pack("{sisOsOsi}", "port", t.health_check_port, "namespace",
				      json_object_get(t.entry, "namespace"), "name",
				      json_object_get(t.entry, "name"), "local", t.local_ready));
		else
			json_object_del(a->health, key);
		if (t.entry) {
			entry_normalize(t.entry);
			if (!writer_holds(&a->writer, key, t.entry) &&
			    !writer_refused(&a->writer, key, t.entry))
				json_object_set(changes, key, t.entry);
		} else if (held && !writer_refused(&a->writer, key, NULL)) {
			json_object_set_new(changes, key, json_null());
		}
		translation_free(&t);
	}
	json_decref(keys);

	if (full || nodes_changed)
		peers = peer_changes(a);

	double translated = monotonic_seconds();

	rc = writer_write(&a->writer, changes, node, peers, &changed);
	now = monotonic_seconds();
	if (rc) {
		/* What was not written is written at the next try. */
		json_object_foreach(changes, key, v)
		{
			if (!writer_holds(&a->writer, key, json_is_null(v) ? NULL : v))
				store_mark(&a->store, key);
		}
		if (node || json_object_size(peers))
			a->store.nodes_changed = 1;
		a->next_write = now + grow(&a->write_backoff, a->o->max_backoff);
		log_warn("writing to cubenetd: %s; again in %.1f s", a->writer.error,
			 a->write_backoff);
		metrics_set_ready(a->synced, a->writer.error);
	} else {
		a->write_backoff = 0;
		if (changed || full)
			metrics_sync(now - since, changed, full);
		if (full) {
			a->full_due = 0;
			if (!a->synced) {
				/* What was just written is cubenetd's: the first
				 * read back is a period away, not at once. */
				a->next_resync = now + a->o->resync_period;
				log_info(
				    "first full sync: %u service entries written or removed in "
				    "%.3f s (translated in %.3f s, cubenetd took them in %.3f s); "
				    "%zu held, and %zu peers",
				    changed, now - since, translated - since, now - translated,
				    json_object_size(a->writer.shadow),
				    json_object_size(a->writer.peer_shadow));
			}
			a->synced = 1;
			metrics_set_ready(1, "");
		}
	}
	health_checks_set_healthy(&a->hc, a->synced && !rc);
	serve_health_checks(a);
	problem_gauges(a);
	json_decref(changes);
	json_decref(node);
	json_decref(peers);
	if (full)
		malloc_trim(0); /* a full sync's bodies are gone: give the memory back */
}

static int all_listed(struct agent *a)
{
	if (!a->started)
		return 0;
	for (int k = 0; k < KIND_COUNT; k++)
		if (!a->r[k].synced)
			return 0;
	return 1;
}

static void not_ready_reason(struct agent *a)
{
	char why[512];

	if (a->synced)
		return;
	if (!a->started) {
		snprintf(why, sizeof(why), "waiting for the API server at %s", a->kc.server);
	} else if (!a->loaded && a->load_error[0]) {
		/* What needs a person first: cubenetd, whatever the lists do. */
		snprintf(why, sizeof(why), "cubenetd: %.400s", a->load_error);
	} else if (!all_listed(a)) {
		for (int k = 0; k < KIND_COUNT; k++)
			if (!a->r[k].synced) {
				snprintf(why, sizeof(why), "%s not listed yet%s%.300s",
					 kind_names[k], a->r[k].why[0] ? ": " : "", a->r[k].why);
				break;
			}
	} else if (!a->loaded) {
		snprintf(why, sizeof(why), "cubenetd: %.400s",
			 a->load_error[0] ? a->load_error : "not read yet");
	} else {
		snprintf(why, sizeof(why), "first full sync not written: %.400s", a->writer.error);
	}
	metrics_set_ready(0, why);
}

static void turn(struct agent *a, double now)
{
	if (!a->started && now >= a->next_discovery) {
		char version[16];

		if (a->o->slice_version) {
			start_reflectors(a, a->o->slice_version);
		} else if (!discover_slices(a, version, sizeof(version))) {
			start_reflectors(a, version);
		} else {
			a->next_discovery =
			    monotonic_seconds() + grow(&a->discovery_backoff, a->o->max_backoff);
		}
	}
	if (!a->loaded && now >= a->next_load) {
		int rc = writer_load(&a->writer);

		if (!rc) {
			a->loaded = 1;
			a->full_due = 1;
			a->load_backoff = 0;
			a->load_error[0] = '\0';
			log_info("cubenetd holds %zu service entries",
				 json_object_size(a->writer.shadow));
		} else {
			if (strcmp(a->load_error, a->writer.error))
				agent_log(rc == -2 ? LOG_ERROR : LOG_WARN, "%s", a->writer.error);
			snprintf(a->load_error, sizeof(a->load_error), "%s", a->writer.error);
			a->next_load =
			    now + (rc == -2 ? 10 : grow(&a->load_backoff, a->o->max_backoff));
		}
	}
	if (a->loaded && all_listed(a) && now >= a->next_write) {
		if (a->full_due)
			flush(a, 1, now);
		else if ((json_object_size(a->store.dirty) || a->store.nodes_changed) &&
			 now >= a->store.first_change + a->o->coalesce)
			flush(a, 0, now);
	}
	if (a->synced && now >= a->next_resync) {
		/* Read cubenetd back and reconcile everything: drift is repaired. */
		a->next_resync = now + a->o->resync_period;
		if (a->loaded && !writer_load(&a->writer))
			a->full_due = 1;
	}
	not_ready_reason(a);
}

/* Start the retries that are due; how long the loop may then sleep, in ms. */
static int sleep_ms(struct agent *a, double now)
{
	double t = TURN_MS / 1000.0;

	for (int k = 0; a->started && k < KIND_COUNT; k++) {
		double d = reflector_tick(&a->r[k], now);

		if (d >= 0 && d < t)
			t = d;
	}
	if (a->loaded && all_listed(a)) {
		double due = a->full_due ? a->next_write
			     : json_object_size(a->store.dirty) || a->store.nodes_changed
				 ? a->store.first_change + a->o->coalesce
				 : now + t;

		if (due < a->next_write)
			due = a->next_write;
		if (due - now < t)
			t = due - now;
	}
	return t <= 0 ? 0 : (int)(t * 1000) + 1;
}

static void drain(struct agent *a)
{
	CURLMsg *msg;
	int left, running;

	curl_multi_perform(a->multi, &running);
	while ((msg = curl_multi_info_read(a->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (int k = 0; k < KIND_COUNT; k++)
			if (reflector_owns(&a->r[k], msg->easy_handle)) {
				reflector_done(&a->r[k], msg->data.result);
				break;
			}
	}
}

int agent_run(struct options *o)
{
	struct agent a = {.o = o};
	struct MHD_Daemon *status = NULL;
	sigset_t mask;
	int sfd, rc = 1;
	char err[512];

	if (o->kubeconfig
		? kube_config_load(&a.kc, o->kubeconfig, o->context, err, sizeof(err))
		: kube_config_in_cluster(&a.kc, o->serviceaccount_dir, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	metrics_heartbeat();
	metrics_set_ready(0, "starting");
	store_init(&a.store, o->node.name);
	a.multi = curl_multi_init();
	if (health_checks_init(&a.hc) ||
	    writer_init(&a.writer, o->socket, o->write_mode, o->max_batch_bytes) || !a.multi) {
		log_error("cannot start: out of memory or threads");
		goto out;
	}
	status = status_server_start(o->status_address, err, sizeof(err));
	if (!status) {
		log_error("%s", err);
		goto out;
	}
	a.messages = json_object();
	a.problem_bits = json_object();
	a.health = json_object();
	a.node_problems = json_object();
	log_info("cubenet-agent for node %s: API server %s, cubenetd %s, status on %s",
		 o->node.name, a.kc.server, o->socket, o->status_address);

	turn(&a, monotonic_seconds());
	for (;;) {
		struct curl_waitfd fds[MAX_POLL_FDS];
		int hc_fds[MAX_POLL_FDS - 1];
		size_t n = health_checks_fds(&a.hc, hc_fds, MAX_POLL_FDS - 1);
		double now = monotonic_seconds();
		struct signalfd_siginfo si;

		metrics_heartbeat();
		fds[0] = (struct curl_waitfd){.fd = sfd, .events = CURL_WAIT_POLLIN};
		for (size_t i = 0; i < n; i++)
			fds[i + 1] =
			    (struct curl_waitfd){.fd = hc_fds[i], .events = CURL_WAIT_POLLIN};
		curl_multi_poll(a.multi, fds, (unsigned)n + 1, sleep_ms(&a, now), NULL);
		if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			log_info("signal %u: stopping; cubenetd keeps what it has", si.ssi_signo);
			rc = 0;
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (fds[i + 1].revents)
				health_checks_accept(&a.hc, hc_fds[i]);
		drain(&a);
		turn(&a, monotonic_seconds());
	}
out:
	for (int k = 0; a.started && k < KIND_COUNT; k++)
		reflector_free(&a.r[k]);
	if (a.multi)
		curl_multi_cleanup(a.multi);
	store_free(&a.store);
	writer_free(&a.writer);
	health_checks_free(&a.hc);
	status_server_stop(status);
	json_decref(a.messages);
	json_decref(a.problem_bits);
	json_decref(a.health);
	json_decref(a.node_last);
	json_decref(a.node_problems);
	kube_config_free(&a.kc);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
