// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <microhttpd.h>
#include "restconf.h"
#include "restconf_path.h"
#include "operations.h"

#define MEDIA_JSON  "application/yang-data+json"
#define DATA_PREFIX "/restconf/data"

/* Per-request state: the body as it arrives. */
struct request {
	char *body;
	size_t len;
	int too_big;
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status, const char *type,
				 const char *text, const char *allow, const char *location)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    text ? strlen(text) : 0, (void *)(text ? text : ""), MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	if (text && type)
		MHD_add_response_header(resp, "Content-Type", type);
	if (allow)
		MHD_add_response_header(resp, "Allow", allow);
	if (location)
		MHD_add_response_header(resp, "Location", location);
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* RFC 8040 7.1: the errors body. */
static enum MHD_Result send_error(struct MHD_Connection *conn, const struct cn_error *err,
				  const char *allow)
{
	json_t *e = json_object(), *doc;
	char *text;
	enum MHD_Result rc;
	int status = cn_err_status(err->tag);

	json_object_set_new(e, "error-type",
			    json_string(status == 400 && err->tag == CN_ERR_MALFORMED
					    ? "protocol"
					    : "application"));
	json_object_set_new(e, "error-tag", json_string(cn_err_tag_name(err->tag)));
	if (err->path[0])
		json_object_set_new(e, "error-path", json_string(err->path));
	json_object_set_new(e, "error-message", json_string(err->message));
	doc = json_pack("{s:{s:[o]}}", "ietf-restconf:errors", "error", e);
	text = json_dumps(doc, JSON_INDENT(2));
	rc = send_text(conn, (unsigned int)status, MEDIA_JSON, text, allow, NULL);
	free(text);
	json_decref(doc);
	return rc;
}

static enum MHD_Result fail(struct MHD_Connection *conn, enum cn_err_tag tag, const char *path,
			    const char *msg, const char *allow)
{
	struct cn_error err = {0};

	cn_fail(&err, tag, path, "%s", msg);
	return send_error(conn, &err, allow);
}

/* "/cubenet-core:cubes/cube[name='r0']" -> "/restconf/data/cubenet-core:cubes/cube=r0" */
static void xpath_to_location(const char *xpath, char *out, size_t size)
{
	size_t o = (size_t)snprintf(out, size, "%s", DATA_PREFIX);
	int in_pred = 0, first_key = 1;

	for (const char *p = xpath; *p && o + 4 < size; p++) {
		if (!in_pred && *p == '[') {
			in_pred = 1;
			out[o++] = first_key ? '=' : ',';
			first_key = 0;
			p = strchr(p, '=');
			if (!p)
				break;
			p++; /* the opening quote */
			char q = *p;

			for (p++; *p && *p != q && o + 4 < size; p++) {
				unsigned char c = (unsigned char)*p;

				if (c == ',' || c == '/' || c == '=' || c == '%' || c == ' ' ||
				    c == '\'' || c == '"' || c < 0x20 || c >= 0x7f)
					o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
				else
					out[o++] = (char)c;
			}
			continue;
		}
		if (in_pred && *p == ']') {
			in_pred = 0;
			continue;
		}
		if (*p == '/')
			first_key = 1;
		out[o++] = *p;
	}
	out[o] = '\0';
}

/* A query parameter, percent-decoded into buf; NULL if absent. */
static const char *query(struct MHD_Connection *conn, const char *key, char *buf, size_t size)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
	size_t o = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; v[i] && o + 1 < size; i++) {
		unsigned int c;

		if (v[i] == '%' && sscanf(v + i + 1, "%2x", &c) == 1) {
			buf[o++] = (char)c;
			i += 2;
		} else {
			buf[o++] = v[i] == '+' ? ' ' : v[i];
		}
	}
	buf[o] = '\0';
	return buf;
}

static enum MHD_Result handle_data(struct restconf_server *srv, struct MHD_Connection *conn,
				   const char *method, const char *uri, struct request *req)
{
	struct cn_error err = {0};
	const struct lysc_node *snode = NULL;
	char xpath[1024], location[1200];
	const char *rest = uri + strlen(DATA_PREFIX);
	int created = 0;

	if (*rest == '/')
		rest++;
	if (restconf_path_to_xpath(srv->ds->ctx, rest, xpath, sizeof(xpath), &snode, &err))
		return send_error(conn, &err, NULL);

	/* RFC 8040 4.1: OPTIONS on any resource says which methods it takes. */
	if (strcmp(method, "OPTIONS") == 0)
		return send_text(conn, 200, NULL, NULL,
				 snode && (snode->flags & LYS_CONFIG_R)
				     ? "GET, HEAD, OPTIONS"
				     : "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
				 NULL);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		const char *content =
		    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "content");
		char *json = NULL;
		enum MHD_Result rc;

		int mode = DS_CONTENT_ALL, depth = 0;
		char depth_buf[16];
		const char *depth_text = query(conn, "depth", depth_buf, sizeof(depth_buf));

		if (content && strcmp(content, "config") == 0)
			mode = DS_CONTENT_CONFIG;
		else if (content && strcmp(content, "nonconfig") == 0)
			mode = DS_CONTENT_NONCONFIG;
		else if (content && strcmp(content, "all"))
			return fail(conn, CN_ERR_INVALID_VALUE, "content",
				    "content must be config, nonconfig or all", NULL);
		if (depth_text && strcmp(depth_text, "unbounded")) {
			char *end;
			long d = strtol(depth_text, &end, 10);

			if (*end || d < 1 || d > 65535)
				return fail(conn, CN_ERR_INVALID_VALUE, "depth",
					    "depth must be 1..65535 or unbounded", NULL);
			depth = (int)d;
		}
		if (ds_get(srv->ds, xpath, mode, depth, runtime_state, srv->rt, &json, &err))
			return send_error(conn, &err, NULL);
		rc = send_text(conn, 200, MEDIA_JSON, json, NULL, NULL);
		free(json);
		return rc;
	}

	enum ds_edit_op op;

	if (strcmp(method, "POST") == 0)
		op = DS_CREATE;
	else if (strcmp(method, "PUT") == 0)
		op = DS_REPLACE;
	else if (strcmp(method, "PATCH") == 0)
		op = DS_MERGE;
	else if (strcmp(method, "DELETE") == 0)
		op = DS_DELETE;
	else
		return fail(conn, CN_ERR_NOT_ALLOWED, "", "method not allowed on a data resource",
			    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");

	if (snode && (snode->flags & LYS_CONFIG_R))
		return fail(conn, CN_ERR_NOT_ALLOWED, xpath, "state data cannot be edited",
			    "GET, HEAD");
	if (op != DS_DELETE) {
		const char *type =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");

		if (type && strncmp(type, MEDIA_JSON, strlen(MEDIA_JSON)) &&
		    strncmp(type, "application/json", 16)) {
			struct cn_error e = {0};

			cn_fail(&e, CN_ERR_INVALID_VALUE, "", "unsupported media type '%s'", type);
			return send_error(conn, &e, NULL);
		}
	}
	if (ds_edit(srv->ds, op, xpath, req->body, &created, location, sizeof(location), &err))
		return send_error(conn, &err, NULL);
	if (op == DS_CREATE) {
		char loc[1300];

		xpath_to_location(location, loc, sizeof(loc));
		return send_text(conn, 201, NULL, NULL, NULL, loc);
	}
	return send_text(conn, created ? 201 : 204, NULL, NULL, NULL, NULL);
}

static enum MHD_Result handle_yang(struct restconf_server *srv, struct MHD_Connection *conn,
				   const char *uri)
{
	const char *name = uri + strlen("/restconf/yang/");
	char modname[64];
	const struct lys_module *mod;
	char *text = NULL;
	enum MHD_Result rc;

	snprintf(modname, sizeof(modname), "%.*s", (int)strcspn(name, "@"), name);
	mod = ly_ctx_get_module_implemented(srv->ds->ctx, modname);
	if (!mod || lys_print_mem(&text, mod, LYS_OUT_YANG, 0))
		return fail(conn, CN_ERR_DATA_MISSING, uri, "no such module", NULL);
	rc = send_text(conn, 200, "application/yang", text, NULL, NULL);
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
		return fail(conn, CN_ERR_OPERATION_FAILED, "", "cannot list the modules", NULL);
	}
	rc = send_text(conn, 200, MEDIA_JSON, json, NULL, NULL);
	free(json);
	lyd_free_all(tree);
	return rc;
}

static int authorized(struct restconf_server *srv, struct MHD_Connection *conn)
{
	const char *auth;
	char want[300];

	if (!srv->token)
		return 1;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	snprintf(want, sizeof(want), "Bearer %s", srv->token);
	return auth && strcmp(auth, want) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct restconf_server *srv = cls;
	struct request *req = *con_cls;

	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_size) {
		if (req->len + *upload_size > RESTCONF_MAX_BODY) {
			req->too_big = 1;
		} else if (!req->too_big) {
			char *b = realloc(req->body, req->len + *upload_size + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + req->len, upload_data, *upload_size);
			req->body = b;
			req->len += *upload_size;
			req->body[req->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}

	if (!authorized(srv, conn))
		return fail(conn, CN_ERR_ACCESS_DENIED, "", "a valid bearer token is required",
			    NULL);
	if (req->too_big)
		return fail(conn, CN_ERR_TOO_BIG, "", "request body too large", NULL);
	if (strcmp(method, "OPTIONS") == 0 && strncmp(url, DATA_PREFIX, strlen(DATA_PREFIX)))
		return send_text(conn, 200, NULL, NULL,
				 strncmp(url, "/restconf/operations/", 21) == 0
				     ? "POST, OPTIONS"
				     : "GET, HEAD, OPTIONS",
				 NULL);
	if (strcmp(url, DATA_PREFIX "/ietf-yang-library:yang-library") == 0 ||
	    strcmp(url, DATA_PREFIX "/ietf-yang-library:modules-state") == 0) {
		if (strcmp(method, "GET"))
			return fail(conn, CN_ERR_NOT_ALLOWED, url, "the module list is read-only",
				    "GET");
		return handle_yang_library(srv, conn);
	}
	if (strcmp(url, DATA_PREFIX) == 0 ||
	    strncmp(url, DATA_PREFIX "/", strlen(DATA_PREFIX) + 1) == 0)
		return handle_data(srv, conn, method, url, req);
	if (strncmp(url, "/restconf/yang/", 15) == 0) {
		if (strcmp(method, "GET"))
			return fail(conn, CN_ERR_NOT_ALLOWED, url, "read-only", "GET");
		return handle_yang(srv, conn, url);
	}
	if (strcmp(url, "/restconf") == 0 || strcmp(url, "/restconf/") == 0) {
		if (strcmp(method, "GET"))
			return fail(conn, CN_ERR_NOT_ALLOWED, url, "read-only", "GET");
		return send_text(conn, 200, MEDIA_JSON,
				 "{\"ietf-restconf:restconf\":{\"data\":{},\"operations\":{},"
				 "\"yang-library-version\":\"2019-01-04\"}}",
				 NULL, NULL);
	}
	if (strcmp(url, "/restconf/operations") == 0) {
		char *text;
		enum MHD_Result rc;

		if (strcmp(method, "GET"))
			return fail(conn, CN_ERR_NOT_ALLOWED, url, "read-only", "GET");
		text = operations_list();
		rc = send_text(conn, 200, MEDIA_JSON, text, NULL, NULL);
		free(text);
		return rc;
	}
	if (strncmp(url, "/restconf/operations/", 21) == 0) {
		struct cn_error err = {0};
		char *out = NULL;
		enum MHD_Result rc;

		if (strcmp(method, "POST"))
			return fail(conn, CN_ERR_NOT_ALLOWED, url,
				    "operations are invoked with POST", "POST");
		if (operations_invoke(srv->ds, srv->rt, url + 21, req->body, &out, &err))
			return send_error(conn, &err, NULL);
		rc = out ? send_text(conn, 200, MEDIA_JSON, out, NULL, NULL)
			 : send_text(conn, 204, NULL, NULL, NULL, NULL);
		free(out);
		return rc;
	}
	if (strcmp(url, "/metrics") == 0) {
		char *text;
		enum MHD_Result rc;

		if (strcmp(method, "GET"))
			return fail(conn, CN_ERR_NOT_ALLOWED, url, "read-only", "GET");
		/* Under the datastore lock: the runtime's cube list is stable. */
		pthread_mutex_lock(&srv->ds->lock);
		text = runtime_metrics(srv->rt);
		pthread_mutex_unlock(&srv->ds->lock);
		rc =
		    send_text(conn, 200, "text/plain; version=0.0.4", text ? text : "", NULL, NULL);
		free(text);
		return rc;
	}
	if (strcmp(url, "/.well-known/host-meta") == 0)
		return send_text(conn, 200, "application/xrd+xml",
				 "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>"
				 "<Link rel='restconf' href='/restconf'/></XRD>",
				 NULL, NULL);
	return fail(conn, CN_ERR_DATA_MISSING, url, "no such resource", NULL);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* Keep the URL as sent: a key value may hold an encoded '/', which must
 * not split the path; restconf_path.c decodes each segment itself. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

int restconf_start(struct restconf_server *srv, int listen_fd)
{
	srv->mhd = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    on_request, srv, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_END);
	return srv->mhd ? 0 : -EIO;
}

void restconf_stop(struct restconf_server *srv)
{
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
}
