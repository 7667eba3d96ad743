/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node agent's loop: one thread turns a curl multi handle over the
 * watches and lists of Services, EndpointSlices and Nodes, the health
 * check sockets and a signalfd. Changes mark services dirty; a first
 * change waits `coalesce` for the rest of its burst, then the dirty
 * services are translated and written in one batch. The first write, and
 * every resync, is a full one: cubenetd's entries read back, compared with
 * every service the API has, the difference written (what is gone,
 * removed). Nothing is written before every kind has been listed once.
 */
#ifndef CUBENET_AGENT_AGENT_H
#define CUBENET_AGENT_AGENT_H

#include "options.h"

/* Until SIGTERM or SIGINT: 0, or 1 when it could not start. */
int agent_run(struct options *o);

#endif
