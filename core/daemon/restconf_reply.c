// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "restconf_reply.h"

static struct MHD_Response *response(const char *type, const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    text ? strlen(text) : 0, (void *)(text ? text : ""), MHD_RESPMEM_MUST_COPY);

	if (resp && text && type)
		MHD_add_response_header(resp, "Content-Type", type);
	return resp;
}

static _Thread_local struct restconf_outcome outcome;

const struct restconf_outcome *restconf_last_outcome(void)
{
	return &outcome;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status,
			     struct MHD_Response *resp)
{
	enum MHD_Result rc;

	outcome.status = status;
	outcome.error[0] = '\0';
	if (!resp)
		return MHD_NO;
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result restconf_reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			       const char *text, const char *allow, const char *location)
{
	struct MHD_Response *resp = response(type, text);

	if (resp && allow)
		MHD_add_response_header(resp, "Allow", allow);
	if (resp && location)
		MHD_add_response_header(resp, "Location", location);
	return queue(conn, status, resp);
}

/* RFC 8040 7.1: the errors body. */
static struct MHD_Response *error_response(const struct cn_error *err)
{
	json_t *e = json_object(), *doc;
	struct MHD_Response *resp;
	char *text;
	int protocol = err->tag == CN_ERR_MALFORMED || err->tag == CN_ERR_TOO_BIG ||
		       err->tag == CN_ERR_BAD_MEDIA_TYPE || err->tag == CN_ERR_NOT_ACCEPTABLE ||
		       err->tag == CN_ERR_ACCESS_DENIED;

	json_object_set_new(e, "error-type", json_string(protocol ? "protocol" : "application"));
	json_object_set_new(e, "error-tag", json_string(cn_err_tag_name(err->tag)));
	if (err->path[0])
		json_object_set_new(e, "error-path", json_string(err->path));
	json_object_set_new(e, "error-message", json_string(err->message));
	doc = json_pack("{s:{s:[o]}}", "ietf-restconf:errors", "error", e);
	text = json_dumps(doc, JSON_INDENT(2));
	resp = response(MEDIA_JSON, text);
	free(text);
	json_decref(doc);
	return resp;
}

enum MHD_Result restconf_reply_error(struct MHD_Connection *conn, const struct cn_error *err,
				     const char *allow)
{
	struct MHD_Response *resp = error_response(err);
	enum MHD_Result rc;

	if (resp && allow && err->tag == CN_ERR_NOT_ALLOWED)
		MHD_add_response_header(resp, "Allow", allow);
	rc = queue(conn, (unsigned int)cn_err_status(err->tag), resp);
	snprintf(outcome.error, sizeof(outcome.error), "%s: %s%s%s", cn_err_tag_name(err->tag),
		 err->message, err->path[0] ? " at " : "", err->path);
	return rc;
}

enum MHD_Result restconf_reply_fail(struct MHD_Connection *conn, enum cn_err_tag tag,
				    const char *path, const char *msg, const char *allow)
{
	struct cn_error err = {0};

	cn_fail(&err, tag, path, "%s", msg);
	return restconf_reply_error(conn, &err, allow);
}

/* Which scheme is wanted, and whether the token sent was wrong. */
enum MHD_Result restconf_reply_unauthorized(struct MHD_Connection *conn, int had_credentials)
{
	struct cn_error err = {0};
	struct MHD_Response *resp;

	cn_fail(&err, CN_ERR_ACCESS_DENIED, "", "a valid bearer token is required");
	resp = error_response(&err);
	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					had_credentials
					    ? "Bearer realm=\"cubenetd\", error=\"invalid_token\""
					    : "Bearer realm=\"cubenetd\"");
	enum MHD_Result rc = queue(conn, 401, resp);

	snprintf(outcome.error, sizeof(outcome.error), "access-denied: %s",
		 had_credentials ? "wrong bearer token" : "no bearer token");
	return rc;
}

void restconf_location(const char *xpath, char *out, size_t size)
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
