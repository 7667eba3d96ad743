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

struct restconf_server {
	struct datastore *ds;
	struct runtime *rt;
	const char *token; /* required as "Bearer <token>" when not NULL (TCP) */
	struct MHD_Daemon *mhd;
};

/* Serve on an already listening socket (unix or TCP). 0 or -errno. */
int restconf_start(struct restconf_server *srv, int listen_fd);
void restconf_stop(struct restconf_server *srv);

#endif
