// SPDX-License-Identifier: Apache-2.0
/* --uninstall: what cubenet put on this node, taken away. cubenetd takes
 * down its own datapath when its config goes, so the config goes first,
 * through its API; then the files the install step wrote. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "daemon_client.h"
#include "log.h"
#include "modes.h"

/* What goes first: what refers to other parts goes before them. */
static const char *const order[] = {
    "cubenet-pods:services",  "cubenet-pods:peers",	  "cubenet-pods:node",
    "cubenet-pods:pods",      "cubenet-lb:lbs",		  "cubenet-nat:nats",
    "cubenet-router:routers", "cubenet-core:attachments", NULL};

static json_t *config(struct daemon_client *d, char *why, size_t size)
{
	struct daemon_reply reply;
	json_t *doc = NULL;

	if (daemon_request(d, "GET", "/restconf/data?content=config", NULL, NULL, &reply))
		snprintf(why, size, "cubenetd is not reachable (%.400s): start it, then run again",
			 reply.error);
	else if (reply.status != 200)
		daemon_error_message(&reply, why, size);
	else if (!(doc = json_loads(reply.body.data, 0, NULL)))
		snprintf(why, size, "cubenetd's config is not JSON");
	daemon_reply_free(&reply);
	return doc;
}

static int remove_top(struct daemon_client *d, const char *name)
{
	char path[300], why[400];
	struct daemon_reply reply;
	int ok;

	snprintf(path, sizeof(path), "/restconf/data/%s", name);
	if (daemon_request(d, "DELETE", path, NULL, NULL, &reply)) {
		log_error("DELETE %s: %s", path, reply.error);
		daemon_reply_free(&reply);
		return -1;
	}
	ok = reply.status == 204 || reply.status == 200 || reply.status == 404;
	if (!ok) {
		daemon_error_message(&reply, why, sizeof(why));
		log_error("cubenetd would not remove %s: %s", name, why);
	} else {
		log_info("removed %s from cubenetd", name);
	}
	daemon_reply_free(&reply);
	return ok ? 0 : -1;
}

static int unlink_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int remove_file(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) == 0) {
		log_info("removed %s", path);
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	log_error("cannot remove %s: %s", path, strerror(errno));
	return -1;
}

int uninstall(struct options *o)
{
	struct daemon_client d;
	char why[512], marker[4096];
	json_t *doc;
	const char *key;
	json_t *v;
	int rc = 0;

	if (daemon_client_init(&d, o->socket))
		return 1;
	for (int round = 0; round < 3; round++) {
		doc = config(&d, why, sizeof(why));
		if (!doc) {
			log_error("%s", why);
			daemon_client_free(&d);
			return 1;
		}
		if (!json_object_size(doc)) {
			json_decref(doc);
			break;
		}
		for (const char *const *n = order; *n; n++)
			if (json_object_get(doc, *n))
				remove_top(&d, *n);
		json_object_foreach(doc, key, v)
		{
			int known = 0;

			for (const char *const *n = order; *n; n++)
				known |= strcmp(*n, key) == 0;
			if (!known && strcmp(key, "cubenet-core:cubes"))
				remove_top(&d, key);
		}
		if (json_object_get(doc, "cubenet-core:cubes"))
			remove_top(&d, "cubenet-core:cubes");
		json_decref(doc);
	}
	doc = config(&d, why, sizeof(why));
	if (!doc || json_object_size(doc)) {
		char *left = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

		log_error("cubenetd still holds config: %s", left ? left : why);
		free(left);
		rc = 1;
	}
	json_decref(doc);
	daemon_client_free(&d);

	rc |= remove_file(o->cni_conf_dir, "05-cubenet.conflist") ? 1 : 0;
	rc |= remove_file(o->cni_bin_dir, "cubenet") ? 1 : 0;
	/* host-local only if the install step put it there. */
	snprintf(marker, sizeof(marker), "%s/.cubenet-host-local", o->cni_bin_dir);
	if (access(marker, F_OK) == 0) {
		rc |= remove_file(o->cni_bin_dir, "host-local") ? 1 : 0;
		rc |= remove_file(o->cni_bin_dir, ".cubenet-host-local") ? 1 : 0;
	}
	if (access(o->ipam_dir, F_OK) == 0) {
		if (nftw(o->ipam_dir, unlink_entry, 16, FTW_DEPTH | FTW_PHYS)) {
			log_error("cannot remove %s: %s", o->ipam_dir, strerror(errno));
			rc = 1;
		} else {
			log_info("removed %s", o->ipam_dir);
		}
	}
	return rc;
}
