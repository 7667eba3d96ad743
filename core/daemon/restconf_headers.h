/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the request headers the RESTCONF edge decides on before it reads
 * a byte of body: the bearer token (RFC 6750), the body's media type and
 * what the client accepts back (RFC 7231 5.3.2, 3.1.1.1).
 */
#ifndef CUBENETD_RESTCONF_HEADERS_H
#define CUBENETD_RESTCONF_HEADERS_H

/* Authorization is "Bearer <want>": the scheme in any case, the token
 * compared in time that depends on want's length alone. */
int restconf_bearer_ok(const char *authorization, const char *want);

/* A Content-Type value names type exactly (case-insensitive), with or
 * without parameters. */
int restconf_media_is(const char *value, const char *type);

/* An Accept value (NULL: absent) admits one of types, a NULL-terminated
 * list: the most specific matching range decides, and q=0 refuses. */
int restconf_accepts(const char *accept, const char *const *types);

#endif
