/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's own metrics, served as Prometheus text on /metrics. Written by
 * the main loop, read by the status server's thread: every access takes
 * the lock. */
#ifndef CUBENET_AGENT_METRICS_H
#define CUBENET_AGENT_METRICS_H

#include <stddef.h>
#include "kinds.h"

#define SYNC_BUCKETS 14

enum daemon_request { DREQ_GET, DREQ_PATCH, DREQ_PUT, DREQ_DELETE, DREQ_YANG_PATCH, DREQ_COUNT };

void metrics_event(enum kind kind, enum event_type type);
void metrics_relist(enum kind kind);
void metrics_api_error(enum kind kind, enum api_error e);
void metrics_problem(enum problem p);
/* How many services have the problem now. */
void metrics_problem_services(const unsigned counts[PROBLEM_COUNT]);
/* How many other Nodes have the problem now (not written as peers). */
void metrics_problem_nodes(const unsigned counts[PROBLEM_COUNT]);
void metrics_daemon_request(enum daemon_request r, int ok);
/* One write to cubenetd done: its duration from the first change it
 * carries to cubenetd's answer, and what it held. */
void metrics_sync(double seconds, unsigned services_changed, int full);
void metrics_services(unsigned written);
void metrics_peers(unsigned written);
void metrics_health_check_error(void);
/* Ready, or not and why (for /readyz). */
void metrics_set_ready(int ready, const char *why);
int metrics_ready(char *why, size_t size);
/* The main loop is alive: it calls this every turn (for /healthz). */
void metrics_heartbeat(void);
double metrics_heartbeat_age(void);

/* The text for /metrics; the caller frees it. */
char *metrics_render(void);

#endif
