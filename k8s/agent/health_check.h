/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The health check node ports of externalTrafficPolicy: Local services,
 * served as kube-proxy serves them: HTTP on the port, on every address of
 * the node in both families (one dual-stack socket a port), any path; 200 when the node has ready
 * endpoints of the service and the agent is in sync, 503 otherwise; kube-proxy's JSON body. The
 * main loop owns the listening sockets (it polls them and accepts); one
 * libmicrohttpd thread answers every connection.
 */
#ifndef CUBENET_AGENT_HEALTH_CHECK_H
#define CUBENET_AGENT_HEALTH_CHECK_H

#include <pthread.h>
#include <jansson.h>

struct MHD_Daemon;

struct health_port {
	int port, fd;
	char ns[64], name[64];
	unsigned local_endpoints;
};

/* Connections one client may hold, and all of them. A client is an IPv4
 * address or an IPv6 /64: a host given a /64 of its own gets no more than
 * one with one IPv4 address. */
#define HEALTH_CHECK_CLIENT_CONNECTIONS 32u
#define HEALTH_CHECK_CONNECTIONS	512u

/* A connection handed to libmicrohttpd: its socket and its client. */
struct health_held {
	int fd;
	unsigned char client[9]; /* family (4, 6), then the address or the /64 */
};

struct health_checks {
	struct MHD_Daemon *d;
	/* Taken by the main loop, given back when libmicrohttpd closes the
	 * connection (or refuses it: then when accept gives the number again). */
	pthread_mutex_t held_lock;
	struct health_held held[2 * HEALTH_CHECK_CONNECTIONS];
	pthread_mutex_t lock; /* ports and healthy: the answering thread reads them */
	struct health_port *ports;
	size_t n;
	int healthy;
	int ipv4_only; /* the kernel has no IPv6: said once in the log */
};

int health_checks_init(struct health_checks *h);
void health_checks_free(struct health_checks *h);
/* Serve exactly these: port (string) -> {"namespace", "name", "local"}. */
void health_checks_sync(struct health_checks *h, json_t *wanted);
void health_checks_set_healthy(struct health_checks *h, int healthy);
/* The listening sockets, for the main loop to poll: up to max into fds. */
size_t health_checks_fds(struct health_checks *h, int *fds, size_t max);
/* fd is readable: take its connections. */
void health_checks_accept(struct health_checks *h, int fd);

#endif
