// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "agent_metrics.h"
#include "status_server.h"

/* The loop turns at least every second; this long without is a hang. */
#define HEARTBEAT_LIMIT 30.0

int parse_host_port(const char *text, void *ss, unsigned *len)
{
	char host[64];
	const char *colon;
	char *end;
	long port;

	memset(ss, 0, sizeof(struct sockaddr_storage));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || port < 1 || port > 65535)
		return -1;
	struct sockaddr_in *v4 = ss;
	struct sockaddr_in6 *v6 = ss;

	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((unsigned short)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*v6);
		return 0;
	}
	return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	char why[256], *text;

	(void)cls;
	(void)version;
	(void)upload;
	if (!*state) {
		*state = c; /* the headers; the body (none wanted) comes after */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, 405, "text/plain", strdup("GET only\n"));
	if (strcmp(url, "/metrics") == 0) {
		text = metrics_render();
		return reply(c, 200, "text/plain; version=0.0.4", text ? text : strdup(""));
	}
	if (strcmp(url, "/healthz") == 0) {
		double age = metrics_heartbeat_age();

		if (age > HEARTBEAT_LIMIT) {
			if (asprintf(&text, "the main loop has not turned for %.0f s\n", age) < 0)
				return MHD_NO;
			return reply(c, 500, "text/plain", text);
		}
		return reply(c, 200, "text/plain", strdup("ok\n"));
	}
	if (strcmp(url, "/readyz") == 0) {
		if (metrics_ready(why, sizeof(why)))
			return reply(c, 200, "text/plain", strdup("ready\n"));
		if (asprintf(&text, "not ready: %s\n", why) < 0)
			return MHD_NO;
		return reply(c, 503, "text/plain", text);
	}
	return reply(c, 404, "text/plain", strdup("no such page: /metrics, /healthz, /readyz\n"));
}

struct MHD_Daemon *status_server_start(const char *address, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned len;
	struct MHD_Daemon *d;

	if (parse_host_port(address, &ss, &len)) {
		snprintf(err, errlen, "--status-address %s: not IP:PORT", address);
		return NULL;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				 (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &ss,
			     MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			     16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!d)
		snprintf(err, errlen, "cannot serve on %s (in use?)", address);
	return d;
}

void status_server_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
