/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RESTCONF (RFC 8040) edge of the daemon, on libmicrohttpd: maps HTTP
 * requests onto datastore edits and reads, and turns struct cn_error into a
 * status and an ietf-restconf:errors body. Nothing below it speaks HTTP.
 */
#ifndef CUBENETD_RESTCONF_H
#define CUBENETD_RESTCONF_H

#include "datastore.h"
#include "runtime.h"

/* Requests larger than this get 413: a whole config of thousands of
 * services fits well within it. */
#define RESTCONF_MAX_BODY (8u << 20)

/* Connections one server (the unix socket's, or TCP's) holds at once, and
 * on TCP from any one address. Each costs a descriptor and, while its
 * headers arrive, at most RESTCONF_CONNECTION_MEMORY bytes. */
#define RESTCONF_MAX_CONNECTIONS   2048
#define RESTCONF_MAX_PER_ADDRESS   256
#define RESTCONF_CONNECTION_MEMORY (32u << 10)
/* Seconds a connection may sit without sending or reading a byte. */
#define RESTCONF_IDLE_TIMEOUT	   30
/* Threads serving connections; requests still take the datastore lock. */
#define RESTCONF_THREADS	   4

struct restconf_server {
	struct datastore *ds;
	struct runtime *rt;
	const char *token; /* required as "Bearer <token>" when not NULL (TCP) */
	struct MHD_Daemon *mhd;
	struct deadlines *deadlines;
};

/* Serve on an already listening socket (unix or TCP). 0 or -errno. */
int restconf_start(struct restconf_server *srv, int listen_fd);
void restconf_stop(struct restconf_server *srv);

#endif
