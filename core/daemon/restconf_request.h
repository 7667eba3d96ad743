/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A request as the RESTCONF edge sees it, and the decision on it taken when
 * its headers are complete, before any of its body is read: which resource,
 * whether the client may ask (token, method, query, media types), and so
 * what to keep of the body.
 */
#ifndef CUBENETD_RESTCONF_REQUEST_H
#define CUBENETD_RESTCONF_REQUEST_H

#include <microhttpd.h>
#include "restconf.h"

#define OPS_PREFIX  "/restconf/operations/"
#define YANG_PREFIX "/restconf/yang/"

enum route {
	ROUTE_NONE,
	ROUTE_ROOT,	    /* /restconf */
	ROUTE_DATA,	    /* /restconf/data[/...] */
	ROUTE_YANG_LIBRARY, /* /restconf/data/ietf-yang-library:... */
	ROUTE_MODULE,	    /* /restconf/yang/<module>[@<revision>] */
	ROUTE_OPERATIONS,   /* /restconf/operations */
	ROUTE_OPERATION,    /* /restconf/operations/<module:rpc> */
	ROUTE_METRICS,	    /* /metrics */
	ROUTE_HOST_META,    /* /.well-known/host-meta */
};

struct restconf_request {
	enum route route;
	struct cn_error refusal; /* set: answer this, whatever the body */
	int options;		 /* an OPTIONS request: answer with allow */
	const char *allow;	 /* the methods the resource takes */
	char xpath[1024];	 /* ROUTE_DATA: the target ("" = the datastore) */
	char uri[1024];		 /* ROUTE_DATA: the resource as after /restconf/data */
	const struct lysc_node *snode;
	int content, depth; /* GET's query parameters */
	int takes_body;	    /* the body is kept, up to RESTCONF_MAX_BODY */
	int yang_patch;	    /* a PATCH whose body is a YANG Patch */
	char *body;
	size_t len, size; /* kept, allocated */
	int too_big;
	struct timespec started; /* when its headers were in, for the log */
};

int restconf_is_read(const char *method);

/*
 * The headers are complete. A client without the token is answered now
 * (-1, *rc set): MHD then closes the connection with none of the body read.
 * So is a refused request whose client waits for "100 Continue" before
 * sending its body. Otherwise 0: a refused request (req->refusal set) keeps
 * none of its body but is answered at its end, as a client still sending
 * would miss an earlier answer.
 */
int restconf_admit(struct restconf_server *srv, struct MHD_Connection *conn, const char *url,
		   const char *method, const char *version, struct restconf_request *req,
		   enum MHD_Result *rc);

/* The body is one JSON document and nothing else: no trailing bytes, no
 * second document, no NUL, no member named twice, UTF-8 throughout. */
int restconf_check_body(const struct restconf_request *req, struct cn_error *err);

#endif
