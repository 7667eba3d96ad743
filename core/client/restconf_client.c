// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "restconf_client.h"

#define MEDIA "application/yang-data+json"

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t add = size * n;
	char *grown = realloc(r->body, r->len + add + 1);

	if (!grown)
		return 0; /* curl reports a write error */
	memcpy(grown + r->len, data, add);
	r->len += add;
	grown[r->len] = '\0';
	r->body = grown;
	return add;
}

int client_request(const struct client *c, const char *method, const char *path, const char *body,
		   struct response *resp)
{
	return client_request_as(c, method, path, body, MEDIA, resp);
}

int client_request_as(const struct client *c, const char *method, const char *path,
		      const char *body, const char *media, struct response *resp)
{
	struct curl_slist *headers = NULL;
	char url[4096], auth[512], content_type[128];
	CURL *curl = curl_easy_init();
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	if (!curl) {
		snprintf(resp->error, sizeof(resp->error), "cannot start libcurl");
		return -1;
	}
	if (c->url) {
		snprintf(url, sizeof(url), "%s%s", c->url, path);
	} else {
		snprintf(url, sizeof(url), "http://localhost%s", path);
		curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	}
	headers = curl_slist_append(headers, "Accept: " MEDIA);
	if (body) {
		snprintf(content_type, sizeof(content_type), "Content-Type: %s", media);
		headers = curl_slist_append(headers, content_type);
	}
	if (c->url && c->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	if (c->verbose)
		fprintf(stderr, "> %s %s%s%s\n", method, path, body ? " " : "", body ? body : "");
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	} else {
		snprintf(resp->error, sizeof(resp->error), "%s: %s",
			 c->url ? c->url : c->socket_path, curl_easy_strerror(rc));
		resp->status = 0;
	}
	if (!resp->body)
		resp->body = strdup("");
	if (c->verbose && resp->status)
		fprintf(stderr, "< %ld %s\n", resp->status, resp->body);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return resp->status ? 0 : -1;
}

void response_free(struct response *resp)
{
	free(resp->body);
	resp->body = NULL;
}

void restconf_encode_key(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if (strchr(",/?#[]@%=&+ '\"", c) || c < 0x20 || c >= 0x7f) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}
