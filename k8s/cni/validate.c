// SPDX-License-Identifier: Apache-2.0
/* What the spec lets a runtime send, checked before anything is made: text
 * that can go into JSON, container ids, interface, network and plugin
 * names. Each check says what is wrong, or NULL when nothing is. */
#include <ctype.h>
#include <string.h>
#include "cni.h"

/* The length of the well-formed UTF-8 sequence at p (as JSON and libyang
 * take it: no overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	size_t n;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void cni_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);

		if (n) {
			p += n;
		} else {
			*p++ = '?';
		}
	}
}

const char *cni_text_problem(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_seq(p);

		if (!n)
			return "is not UTF-8";
		/* libyang refuses them, and no runtime sends them. */
		if (*p < 0x20 || *p == 0x7f)
			return "holds a control character";
		/* Nor are U+FFFE and U+FFFF characters of a YANG string (XML's
		 * Char): cubenetd would refuse the pod after it was made. */
		if (n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe)
			return "holds U+FFFE or U+FFFF, which are no characters";
		p += n;
	}
	return NULL;
}

/* One alphanumeric, then alphanumerics, '_', '.' or '-' (spec 1.1, for
 * container ids and network names alike). */
static int spec_identifier(const char *s)
{
	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return 0;
	return 1;
}

const char *cni_container_id_problem(const char *id)
{
	return spec_identifier(id)
		   ? NULL
		   : "must be an alphanumeric followed by alphanumerics, '_', '.' or '-'";
}

const char *cni_ifname_problem(const char *name)
{
	const char *text = cni_text_problem(name);

	if (text)
		return text;
	if (!*name)
		return "is empty";
	if (strlen(name) > 15)
		return "is longer than 15 bytes";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "is . or ..";
	for (const char *p = name; *p; p++) {
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return "holds '/', ':' or whitespace";
		/* The kernel takes '"'; cubenetd's API cannot key a pod on it. */
		if (*p == '"')
			return "holds '\"' (cubenet's netdev-name type refuses it)";
	}
	return NULL;
}

const char *cni_network_name_problem(const char *name)
{
	return spec_identifier(name)
		   ? NULL
		   : "must be an alphanumeric followed by alphanumerics, '_', '.' or '-'";
}

const char *cni_plugin_name_problem(const char *type)
{
	if (!*type || !strcmp(type, ".") || !strcmp(type, ".."))
		return "is not a file name";
	if (strchr(type, '/') || strchr(type, '\\'))
		return "holds a path separator";
	return cni_text_problem(type);
}
