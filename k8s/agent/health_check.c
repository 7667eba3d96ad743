// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>
#include "health_check.h"
#include "log.h"
#include "agent_metrics.h"

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct health_checks *h = cls;
	const union MHD_ConnectionInfo *info;
	struct MHD_Response *r;
	char body[512];
	unsigned status = 503;
	int port, found = 0;
	enum MHD_Result rc;

	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (!*state) {
		*state = h;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	port = info ? local_port(info->connect_fd) : 0;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++) {
		struct health_port *p = &h->ports[i];

		if (p->port != port)
			continue;
		found = 1;
		status = p->local_endpoints && h->healthy ? 200 : 503;
		/* kube-proxy's body, byte for byte. */
		snprintf(
		    body, sizeof(body),
		    "{\n\t\"service\": {\n\t\t\"namespace\": \"%s\",\n\t\t\"name\": \"%s\"\n\t},"
		    "\n\t\"localEndpoints\": %u,\n\t\"serviceProxyHealthy\": %s\n}",
		    p->ns, p->name, p->local_endpoints, h->healthy ? "true" : "false");
	}
	pthread_mutex_unlock(&h->lock);
	if (!found)
		snprintf(body, sizeof(body), "no health check on port %d\n", port);
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", found ? "application/json" : "text/plain");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static void client_of(const struct sockaddr *sa, unsigned char client[9])
{
	memset(client, 0, 9);
	if (sa->sa_family == AF_INET) {
		client[0] = 4;
		memcpy(client + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		/* An IPv4 client of the dual-stack socket: its address. */
		client[0] = IN6_IS_ADDR_V4MAPPED(a) ? 4 : 6;
		memcpy(client + 1, client[0] == 4 ? a->s6_addr + 12 : a->s6_addr,
		       client[0] == 4 ? 4 : 8);
	}
}

/* Under held_lock. */
static void give_back(struct health_checks *h, int fd)
{
	for (size_t i = 0; i < sizeof(h->held) / sizeof(h->held[0]); i++)
		if (h->held[i].fd == fd)
			h->held[i].fd = -1;
}

/* Hold fd for client: 0, or -1 when the client holds its share already
 * (or every slot is taken). */
static int hold(struct health_checks *h, int fd, const unsigned char client[9])
{
	struct health_held *free_slot = NULL;
	unsigned count = 0;

	pthread_mutex_lock(&h->held_lock);
	/* accept gave this number again: libmicrohttpd closed the one that
	 * had it without telling (it refused it). */
	give_back(h, fd);
	for (size_t i = 0; i < sizeof(h->held) / sizeof(h->held[0]); i++) {
		struct health_held *x = &h->held[i];

		if (x->fd < 0)
			free_slot = free_slot ? free_slot : x;
		else if (memcmp(x->client, client, sizeof(x->client)) == 0)
			count++;
	}
	if (count >= HEALTH_CHECK_CLIENT_CONNECTIONS || !free_slot) {
		pthread_mutex_unlock(&h->held_lock);
		return -1;
	}
	free_slot->fd = fd;
	memcpy(free_slot->client, client, sizeof(free_slot->client));
	pthread_mutex_unlock(&h->held_lock);
	return 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct health_checks *h = cls;
	const union MHD_ConnectionInfo *info;

	(void)context;
	if (code != MHD_CONNECTION_NOTIFY_CLOSED)
		return;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!info)
		return;
	pthread_mutex_lock(&h->held_lock);
	give_back(h, info->connect_fd);
	pthread_mutex_unlock(&h->held_lock);
}

int health_checks_init(struct health_checks *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->held_lock, NULL);
	for (size_t i = 0; i < sizeof(h->held) / sizeof(h->held[0]); i++)
		h->held[i].fd = -1;
	h->d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET |
				 MHD_USE_ITC | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_request, h, MHD_OPTION_CONNECTION_LIMIT,
			     HEALTH_CHECK_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			     HEALTH_CHECK_CLIENT_CONNECTIONS, MHD_OPTION_NOTIFY_CONNECTION,
			     on_connection, h, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	return h->d ? 0 : -1;
}

static int bound_listener(int family, const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1, zero = 0, e;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Both families on one socket, whatever net.ipv6.bindv6only says. */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
		goto fail;
	if (bind(fd, sa, len) || listen(fd, 128))
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

/* Every address of the node, IPv4 and IPv6, as kube-proxy listens: load
 * balancers of either family probe the node's own. Where the kernel has no
 * IPv6, IPv4 alone. */
static int listen_on(struct health_checks *h, int port)
{
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6,
				   .sin6_port = htons((unsigned short)port),
				   .sin6_addr = IN6ADDR_ANY_INIT};
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((unsigned short)port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	int fd = bound_listener(AF_INET6, (struct sockaddr *)&sa6, sizeof(sa6));

	if (fd != -EAFNOSUPPORT && fd != -EADDRNOTAVAIL)
		return fd;
	if (!h->ipv4_only)
		log_warn("IPv6 is off on this node (%s): health checks answer over IPv4 only",
			 strerror(-fd));
	h->ipv4_only = 1;
	return bound_listener(AF_INET, (struct sockaddr *)&sa, sizeof(sa));
}

void health_checks_sync(struct health_checks *h, json_t *wanted)
{
	size_t n = json_object_size(wanted), k = 0;
	struct health_port *next = n ? calloc(n, sizeof(*next)) : NULL;
	const char *key;
	json_t *v;

	json_object_foreach(wanted, key, v)
	{
		struct health_port *p = &next[k];

		if (!next)
			break;
		p->port = atoi(key);
		p->fd = -1;
		snprintf(p->ns, sizeof(p->ns), "%s",
			 json_string_value(json_object_get(v, "namespace")) ?: "");
		snprintf(p->name, sizeof(p->name), "%s",
			 json_string_value(json_object_get(v, "name")) ?: "");
		p->local_endpoints = (unsigned)json_integer_value(json_object_get(v, "local"));
		/* Keep a socket that is already there. */
		for (size_t i = 0; i < h->n; i++) {
			if (h->ports[i].port == p->port && h->ports[i].fd >= 0) {
				p->fd = h->ports[i].fd;
				h->ports[i].fd = -1;
			}
		}
		if (p->fd < 0) {
			p->fd = listen_on(h, p->port);
			if (p->fd < 0) {
				metrics_health_check_error();
				log_error(
				    "service %s/%s: cannot serve its health check on port %d: %s",
				    p->ns, p->name, p->port, strerror(-p->fd));
				p->fd = -1;
			}
		}
		k++;
	}
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++)
		if (h->ports[i].fd >= 0)
			close(h->ports[i].fd);
	free(h->ports);
	h->ports = next;
	h->n = k;
	pthread_mutex_unlock(&h->lock);
}

void health_checks_set_healthy(struct health_checks *h, int healthy)
{
	pthread_mutex_lock(&h->lock);
	h->healthy = healthy;
	pthread_mutex_unlock(&h->lock);
}

size_t health_checks_fds(struct health_checks *h, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n && n < max; i++)
		if (h->ports[i].fd >= 0)
			fds[n++] = h->ports[i].fd;
	return n;
}

void health_checks_accept(struct health_checks *h, int fd)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		unsigned char client[9];
		int c = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);

		if (c < 0)
			return; /* EAGAIN: all taken */
		client_of((struct sockaddr *)&peer, client);
		if (hold(h, c, client)) {
			close(c);
			continue;
		}
		/* libmicrohttpd closes c, also when it refuses it. */
		if (MHD_add_connection(h->d, c, (struct sockaddr *)&peer, len) != MHD_YES) {
			pthread_mutex_lock(&h->held_lock);
			give_back(h, c);
			pthread_mutex_unlock(&h->held_lock);
		}
	}
}

void health_checks_free(struct health_checks *h)
{
	if (h->d)
		MHD_stop_daemon(h->d);
	for (size_t i = 0; i < h->n; i++)
		if (h->ports[i].fd >= 0)
			close(h->ports[i].fd);
	free(h->ports);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->held_lock);
}
