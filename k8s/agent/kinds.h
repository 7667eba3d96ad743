/* SPDX-License-Identifier: Apache-2.0 */
/* The kinds of object the agent reads, the watch event types, and the
 * problems that keep (part of) an object from being written: the labels of
 * its metrics and log lines. */
#ifndef CUBENET_AGENT_KINDS_H
#define CUBENET_AGENT_KINDS_H

enum kind { KIND_SERVICE, KIND_SLICE, KIND_NODE, KIND_COUNT };

static const char *const kind_names[KIND_COUNT] = {"Service", "EndpointSlice", "Node"};

enum event_type { EV_ADDED, EV_MODIFIED, EV_DELETED, EV_BOOKMARK, EV_ERROR, EV_COUNT };

static const char *const event_names[EV_COUNT] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK",
						  "ERROR"};

/* Why a call to the API server did not give what was asked. */
enum api_error { APIERR_CONNECT, APIERR_HTTP, APIERR_EXPIRED, APIERR_DECODE, APIERR_COUNT };

static const char *const api_error_names[APIERR_COUNT] = {"connect", "http", "expired", "decode"};

/* What in a Service or its EndpointSlices, or a Node as a peer, could not
 * be written. */
enum problem {
	PROBLEM_SCTP,	       /* a port of protocol SCTP: the node chain has none */
	PROBLEM_BAD_VALUE,     /* an address, port or field cubenet cannot take */
	PROBLEM_TOO_MANY,      /* more addresses or endpoints than the model holds */
	PROBLEM_SOURCE_RANGES, /* loadBalancerSourceRanges: not enforced, so not served */
	PROBLEM_ENDPOINT_PORT, /* an endpoint without one of the service's ports */
	PROBLEM_REFUSED,       /* cubenetd refused the entry */
	PROBLEM_NO_ADDRESS,    /* a Node without the InternalIP a peer needs */
	PROBLEM_NO_POD_CIDR,   /* a Node without a podCIDR: not a peer */
	PROBLEM_COUNT
};

static const char *const problem_names[PROBLEM_COUNT] = {
    [PROBLEM_SCTP] = "sctp",
    [PROBLEM_BAD_VALUE] = "bad-value",
    [PROBLEM_TOO_MANY] = "too-many",
    [PROBLEM_SOURCE_RANGES] = "load-balancer-source-ranges",
    [PROBLEM_ENDPOINT_PORT] = "endpoint-port",
    [PROBLEM_REFUSED] = "refused",
    [PROBLEM_NO_ADDRESS] = "no-internal-ip",
    [PROBLEM_NO_POD_CIDR] = "no-pod-cidr",
};

#endif
