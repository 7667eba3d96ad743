/* SPDX-License-Identifier: Apache-2.0 */
/* Answers of the RESTCONF edge: bodies, headers and the errors body. */
#ifndef CUBENETD_RESTCONF_REPLY_H
#define CUBENETD_RESTCONF_REPLY_H

#include <stddef.h>
#include <microhttpd.h>
#include "error.h"

#define MEDIA_JSON  "application/yang-data+json"
#define DATA_PREFIX "/restconf/data"

/* status with text (of type; none if NULL), and Allow and Location if given. */
enum MHD_Result restconf_reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			       const char *text, const char *allow, const char *location);
/* RFC 8040 7.1: err as an ietf-restconf:errors body with its status; a 405
 * carries allow (RFC 7231 6.5.5). */
enum MHD_Result restconf_reply_error(struct MHD_Connection *conn, const struct cn_error *err,
				     const char *allow);
enum MHD_Result restconf_reply_fail(struct MHD_Connection *conn, enum cn_err_tag tag,
				    const char *path, const char *msg, const char *allow);
/* 401 with the challenge of RFC 6750 3. */
enum MHD_Result restconf_reply_unauthorized(struct MHD_Connection *conn, int had_credentials);

/* What this thread answered last: its status and, for an error, its tag
 * and message (for the log line of the request). */
struct restconf_outcome {
	unsigned int status;
	char error[1600]; /* tag, message and path */
};
const struct restconf_outcome *restconf_last_outcome(void);

/* "/cubenet-core:cubes/cube[name='r0']" -> "/restconf/data/cubenet-core:cubes/cube=r0" */
void restconf_location(const char *xpath, char *out, size_t size);

#endif
