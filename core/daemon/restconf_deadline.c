// SPDX-License-Identifier: Apache-2.0
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "restconf_deadline.h"

/* How often the watcher looks, in milliseconds. */
#define SWEEP_MS 500

struct watched {
	struct watched *prev, *next;
	int fd;
	enum deadline_phase phase;
	time_t since; /* CLOCK_MONOTONIC seconds */
};

struct deadlines {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	struct watched *head;
	int stop;
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void sweep(struct deadlines *d)
{
	time_t now = now_s();

	for (struct watched *w = d->head; w; w = w->next) {
		int limit = w->phase == DEADLINE_HEADERS ? RESTCONF_HEADER_DEADLINE
			    : w->phase == DEADLINE_BODY	 ? RESTCONF_BODY_DEADLINE
							 : 0;
		int waiting = 0;

		if (!limit || now - w->since < limit)
			continue;
		/* Bytes not read yet: the server is late, not the client. */
		if (ioctl(w->fd, FIONREAD, &waiting) == 0 && waiting > 0)
			continue;
		/* The server's loop sees end of file and closes the connection;
		 * the descriptor stays its own until then, so it cannot be reused
		 * under us (it is only closed after deadlines_notify(CLOSED)). */
		shutdown(w->fd, SHUT_RDWR);
		w->phase = DEADLINE_NONE;
	}
}

static void *watch(void *arg)
{
	struct deadlines *d = arg;
	struct timespec ts;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += SWEEP_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
		if (!d->stop)
			sweep(d);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct deadlines *deadlines_start(void)
{
	struct deadlines *d = calloc(1, sizeof(*d));
	pthread_condattr_t attr;

	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&d->thread, NULL, watch, d)) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

/* After the server has stopped: no connection is left to notify. */
void deadlines_stop(struct deadlines *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = 1;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	while (d->head) {
		struct watched *w = d->head;

		d->head = w->next;
		free(w);
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode code)
{
	struct deadlines *d = cls;
	struct watched *w = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		w = calloc(1, sizeof(*w));
		if (!w || !info) {
			free(w);
			return; /* unwatched: the idle timeout still applies */
		}
		w->fd = info->connect_fd;
		w->phase = DEADLINE_HEADERS;
		w->since = now_s();
		pthread_mutex_lock(&d->lock);
		w->next = d->head;
		if (d->head)
			d->head->prev = w;
		d->head = w;
		pthread_mutex_unlock(&d->lock);
		*socket_context = w;
		return;
	}
	if (!w)
		return;
	pthread_mutex_lock(&d->lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		d->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&d->lock);
	free(w);
	*socket_context = NULL;
}

void deadlines_enter(struct deadlines *d, struct MHD_Connection *conn, enum deadline_phase phase)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watched *w = info ? info->socket_context : NULL;

	if (!d || !w)
		return;
	pthread_mutex_lock(&d->lock);
	w->phase = phase;
	w->since = now_s();
	pthread_mutex_unlock(&d->lock);
}
