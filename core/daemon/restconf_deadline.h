/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deadlines for clients that have not finished sending their request. An
 * idle timeout alone lets a client that sends a byte now and then hold a
 * connection for ever; here a watcher cuts (shutdown(2)) a connection that
 * has spent too long on its headers or its body. Time the server itself
 * spent busy does not count against the client: a connection with unread
 * bytes waiting is never cut.
 */
#ifndef CUBENETD_RESTCONF_DEADLINE_H
#define CUBENETD_RESTCONF_DEADLINE_H

#include <microhttpd.h>

/* Seconds from a connection's start (or the end of its previous request)
 * to the end of its request headers, and from there to the end of its body. */
#define RESTCONF_HEADER_DEADLINE 10
#define RESTCONF_BODY_DEADLINE	 60

enum deadline_phase {
	DEADLINE_HEADERS, /* waiting for the request headers */
	DEADLINE_BODY,	  /* the headers are in, the body is arriving */
	DEADLINE_NONE,	  /* the request is being served */
};

struct deadlines;

struct deadlines *deadlines_start(void);
void deadlines_stop(struct deadlines *d);

/* An MHD_OPTION_NOTIFY_CONNECTION callback, with d as its closure. */
void deadlines_notify(void *d, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode code);

/* Where the connection's current request is; restarts its clock. */
void deadlines_enter(struct deadlines *d, struct MHD_Connection *conn, enum deadline_phase phase);

#endif
