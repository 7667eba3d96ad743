// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "daemon_client.h"

int daemon_client_init(struct daemon_client *d, const char *socket_path)
{
	snprintf(d->socket, sizeof(d->socket), "%s", socket_path);
	d->curl = curl_easy_init();
	return d->curl ? 0 : -1;
}

void daemon_client_free(struct daemon_client *d)
{
	if (d->curl)
		curl_easy_cleanup(d->curl);
	d->curl = NULL;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	return buf_append(arg, data, size * n) ? 0 : size * n;
}

int daemon_request(struct daemon_client *d, const char *method, const char *path,
		   const char *content_type, const char *body, struct daemon_reply *reply)
{
	struct curl_slist *headers = NULL;
	char url[2048], type[128];
	CURLcode rc;

	memset(reply, 0, sizeof(*reply));
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_reset(d->curl);
	curl_easy_setopt(d->curl, CURLOPT_UNIX_SOCKET_PATH, d->socket);
	curl_easy_setopt(d->curl, CURLOPT_URL, url);
	curl_easy_setopt(d->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
	headers = curl_slist_append(headers, "Accept: " MEDIA_YANG_DATA);
	if (body) {
		snprintf(type, sizeof(type), "Content-Type: %s", content_type);
		headers = curl_slist_append(headers, type);
		/* No "Expect: 100-continue" round trip for large bodies. */
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, &reply->body);
	curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	/* A large transaction on a large config can take a while. */
	curl_easy_setopt(d->curl, CURLOPT_TIMEOUT, 300L);
	rc = curl_easy_perform(d->curl);
	curl_slist_free_all(headers);
	if (!reply->body.data)
		buf_append(&reply->body, "", 0);
	if (rc != CURLE_OK) {
		snprintf(reply->error, sizeof(reply->error), "%.200s: %.200s", d->socket,
			 curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &reply->status);
	return 0;
}

void daemon_reply_free(struct daemon_reply *reply)
{
	buf_free(&reply->body);
}

void daemon_error_message(const struct daemon_reply *reply, char *out, size_t size)
{
	json_t *doc = json_loads(reply->body.data ? reply->body.data : "", 0, NULL);
	json_t *errors = json_object_get(json_object_get(doc, "ietf-restconf:errors"), "error");
	json_t *patch = json_object_get(doc, "ietf-yang-patch:yang-patch-status");
	const char *msg = NULL, *path = NULL;

	if (!errors && patch) {
		/* RFC 8072: the global errors, else the first failed edit's. */
		errors = json_object_get(json_object_get(patch, "errors"), "error");
		if (!errors) {
			size_t i;
			json_t *e;

			json_array_foreach(
			    json_object_get(json_object_get(patch, "edit-status"), "edit"), i, e)
			{
				errors = json_object_get(json_object_get(e, "errors"), "error");
				if (errors)
					break;
			}
		}
	}
	msg = json_string_value(json_object_get(json_array_get(errors, 0), "error-message"));
	path = json_string_value(json_object_get(json_array_get(errors, 0), "error-path"));
	if (msg)
		snprintf(out, size, "%s%s%s", msg, path ? " at " : "", path ? path : "");
	else
		snprintf(out, size, "HTTP %ld %.200s", reply->status,
			 reply->body.data ? reply->body.data : "");
	json_decref(doc);
}
