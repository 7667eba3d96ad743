/* SPDX-License-Identifier: Apache-2.0 */
/* Requests to cubenetd's RESTCONF API over its unix socket, on one
 * connection kept open between requests. */
#ifndef CUBENET_AGENT_DAEMON_CLIENT_H
#define CUBENET_AGENT_DAEMON_CLIENT_H

#include <curl/curl.h>
#include "buf.h"

#define MEDIA_YANG_DATA	 "application/yang-data+json"
#define MEDIA_YANG_PATCH "application/yang-patch+json"

struct daemon_client {
	char socket[256];
	CURL *curl;
};

struct daemon_reply {
	long status;	 /* 0: cubenetd could not be reached */
	struct buf body; /* the answer, "" if none */
	char error[512]; /* why it could not be reached */
};

int daemon_client_init(struct daemon_client *d, const char *socket_path);
void daemon_client_free(struct daemon_client *d);
/* body NULL: none. 0 when cubenetd answered (any status), -1 when not. */
int daemon_request(struct daemon_client *d, const char *method, const char *path,
		   const char *content_type, const char *body, struct daemon_reply *reply);
void daemon_reply_free(struct daemon_reply *reply);
/* The error-message of an ietf-restconf:errors (or yang-patch-status)
 * answer, or the body itself, into out. */
void daemon_error_message(const struct daemon_reply *reply, char *out, size_t size);

#endif
