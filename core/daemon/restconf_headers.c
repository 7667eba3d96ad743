// SPDX-License-Identifier: Apache-2.0
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "restconf_headers.h"

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int restconf_bearer_ok(const char *authorization, const char *want)
{
	static const char scheme[] = "bearer";
	const char *token;
	size_t have, need = strlen(want);
	unsigned char diff;

	if (!authorization || strncasecmp(authorization, scheme, sizeof(scheme) - 1) ||
	    authorization[sizeof(scheme) - 1] != ' ')
		return 0;
	token = authorization + sizeof(scheme);
	while (*token == ' ')
		token++;
	have = strlen(token);
	/* Every byte of want is looked at, whatever the client sent. */
	diff = have != need;
	for (size_t i = 0; i < need; i++)
		diff |= (unsigned char)(want[i] ^ (i < have ? token[i] : 0));
	return !diff;
}

/* Length of the "type/subtype" token at s. */
static size_t media_len(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && *p != ';' && *p != ',' && !is_ows(*p))
		p++;
	return (size_t)(p - s);
}

int restconf_media_is(const char *value, const char *type)
{
	size_t n = strlen(type);
	const char *p;

	if (!value || strncasecmp(value, type, n))
		return 0;
	for (p = value + n; is_ows(*p); p++)
		;
	return *p == '\0' || *p == ';';
}

/* q=0, 0., 0.0, 0.00 or 0.000: "not acceptable" (RFC 7231 5.3.1). */
static int q_is_zero(const char *v, const char *end)
{
	if (v >= end || *v++ != '0')
		return 0;
	if (v < end && *v == '.')
		for (v++; v < end && *v == '0'; v++)
			;
	return v == end || *v == ';' || is_ows(*v);
}

/* How specifically [range, range+len) matches type: 3 exact, 2 "type/x" by
 * "type/\*", 1 by "\*\/\*", 0 not at all. */
static int match_level(const char *range, size_t len, const char *type)
{
	const char *slash = strchr(type, '/');
	size_t major = slash ? (size_t)(slash - type) : 0;

	if (len == strlen(type) && !strncasecmp(range, type, len))
		return 3;
	if (slash && len == major + 2 && !strncasecmp(range, type, major + 1) &&
	    range[major + 1] == '*')
		return 2;
	return len == 3 && !strncmp(range, "*/*", 3);
}

static int accepts_one(const char *accept, const char *type)
{
	int best = 0, refused = 0;

	for (const char *p = accept; *p;) {
		const char *end = strchr(p, ','), *params;
		size_t len;
		int level, zero = 0;

		if (!end)
			end = p + strlen(p);
		while (p < end && is_ows(*p))
			p++;
		len = media_len(p, end);
		level = match_level(p, len, type);
		for (params = p + len; params < end; params++) {
			if (*params != ';')
				continue;
			for (params++; params < end && is_ows(*params); params++)
				;
			if (end - params >= 2 && (*params == 'q' || *params == 'Q') &&
			    params[1] == '=')
				zero = q_is_zero(params + 2, end);
		}
		if (level > best) {
			best = level;
			refused = zero;
		}
		p = *end ? end + 1 : end;
	}
	return best && !refused;
}

int restconf_accepts(const char *accept, const char *const *types)
{
	const char *p = accept;

	while (p && is_ows(*p))
		p++;
	if (!p || !*p)
		return 1; /* no preference */
	for (; *types; types++)
		if (accepts_one(accept, *types))
			return 1;
	return 0;
}
