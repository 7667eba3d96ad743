// SPDX-License-Identifier: Apache-2.0
/* Help and shell completion, both read off the YANG schema the daemon
 * serves, or with no daemon the modules installed with cubectl (and, for
 * completion, the names in the daemon's config). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cubectl.h"
#include "names.h"
#include "schema.h"

static const char *const commands[] = {"show",	 "del",	   "help",	 "connect", "disconnect",
				       "attach", "detach", "completion", NULL};

/* libyang declares ly_data_type2str but does not export it. */
static const char *type_name(LY_DATA_TYPE t)
{
	static const char *const names[LY_DATA_TYPE_COUNT] = {
	    [LY_TYPE_BINARY] = "binary",
	    [LY_TYPE_UINT8] = "uint8",
	    [LY_TYPE_UINT16] = "uint16",
	    [LY_TYPE_UINT32] = "uint32",
	    [LY_TYPE_UINT64] = "uint64",
	    [LY_TYPE_STRING] = "string",
	    [LY_TYPE_BITS] = "bits",
	    [LY_TYPE_BOOL] = "boolean",
	    [LY_TYPE_DEC64] = "decimal64",
	    [LY_TYPE_EMPTY] = "empty",
	    [LY_TYPE_ENUM] = "enumeration",
	    [LY_TYPE_IDENT] = "identityref",
	    [LY_TYPE_INST] = "instance-identifier",
	    [LY_TYPE_LEAFREF] = "leafref",
	    [LY_TYPE_UNION] = "union",
	    [LY_TYPE_INT8] = "int8",
	    [LY_TYPE_INT16] = "int16",
	    [LY_TYPE_INT32] = "int32",
	    [LY_TYPE_INT64] = "int64",
	};

	return t < LY_DATA_TYPE_COUNT && names[t] ? names[t] : "?";
}

static const char *kind_of(const struct lysc_node *n)
{
	switch (n->nodetype) {
	case LYS_CONTAINER:
		return "container";
	case LYS_LIST:
		return "list";
	case LYS_LEAFLIST:
		return "leaf-list";
	case LYS_RPC:
		return "action";
	default:
		return "leaf";
	}
}

static int is_integer(LY_DATA_TYPE t)
{
	return t == LY_TYPE_UINT8 || t == LY_TYPE_UINT16 || t == LY_TYPE_UINT32 ||
	       t == LY_TYPE_UINT64 || t == LY_TYPE_INT8 || t == LY_TYPE_INT16 ||
	       t == LY_TYPE_INT32 || t == LY_TYPE_INT64;
}

/* "uint16 1..1000", "enum tcp|udp", "string 1..64 chars", "ip address". */
static void type_text(const struct lysc_node *n, char *out, size_t size)
{
	const struct lysc_type *t;
	size_t o;

	out[0] = '\0';
	if (!(n->nodetype & (LYS_LEAF | LYS_LEAFLIST)))
		return;
	t = ((const struct lysc_node_leaf *)n)->type;
	while (t->basetype == LY_TYPE_LEAFREF)
		t = ((const struct lysc_type_leafref *)t)->realtype;
	o = (size_t)snprintf(out, size, "%s", type_name(t->basetype));
	if (t->basetype == LY_TYPE_ENUM) {
		const struct lysc_type_enum *e = (const void *)t;

		o = (size_t)snprintf(out, size, "enum ");
		LY_ARRAY_COUNT_TYPE i;

		LY_ARRAY_FOR(e->enums, i)
		o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "|" : "", e->enums[i].name);
	} else if (is_integer(t->basetype)) {
		const struct lysc_type_num *num = (const void *)t;

		if (num->range && LY_ARRAY_COUNT(num->range->parts)) {
			const struct lysc_range_part *p = &num->range->parts[0];
			int sign = t->basetype == LY_TYPE_INT8 || t->basetype == LY_TYPE_INT16 ||
				   t->basetype == LY_TYPE_INT32 || t->basetype == LY_TYPE_INT64;

			if (sign)
				snprintf(out + o, size - o, " %lld..%lld", (long long)p->min_64,
					 (long long)p->max_64);
			else
				snprintf(out + o, size - o, " %llu..%llu",
					 (unsigned long long)p->min_u64,
					 (unsigned long long)p->max_u64);
		}
	} else if (t->basetype == LY_TYPE_STRING) {
		const struct lysc_type_str *str = (const void *)t;

		if (str->length && LY_ARRAY_COUNT(str->length->parts))
			snprintf(out + o, size - o, " %llu..%llu chars",
				 (unsigned long long)str->length->parts[0].min_u64,
				 (unsigned long long)str->length->parts[0].max_u64);
	} else if (t->basetype == LY_TYPE_UNION) {
		snprintf(out, size, "%s",
			 n->name[0] && strstr(n->name, "address") ? "address" : "union");
	}
}

/* A description's first sentence on one line. */
static void first_line(const char *text, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = text ? text : ""; *p && o + 1 < size; p++) {
		if (*p == '.' && (p[1] == ' ' || p[1] == '\n' || !p[1]))
			break;
		if (*p == '\n' || *p == ' ') {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

static void print_children(const struct lysc_node *node)
{
	const struct lysc_node *c;
	char type[160], desc[200];

	for (size_t i = 0; (c = schema_child_at(node, i)); i++) {
		if (c->flags & LYS_CONFIG_R && !(c->nodetype & (LYS_CONTAINER | LYS_LIST)))
			continue;
		type_text(c, type, sizeof(type));
		first_line(c->dsc, desc, sizeof(desc));
		printf("  %-22s %-9s %-26s %s%s%s\n", c->name, kind_of(c), type,
		       lysc_is_key(c) ? "[key] " : "",
		       c->flags & LYS_MAND_TRUE ? "[required] " : "", desc);
		if (c->nodetype == LYS_LEAF && ((const struct lysc_node_leaf *)c)->dflt) {
			const char *d = lyd_value_get_canonical(
			    c->module->ctx, ((const struct lysc_node_leaf *)c)->dflt);

			printf("  %-22s %-9s %-26s default: %s\n", "", "", "", d);
		}
	}
}

/* A description as the module has it, every line indented alike. */
static void print_description(const char *text)
{
	if (!text)
		return;
	fputs("\n  ", stdout);
	for (const char *p = text; *p; p++) {
		fputc(*p, stdout);
		if (*p == '\n' && p[1] && p[1] != '\n')
			fputs("  ", stdout);
	}
	fputc('\n', stdout);
}

void help_note_origin(const struct cubectl *x)
{
	static int noted;

	if (x->origin.unreachable[0] && !noted++)
		fprintf(stderr,
			"cubectl: daemon not reachable (%s): help from the installed modules in "
			"%s\n",
			x->origin.unreachable, x->origin.yang_dirs);
}

int help_node(struct cubectl *x, const struct lysc_node *node)
{
	const struct lysc_node *keys[8];
	size_t n_keys;
	char type[160];

	help_note_origin(x);
	printf("%s (%s, module %s)%s\n", node->name, kind_of(node), node->module->name,
	       node->flags & LYS_CONFIG_R ? ", state: read only" : "");
	print_description(node->dsc);
	type_text(node, type, sizeof(type));
	if (type[0])
		printf("\n  type: %s\n", type);
	if (node->nodetype == LYS_LIST) {
		n_keys = schema_keys(node, keys, 8);
		printf("\n  entries are named by:");
		for (size_t i = 0; i < n_keys; i++)
			printf(" %s", keys[i]->name);
		printf("\n  verbs: add KEY... [LEAF=VALUE...] [-f FILE], del KEY..., show, "
		       "KEY... set LEAF=VALUE...\n");
	} else if (node->nodetype == LYS_CONTAINER) {
		printf("\n  verbs: show, set LEAF=VALUE..., del\n");
		if (node->flags & LYS_PRESENCE)
			printf("  (it is there or not: set makes it, del removes it)\n");
		if (!lysc_data_parent(node))
			printf("  e.g. cubectl %s show, cubectl %s [CHILD...] set LEAF=VALUE\n",
			       node->name, node->name);
	} else if (node->nodetype & LYS_LEAF) {
		printf("\n  verbs: show, set VALUE, del\n");
	}
	if (lysc_node_child(node) && !(node->nodetype & (LYS_LEAF | LYS_LEAFLIST))) {
		printf("\n  what it has:\n");
		print_children(node);
	}
	return 0;
}

static int overview(struct cubectl *x)
{
	const struct lysc_node *s;
	char desc[200];

	help_note_origin(x);
	printf("usage: cubectl [OPTIONS] COMMAND ...   (man cubectl, cubectl --help)\n\n"
	       "services (cubectl SERVICE add NAME [LEAF=VALUE...] | show | del NAME):\n");
	for (size_t i = 0; (s = schema_service(x->ly, i)); i++) {
		first_line(s->dsc, desc, sizeof(desc));
		printf("  %-14s %-16s %s\n", s->name, s->module->name, desc);
	}
	printf("\nsettings (cubectl NAME [CHILD...] show | set LEAF=VALUE... | del):\n");
	for (size_t i = 0; (s = schema_top(x->ly, i)); i++) {
		if (!schema_has_settings(s))
			continue;
		first_line(s->dsc, desc, sizeof(desc));
		printf("  %-14s %-16s %s\n", s->name, s->module->name, desc);
	}
	printf("\ninstances: cubectl NAME [CHILD [KEY...]]... [show|add|set|del] [ARGS]\n"
	       "\nwiring: connect CUBE:PORT CUBE|netdev:NAME|tx|pass|drop, disconnect CUBE:PORT,\n"
	       "        attach NAME NETDEV [mode=xdp|xdp-generic|tc-ingress|tc-egress], detach "
	       "NAME NETDEV\n\nactions:\n");
	for (size_t i = 0; (s = schema_rpc_at(x->ly, i)); i++) {
		first_line(s->dsc, desc, sizeof(desc));
		printf("  %-14s %s\n", s->name, desc);
	}
	printf("\nhelp: cubectl help SERVICE|MODULE|NAME [CHILD...], cubectl NAME [CHILD...] ?\n");
	return 0;
}

static void print_line(int indent, const struct lysc_node *n)
{
	char desc[200];

	first_line(n->dsc, desc, sizeof(desc));
	printf("%*s%-*s %-9s %s\n", indent, "", 24 - indent, n->name, kind_of(n), desc);
}

/* A module: what it says of itself, its top-level nodes and the lists
 * they hold, and the commands that reach them. */
static int help_module(struct cubectl *x, const struct lys_module *mod)
{
	const struct lysc_node *top = NULL, *c;
	const struct lysc_node_action *rpc;

	help_note_origin(x);
	printf("%s (module%s%s)\n", mod->name, mod->revision ? ", revision " : "",
	       mod->revision ? mod->revision : "");
	print_description(mod->dsc);
	printf("\n  what it has:\n");
	while ((top = lys_getnext(top, NULL, mod->compiled, 0))) {
		print_line(2, top);
		for (size_t i = 0; top->nodetype == LYS_CONTAINER && (c = schema_child_at(top, i));
		     i++)
			if (c->nodetype == LYS_LIST)
				print_line(4, c);
	}
	printf("\n  commands:\n");
	while ((top = lys_getnext(top, NULL, mod->compiled, 0))) {
		if (schema_has_settings(top))
			printf("    cubectl %s [CHILD...] show | set LEAF=VALUE... | del\n",
			       top->name);
		if (top->nodetype == LYS_LIST)
			printf("    cubectl %s add KEY... | show | del KEY...\n", top->name);
		for (size_t i = 0; top->nodetype == LYS_CONTAINER && (c = schema_child_at(top, i));
		     i++)
			if (c->nodetype == LYS_LIST)
				printf("    cubectl %s add KEY... | show | del KEY...\n", c->name);
	}
	for (rpc = mod->compiled->rpcs; rpc; rpc = (const struct lysc_node_action *)rpc->node.next)
		printf("    cubectl %s [LEAF=VALUE...]\n", rpc->node.name);
	printf("\n  more: cubectl help %s NAME [CHILD...]\n", mod->name);
	return 0;
}

/* The first word of help: a service, an action, a module or a top-level
 * node, by any of the names users type for them. */
int help_run(struct cubectl *x, int n, char **words)
{
	const struct lys_module *scope = NULL;
	const struct lysc_node *node = NULL;
	struct named found;
	int i = 1, rc;

	if (n == 0)
		return overview(x);
	rc = name_find(x->ly, NULL, words[0], NAME_SERVICE | NAME_ACTION | NAME_MODULE | NAME_TOP,
		       &found, &x->err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return cli_fail(&x->err, EXIT_USAGE,
				"no service, module, setting or action '%s' (cubectl help)",
				words[0]);
	node = found.node;
	/* Within a module: its top-level nodes and the lists they hold. */
	if (!node && n > 1) {
		scope = found.module;
		rc = name_find(x->ly, scope, words[1], NAME_SERVICE | NAME_TOP, &found, &x->err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return cli_fail(&x->err, EXIT_USAGE, "%s has no '%s'", scope->name,
					words[1]);
		node = found.node;
		i = 2;
	}
	if (!node)
		return help_module(x, found.module);
	for (; i < n; i++) {
		const struct lysc_node *child = schema_child(node, words[i]);

		if (!child)
			return cli_fail(&x->err, EXIT_USAGE, "%s has no '%s'", node->name,
					words[i]);
		node = child;
	}
	return help_node(x, node);
}

/* -- completion ----------------------------------------------------------- */

/* Each word once, if it starts with what was typed. */
static void offer(const char *word, const char *prefix)
{
	static char offered[256][96];
	static size_t n_offered;

	if (strncmp(word, prefix, strlen(prefix)))
		return;
	for (size_t i = 0; i < n_offered; i++)
		if (strcmp(offered[i], word) == 0)
			return;
	if (n_offered < 256)
		snprintf(offered[n_offered++], sizeof(offered[0]), "%s", word);
	puts(word);
}

static void offer_instances(struct cubectl *x, const char *prefix)
{
	json_t *config = cmd_config(x);
	const struct lysc_node *s, *key;
	const char *k;
	json_t *v;

	x->err = (struct cli_error){0}; /* no daemon: no names, still the words */
	for (size_t i = 0; config && (s = schema_service(x->ly, i)); i++) {
		json_t *entries = NULL, *e;
		size_t j;
		char top[160];

		if (schema_keys(s, &key, 1) != 1 || lysc_node_child(s) == NULL)
			continue;
		snprintf(top, sizeof(top), "%s:%s", s->module->name,
			 s->parent ? s->parent->name : s->name);
		json_object_foreach(config, k, v)
		{
			if (strcmp(k, top) == 0)
				entries = s->parent ? json_object_get(v, s->name) : v;
		}
		json_array_foreach(entries, j, e)
		{
			json_t *name = json_object_get(e, key->name);

			if (json_is_string(name))
				offer(json_string_value(name), prefix);
		}
	}
}

/* The top-level containers that hold settings, the first words that
 * reach them. */
static void offer_settings(struct cubectl *x, const char *prefix)
{
	const struct lysc_node *s;

	for (size_t i = 0; (s = schema_top(x->ly, i)); i++)
		if (schema_has_settings(s))
			offer(s->name, prefix);
}

/* What help takes first: services, settings, modules, actions. */
static void offer_help_words(struct cubectl *x, const char *prefix)
{
	const struct lys_module *mod;
	const struct lysc_node *s;

	for (size_t i = 0; (s = schema_service(x->ly, i)); i++)
		offer(s->name, prefix);
	offer_settings(x, prefix);
	for (size_t i = 0; (mod = schema_module(x->ly, i)); i++)
		offer(strchr(mod->name, '-') ? strchr(mod->name, '-') + 1 : mod->name, prefix);
	for (size_t i = 0; (s = schema_rpc_at(x->ly, i)); i++)
		offer(s->name, prefix);
}

static void offer_children(const struct lysc_node *node, const char *prefix, int assign)
{
	const struct lysc_node *c;
	char word[160];

	for (size_t i = 0; (c = schema_child_at(node, i)); i++) {
		if (c->flags & LYS_CONFIG_R)
			continue;
		if (assign && !(c->nodetype & (LYS_LEAF | LYS_LEAFLIST | LYS_CONTAINER)))
			continue;
		snprintf(word, sizeof(word), "%s%s", c->name,
			 assign && c->nodetype & (LYS_LEAF | LYS_LEAFLIST) ? "=" : "");
		offer(word, prefix);
	}
}

int complete_run(struct cubectl *x, int n, char **words)
{
	const char *prefix = n ? words[n - 1] : "";
	const struct lysc_node *s, *node = NULL;

	if (n <= 1) {
		for (const char *const *c = commands; *c; c++)
			offer(*c, prefix);
		for (size_t i = 0; (s = schema_service(x->ly, i)); i++)
			offer(s->name, prefix);
		for (size_t i = 0; (s = schema_rpc_at(x->ly, i)); i++)
			offer(s->name, prefix);
		offer_settings(x, prefix);
		offer_instances(x, prefix);
		return 0;
	}
	if ((s = schema_service_find(x->ly, words[0]))) {
		if (n == 2) {
			offer("add", prefix);
			offer("del", prefix);
			offer("show", prefix);
		} else if (strcmp(words[1], "add") == 0 && n > 3) {
			offer_children(s, prefix, 1);
		} else if (strcmp(words[1], "del") == 0 && n == 3) {
			offer_instances(x, prefix);
		}
		return 0;
	}
	if ((s = schema_rpc(x->ly, words[0]))) {
		const struct lysc_node *in = lysc_node_child(s);

		while (in && in->nodetype != LYS_INPUT)
			in = in->next;
		if (in)
			offer_children(in, prefix, 1);
		return 0;
	}
	if (!strcmp(words[0], "show") || !strcmp(words[0], "del") || !strcmp(words[0], "attach") ||
	    !strcmp(words[0], "detach") || !strcmp(words[0], "connect")) {
		if (n == 2)
			offer_instances(x, prefix);
		return 0;
	}
	if (!strcmp(words[0], "help")) {
		struct cli_error ignored = {0};
		struct named found = {0};
		int i = 2;

		if (n == 2) {
			offer_help_words(x, prefix);
			return 0;
		}
		name_find(x->ly, NULL, words[1],
			  NAME_SERVICE | NAME_ACTION | NAME_MODULE | NAME_TOP, &found, &ignored);
		node = found.node;
		if (!node && found.module) { /* a module: its top-level nodes and lists */
			const struct lys_module *mod = found.module;

			if (n == 3) {
				for (size_t j = 0; (s = schema_service(x->ly, j)); j++)
					if (s->module == mod)
						offer(s->name, prefix);
				for (size_t j = 0; (s = schema_top(x->ly, j)); j++)
					if (s->module == mod)
						offer(s->name, prefix);
				return 0;
			}
			name_find(x->ly, mod, words[2], NAME_SERVICE | NAME_TOP, &found, &ignored);
			node = found.node;
			i = 3;
		}
		for (; node && i < n - 1; i++)
			node = schema_child(node, words[i]);
		if (node)
			offer_children(node, prefix, 0);
		return 0;
	}
	/* CONTAINER or INSTANCE, then CHILD...: the schema node the words so
	 * far lead to. */
	struct cli_error ignored = {0};
	struct named container = {0};
	json_t *config = NULL;
	int assigning = 0;

	if (name_find(x->ly, NULL, words[0], NAME_TOP | NAME_EXACT, &container, &ignored) == 1 &&
	    container.node->nodetype == LYS_CONTAINER)
		node = container.node;
	else
		config = cmd_config(x);
	x->err = (struct cli_error){0}; /* no daemon: no names, still the words */
	for (size_t i = 0; config && !node && (s = schema_service(x->ly, i)); i++) {
		char top[160];
		json_t *entries, *e;
		const struct lysc_node *key;
		size_t j;

		snprintf(top, sizeof(top), "%s:%s", s->module->name,
			 s->parent ? s->parent->name : s->name);
		entries = s->parent ? json_object_get(json_object_get(config, top), s->name)
				    : json_object_get(config, top);
		if (schema_keys(s, &key, 1) != 1)
			continue;
		json_array_foreach(entries, j, e)
		{
			json_t *name = json_object_get(e, key->name);

			if (json_is_string(name) && !strcmp(json_string_value(name), words[0]) &&
			    strcmp(s->module->name, "cubenet-core"))
				node = s;
		}
	}
	if (!node)
		node = schema_service_find(x->ly, "cube");
	for (int i = 1; node && i < n - 1; i++) {
		const struct lysc_node *child = schema_child(node, words[i]);

		if (!strcmp(words[i], "set") || !strcmp(words[i], "add"))
			assigning = 1;
		else if (child)
			node = child;
	}
	if (!node)
		return 0;
	if (assigning) {
		offer_children(node, prefix, 1);
		return 0;
	}
	offer_children(node, prefix, 0);
	for (const char *const *v = cmd_verbs(); *v; v++)
		if (node->nodetype == LYS_LIST || strcmp(*v, "add")) /* add makes list entries */
			offer(*v, prefix);
	return 0;
}
