/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors as values: every layer of the daemon fills one of these and
 * returns; only the RESTCONF edge turns it into a status and an
 * ietf-restconf:errors body.
 */
#ifndef CUBENETD_ERROR_H
#define CUBENETD_ERROR_H

#include <stdarg.h>

/* RFC 8040 section 7 error-tag values we use, with their status. */
enum cn_err_tag {
	CN_OK = 0,
	CN_ERR_INVALID_VALUE,	 /* 400 */
	CN_ERR_MALFORMED,	 /* 400 malformed-message */
	CN_ERR_MISSING_ELEMENT,	 /* 400 */
	CN_ERR_UNKNOWN_ELEMENT,	 /* 400 */
	CN_ERR_DATA_MISSING,	 /* 404 */
	CN_ERR_DATA_EXISTS,	 /* 409 */
	CN_ERR_NOT_ALLOWED,	 /* 405 operation-not-supported */
	CN_ERR_TOO_BIG,		 /* 413 */
	CN_ERR_BAD_MEDIA_TYPE,	 /* 415 invalid-value: a body we cannot read */
	CN_ERR_NOT_ACCEPTABLE,	 /* 406 invalid-value: no answer the client takes */
	CN_ERR_ACCESS_DENIED,	 /* 401 */
	CN_ERR_NO_SPACE,	 /* 507 resource-denied: the state dir is full */
	CN_ERR_OPERATION_FAILED, /* 500: the system, never the request */
};

struct cn_error {
	enum cn_err_tag tag;
	char path[512];
	char message[512];
};

/* Set err (if no error is set yet) and return -1. */
int cn_fail(struct cn_error *err, enum cn_err_tag tag, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cn_err_status(enum cn_err_tag tag);
const char *cn_err_tag_name(enum cn_err_tag tag);

#endif
