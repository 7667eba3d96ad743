/* SPDX-License-Identifier: Apache-2.0 */
/* YANG Patch (RFC 8072) on a data resource: several edits, one transaction. */
#ifndef CUBENETD_RESTCONF_PATCH_H
#define CUBENETD_RESTCONF_PATCH_H

#include <microhttpd.h>
#include "restconf.h"
#include "restconf_request.h"

#define MEDIA_YANG_PATCH	"application/yang-patch+json"
#define MEDIA_YANG_PATCH_STATUS "application/yang-data+json"

/* uri: the resource, as after "/restconf/data" ("" or "/module:node..."). */
enum MHD_Result restconf_yang_patch(struct restconf_server *srv, struct MHD_Connection *conn,
				    const char *uri, const struct restconf_request *req);

#endif
