/* SPDX-License-Identifier: Apache-2.0 */
/* RESTCONF operations (RFC 8040 3.6): the daemon's RPCs and what runs them. */
#ifndef CUBENETD_OPERATIONS_H
#define CUBENETD_OPERATIONS_H

#include "datastore.h"
#include "runtime.h"

/* The operations resource: {"ietf-restconf:operations": {...}}. Caller frees. */
char *operations_list(void);

/*
 * Invoke "module:rpc" with a RESTCONF input body ({"module:input": {...}},
 * or empty). On success *output is the RESTCONF output body, or NULL when
 * the operation returns nothing (204). 0 or -1 with err set.
 */
int operations_invoke(struct datastore *ds, struct runtime *rt, const char *name, const char *body,
		      char **output, struct cn_error *err);

#endif
