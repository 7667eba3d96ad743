// SPDX-License-Identifier: Apache-2.0
#include <string.h>
#include "render.h"
#include "schema.h"

#define MAX_COLUMNS 24

static const char *local_name(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon ? colon + 1 : name;
}

static int is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static int is_empty_leaf(const json_t *v)
{
	return json_is_array(v) && json_array_size(v) == 1 && json_is_null(json_array_get(v, 0));
}

static void scalar_text(const json_t *v, char *out, size_t size)
{
	if (json_is_string(v))
		snprintf(out, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_true(v) || is_empty_leaf(v))
		snprintf(out, size, "true");
	else if (json_is_false(v))
		snprintf(out, size, "false");
	else
		snprintf(out, size, "-");
}

static const struct lysc_node *child_schema(const struct lysc_node *parent, const char *name,
					    const struct ly_ctx *ctx)
{
	const char *local = local_name(name);

	if (parent)
		return schema_child(parent, local);
	/* The datastore root: a top node of any served module. */
	const struct lys_module *mod;
	uint32_t idx = 0;

	while ((mod = ly_ctx_get_module_iter(ctx, &idx))) {
		const struct lysc_node *top = NULL;

		if (!mod->implemented || !mod->compiled || !schema_is_served(mod))
			continue;
		while ((top = lys_getnext(top, NULL, mod->compiled, 0)))
			if (strcmp(top->name, local) == 0)
				return top;
	}
	return NULL;
}

static int flat_entry(const json_t *entry)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)entry, k, v)
	{
		if (is_scalar(v) || is_empty_leaf(v))
			continue;
		if (!json_is_object(v))
			return 0;
		const char *k2;
		json_t *v2;

		json_object_foreach(v, k2, v2)
		{
			if (!is_scalar(v2))
				return 0;
		}
	}
	return 1;
}

struct column {
	char name[96];	/* as printed */
	char outer[64]; /* container, or "" */
	char inner[64];
	size_t width;
	size_t order; /* the schema's order of the leaf */
};

static size_t position(const struct lysc_node *parent, const char *name)
{
	const struct lysc_node *c;
	size_t i;

	for (i = 0; parent && (c = schema_child_at(parent, i)); i++)
		if (strcmp(c->name, name) == 0)
			return i;
	return 999; /* not in the schema: last */
}

static int by_order(const void *a, const void *b)
{
	const struct column *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

static void add_column(struct column *cols, size_t *n, const char *outer, const char *inner)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(cols[i].outer, outer) == 0 && strcmp(cols[i].inner, inner) == 0)
			return;
	if (*n == MAX_COLUMNS)
		return;
	snprintf(cols[*n].outer, sizeof(cols[*n].outer), "%s", outer);
	snprintf(cols[*n].inner, sizeof(cols[*n].inner), "%s", inner);
	(*n)++;
}

static const json_t *cell(const json_t *entry, const struct column *c)
{
	const json_t *at = c->outer[0] ? json_object_get(entry, c->outer) : entry;

	return at ? json_object_get(at, c->inner) : NULL;
}

static void render_table(FILE *out, const json_t *entries, const struct lysc_node *list, int indent)
{
	struct column cols[MAX_COLUMNS];
	size_t n = 0, i;
	json_t *entry;
	char text[256];

	json_array_foreach((json_t *)entries, i, entry)
	{
		const char *k;
		json_t *v;

		json_object_foreach(entry, k, v)
		{
			if (json_is_object(v)) {
				const char *k2;
				json_t *v2;

				json_object_foreach(v, k2, v2)
				    add_column(cols, &n, local_name(k), k2);
			} else {
				add_column(cols, &n, "", local_name(k));
			}
		}
	}
	for (size_t c = 0; c < n; c++) {
		const struct lysc_node *outer =
		    cols[c].outer[0] && list ? schema_child(list, cols[c].outer) : NULL;

		cols[c].order = cols[c].outer[0] ? position(list, cols[c].outer) * 1000 +
						       position(outer, cols[c].inner)
						 : position(list, cols[c].inner) * 1000;
	}
	qsort(cols, n, sizeof(cols[0]), by_order);
	for (size_t c = 0; c < n; c++) {
		int unique = 1;

		for (size_t d = 0; d < n; d++)
			unique &= d == c || strcmp(cols[d].inner, cols[c].inner) != 0;
		/* "packets" rather than "statistics.packets" when that is clear. */
		snprintf(cols[c].name, sizeof(cols[c].name), "%s%s%s",
			 unique || !cols[c].outer[0] ? "" : cols[c].outer,
			 unique || !cols[c].outer[0] ? "" : ".", cols[c].inner);
		cols[c].width = strlen(cols[c].name);
		json_array_foreach((json_t *)entries, i, entry)
		{
			scalar_text(cell(entry, &cols[c]), text, sizeof(text));
			if (strlen(text) > cols[c].width)
				cols[c].width = strlen(text);
		}
	}
	/* The last column is not padded: no trailing blanks. */
	fprintf(out, "%*s", indent, "");
	for (size_t c = 0; c < n; c++)
		fprintf(out, "%-*s%s", c + 1 < n ? (int)cols[c].width : 0, cols[c].name,
			c + 1 < n ? "  " : "\n");
	json_array_foreach((json_t *)entries, i, entry)
	{
		fprintf(out, "%*s", indent, "");
		for (size_t c = 0; c < n; c++) {
			scalar_text(cell(entry, &cols[c]), text, sizeof(text));
			fprintf(out, "%-*s%s", c + 1 < n ? (int)cols[c].width : 0, text,
				c + 1 < n ? "  " : "\n");
		}
	}
}

static void render_object(FILE *out, const json_t *obj, const struct lysc_node *snode,
			  const struct ly_ctx *ctx, int indent);

static void render_member(FILE *out, const char *name, const json_t *v,
			  const struct lysc_node *snode, const struct ly_ctx *ctx, int indent)
{
	char text[256];

	if (is_scalar(v) || is_empty_leaf(v)) {
		scalar_text(v, text, sizeof(text));
		fprintf(out, "%*s%s: %s\n", indent, "", local_name(name), text);
	} else if (json_is_object(v)) {
		fprintf(out, "%*s%s:\n", indent, "", local_name(name));
		render_object(out, v, snode, ctx, indent + 2);
	} else if (json_array_size(v) && is_scalar(json_array_get(v, 0))) { /* leaf-list */
		size_t i;
		json_t *item;

		fprintf(out, "%*s%s:", indent, "", local_name(name));
		json_array_foreach((json_t *)v, i, item)
		{
			scalar_text(item, text, sizeof(text));
			fprintf(out, "%s%s", i ? ", " : " ", text);
		}
		fputc('\n', out);
	} else {
		size_t i, flat = 1;
		json_t *entry;

		json_array_foreach((json_t *)v, i, entry) flat &= flat_entry(entry);
		if (flat) {
			fprintf(out, "%*s%s:\n", indent, "", local_name(name));
			render_table(out, v, snode, indent + 2);
			return;
		}
		/* Deeper entries: a block each, headed by the list name and keys. */
		const struct lysc_node *keys[8];
		size_t n_keys =
		    snode && snode->nodetype == LYS_LIST ? schema_keys(snode, keys, 8) : 0;

		json_array_foreach((json_t *)v, i, entry)
		{
			fprintf(out, "%*s%s", indent, "", local_name(name));
			for (size_t k = 0; k < n_keys; k++) {
				scalar_text(json_object_get(entry, keys[k]->name), text,
					    sizeof(text));
				fprintf(out, " %s", text);
			}
			fputs(":\n", out);
			render_object(out, entry, snode, ctx, indent + 2);
		}
	}
}

static void render_object(FILE *out, const json_t *obj, const struct lysc_node *snode,
			  const struct ly_ctx *ctx, int indent)
{
	const char *k;
	json_t *v;

	/* Leaves first, then what nests. */
	for (int pass = 0; pass < 2; pass++) {
		json_object_foreach((json_t *)obj, k, v)
		{
			int leafy = is_scalar(v) || is_empty_leaf(v);

			if (leafy == (pass == 0))
				render_member(out, k, v, child_schema(snode, k, ctx), ctx, indent);
		}
	}
}

void render_human(FILE *out, const json_t *data, const struct lysc_node *snode,
		  const struct ly_ctx *ctx)
{
	const char *k;
	json_t *v;

	if (!json_is_object(data) || !json_object_size(data)) {
		fputs("(nothing)\n", out);
		return;
	}
	json_object_foreach((json_t *)data, k, v)
	{
		const struct lysc_node *s = snode ? snode : child_schema(NULL, k, ctx);

		render_member(out, k, v, s, ctx, 0);
	}
}
