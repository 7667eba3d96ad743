/* SPDX-License-Identifier: Apache-2.0 */
/* What every part of cubectl shares: the schema, the client, the options,
 * the first error, and the daemon's config read once when needed. */
#ifndef CUBECTL_CUBECTL_H
#define CUBECTL_CUBECTL_H

#include <jansson.h>
#include <libyang/libyang.h>
#include "restconf_client.h"
#include "cli_error.h"
#include "schema.h"

enum output_format {
	OUTPUT_HUMAN = 0,
	OUTPUT_JSON,
	OUTPUT_YAML,
};

struct cubectl {
	struct ly_ctx *ly;
	struct client client;
	enum output_format output;
	const char *file; /* -f: a subtree in JSON or YAML */
	struct cli_error err;
	json_t *config; /* the daemon's config, once read */
	struct schema_origin origin;
};

/* Run the command in words[0..n). 0 or -1 (x->err says why). */
int cmd_run(struct cubectl *x, int n, char **words);
/* Help from the YANG schema for the node the words lead to. */
int help_run(struct cubectl *x, int n, char **words);
int help_node(struct cubectl *x, const struct lysc_node *node);
/* On stderr, once: that help comes from the installed modules, and why. */
void help_note_origin(const struct cubectl *x);
/* Candidates for the last word (may be empty), one per line. */
int complete_run(struct cubectl *x, int n, char **words);

/* Shared by the commands and the completion. */
const char *const *cmd_verbs(void);
json_t *cmd_config(struct cubectl *x);

#endif
