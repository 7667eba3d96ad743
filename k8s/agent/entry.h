/* SPDX-License-Identifier: Apache-2.0 */
/* Service and node entries in one form whatever wrote them (the agent's
 * translation or cubenetd's GET), so equal means equal: defaults filled,
 * lists and leaf-lists sorted. And whether merging one entry onto another
 * (RESTCONF PATCH) gives exactly it, or a replace is needed. */
#ifndef CUBENET_AGENT_ENTRY_H
#define CUBENET_AGENT_ENTRY_H

#include <jansson.h>

/* The parts of cubenet-pods:node the agent writes. */
#define NODE_PARTS 6
extern const char *const node_parts[NODE_PARTS];

void entry_normalize(json_t *entry);
/* The node's parts the agent writes, normalized (a new object). */
json_t *node_normalize(const json_t *node);
/* Merging `now` onto `old` leaves nothing of old that now lacks: every
 * list entry and leaf-list value of old is in now. */
int entry_within(const json_t *old, const json_t *now);

#endif
