/* SPDX-License-Identifier: Apache-2.0 */
/* RESTCONF data resource identifiers (RFC 8040, 3.5.3) to libyang paths:
 * "cubenet-core:cubes/cube=r0/port=1" -> "/cubenet-core:cubes/cube[name='r0']/port[id='1']". */
#ifndef CUBENETD_RESTCONF_PATH_H
#define CUBENETD_RESTCONF_PATH_H

#include <stddef.h>
#include <libyang/libyang.h>
#include "error.h"

/*
 * Percent-decode [s, s+len) into out, NUL-terminated. -1 for a bad or cut
 * escape, a NUL byte (it would cut the value short), bytes that are not
 * UTF-8, or a result that does not fit.
 */
int restconf_unescape(const char *s, size_t len, char *out, size_t out_size);

/*
 * uri: the part after "/restconf/data/", still percent-encoded; "" is the
 * datastore root (out gets ""). On success *snode is the target's schema
 * node (NULL for the root). Returns 0 or -1 with err set (400 or 404).
 */
int restconf_path_to_xpath(const struct ly_ctx *ctx, const char *uri, char *out, size_t out_size,
			   const struct lysc_node **snode, struct cn_error *err);

#endif
