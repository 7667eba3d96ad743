/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keeps cubenetd's cubenet-pods services (and the node parts the agent
 * owns) equal to what the agent computed: a shadow of what cubenetd holds,
 * read back at every full sync, and the requests of plan.h for what
 * differs. The peers (the cluster's other nodes) likewise. A request
 * cubenetd refuses is split until the entry at fault is alone; that one is
 * logged and left out until it changes. YANG Patch is used while cubenetd
 * takes it.
 */
#ifndef CUBENET_AGENT_WRITER_H
#define CUBENET_AGENT_WRITER_H

#include <jansson.h>
#include "daemon_client.h"

/* The cubenet-pods revision whose service model the agent writes. */
#define PODS_REVISION  "2026-12-01"
/* The first with peers and node/tunnel: before it, peers are not written. */
#define PEERS_REVISION "2026-12-03"

enum write_mode { WRITE_AUTO, WRITE_PLAIN, WRITE_YANG_PATCH };

struct writer {
	struct daemon_client d;
	enum write_mode mode;
	int yang_patch;
	size_t max_bytes;
	unsigned long patch_seq;
	/* key -> the service entry cubenetd holds, normalized, as compact JSON
	 * text: a tenth of the memory of the tree, and what equality needs. */
	json_t *shadow;
	json_t *node_shadow; /* the node parts cubenetd holds (normalized) */
	json_t *refused;     /* key -> entry cubenetd refused (null: its deletion) */
	json_t *node_refused;
	json_t *peer_shadow;  /* name -> the peer entry cubenetd holds (normalized) */
	json_t *peer_refused; /* name -> peer entry cubenetd refused (null: its deletion) */
	int peers;	      /* cubenetd's model has peers (PEERS_REVISION) */
	char revision[16];    /* its cubenet-pods revision */
	char error[512];      /* why the last write or load failed */
};

int writer_init(struct writer *w, const char *socket_path, enum write_mode mode, size_t max_bytes);
void writer_free(struct writer *w);
/* Read what cubenetd holds into the shadow, and check it implements the
 * model: 0, -1 when it cannot be reached, -2 when its model is another. */
int writer_load(struct writer *w);
/* Write changes (key -> entry, or null: remove), the node's parts (NULL:
 * leave them) and peer_changes (name -> entry, or null: remove; NULL: none).
 * 0 when cubenetd took or refused each; -1 when it could not be reached or
 * failed (what was not written is not in the shadow). *changed: service
 * entries written or removed. */
int writer_write(struct writer *w, json_t *changes, json_t *node_desired, json_t *peer_changes,
		 unsigned *changed);
/* cubenetd holds exactly this entry (a normalized one; NULL: none). */
int writer_holds(const struct writer *w, const char *key, const json_t *entry);
/* When node (the desired settings, normalized; NULL: none) is new to
 * cubenetd, neither held nor refused: forget what it refused (it may have
 * been for the settings it had) and add the keys of the refused services
 * to keys, to be translated and sent again. */
void writer_retry_refused(struct writer *w, const json_t *node, json_t *keys);
/* The entry the agent should not send again (it was refused as it is). */
int writer_refused(const struct writer *w, const char *key, const json_t *entry);
/* The peer changes that bring cubenetd's peers to desired (name -> entry,
 * normalized): what differs, less what cubenetd refused as it is. */
json_t *writer_peer_changes(const struct writer *w, const json_t *desired);

#endif
