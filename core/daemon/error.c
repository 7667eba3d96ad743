// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include "error.h"

int cn_fail(struct cn_error *err, enum cn_err_tag tag, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->tag != CN_OK)
		return -1;
	err->tag = tag;
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

int cn_err_status(enum cn_err_tag tag)
{
	switch (tag) {
	case CN_OK:
		return 200;
	case CN_ERR_DATA_MISSING:
		return 404;
	case CN_ERR_DATA_EXISTS:
		return 409;
	case CN_ERR_NOT_ALLOWED:
		return 405;
	case CN_ERR_TOO_BIG:
		return 413;
	case CN_ERR_BAD_MEDIA_TYPE:
		return 415;
	case CN_ERR_NOT_ACCEPTABLE:
		return 406;
	case CN_ERR_ACCESS_DENIED:
		return 401;
	case CN_ERR_NO_SPACE:
		return 507;
	case CN_ERR_OPERATION_FAILED:
		return 500;
	default:
		return 400;
	}
}

const char *cn_err_tag_name(enum cn_err_tag tag)
{
	switch (tag) {
	case CN_ERR_INVALID_VALUE:
	case CN_ERR_BAD_MEDIA_TYPE:
	case CN_ERR_NOT_ACCEPTABLE:
		return "invalid-value";
	case CN_ERR_MALFORMED:
		return "malformed-message";
	case CN_ERR_MISSING_ELEMENT:
		return "missing-element";
	case CN_ERR_UNKNOWN_ELEMENT:
		return "unknown-element";
	case CN_ERR_DATA_MISSING:
		return "data-missing";
	case CN_ERR_DATA_EXISTS:
		return "data-exists";
	case CN_ERR_NOT_ALLOWED:
		return "operation-not-supported";
	case CN_ERR_TOO_BIG:
		return "too-big";
	case CN_ERR_ACCESS_DENIED:
		return "access-denied";
	case CN_ERR_NO_SPACE:
		return "resource-denied";
	default:
		return "operation-failed";
	}
}
