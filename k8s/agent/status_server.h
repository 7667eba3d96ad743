/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's own HTTP endpoint, on a loopback address by default:
 * /metrics (Prometheus text), /healthz (the main loop turns), /readyz
 * (the first full sync is done). */
#ifndef CUBENET_AGENT_STATUS_SERVER_H
#define CUBENET_AGENT_STATUS_SERVER_H

#include <stddef.h>

struct MHD_Daemon;

/* address "IP:PORT" (IPv4 or [IPv6]). NULL with err set on failure. */
struct MHD_Daemon *status_server_start(const char *address, char *err, size_t errlen);
void status_server_stop(struct MHD_Daemon *d);
/* "IP:PORT" into a sockaddr; 0 or -1. */
int parse_host_port(const char *text, void *sockaddr_storage, unsigned *len);

#endif
