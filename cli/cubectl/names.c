// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>
#include "names.h"
#include "schema.h"

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* plural is single's plural: route/routes, address/addresses, policy/policies. */
static int is_plural_of(const char *plural, const char *single)
{
	size_t lp = strlen(plural), ls = strlen(single);

	if (!ls || lp <= ls - 1 || strncmp(plural, single, ls - 1))
		return 0;
	if (lp == ls + 1 && plural[ls - 1] == single[ls - 1] && plural[ls] == 's')
		return 1;
	if (lp == ls + 2 && plural[ls - 1] == single[ls - 1] && !strcmp(plural + ls, "es") &&
	    (ends_with(single, ls, "s") || ends_with(single, ls, "x") ||
	     ends_with(single, ls, "z") || ends_with(single, ls, "ch") ||
	     ends_with(single, ls, "sh")))
		return 1;
	return ls >= 2 && single[ls - 1] == 'y' && !strchr("aeiou", single[ls - 2]) &&
	       lp == ls + 2 && !strcmp(plural + ls - 1, "ies");
}

int name_matches(const char *word, const char *name, int inflected)
{
	return strcmp(word, name) == 0 ||
	       (inflected && (is_plural_of(word, name) || is_plural_of(name, word)));
}

/* A module by its name, or by what follows its organisation. */
static int module_matches(const struct lys_module *mod, const char *word, int inflected)
{
	const char *dash = strchr(mod->name, '-');

	return strcmp(word, mod->name) == 0 ||
	       (dash && dash[1] && name_matches(word, dash + 1, inflected));
}

void name_qualified(const struct named *n, char *out, size_t size)
{
	if (n->node)
		snprintf(out, size, "%s:%s", n->node->module->name, n->node->name);
	else
		snprintf(out, size, "%s", n->module ? n->module->name : "?");
}

struct candidates {
	struct named first, second;
	size_t n;
};

static void add(struct candidates *c, const struct lysc_node *node, const struct lys_module *mod)
{
	if (c->n && c->first.node == node && c->first.module == mod)
		return;
	if (c->n == 0)
		c->first = (struct named){node, mod};
	else if (c->n == 1)
		c->second = (struct named){node, mod};
	c->n++;
}

static void collect(const struct ly_ctx *ctx, const struct lys_module *in, const char *word,
		    unsigned int kind, int inflected, struct candidates *c)
{
	const struct lysc_node *s;
	const struct lys_module *mod;

	for (size_t i = 0; kind == NAME_SERVICE && (s = schema_service(ctx, i)); i++)
		if ((!in || s->module == in) && name_matches(word, s->name, inflected))
			add(c, s, NULL);
	for (size_t i = 0; kind == NAME_ACTION && (s = schema_rpc_at(ctx, i)); i++)
		if ((!in || s->module == in) && name_matches(word, s->name, inflected))
			add(c, s, NULL);
	for (size_t i = 0; kind == NAME_MODULE && !in && (mod = schema_module(ctx, i)); i++)
		if (module_matches(mod, word, inflected))
			add(c, NULL, mod);
	for (size_t i = 0; kind == NAME_TOP && (s = schema_top(ctx, i)); i++)
		if ((!in || s->module == in) && name_matches(word, s->name, inflected))
			add(c, s, NULL);
}

int name_find(const struct ly_ctx *ctx, const struct lys_module *in, const char *word,
	      unsigned int kinds, struct named *found, struct cli_error *err)
{
	const char *colon = strchr(word, ':');
	const struct lys_module *mod;
	char one[160], other[160];

	*found = (struct named){0};
	if (colon) { /* module:name, the module by its full name */
		for (size_t i = 0; (mod = schema_module(ctx, i)); i++)
			if (strlen(mod->name) == (size_t)(colon - word) &&
			    !strncmp(mod->name, word, (size_t)(colon - word)) && (!in || in == mod))
				return name_find(ctx, mod, colon + 1, kinds & ~NAME_MODULE, found,
						 err);
		return 0;
	}
	for (int inflected = 0; inflected <= !(kinds & NAME_EXACT); inflected++) {
		for (unsigned int kind = NAME_SERVICE; kind <= NAME_TOP; kind <<= 1) {
			struct candidates c = {0};

			if (!(kinds & kind))
				continue;
			collect(ctx, in, word, kind, inflected, &c);
			if (c.n == 1) {
				*found = c.first;
				return 1;
			}
			if (c.n > 1) {
				name_qualified(&c.first, one, sizeof(one));
				name_qualified(&c.second, other, sizeof(other));
				cli_fail(err, EXIT_USAGE, "'%s' is %s or %s%s: say which", word,
					 one, other, c.n > 2 ? " (or more)" : "");
				return -1;
			}
		}
	}
	return 0;
}
