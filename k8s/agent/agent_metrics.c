// SPDX-License-Identifier: Apache-2.0
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "buf.h"
#include "agent_metrics.h"

static const double sync_bounds[SYNC_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
						 0.25,	0.5,	1,     2.5,  5,	    10,	  30};
static const char *const request_names[DREQ_COUNT] = {"GET", "PATCH", "PUT", "DELETE",
						      "YANG-PATCH"};

/* What keeps a Node from being a peer. */
static const enum problem node_problems[] = {PROBLEM_NO_ADDRESS, PROBLEM_NO_POD_CIDR,
					     PROBLEM_BAD_VALUE, PROBLEM_TOO_MANY, PROBLEM_REFUSED};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	unsigned long events[KIND_COUNT][EV_COUNT];
	unsigned long relists[KIND_COUNT];
	unsigned long api_errors[KIND_COUNT][APIERR_COUNT];
	unsigned long problems[PROBLEM_COUNT];
	unsigned problem_services[PROBLEM_COUNT];
	unsigned problem_nodes[PROBLEM_COUNT];
	unsigned long requests[DREQ_COUNT][2];
	unsigned long sync_buckets[SYNC_BUCKETS + 1];
	double sync_sum;
	unsigned long sync_count, full_syncs, services_changed;
	double last_sync;
	unsigned services, peers;
	unsigned long health_check_errors;
	int ready;
	char not_ready[256];
	double heartbeat;
} m;

static double now_monotonic(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#define LOCKED(stmt)                                                                               \
	do {                                                                                       \
		pthread_mutex_lock(&lock);                                                         \
		stmt;                                                                              \
		pthread_mutex_unlock(&lock);                                                       \
	} while (0)

void metrics_event(enum kind kind, enum event_type type)
{
	LOCKED(m.events[kind][type]++);
}

void metrics_relist(enum kind kind)
{
	LOCKED(m.relists[kind]++);
}

void metrics_api_error(enum kind kind, enum api_error e)
{
	LOCKED(m.api_errors[kind][e]++);
}

void metrics_problem(enum problem p)
{
	LOCKED(m.problems[p]++);
}

void metrics_problem_services(const unsigned counts[PROBLEM_COUNT])
{
	LOCKED(memcpy(m.problem_services, counts, sizeof(m.problem_services)));
}

void metrics_problem_nodes(const unsigned counts[PROBLEM_COUNT])
{
	LOCKED(memcpy(m.problem_nodes, counts, sizeof(m.problem_nodes)));
}

void metrics_daemon_request(enum daemon_request r, int ok)
{
	LOCKED(m.requests[r][ok ? 1 : 0]++);
}

void metrics_sync(double seconds, unsigned services_changed, int full)
{
	struct timespec now;
	int b = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	while (b < SYNC_BUCKETS && seconds > sync_bounds[b])
		b++;
	pthread_mutex_lock(&lock);
	m.sync_buckets[b]++;
	m.sync_sum += seconds;
	m.sync_count++;
	m.full_syncs += full ? 1 : 0;
	m.services_changed += services_changed;
	m.last_sync = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	pthread_mutex_unlock(&lock);
}

void metrics_services(unsigned written)
{
	LOCKED(m.services = written);
}

void metrics_peers(unsigned written)
{
	LOCKED(m.peers = written);
}

void metrics_health_check_error(void)
{
	LOCKED(m.health_check_errors++);
}

void metrics_set_ready(int ready, const char *why)
{
	LOCKED(m.ready = ready; snprintf(m.not_ready, sizeof(m.not_ready), "%s", why ? why : ""));
}

int metrics_ready(char *why, size_t size)
{
	int r;

	LOCKED(r = m.ready; snprintf(why, size, "%s", m.not_ready));
	return r;
}

void metrics_heartbeat(void)
{
	double t = now_monotonic();

	LOCKED(m.heartbeat = t);
}

double metrics_heartbeat_age(void)
{
	double t;

	LOCKED(t = m.heartbeat);
	return now_monotonic() - t;
}

__attribute__((format(printf, 2, 3))) static void out(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

char *metrics_render(void)
{
	struct buf b = {0};
	unsigned long cumulative = 0;

	pthread_mutex_lock(&lock);
	out(&b, "# HELP cubenet_agent_events_total Watch events received, by kind and type.\n"
		"# TYPE cubenet_agent_events_total counter\n");
	for (int k = 0; k < KIND_COUNT; k++)
		for (int t = 0; t < EV_COUNT; t++)
			out(&b, "cubenet_agent_events_total{kind=\"%s\",type=\"%s\"} %lu\n",
			    kind_names[k], event_names[t], m.events[k][t]);
	out(&b, "# HELP cubenet_agent_lists_total Full lists of a kind (the first and every "
		"relist).\n# TYPE cubenet_agent_lists_total counter\n");
	for (int k = 0; k < KIND_COUNT; k++)
		out(&b, "cubenet_agent_lists_total{kind=\"%s\"} %lu\n", kind_names[k],
		    m.relists[k]);
	out(&b, "# HELP cubenet_agent_api_errors_total Failed API server requests and watches.\n"
		"# TYPE cubenet_agent_api_errors_total counter\n");
	for (int k = 0; k < KIND_COUNT; k++)
		for (int e = 0; e < APIERR_COUNT; e++)
			out(&b, "cubenet_agent_api_errors_total{kind=\"%s\",reason=\"%s\"} %lu\n",
			    kind_names[k], api_error_names[e], m.api_errors[k][e]);
	out(&b, "# HELP cubenet_agent_untranslatable_total Times a service (or part of it), or a "
		"Node as a peer, could not be written, by reason.\n# TYPE "
		"cubenet_agent_untranslatable_total counter\n");
	for (int p = 0; p < PROBLEM_COUNT; p++)
		out(&b, "cubenet_agent_untranslatable_total{reason=\"%s\"} %lu\n", problem_names[p],
		    m.problems[p]);
	out(&b, "# HELP cubenet_agent_untranslatable_services Services with a part not written "
		"now, by reason.\n# TYPE cubenet_agent_untranslatable_services gauge\n");
	for (int p = 0; p < PROBLEM_COUNT; p++)
		out(&b, "cubenet_agent_untranslatable_services{reason=\"%s\"} %u\n",
		    problem_names[p], m.problem_services[p]);
	out(&b, "# HELP cubenet_agent_untranslatable_nodes Other Nodes not written as peers "
		"now, by reason.\n# TYPE cubenet_agent_untranslatable_nodes gauge\n");
	for (size_t i = 0; i < sizeof(node_problems) / sizeof(*node_problems); i++)
		out(&b, "cubenet_agent_untranslatable_nodes{reason=\"%s\"} %u\n",
		    problem_names[node_problems[i]], m.problem_nodes[node_problems[i]]);
	out(&b, "# HELP cubenet_agent_cubenetd_requests_total Requests to cubenetd, by method "
		"and outcome.\n# TYPE cubenet_agent_cubenetd_requests_total counter\n");
	for (int r = 0; r < DREQ_COUNT; r++)
		for (int ok = 0; ok < 2; ok++)
			out(&b,
			    "cubenet_agent_cubenetd_requests_total{method=\"%s\",result=\"%s\"} "
			    "%lu\n",
			    request_names[r], ok ? "ok" : "error", m.requests[r][ok]);
	out(&b, "# HELP cubenet_agent_sync_duration_seconds From the first change a write to "
		"cubenetd carries to cubenetd's answer.\n"
		"# TYPE cubenet_agent_sync_duration_seconds histogram\n");
	for (int i = 0; i < SYNC_BUCKETS; i++) {
		cumulative += m.sync_buckets[i];
		out(&b, "cubenet_agent_sync_duration_seconds_bucket{le=\"%g\"} %lu\n",
		    sync_bounds[i], cumulative);
	}
	cumulative += m.sync_buckets[SYNC_BUCKETS];
	out(&b, "cubenet_agent_sync_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cumulative);
	out(&b, "cubenet_agent_sync_duration_seconds_sum %.6f\n", m.sync_sum);
	out(&b, "cubenet_agent_sync_duration_seconds_count %lu\n", m.sync_count);
	out(&b,
	    "# HELP cubenet_agent_full_syncs_total Full reconciliations of cubenetd against "
	    "the API.\n# TYPE cubenet_agent_full_syncs_total counter\n"
	    "cubenet_agent_full_syncs_total %lu\n",
	    m.full_syncs);
	out(&b,
	    "# HELP cubenet_agent_services_changed_total Service entries written or "
	    "removed.\n# TYPE cubenet_agent_services_changed_total counter\n"
	    "cubenet_agent_services_changed_total %lu\n",
	    m.services_changed);
	out(&b,
	    "# HELP cubenet_agent_last_sync_timestamp_seconds When cubenetd last took a "
	    "write.\n# TYPE cubenet_agent_last_sync_timestamp_seconds gauge\n"
	    "cubenet_agent_last_sync_timestamp_seconds %.3f\n",
	    m.last_sync);
	out(&b,
	    "# HELP cubenet_agent_services Service entries cubenetd holds from the agent.\n"
	    "# TYPE cubenet_agent_services gauge\ncubenet_agent_services %u\n",
	    m.services);
	out(&b,
	    "# HELP cubenet_agent_peers Peers (other Nodes) cubenetd holds from the agent.\n"
	    "# TYPE cubenet_agent_peers gauge\ncubenet_agent_peers %u\n",
	    m.peers);
	out(&b,
	    "# HELP cubenet_agent_health_check_errors_total Health check node ports that "
	    "could not be served.\n# TYPE cubenet_agent_health_check_errors_total counter\n"
	    "cubenet_agent_health_check_errors_total %lu\n",
	    m.health_check_errors);
	out(&b,
	    "# HELP cubenet_agent_ready 1 once the first full sync is done.\n"
	    "# TYPE cubenet_agent_ready gauge\ncubenet_agent_ready %d\n",
	    m.ready);
	pthread_mutex_unlock(&lock);
	return b.data;
}
