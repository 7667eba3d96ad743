// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kube_request.h"
#include "log.h"
#include "agent_metrics.h"
#include "reflector.h"

#define PAGE_SIZE	  500
#define FIRST_BACKOFF	  0.5
#define WATCH_MIN_SECONDS 300 /* timeoutSeconds, between this and twice it */
#define WATCH_GRACE	  60  /* past that, the client ends it */
#define MAX_LINE	  (64 << 20)

double monotonic_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void object_key(json_t *obj, char *out, size_t size)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));

	if (!name)
		snprintf(out, size, "%s", "");
	else if (ns && *ns)
		snprintf(out, size, "%s/%s", ns, name);
	else
		snprintf(out, size, "%s", name);
}

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
}

static void end_transfer(struct reflector *r)
{
	if (r->easy) {
		curl_multi_remove_handle(r->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	buf_reset(&r->body);
}

/* Wait before the next try; each failure doubles the wait, up to the cap,
 * with +-20% jitter so nodes do not retry in step. */
static void back_off(struct reflector *r, enum api_error e, const char *why)
{
	double wait;

	metrics_api_error(r->kind, e);
	r->backoff = r->backoff ? r->backoff * 2 : FIRST_BACKOFF;
	if (r->backoff > r->max_backoff)
		r->backoff = r->max_backoff;
	wait = r->backoff * (0.8 + 0.4 * ((double)rand() / RAND_MAX));
	log_warn("%s %s: %s; retrying in %.1f s", kind_names[r->kind],
		 r->state == R_WATCHING ? "watch" : "list", why, wait);
	end_transfer(r);
	r->state = R_WAITING;
	r->retry_at = monotonic_seconds() + wait;
}

static void handle_event(struct reflector *r, json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	const char *rv =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	enum event_type t;
	char key[512];

	if (!type || !json_is_object(obj)) {
		r->broken = 1;
		return;
	}
	if (strcmp(type, "ERROR") == 0) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		const char *msg = json_string_value(json_object_get(obj, "message"));

		metrics_event(r->kind, EV_ERROR);
		snprintf(r->why, sizeof(r->why), "watch error %lld: %s", (long long)code,
			 msg ? msg : "");
		if (code == 410)
			r->relist = 1;
		else
			r->broken = 1;
		return;
	}
	if (strcmp(type, "BOOKMARK") == 0) {
		metrics_event(r->kind, EV_BOOKMARK);
		if (rv)
			set_str(&r->rv, rv);
		return;
	}
	if (strcmp(type, "ADDED") == 0)
		t = EV_ADDED;
	else if (strcmp(type, "MODIFIED") == 0)
		t = EV_MODIFIED;
	else if (strcmp(type, "DELETED") == 0)
		t = EV_DELETED;
	else {
		r->broken = 1;
		return;
	}
	object_key(obj, key, sizeof(key));
	if (!key[0]) {
		r->broken = 1;
		return;
	}
	metrics_event(r->kind, t);
	r->watch_events++;
	json_t *pruned = r->ops->prune(r->kind, obj);

	r->ops->event(r->arg, r->kind, t, key, pruned);
	json_decref(pruned);
	if (rv)
		set_str(&r->rv, rv);
}

/* Watch bytes: complete lines are events. A non-zero return ends it. */
static size_t on_watch_data(char *data, size_t size, size_t n, void *arg)
{
	struct reflector *r = arg;
	size_t len = size * n;
	char *nl;

	if (r->body.len + len > MAX_LINE || buf_append(&r->body, data, len)) {
		snprintf(r->why, sizeof(r->why), "a watch event over %d MiB", MAX_LINE >> 20);
		r->broken = 1;
		return 0;
	}
	while (!r->relist && !r->broken && (nl = memchr(r->body.data, '\n', r->body.len))) {
		size_t line = (size_t)(nl - r->body.data) + 1;
		json_error_t jerr;
		json_t *ev = json_loadb(r->body.data, line, 0, &jerr);

		if (ev) {
			handle_event(r, ev);
			json_decref(ev);
		} else if (line > 1 && strspn(r->body.data, " \r\n") < line) {
			snprintf(r->why, sizeof(r->why), "undecodable watch event: %s", jerr.text);
			r->broken = 1;
		}
		buf_consume(&r->body, line);
	}
	return r->relist || r->broken ? 0 : len;
}

static size_t on_list_data(char *data, size_t size, size_t n, void *arg)
{
	struct reflector *r = arg;

	return buf_append(&r->body, data, size * n) ? 0 : size * n;
}

static int begin(struct reflector *r, const char *query, int watch, long timeout)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s?%s", r->path, query);
	r->easy = kube_request(r->kc, path, &r->headers);
	if (!r->easy)
		return -1;
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, watch ? on_watch_data : on_list_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, timeout);
	buf_reset(&r->body);
	return curl_multi_add_handle(r->multi, r->easy) == CURLM_OK ? 0 : -1;
}

static void start_list(struct reflector *r)
{
	char query[3072];
	char *cont = r->cont ? curl_easy_escape(NULL, r->cont, 0) : NULL;

	snprintf(query, sizeof(query), "limit=%d%s%s", PAGE_SIZE, cont ? "&continue=" : "",
		 cont ? cont : "");
	curl_free(cont);
	if (!r->cont) {
		json_decref(r->listing);
		r->listing = json_object();
	}
	r->state = R_LISTING;
	r->relist = r->broken = 0;
	if (begin(r, query, 0, 300))
		back_off(r, APIERR_CONNECT, "cannot start a request");
}

static void start_watch(struct reflector *r)
{
	char query[512];
	char *rv = curl_easy_escape(NULL, r->rv ? r->rv : "", 0);
	int timeout = WATCH_MIN_SECONDS + rand() % WATCH_MIN_SECONDS;

	snprintf(query, sizeof(query),
		 "watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d", rv,
		 timeout);
	curl_free(rv);
	r->state = R_WATCHING;
	r->relist = r->broken = 0;
	r->watch_events = 0;
	r->watch_started = monotonic_seconds();
	if (begin(r, query, 1, timeout + WATCH_GRACE))
		back_off(r, APIERR_CONNECT, "cannot start a request");
}

void reflector_init(struct reflector *r, enum kind kind, const char *path, struct kube_config *kc,
		    CURLM *multi, const struct reflector_ops *ops, void *arg, double max_backoff)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->kc = kc;
	r->multi = multi;
	r->ops = ops;
	r->arg = arg;
	r->max_backoff = max_backoff;
}

void reflector_start(struct reflector *r)
{
	set_str(&r->cont, NULL);
	start_list(r);
}

int reflector_owns(const struct reflector *r, CURL *easy)
{
	return r->easy && r->easy == easy;
}

/* A list page arrived: keep its items; the last page completes the list. */
static void list_page(struct reflector *r)
{
	json_error_t jerr;
	json_t *page = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &jerr);
	json_t *items = json_object_get(page, "items");
	json_t *meta = json_object_get(page, "metadata");
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	const char *cont = json_string_value(json_object_get(meta, "continue"));
	size_t i;
	json_t *item;
	char key[512];

	if (!json_is_array(items) || !rv) {
		json_decref(page);
		set_str(&r->cont, NULL);
		back_off(r, APIERR_DECODE, "the list is not a list");
		return;
	}
	json_array_foreach(items, i, item)
	{
		object_key(item, key, sizeof(key));
		if (key[0])
			json_object_set_new(r->listing, key, r->ops->prune(r->kind, item));
	}
	end_transfer(r);
	if (cont && *cont) {
		set_str(&r->cont, cont);
		json_decref(page);
		start_list(r);
		return;
	}
	set_str(&r->cont, NULL);
	set_str(&r->rv, rv);
	json_decref(page);
	log_info("%s: listed %zu at resourceVersion %s", kind_names[r->kind],
		 json_object_size(r->listing), r->rv);
	metrics_relist(r->kind);
	r->backoff = 0;
	r->synced = 1;
	json_t *objects = r->listing;

	r->listing = NULL;
	r->ops->replace(r->arg, r->kind, objects);
	start_watch(r);
}

void reflector_done(struct reflector *r, CURLcode result)
{
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->state == R_LISTING) {
		if (result != CURLE_OK) {
			snprintf(r->why, sizeof(r->why), "%s", curl_easy_strerror(result));
			set_str(&r->cont, NULL);
			back_off(r, APIERR_CONNECT, r->why);
		} else if (status == 410 && r->cont) {
			/* The continue token expired: the whole list again. */
			metrics_api_error(r->kind, APIERR_EXPIRED);
			log_info("%s list: continue token expired; listing again",
				 kind_names[r->kind]);
			end_transfer(r);
			set_str(&r->cont, NULL);
			start_list(r);
		} else if (status != 200) {
			snprintf(r->why, sizeof(r->why), "HTTP %ld %.200s", status,
				 r->body.data ? r->body.data : "");
			set_str(&r->cont, NULL);
			back_off(r, APIERR_HTTP, r->why);
		} else {
			list_page(r);
		}
		return;
	}
	if (r->state != R_WATCHING)
		return;
	if (r->relist || status == 410) {
		metrics_api_error(r->kind, APIERR_EXPIRED);
		log_info("%s watch: resourceVersion %s expired; listing again", kind_names[r->kind],
			 r->rv ? r->rv : "");
		end_transfer(r);
		set_str(&r->rv, NULL);
		start_list(r);
		return;
	}
	if (r->broken) {
		back_off(r, APIERR_DECODE, r->why);
		return;
	}
	if (status && status != 200) {
		snprintf(r->why, sizeof(r->why), "HTTP %ld %.200s", status,
			 r->body.data ? r->body.data : "");
		back_off(r, APIERR_HTTP, r->why);
		return;
	}
	if (result != CURLE_OK && result != CURLE_OPERATION_TIMEDOUT) {
		snprintf(r->why, sizeof(r->why), "%s", curl_easy_strerror(result));
		back_off(r, APIERR_CONNECT, r->why);
		return;
	}
	/* A watch that ended as watches do: resume where it was. One that ended
	 * at once, with nothing, twice in a row, backs off instead of spinning. */
	if (!r->watch_events && monotonic_seconds() - r->watch_started < 1) {
		snprintf(r->why, sizeof(r->why), "the watch ended at once");
		back_off(r, APIERR_HTTP, r->why);
		return;
	}
	r->backoff = 0;
	end_transfer(r);
	start_watch(r);
}

double reflector_tick(struct reflector *r, double now)
{
	if (r->state == R_IDLE)
		return -1;
	if (r->state != R_WAITING)
		return -1;
	if (now < r->retry_at)
		return r->retry_at - now;
	/* After a failed watch, try the watch again; a list restarts whole. */
	if (r->rv && r->synced)
		start_watch(r);
	else
		start_list(r);
	return -1;
}

void reflector_free(struct reflector *r)
{
	end_transfer(r);
	buf_free(&r->body);
	free(r->rv);
	free(r->cont);
	json_decref(r->listing);
	r->rv = r->cont = NULL;
	r->listing = NULL;
}
