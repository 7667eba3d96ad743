// SPDX-License-Identifier: Apache-2.0
/*
 * xnode-perf: TCP throughput and request/response latency between two
 * pods, bounded in time (what a bounded iperf3 and netperf TCP_RR would
 * give; neither is a Debian package scripts/deps.sh installs).
 *
 *   xnode-perf server PORT             one connection at a time, for ever
 *   xnode-perf stream IP PORT SECONDS  prints {"gbps": G, "bytes": N}
 *   xnode-perf rr IP PORT SECONDS      prints {"p50_us", "p99_us", "count"}
 *
 * IP is an IPv4 or IPv6 address; the server listens on both families.
 * stream: the client writes 128 KiB buffers for SECONDS, shuts down its
 * side and waits for the server's count of what it read: the rate is what
 * arrived over the time until that answer. rr: one byte each way, TCP_NODELAY,
 * one transaction in flight, each round trip timed.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF    (128 * 1024)
#define MAX_RR (4u << 20)

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int full_write(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int full_read(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void serve(int c, char *buf)
{
	char mode;
	uint64_t total = 0;
	ssize_t r;

	if (full_read(c, &mode, 1))
		return;
	if (mode == 'S') {
		while ((r = read(c, buf, BUF)) > 0)
			total += (uint64_t)r;
		full_write(c, &total, sizeof(total));
	} else if (mode == 'R') {
		int one = 1;

		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(c, buf, 1) == 1)
			if (full_write(c, buf, 1))
				break;
	}
}

static int server(int port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1, zero = 0;
	char *buf = malloc(BUF);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* IPv4 clients arrive as v4-mapped addresses on the same socket */
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (!buf || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16)) {
		perror("xnode-perf: server");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		serve(c, buf);
		close(c);
	}
}

static int dial(const char *ip, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai;
	int s, err = getaddrinfo(ip, port, &hints, &ai);

	if (err) {
		fprintf(stderr, "xnode-perf: %s port %s: %s\n", ip, port, gai_strerror(err));
		exit(1);
	}
	s = socket(ai->ai_family, SOCK_STREAM, 0);
	if (s < 0 || connect(s, ai->ai_addr, ai->ai_addrlen)) {
		perror("xnode-perf: connect");
		exit(1);
	}
	freeaddrinfo(ai);
	return s;
}

static int stream(const char *ip, const char *port, double seconds)
{
	int s = dial(ip, port);
	char *buf = calloc(1, BUF);
	uint64_t got = 0;
	double t0, end;

	if (!buf || full_write(s, "S", 1))
		return 1;
	t0 = now();
	end = t0 + seconds;
	while (now() < end)
		if (full_write(s, buf, BUF))
			return 1;
	shutdown(s, SHUT_WR);
	if (full_read(s, &got, sizeof(got)))
		return 1;
	printf("{\"gbps\": %.3f, \"bytes\": %llu}\n", (double)got * 8 / (now() - t0) / 1e9,
	       (unsigned long long)got);
	close(s);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int rr(const char *ip, const char *port, double seconds)
{
	int s = dial(ip, port), one = 1;
	double *rtt = malloc(MAX_RR * sizeof(*rtt)), end;
	size_t n = 0;
	char b = 'x';

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!rtt || full_write(s, "R", 1))
		return 1;
	end = now() + seconds;
	while (n < MAX_RR) {
		double t = now();

		if (t >= end)
			break;
		if (full_write(s, &b, 1) || full_read(s, &b, 1))
			return 1;
		rtt[n++] = (now() - t) * 1e6;
	}
	close(s);
	if (!n)
		return 1;
	qsort(rtt, n, sizeof(*rtt), cmp_double);
	printf("{\"p50_us\": %.2f, \"p99_us\": %.2f, \"count\": %zu}\n", rtt[n / 2],
	       rtt[(size_t)((double)n * 0.99)], n);
	free(rtt);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "stream") == 0)
		return stream(argv[2], argv[3], atof(argv[4]));
	if (argc == 5 && strcmp(argv[1], "rr") == 0)
		return rr(argv[2], argv[3], atof(argv[4]));
	fprintf(stderr, "usage: xnode-perf server PORT | stream IP PORT SECONDS | rr IP PORT "
			"SECONDS\n");
	return 2;
}
