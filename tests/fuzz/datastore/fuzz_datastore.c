// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: RESTCONF writes into the datastore (datastore.c, ds_scope.c)
 * on the daemon's schema, with no handler and no persistence. An input is a
 * few requests, each taken as the edge takes it (restconf_path.c for the
 * URI, restconf_check_body() for the body) and handed to ds_edit(), or all
 * of them to one ds_write() transaction. What must hold besides no crash:
 *
 *  - a failed write leaves the running config as it was, and is a 4xx;
 *  - a successful one leaves a config libyang validates, that prints to
 *    JSON that parses back, strictly, to the same config (what is saved is
 *    what is restored), and whose target GET finds (or, after DELETE, not);
 *  - scoping a write to the entries it touches (the services' independent
 *    lists) changes nothing: a second datastore with no independent lists,
 *    which validates everything on every write, answers every write the
 *    same way and ends with the same config.
 *
 * Input: requests separated by lines "%%"; each is "METHOD URI" on its
 * first line (URI after /restconf/data/) and the body after it. A first
 * line "TXN" makes the requests one transaction. FUZZ_TRACE=1 in the
 * environment prints each write's outcome.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "datastore.h"
#include "restconf_path.h"
#include "restconf_request.h"
#include "service_registry.h"

#define MAX_EDITS 8

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "datastore: " __VA_ARGS__);                                        \
		fprintf(stderr, "\n");                                                             \
		abort();                                                                           \
	} while (0)

/* scoped: as cubenetd declares it; whole: no independent lists. */
static struct datastore scoped, whole;

static void init_one(struct datastore *ds, int declare)
{
	const char **modules = services_modules();
	struct cn_error err = {0};

	if (!modules || ds_init(ds, CUBENET_YANG_DIR, modules, NULL, &err) ||
	    (declare && services_declare(ds, &err))) {
		fprintf(stderr, "datastore: %s\n", err.message);
		exit(1);
	}
	free(modules);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	init_one(&scoped, 1);
	init_one(&whole, 0);
	if (!scoped.independent.n)
		FAIL("the services declare no independent lists");
	return 0;
}

static char *print_config(const struct lyd_node *tree)
{
	char *json = NULL;

	if (lyd_print_mem(&json, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK))
		FAIL("cannot print the running config");
	return json ? json : strdup("");
}

/* Valid, and printed then parsed back (as the journal restores it) the same. */
static void check_config(struct datastore *ds, const char *json)
{
	struct lyd_node *copy = NULL, *back = NULL;
	char *again;

	if (ds->running && (lyd_dup_siblings(ds->running, NULL, LYD_DUP_RECURSIVE, &copy) ||
			    lyd_validate_all(&copy, ds->ctx, LYD_VALIDATE_NO_STATE, NULL)))
		FAIL("a committed config does not validate: %s\n%s",
		     ly_err_first(ds->ctx) ? ly_err_first(ds->ctx)->msg : "?", json);
	lyd_free_all(copy);
	if (!json[0])
		return;
	if (lyd_parse_data_mem(ds->ctx, json, LYD_JSON, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
			       LYD_VALIDATE_NO_STATE, &back))
		FAIL("a committed config does not parse back: %s\n%s",
		     ly_err_first(ds->ctx) ? ly_err_first(ds->ctx)->msg : "?", json);
	again = print_config(back);
	if (strcmp(again, json))
		FAIL("a committed config parses back otherwise:\n%s\n%s", json, again);
	free(again);
	lyd_free_all(back);
}

struct request {
	enum ds_edit_op op;
	char xpath[1024];
	const struct lysc_node *snode;
	char *body; /* NULL: none */
};

static const struct {
	const char *name;
	enum ds_edit_op op;
} methods[] = {
    {"POST", DS_CREATE},
    {"PUT", DS_REPLACE},
    {"PATCH", DS_MERGE},
    {"DELETE", DS_DELETE},
};

/* One request as the edge admits it; 0 if the edge would answer it itself. */
static int admit(char *text, struct request *r)
{
	char *nl = strchr(text, '\n'), *sp;
	struct restconf_request req = {0};
	struct cn_error err = {0};
	size_t m;

	if (nl)
		*nl = '\0';
	sp = strchr(text, ' ');
	if (!sp)
		return 0;
	*sp = '\0';
	for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
		if (!strcmp(text, methods[m].name))
			break;
	if (m == sizeof(methods) / sizeof(methods[0]))
		return 0;
	r->op = methods[m].op;
	if (restconf_path_to_xpath(scoped.ctx, sp + 1, r->xpath, sizeof(r->xpath), &r->snode, &err))
		return 0;
	/* 405: state data, and DELETE of the datastore. */
	if ((r->snode && (r->snode->flags & LYS_CONFIG_R)) || (r->op == DS_DELETE && !r->xpath[0]))
		return 0;
	r->body = nl && nl[1] && r->op != DS_DELETE ? nl + 1 : NULL;
	req.body = r->body;
	req.len = r->body ? strlen(r->body) : 0;
	return !restconf_check_body(&req, &err);
}

static int is_4xx(enum cn_err_tag tag)
{
	int status = cn_err_status(tag);

	return status >= 400 && status < 500;
}

/* What a GET of the target finds after a successful edit. */
static void check_target(struct datastore *ds, const struct request *r, const char *new_path)
{
	const char *xpath = r->op == DS_CREATE && new_path[0] ? new_path : r->xpath;
	struct cn_error err = {0};
	char *json = NULL;
	int rc;

	if (!xpath[0])
		return;
	rc = ds_get(ds, xpath, DS_CONTENT_CONFIG, 0, NULL, NULL, &json, &err);
	free(json);
	/* Whatever nodes validation makes (containers, defaults) answer 404
	 * when nothing is configured in them: judge lists and leaves only. */
	if (r->op == DS_DELETE) {
		if (!rc && r->snode && (r->snode->nodetype & (LYS_LIST | LYS_LEAFLIST)))
			FAIL("DELETE %s succeeded, and a GET still finds it", xpath);
	} else if (rc &&
		   (r->op == DS_CREATE ||
		    (r->snode && (r->snode->nodetype & (LYS_LIST | LYS_LEAFLIST | LYS_LEAF))))) {
		FAIL("a write of %s succeeded, and a GET does not find it: %s", xpath, err.message);
	}
}

static void reset(struct datastore *ds)
{
	lyd_free_all(ds->running);
	ds->running = NULL;
}

/* One write into both datastores, as one edit or one transaction. */
static void write_both(struct request *r, size_t n, int txn)
{
	struct datastore *both[2] = {&scoped, &whole};
	struct ds_edit edits[2][MAX_EDITS];
	struct cn_error err[2] = {{0}, {0}};
	char *before[2], *after[2];
	int rc[2];

	for (int d = 0; d < 2; d++) {
		memset(edits[d], 0, sizeof(edits[d]));
		for (size_t i = 0; i < n; i++)
			edits[d][i] =
			    (struct ds_edit){.op = r[i].op, .xpath = r[i].xpath, .body = r[i].body};
		before[d] = print_config(both[d]->running);
		rc[d] = txn ? ds_write(both[d], edits[d], n, &err[d])
			    : ds_edit(both[d], r->op, r->xpath, r->body, &edits[d][0].created,
				      edits[d][0].new_path, sizeof(edits[d][0].new_path), &err[d]);
		after[d] = print_config(both[d]->running);
	}
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "%s %s%s: %s\n", methods[r->op].name, r->xpath, txn ? " (txn)" : "",
			rc[0] ? err[0].message : "ok");
	if (rc[0] != rc[1])
		FAIL("%s %s: the scoped write %s, the whole one %s (%s)", methods[r->op].name,
		     r->xpath, rc[0] ? "failed" : "succeeded", rc[1] ? "failed" : "succeeded",
		     rc[0] ? err[0].message : err[1].message);
	for (int d = 0; d < 2; d++) {
		if (rc[d]) {
			if (strcmp(before[d], after[d]))
				FAIL("a failed write (%s) changed the config:\n%s\n%s",
				     err[d].message, before[d], after[d]);
			if (!is_4xx(err[d].tag))
				FAIL("%s %s: answered %d (%s)", methods[r->op].name, r->xpath,
				     cn_err_status(err[d].tag), err[d].message);
		} else {
			check_config(both[d], after[d]);
			/* In a transaction, a later edit may undo an earlier one. */
			if (!txn)
				check_target(both[d], r, edits[d][0].new_path);
		}
	}
	if (strcmp(after[0], after[1]))
		FAIL("the scoped and the whole datastore differ:\n%s\n%s", after[0], after[1]);
	for (int d = 0; d < 2; d++) {
		free(before[d]);
		free(after[d]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request reqs[MAX_EDITS];
	char *text = malloc(size + 1), *p, *next;
	size_t n = 0;
	int txn = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* a body is a C string to the daemon: it holds no NUL */
	p = text;
	if (!strncmp(p, "TXN\n", 4)) {
		txn = 1;
		p += 4;
	}
	reset(&scoped);
	reset(&whole);
	for (; p && n < MAX_EDITS; p = next) {
		next = strstr(p, "\n%%\n");
		if (next) {
			*next = '\0';
			next += 4;
		}
		memset(&reqs[n], 0, sizeof(reqs[n]));
		if (!admit(p, &reqs[n]))
			continue;
		if (!txn)
			write_both(&reqs[n], 1, 0);
		n++;
	}
	if (txn && n)
		write_both(reqs, n, 1);
	free(text);
	return 0;
}
