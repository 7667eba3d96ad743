// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <sys/socket.h>
#include "log.h"
#include "restconf.h"
#include "restconf_deadline.h"
#include "restconf_reply.h"
#include "restconf_request.h"
#include "restconf_patch.h"
#include "operations.h"

static enum MHD_Result handle_data(struct restconf_server *srv, struct MHD_Connection *conn,
				   const char *method, struct restconf_request *req)
{
	struct cn_error err = {0};
	char location[1200];
	enum ds_edit_op op;
	int created = 0;

	if (restconf_is_read(method)) {
		char *json = NULL;
		enum MHD_Result rc;

		if (ds_get(srv->ds, req->xpath, req->content, req->depth, runtime_state, srv->rt,
			   &json, &err))
			return restconf_reply_error(conn, &err, req->allow);
		rc = restconf_reply(conn, 200, MEDIA_JSON, json, NULL, NULL);
		free(json);
		return rc;
	}
	if (req->yang_patch)
		return restconf_yang_patch(srv, conn, req->uri, req);
	if (strcmp(method, "POST") == 0)
		op = DS_CREATE;
	else if (strcmp(method, "PUT") == 0)
		op = DS_REPLACE;
	else if (strcmp(method, "PATCH") == 0)
		op = DS_MERGE;
	else
		op = DS_DELETE;
	if (ds_edit(srv->ds, op, req->xpath, op == DS_DELETE ? NULL : req->body, &created, location,
		    sizeof(location), &err))
		return restconf_reply_error(conn, &err, req->allow);
	if (op == DS_CREATE) {
		char loc[1300];

		restconf_location(location, loc, sizeof(loc));
		return restconf_reply(conn, 201, NULL, NULL, NULL, loc);
	}
	return restconf_reply(conn, created ? 201 : 204, NULL, NULL, NULL, NULL);
}

/* "<module>" or "<module>@<revision>": the revision, if given, must be the one loaded. */
static enum MHD_Result handle_module(struct restconf_server *srv, struct MHD_Connection *conn,
				     const char *url)
{
	const char *name = url + strlen(YANG_PREFIX), *at = strchr(name, '@');
	char modname[64];
	const struct lys_module *mod = NULL;
	char *text = NULL;
	enum MHD_Result rc;
	size_t n = at ? (size_t)(at - name) : strlen(name);

	if (n < sizeof(modname)) {
		snprintf(modname, sizeof(modname), "%.*s", (int)n, name);
		mod = ly_ctx_get_module_implemented(srv->ds->ctx, modname);
	}
	if (mod && at && (!mod->revision || strcmp(at + 1, mod->revision)))
		mod = NULL;
	if (!mod || lys_print_mem(&text, mod, LYS_OUT_YANG, 0))
		return restconf_reply_fail(conn, CN_ERR_DATA_MISSING, url, "no such module", NULL);
	rc = restconf_reply(conn, 200, "application/yang", text, NULL, NULL);
	free(text);
	return rc;
}

static enum MHD_Result handle_yang_library(struct restconf_server *srv, struct MHD_Connection *conn)
{
	struct lyd_node *tree = NULL;
	char *json = NULL;
	enum MHD_Result rc;

	if (ly_ctx_get_yanglib_data(srv->ds->ctx, &tree, "%u",
				    ly_ctx_get_change_count(srv->ds->ctx)) ||
	    lyd_print_mem(&json, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS)) {
		lyd_free_all(tree);
		return restconf_reply_fail(conn, CN_ERR_OPERATION_FAILED, "",
					   "cannot list the modules", NULL);
	}
	rc = restconf_reply(conn, 200, MEDIA_JSON, json, NULL, NULL);
	free(json);
	lyd_free_all(tree);
	return rc;
}

/* The whole request is in and was admitted: answer it. */
static enum MHD_Result serve(struct restconf_server *srv, struct MHD_Connection *conn,
			     const char *url, const char *method, struct restconf_request *req)
{
	struct cn_error err = {0};
	char *text = NULL;
	enum MHD_Result rc;

	if (req->options)
		return restconf_reply(conn, 200, NULL, NULL, req->allow, NULL);
	if (req->refusal.tag)
		return restconf_reply_error(conn, &req->refusal, req->allow);
	if (req->too_big)
		return restconf_reply_fail(conn, CN_ERR_TOO_BIG, "", "request body too large",
					   NULL);
	if (restconf_check_body(req, &err))
		return restconf_reply_error(conn, &err, NULL);
	switch (req->route) {
	case ROUTE_DATA:
		return handle_data(srv, conn, method, req);
	case ROUTE_YANG_LIBRARY:
		return handle_yang_library(srv, conn);
	case ROUTE_MODULE:
		return handle_module(srv, conn, url);
	case ROUTE_ROOT:
		return restconf_reply(conn, 200, MEDIA_JSON,
				      "{\"ietf-restconf:restconf\":{\"data\":{},\"operations\":{},"
				      "\"yang-library-version\":\"2019-01-04\"}}",
				      NULL, NULL);
	case ROUTE_OPERATIONS:
		text = operations_list();
		rc = restconf_reply(conn, 200, MEDIA_JSON, text, NULL, NULL);
		free(text);
		return rc;
	case ROUTE_OPERATION:
		if (operations_invoke(srv->ds, srv->rt, url + strlen(OPS_PREFIX), req->body, &text,
				      &err))
			return restconf_reply_error(conn, &err, NULL);
		rc = text ? restconf_reply(conn, 200, MEDIA_JSON, text, NULL, NULL)
			  : restconf_reply(conn, 204, NULL, NULL, NULL, NULL);
		free(text);
		return rc;
	case ROUTE_METRICS:
		/* Under the datastore lock: the runtime's cube list is stable. */
		pthread_mutex_lock(&srv->ds->lock);
		text = runtime_metrics(srv->rt);
		pthread_mutex_unlock(&srv->ds->lock);
		rc = restconf_reply(conn, 200, "text/plain; version=0.0.4", text ? text : "", NULL,
				    NULL);
		free(text);
		return rc;
	case ROUTE_HOST_META:
		return restconf_reply(conn, 200, "application/xrd+xml",
				      "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>"
				      "<Link rel='restconf' href='/restconf'/></XRD>",
				      NULL, NULL);
	default:
		return restconf_reply_fail(conn, CN_ERR_DATA_MISSING, url, "no such resource",
					   NULL);
	}
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* One line per request: writes and refusals at info and warning, reads at
 * debug (an agent's reads and a scraper's would drown the rest). */
static void log_request(const char *method, const char *url, const struct restconf_request *req)
{
	const struct restconf_outcome *o = restconf_last_outcome();
	enum cn_log_level level = o->status >= 500			     ? CN_LOG_ERROR
				  : o->status >= 400			     ? CN_LOG_WARNING
				  : restconf_is_read(method) || req->options ? CN_LOG_DEBUG
									     : CN_LOG_INFO;

	if (!cn_log_enabled(level))
		return;
	cn_log(level, "%s %.300s: %u in %.1f ms%s%.600s", method, url, o->status,
	       ms_since(&req->started), o->error[0] ? ": " : "", o->error);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct restconf_server *srv = cls;
	struct restconf_request *req = *con_cls;
	enum MHD_Result rc = MHD_YES;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		clock_gettime(CLOCK_MONOTONIC, &req->started);
		if (restconf_admit(srv, conn, url, method, version, req, &rc)) {
			deadlines_enter(srv->deadlines, conn, DEADLINE_NONE);
			log_request(method, url, req);
			return rc;
		}
		deadlines_enter(srv->deadlines, conn, DEADLINE_BODY);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!req->takes_body || req->refusal.tag || req->too_big) {
			/* read and dropped */
		} else if (req->len + *upload_size > RESTCONF_MAX_BODY) {
			/* A body of no announced length: stop keeping it. */
			req->too_big = 1;
			free(req->body);
			req->body = NULL;
			req->len = req->size = 0;
		} else {
			if (req->len + *upload_size + 1 > req->size) {
				/* Doubling: a body arrives in many small pieces. */
				size_t size = req->size ? req->size : 64u << 10;
				char *b;

				while (size < req->len + *upload_size + 1)
					size *= 2;
				b = realloc(req->body, size);
				if (!b)
					return MHD_NO;
				req->body = b;
				req->size = size;
			}
			memcpy(req->body + req->len, upload_data, *upload_size);
			req->len += *upload_size;
			req->body[req->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	deadlines_enter(srv->deadlines, conn, DEADLINE_NONE);
	rc = serve(srv, conn, url, method, req);
	log_request(method, url, req);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct restconf_server *srv = cls;
	struct restconf_request *req = *con_cls;

	(void)toe;
	/* Kept alive, the connection now waits for its next request's headers. */
	deadlines_enter(srv->deadlines, conn, DEADLINE_HEADERS);
	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* Keep the URL as sent: a key value may hold an encoded '/', which must
 * not split the path; restconf_path.c decodes each segment itself, and the
 * query parameters are decoded where they are read. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

int restconf_start(struct restconf_server *srv, int listen_fd)
{
	struct sockaddr_storage addr;
	socklen_t addr_len = sizeof(addr);
	unsigned int per_address = 0;

	/* Clients of a network socket are held to a share each; the unix
	 * socket's are root. */
	if (getsockname(listen_fd, (struct sockaddr *)&addr, &addr_len) == 0 &&
	    (addr.ss_family == AF_INET || addr.ss_family == AF_INET6))
		per_address = RESTCONF_MAX_PER_ADDRESS;
	srv->deadlines = deadlines_start();
	if (!srv->deadlines)
		return -ENOMEM;
	/* epoll: no limit on descriptor numbers, which a daemon holding many
	 * cubes is far past (select() stops at 1024). */
	srv->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET,
	    listen_fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)RESTCONF_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)RESTCONF_MAX_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)RESTCONF_IDLE_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)RESTCONF_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_CONNECTION, deadlines_notify,
	    srv->deadlines, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_END);
	if (!srv->mhd) {
		deadlines_stop(srv->deadlines);
		srv->deadlines = NULL;
		return -EIO;
	}
	return 0;
}

void restconf_stop(struct restconf_server *srv)
{
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	deadlines_stop(srv->deadlines);
	srv->deadlines = NULL;
}
