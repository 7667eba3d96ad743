/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTP client for cubenetd's RESTCONF API (cubectl, the CNI plugin): the unix
 * socket by default, or a URL with a bearer token (libcurl does both). */
#ifndef CUBENET_RESTCONF_CLIENT_H
#define CUBENET_RESTCONF_CLIENT_H

#include <stddef.h>

struct client {
	const char *socket_path; /* used unless url is set */
	const char *url;	 /* http://host:port, no trailing slash */
	const char *token;	 /* bearer token for url */
	int verbose;		 /* print each request on stderr */
};

struct response {
	long status; /* 0: the daemon could not be reached */
	char *body;  /* NUL-terminated, "" if none; the caller frees it */
	size_t len;
	char error[256]; /* why it could not be reached */
};

/* path starts with "/restconf/...". body may be NULL. 0, or -1 with
 * resp->status 0 and resp->error set when the daemon is unreachable. */
int client_request(const struct client *c, const char *method, const char *path, const char *body,
		   struct response *resp);
/* The same with a body of another media type (application/yang-patch+json). */
int client_request_as(const struct client *c, const char *method, const char *path,
		      const char *body, const char *media, struct response *resp);
void response_free(struct response *resp);

/* A list key's value as it goes into a RESTCONF path: the characters RFC
 * 8040 (3.5.3) reserves are percent-encoded. */
void restconf_encode_key(const char *in, char *out, size_t size);

#endif
