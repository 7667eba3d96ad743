// SPDX-License-Identifier: Apache-2.0
/*
 * YANG Patch (RFC 8072): a PATCH of a data resource with media type
 * application/yang-patch+json carries several edits, applied in order as
 * one transaction: all of them, or none. Each edit names its target
 * relative to the resource; create, merge, replace, delete and remove are
 * supported (insert and move need user-ordered lists, which no cubenet
 * module has). The answer is a yang-patch-status: "ok", or the errors of
 * the edit that failed (or of the whole patch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "restconf_patch.h"
#include "restconf_path.h"
#include "restconf_reply.h"

#define MAX_EDITS 4096

static json_t *errors_of(const struct cn_error *err)
{
	json_t *e = json_pack("{s:s,s:s,s:s}", "error-type", "application", "error-tag",
			      cn_err_tag_name(err->tag), "error-message", err->message);

	if (err->path[0])
		json_object_set_new(e, "error-path", json_string(err->path));
	return json_pack("{s:[o]}", "error", e);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned int status, json_t *st)
{
	json_t *doc = json_pack("{s:o}", "ietf-yang-patch:yang-patch-status", st);
	char *text = json_dumps(doc, JSON_INDENT(2));
	enum MHD_Result rc =
	    restconf_reply(conn, status, MEDIA_YANG_PATCH_STATUS, text, NULL, NULL);

	free(text);
	json_decref(doc);
	return rc;
}

/* A failure of the whole patch (its form), or of one edit (edit_id). */
static enum MHD_Result fail(struct MHD_Connection *conn, const char *patch_id, const char *edit_id,
			    const struct cn_error *err)
{
	json_t *st = json_pack("{s:s}", "patch-id", patch_id ? patch_id : "");

	if (edit_id)
		json_object_set_new(st, "edit-status",
				    json_pack("{s:[{s:s,s:o}]}", "edit", "edit-id", edit_id,
					      "errors", errors_of(err)));
	else
		json_object_set_new(st, "errors", errors_of(err));
	return answer(conn, (unsigned int)cn_err_status(err->tag), st);
}

static int op_of(const char *name, enum ds_edit_op *op)
{
	static const struct {
		const char *name;
		enum ds_edit_op op;
	} ops[] = {{"create", DS_CREATE_NODE},
		   {"merge", DS_MERGE_NODE},
		   {"replace", DS_REPLACE},
		   {"delete", DS_DELETE},
		   {"remove", DS_REMOVE}};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(name, ops[i].name)) {
			*op = ops[i].op;
			return 0;
		}
	return -1;
}

enum MHD_Result restconf_yang_patch(struct restconf_server *srv, struct MHD_Connection *conn,
				    const char *uri, const struct restconf_request *req)
{
	struct cn_error err = {0};
	json_error_t jerr;
	json_t *doc =
	    json_loadb(req->body ? req->body : "", req->len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *patch = doc ? json_object_get(doc, "ietf-yang-patch:yang-patch") : NULL;
	json_t *edits = patch ? json_object_get(patch, "edit") : NULL;
	const char *patch_id = patch ? json_string_value(json_object_get(patch, "patch-id")) : NULL;
	struct ds_edit *e = NULL;
	char(*xpaths)[1024] = NULL;
	char **bodies = NULL;
	size_t n = json_array_size(edits);
	enum MHD_Result rc;

	if (!doc || json_object_size(doc) != 1 || !json_is_object(patch) || !patch_id ||
	    !json_is_array(edits) || !n) {
		cn_fail(&err, CN_ERR_MALFORMED, "",
			"the body must be {\"ietf-yang-patch:yang-patch\": {\"patch-id\": ..., "
			"\"edit\": [...]}} with at least one edit");
		rc = fail(conn, patch_id, NULL, &err);
		goto out;
	}
	if (n > MAX_EDITS) {
		cn_fail(&err, CN_ERR_TOO_BIG, "", "at most %d edits in one patch", MAX_EDITS);
		rc = fail(conn, patch_id, NULL, &err);
		goto out;
	}
	e = calloc(n, sizeof(*e));
	xpaths = calloc(n, sizeof(*xpaths));
	bodies = calloc(n, sizeof(*bodies));
	if (!e || !xpaths || !bodies) {
		cn_fail(&err, CN_ERR_OPERATION_FAILED, "", "out of memory");
		rc = fail(conn, patch_id, NULL, &err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *edit = json_array_get(edits, i), *value = json_object_get(edit, "value");
		const char *id = json_string_value(json_object_get(edit, "edit-id"));
		const char *op = json_string_value(json_object_get(edit, "operation"));
		const char *target = json_string_value(json_object_get(edit, "target"));
		const struct lysc_node *snode = NULL;
		char full[2048];

		if (!id || !op || !target || target[0] != '/') {
			cn_fail(&err, CN_ERR_MALFORMED, "",
				"edit %zu needs an edit-id, an operation and a target (from /)", i);
			rc = fail(conn, patch_id, id, &err);
			goto out;
		}
		if (op_of(op, &e[i].op)) {
			cn_fail(&err, CN_ERR_INVALID_VALUE, "",
				"operation '%s' is not supported (insert and move need "
				"user-ordered lists)",
				op);
			rc = fail(conn, patch_id, id, &err);
			goto out;
		}
		int wants_value = e[i].op != DS_DELETE && e[i].op != DS_REMOVE;

		if (wants_value != json_is_object(value)) {
			cn_fail(&err, CN_ERR_MALFORMED, "", "operation %s %s a value", op,
				wants_value ? "needs" : "takes no");
			rc = fail(conn, patch_id, id, &err);
			goto out;
		}
		/* The target, below the resource the patch was sent to. */
		snprintf(full, sizeof(full), "%s%s", uri, strcmp(target, "/") ? target : "");
		if (restconf_path_to_xpath(srv->ds->ctx, full[0] == '/' ? full + 1 : full,
					   xpaths[i], sizeof(xpaths[i]), &snode, &err)) {
			rc = fail(conn, patch_id, id, &err);
			goto out;
		}
		if (snode && (snode->flags & LYS_CONFIG_R)) {
			cn_fail(&err, CN_ERR_NOT_ALLOWED, xpaths[i], "state data cannot be edited");
			rc = fail(conn, patch_id, id, &err);
			goto out;
		}
		/* A whole list or leaf-list is no instance to take away: an
		 * entry is named by its keys or value. */
		size_t len = strlen(xpaths[i]);

		if (!wants_value && snode && (snode->nodetype & (LYS_LIST | LYS_LEAFLIST)) &&
		    (!len || xpaths[i][len - 1] != ']')) {
			cn_fail(&err, CN_ERR_INVALID_VALUE, xpaths[i],
				"%s names every entry of %s; %s one entry (%s=%s)", target,
				snode->name, op, snode->name,
				snode->nodetype == LYS_LIST ? "KEYS" : "VALUE");
			rc = fail(conn, patch_id, id, &err);
			goto out;
		}
		if (wants_value && !(bodies[i] = json_dumps(value, JSON_COMPACT))) {
			cn_fail(&err, CN_ERR_OPERATION_FAILED, "", "out of memory");
			rc = fail(conn, patch_id, id, &err);
			goto out;
		}
		e[i].xpath = xpaths[i];
		e[i].body = bodies[i];
	}
	if (ds_write(srv->ds, e, n, &err)) {
		const char *failed = NULL;

		for (size_t i = 0; i < n && !failed; i++)
			if (e[i].failed)
				failed = json_string_value(
				    json_object_get(json_array_get(edits, i), "edit-id"));
		rc = fail(conn, patch_id, failed, &err);
		goto out;
	}
	rc = answer(conn, 200, json_pack("{s:s,s:[n]}", "patch-id", patch_id, "ok"));
out:
	for (size_t i = 0; bodies && i < n; i++)
		free(bodies[i]);
	free(bodies);
	free(xpaths);
	free(e);
	json_decref(doc);
	return rc;
}
