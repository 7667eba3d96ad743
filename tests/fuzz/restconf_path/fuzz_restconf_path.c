// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: RESTCONF data resource identifiers (restconf_path.c) on the
 * daemon's own schema. Any URI is refused with a 400, 404 or 413, or gives
 * a libyang path that names, segment by segment, the schema node reported,
 * with one predicate per list key, and that libyang resolves to that node;
 * a smaller output buffer gives the same path or a refusal, never a cut
 * one. Percent-decoding is compared with a decoder written here from
 * RFC 3986 (2.1) and RFC 3629 (4).
 *
 * Input: one byte choosing the smaller buffer's size, then the URI.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "datastore.h"
#include "restconf_path.h"
#include "service_registry.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "restconf_path: " __VA_ARGS__);                                    \
		fprintf(stderr, "\n");                                                             \
		abort();                                                                           \
	} while (0)

static struct datastore ds;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char **modules = services_modules();
	struct cn_error err = {0};

	(void)argc;
	(void)argv;
	if (!modules || ds_init(&ds, CUBENET_YANG_DIR, modules, NULL, &err)) {
		fprintf(stderr, "restconf_path: %s\n", err.message);
		exit(1);
	}
	free(modules);
	return 0;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3629's table of well-formed sequences: the ranges of the second
 * byte for each lead byte; later bytes are 80..BF. */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
	static const struct {
		unsigned char lo, hi, second_lo, second_hi, len;
	} rows[] = {
	    {0x00, 0x7f, 0, 0, 1},	 {0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3},
	    {0xe1, 0xec, 0x80, 0xbf, 3}, {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3},
	    {0xf0, 0xf0, 0x90, 0xbf, 4}, {0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (s[0] < rows[r].lo || s[0] > rows[r].hi)
			continue;
		if (rows[r].len > n)
			return 0;
		if (rows[r].len > 1 && (s[1] < rows[r].second_lo || s[1] > rows[r].second_hi))
			return 0;
		for (size_t i = 2; i < rows[r].len; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		return rows[r].len;
	}
	return 0;
}

/* 0 and the text, or -1: what restconf_unescape must answer. */
static int ref_unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			if (hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
				return -1;
			c = hex(s[i + 1]) * 16 + hex(s[i + 2]);
			i += 2;
		}
		if (c == 0 || o + 1 >= size)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	for (size_t i = 0; i < o;) {
		size_t n = utf8_ok((const unsigned char *)out + i, o - i);

		if (!n)
			return -1;
		i += n;
	}
	return 0;
}

static void check_unescape(const char *s, size_t len, size_t size)
{
	char got[300], want[300];
	int rc_got = restconf_unescape(s, len, got, size);
	int rc_want = ref_unescape(s, len, want, size);

	if (rc_got != rc_want)
		FAIL("unescape of '%.*s' (room %zu): %d, want %d", (int)len, s, size, rc_got,
		     rc_want);
	if (!rc_got && strcmp(got, want))
		FAIL("unescape of '%.*s': '%s', want '%s'", (int)len, s, got, want);
}

/* The schema nodes a data path passes through, from the top. */
static size_t data_chain(const struct lysc_node *node, const struct lysc_node **chain, size_t max)
{
	size_t n = 0;

	for (; node; node = node->parent)
		if (!(node->nodetype & (LYS_CHOICE | LYS_CASE)) && n < max)
			chain[n++] = node;
	for (size_t i = 0; i < n / 2; i++) {
		const struct lysc_node *t = chain[i];

		chain[i] = chain[n - 1 - i];
		chain[n - 1 - i] = t;
	}
	return n;
}

/* Walk xpath ("/mod:a/b[k='v']..."): each segment names the next node of
 * snode's chain (its module if prefixed, and the first is), lists have
 * their keys in order (or none, last), leaf-lists "." at most. The path
 * without predicates goes into bare. */
static void check_segments(const char *uri, const char *xpath, const struct lysc_node *snode,
			   char *bare, size_t bare_size)
{
	const struct lysc_node *chain[64];
	size_t depth = data_chain(snode, chain, 64), seg = 0, b = 0;
	const char *p = xpath;

	while (*p) {
		const struct lysc_node *node, *key;
		const char *name, *colon;
		size_t name_len, preds = 0;

		if (*p != '/' || seg >= depth)
			FAIL("'%s' -> '%s': segment %zu is not one of the target's", uri, xpath,
			     seg);
		node = chain[seg];
		bare[b++] = *p++;
		name = p;
		name_len = strcspn(p, "[/");
		colon = memchr(name, ':', name_len);
		if (!seg && !colon)
			FAIL("'%s' -> '%s': no module on the first segment", uri, xpath);
		if (colon && ((size_t)(colon - name) != strlen(node->module->name) ||
			      strncmp(name, node->module->name, (size_t)(colon - name))))
			FAIL("'%s' -> '%s': segment %zu names the wrong module", uri, xpath, seg);
		if (colon) {
			name_len -= (size_t)(colon + 1 - name);
			name = colon + 1;
		}
		if (name_len != strlen(node->name) || strncmp(name, node->name, name_len))
			FAIL("'%s' -> '%s': segment %zu is not %s", uri, xpath, seg, node->name);
		if (b + (size_t)(name + name_len - p) + 1 >= bare_size)
			FAIL("'%s' -> '%s': longer than the output", uri, xpath);
		memcpy(bare + b, p, (size_t)(name + name_len - p));
		b += (size_t)(name + name_len - p);
		p = name + name_len;
		key = node->nodetype == LYS_LIST ? lysc_node_child(node) : NULL;
		while (*p == '[') {
			const char *k = p + 1, *eq = strchr(k, '='), *end;
			char q;

			if (!eq || (eq[1] != '\'' && eq[1] != '"'))
				FAIL("'%s' -> '%s': bad predicate", uri, xpath);
			q = eq[1];
			end = strchr(eq + 2, q);
			if (!end || end[1] != ']')
				FAIL("'%s' -> '%s': bad predicate", uri, xpath);
			if (node->nodetype == LYS_LEAFLIST) {
				if (preds || eq - k != 1 || *k != '.')
					FAIL("'%s' -> '%s': bad leaf-list predicate", uri, xpath);
			} else if (node->nodetype == LYS_LIST) {
				if (!key || !(key->flags & LYS_KEY) ||
				    (size_t)(eq - k) != strlen(key->name) ||
				    strncmp(k, key->name, (size_t)(eq - k)))
					FAIL("'%s' -> '%s': predicate %zu is not the list's key",
					     uri, xpath, preds);
				key = key->next;
			} else {
				FAIL("'%s' -> '%s': a predicate on %s", uri, xpath, node->name);
			}
			preds++;
			p = end + 2;
		}
		if (node->nodetype == LYS_LIST && preds && key && (key->flags & LYS_KEY))
			FAIL("'%s' -> '%s': a key of %s is missing", uri, xpath, node->name);
		if (node->nodetype == LYS_LIST && !preds && seg + 1 != depth)
			FAIL("'%s' -> '%s': list %s without keys in the middle", uri, xpath,
			     node->name);
		seg++;
	}
	if (seg != depth)
		FAIL("'%s' -> '%s': %zu segments for a node %zu deep", uri, xpath, seg, depth);
	bare[b] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char uri[2048], out[1024], small[1024], bare[1100];
	const struct lysc_node *snode = NULL, *snode2 = NULL;
	struct cn_error err = {0}, err2 = {0};
	size_t room;
	int rc, rc2;

	if (size < 1 || size > sizeof(uri))
		return -1;
	room = 1 + (size_t)data[0] * 4;
	memcpy(uri, data + 1, size - 1);
	uri[size - 1] = '\0'; /* a URL is a C string: it ends at a NUL */

	check_unescape(uri, strlen(uri), room < 300 ? room : 300);

	rc = restconf_path_to_xpath(ds.ctx, uri, out, sizeof(out), &snode, &err);
	if (rc) {
		if (err.tag != CN_ERR_MALFORMED && err.tag != CN_ERR_DATA_MISSING &&
		    err.tag != CN_ERR_TOO_BIG)
			FAIL("'%s': refused with %s (%d)", uri, cn_err_tag_name(err.tag),
			     cn_err_status(err.tag));
	} else if (!uri[0]) {
		if (out[0] || snode)
			FAIL("the root gave '%s'", out);
	} else {
		if (!snode)
			FAIL("'%s' -> '%s' with no schema node", uri, out);
		check_segments(uri, out, snode, bare, sizeof(bare));
		if (lys_find_path(ds.ctx, NULL, bare, 0) != snode)
			FAIL("'%s' -> '%s': libyang finds another node at '%s'", uri, out, bare);
	}
	ly_err_clean(ds.ctx, NULL);

	/* The same in less room: the same answer, or refused for want of it. */
	rc2 = restconf_path_to_xpath(ds.ctx, uri, small, room, &snode2, &err2);
	if (rc && !rc2)
		FAIL("'%s': refused in %zu bytes, taken in %zu", uri, sizeof(out), room);
	if (!rc && strlen(out) < room && (rc2 || strcmp(out, small) || snode != snode2))
		FAIL("'%s': '%s' in %zu bytes, not in %zu", uri, out, sizeof(out), room);
	if (!rc && strlen(out) >= room && !rc2)
		FAIL("'%s': '%s' does not fit %zu bytes, but '%s' was given", uri, out, room,
		     small);
	ly_err_clean(ds.ctx, NULL);
	return 0;
}
