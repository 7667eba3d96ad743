// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "restconf_path.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 if it is not
 * one: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int restconf_unescape(const char *s, size_t len, char *out, size_t out_size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (len - i < 3)
				return -1;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);

			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || o + 1 >= out_size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	for (size_t i = 0, n; i < o; i += n) {
		n = utf8_len((const unsigned char *)out + i, o - i);
		if (!n)
			return -1;
	}
	return 0;
}

/* Append "[key='value']" with quotes the value does not contain. */
static int append_pred(char *out, size_t out_size, size_t *pos, const char *key, const char *value)
{
	char q = strchr(value, '\'') ? '"' : '\'';
	int n;

	if (q == '"' && strchr(value, '"'))
		return -1; /* cannot be quoted in an XPath 1.0 literal */
	n = snprintf(out + *pos, out_size - *pos, "[%s=%c%s%c]", key, q, value, q);
	if (n < 0 || (size_t)n >= out_size - *pos)
		return -1;
	*pos += (size_t)n;
	return 0;
}

int restconf_path_to_xpath(const struct ly_ctx *ctx, const char *uri, char *out, size_t out_size,
			   const struct lysc_node **snode, struct cn_error *err)
{
	const struct lysc_node *parent = NULL, *node = NULL;
	const struct lys_module *mod = NULL;
	const char *seg = uri;
	size_t pos = 0;

	out[0] = '\0';
	*snode = NULL;
	while (*seg) {
		const char *end = strchr(seg, '/'), *eq, *colon;
		size_t seg_len = end ? (size_t)(end - seg) : strlen(seg);
		char ident[128], modname[128], name[128];
		int n;

		eq = memchr(seg, '=', seg_len);
		if (restconf_unescape(seg, eq ? (size_t)(eq - seg) : seg_len, ident,
				      sizeof(ident)) ||
		    !ident[0])
			return cn_fail(err, CN_ERR_MALFORMED, uri, "bad path segment in '%s'", uri);
		colon = strchr(ident, ':');
		if (colon) {
			snprintf(modname, sizeof(modname), "%.*s", (int)(colon - ident), ident);
			snprintf(name, sizeof(name), "%s", colon + 1);
			mod = ly_ctx_get_module_implemented(ctx, modname);
			if (!mod)
				return cn_fail(err, CN_ERR_DATA_MISSING, uri, "unknown module '%s'",
					       modname);
		} else {
			if (!mod)
				return cn_fail(err, CN_ERR_MALFORMED, uri,
					       "the first path segment must name its module "
					       "('module:node')");
			snprintf(name, sizeof(name), "%s", ident);
		}
		node = lys_find_child(parent, mod, name, 0, 0, 0);
		if (!node || (node->nodetype & (LYS_RPC | LYS_ACTION | LYS_NOTIF)))
			return cn_fail(err, CN_ERR_DATA_MISSING, uri, "no data node '%s' here",
				       ident);
		n = snprintf(out + pos, out_size - pos, "/%s%s%s", colon ? mod->name : "",
			     colon ? ":" : "", name);
		if (n < 0 || (size_t)n >= out_size - pos)
			return cn_fail(err, CN_ERR_TOO_BIG, uri, "path too long");
		pos += (size_t)n;

		if (eq) {
			/* Keys, comma separated, each percent-encoded, in key order. */
			const char *k = eq + 1, *seg_end = seg + seg_len;
			const struct lysc_node *key = NULL;

			if (node->nodetype == LYS_LIST)
				key = lysc_node_child(node);
			else if (node->nodetype != LYS_LEAFLIST)
				return cn_fail(err, CN_ERR_MALFORMED, uri,
					       "'%s' is not a list and takes no keys", name);
			for (;;) {
				const char *comma = memchr(k, ',', (size_t)(seg_end - k));
				size_t klen = comma ? (size_t)(comma - k) : (size_t)(seg_end - k);
				char value[256];

				if (restconf_unescape(k, klen, value, sizeof(value)))
					return cn_fail(err, CN_ERR_MALFORMED, uri, "bad key value");
				if (node->nodetype == LYS_LEAFLIST) {
					if (comma || append_pred(out, out_size, &pos, ".", value))
						return cn_fail(err, CN_ERR_MALFORMED, uri,
							       "bad leaf-list value");
					break;
				}
				if (!key || !(key->flags & LYS_KEY))
					return cn_fail(err, CN_ERR_MALFORMED, uri,
						       "too many keys for '%s'", name);
				if (append_pred(out, out_size, &pos, key->name, value))
					return cn_fail(err, CN_ERR_MALFORMED, uri, "bad key value");
				key = key->next;
				if (!comma)
					break;
				k = comma + 1;
			}
			if (key && (key->flags & LYS_KEY))
				return cn_fail(err, CN_ERR_MALFORMED, uri,
					       "missing key '%s' of '%s'", key->name, name);
		} else if (node->nodetype == LYS_LIST && end) {
			return cn_fail(err, CN_ERR_MALFORMED, uri,
				       "list '%s' needs its keys ('%s=...')", name, name);
		}
		parent = node;
		seg = end ? end + 1 : seg + seg_len;
		if (end && !*seg)
			return cn_fail(err, CN_ERR_MALFORMED, uri, "path ends with '/'");
	}
	*snode = node;
	return 0;
}
