/* SPDX-License-Identifier: Apache-2.0 */
/* A libcurl handle for one request to the API server: URL, verified TLS,
 * credentials, JSON. */
#ifndef CUBENET_AGENT_KUBE_REQUEST_H
#define CUBENET_AGENT_KUBE_REQUEST_H

#include <curl/curl.h>
#include "kubeconfig.h"

/* A GET of path ("/api/v1/..." with its query) on a new handle; *headers
 * is for the caller to free after the transfer. NULL when libcurl fails. */
CURL *kube_request(struct kube_config *kc, const char *path, struct curl_slist **headers);

#endif
