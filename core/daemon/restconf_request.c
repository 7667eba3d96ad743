// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "restconf_headers.h"
#include "restconf_path.h"
#include "restconf_reply.h"
#include "restconf_request.h"
#include "restconf_patch.h"

#define ALLOW_READ	"GET, HEAD, OPTIONS"
#define ALLOW_DATA	"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
#define ALLOW_DATASTORE "GET, HEAD, POST, PUT, PATCH, OPTIONS"
#define ALLOW_INVOKE	"POST, OPTIONS"

/* What a client must accept where the answer is RESTCONF data. (Module
 * sources and metrics are answered as they are: clients fetch them with the
 * Accept they use for everything.) */
static const char *const json_types[] = {MEDIA_JSON, "application/json", NULL};

int restconf_is_read(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* method is one of the ", "-separated names in allow. */
static int allowed(const char *allow, const char *method)
{
	size_t n = strlen(method);

	for (const char *p = allow; p; p = strchr(p, ',') ? strchr(p, ',') + 2 : NULL)
		if (strncmp(p, method, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static enum route route_of(const char *url)
{
	if (strcmp(url, DATA_PREFIX "/ietf-yang-library:yang-library") == 0 ||
	    strcmp(url, DATA_PREFIX "/ietf-yang-library:modules-state") == 0)
		return ROUTE_YANG_LIBRARY;
	if (strcmp(url, DATA_PREFIX) == 0 ||
	    strncmp(url, DATA_PREFIX "/", strlen(DATA_PREFIX) + 1) == 0)
		return ROUTE_DATA;
	if (strncmp(url, YANG_PREFIX, strlen(YANG_PREFIX)) == 0)
		return ROUTE_MODULE;
	if (strcmp(url, "/restconf") == 0 || strcmp(url, "/restconf/") == 0)
		return ROUTE_ROOT;
	if (strcmp(url, "/restconf/operations") == 0)
		return ROUTE_OPERATIONS;
	if (strncmp(url, OPS_PREFIX, strlen(OPS_PREFIX)) == 0)
		return ROUTE_OPERATION;
	if (strcmp(url, "/metrics") == 0)
		return ROUTE_METRICS;
	if (strcmp(url, "/.well-known/host-meta") == 0)
		return ROUTE_HOST_META;
	return ROUTE_NONE;
}

static int answers_data(enum route route)
{
	return route != ROUTE_MODULE && route != ROUTE_METRICS && route != ROUTE_HOST_META;
}

/* RFC 8040 4.8: the query parameters a data resource takes, each at most
 * once; anything else is a 400. */
struct query_check {
	struct restconf_request *req;
	int reads; /* GET or HEAD of a data resource */
	unsigned int seen;
	struct cn_error *err;
};

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct query_check *q = cls;
	char name[32], v[32];
	unsigned int bit;

	(void)kind;
	if (restconf_unescape(key, strlen(key), name, sizeof(name))) {
		cn_fail(q->err, CN_ERR_MALFORMED, "", "bad query parameter name");
		return MHD_NO;
	}
	if (q->reads && strcmp(name, "content") == 0) {
		bit = 1;
	} else if (q->reads && strcmp(name, "depth") == 0) {
		bit = 2;
	} else {
		cn_fail(q->err, CN_ERR_INVALID_VALUE, name, "unexpected query parameter '%s'",
			name);
		return MHD_NO;
	}
	if (q->seen & bit) {
		cn_fail(q->err, CN_ERR_INVALID_VALUE, name, "'%s' is given more than once", name);
		return MHD_NO;
	}
	q->seen |= bit;
	if (!value || restconf_unescape(value, strlen(value), v, sizeof(v))) {
		cn_fail(q->err, CN_ERR_INVALID_VALUE, name, "bad value for '%s'", name);
		return MHD_NO;
	}
	if (bit == 1) {
		if (strcmp(v, "config") == 0) {
			q->req->content = DS_CONTENT_CONFIG;
		} else if (strcmp(v, "nonconfig") == 0) {
			q->req->content = DS_CONTENT_NONCONFIG;
		} else if (strcmp(v, "all")) {
			cn_fail(q->err, CN_ERR_INVALID_VALUE, name,
				"content must be config, nonconfig or all");
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (strcmp(v, "unbounded")) {
		size_t digits = strspn(v, "0123456789");
		long d = digits && !v[digits] && digits < 8 ? strtol(v, NULL, 10) : 0;

		if (d < 1 || d > 65535) {
			cn_fail(q->err, CN_ERR_INVALID_VALUE, name,
				"depth must be 1..65535 or unbounded");
			return MHD_NO;
		}
		q->req->depth = (int)d;
	}
	return MHD_YES;
}

/* What the request is and whether it may be served, from its line and
 * headers; -1 with req->refusal set if not. */
static int judge(struct restconf_server *srv, struct MHD_Connection *conn, const char *url,
		 const char *method, struct restconf_request *req)
{
	struct query_check q = {.req = req, .err = &req->refusal};
	const char *length, *type, *chunked;
	int reads = restconf_is_read(method);

	req->route = route_of(url);
	switch (req->route) {
	case ROUTE_NONE:
		return cn_fail(&req->refusal, CN_ERR_DATA_MISSING, url, "no such resource");
	case ROUTE_DATA: {
		const char *rest = url + strlen(DATA_PREFIX);

		if (*rest == '/')
			rest++;
		snprintf(req->uri, sizeof(req->uri), "%s", rest);
		if (restconf_path_to_xpath(srv->ds->ctx, rest, req->xpath, sizeof(req->xpath),
					   &req->snode, &req->refusal))
			return -1;
		req->allow = req->snode && (req->snode->flags & LYS_CONFIG_R) ? ALLOW_READ
			     : req->xpath[0]				      ? ALLOW_DATA
									      : ALLOW_DATASTORE;
		q.reads = reads;
		break;
	}
	case ROUTE_OPERATION:
		req->allow = ALLOW_INVOKE;
		break;
	default:
		req->allow = ALLOW_READ;
		break;
	}
	if (strcmp(method, "OPTIONS") == 0) {
		req->options = 1;
		return 0;
	}
	if (!allowed(req->allow, method))
		return cn_fail(
		    &req->refusal, CN_ERR_NOT_ALLOWED, req->xpath[0] ? req->xpath : url, "%s",
		    req->route == ROUTE_DATA && req->snode && (req->snode->flags & LYS_CONFIG_R)
			? "state data cannot be edited"
			: "method not allowed on this resource");
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_param, &q);
	if (req->refusal.tag)
		return -1;
	if ((reads || req->route == ROUTE_OPERATION) && answers_data(req->route) &&
	    !restconf_accepts(
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
		json_types))
		return cn_fail(&req->refusal, CN_ERR_NOT_ACCEPTABLE, "",
			       "the Accept header admits no " MEDIA_JSON);
	req->takes_body = !reads && strcmp(method, "DELETE");
	length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	chunked =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (!req->takes_body || !(chunked || (length && strtoull(length, NULL, 10) > 0)))
		return 0;
	type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (req->route == ROUTE_DATA && strcmp(method, "PATCH") == 0 &&
	    restconf_media_is(type, MEDIA_YANG_PATCH)) {
		req->yang_patch = 1;
		return 0;
	}
	if (!restconf_media_is(type, MEDIA_JSON) && !restconf_media_is(type, "application/json"))
		return cn_fail(&req->refusal, CN_ERR_BAD_MEDIA_TYPE, "",
			       "unsupported media type '%s': the body must be " MEDIA_JSON,
			       type ? type : "(none)");
	return 0;
}

int restconf_admit(struct restconf_server *srv, struct MHD_Connection *conn, const char *url,
		   const char *method, const char *version, struct restconf_request *req,
		   enum MHD_Result *rc)
{
	const char *length, *expect;

	if (srv->token) {
		const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_AUTHORIZATION);

		if (!restconf_bearer_ok(auth, srv->token)) {
			*rc = restconf_reply_unauthorized(conn, auth != NULL);
			return -1;
		}
	}
	length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (length && strtoull(length, NULL, 10) > RESTCONF_MAX_BODY)
		cn_fail(&req->refusal, CN_ERR_TOO_BIG, "",
			"request body too large (at most %u bytes)", RESTCONF_MAX_BODY);
	else
		judge(srv, conn, url, method, req);
	expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
	if (req->refusal.tag && expect && strcasecmp(expect, "100-continue") == 0 &&
	    strcmp(version, MHD_HTTP_VERSION_1_1) == 0) {
		*rc = restconf_reply_error(conn, &req->refusal, req->allow);
		return -1;
	}
	return 0;
}

int restconf_check_body(const struct restconf_request *req, struct cn_error *err)
{
	json_error_t jerr;
	json_t *doc;

	if (!req->body)
		return 0;
	if (memchr(req->body, '\0', req->len))
		return cn_fail(err, CN_ERR_MALFORMED, "", "the request body holds a NUL byte");
	doc = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return cn_fail(err, CN_ERR_MALFORMED, "",
			       "the request body is not one JSON document: %s (line %d, column %d)",
			       jerr.text, jerr.line, jerr.column);
	json_decref(doc);
	return 0;
}
