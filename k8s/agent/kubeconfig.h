/* SPDX-License-Identifier: Apache-2.0 */
/* Where the API server is and who the agent is to it: in-cluster (the
 * service account's token and CA, KUBERNETES_SERVICE_HOST/PORT) or a
 * kubeconfig file (its current context, or one named; a bearer token, a
 * token file or a client certificate). The server's certificate is always
 * verified. */
#ifndef CUBENET_AGENT_KUBECONFIG_H
#define CUBENET_AGENT_KUBECONFIG_H

#include <stddef.h>
#include <time.h>

#define IN_CLUSTER_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_config {
	char *server; /* https://host:port, no trailing slash */
	/* The CA to verify the server against: a file, or PEM in memory. */
	char *ca_file, *ca_pem;
	/* Bearer token, from the config or read from token_file (re-read
	 * every minute: kubelet rotates projected tokens). */
	char *token, *token_file;
	time_t token_read;
	/* Client certificate and key: files or PEM in memory. */
	char *cert_file, *key_file, *cert_pem, *key_pem;
};

/* 0, or -1 with err set. dir: the service account directory. */
int kube_config_in_cluster(struct kube_config *kc, const char *dir, char *err, size_t errlen);
/* context NULL: the current one. */
int kube_config_load(struct kube_config *kc, const char *path, const char *context, char *err,
		     size_t errlen);
/* The token to send now (re-read from token_file when due); NULL if none. */
const char *kube_config_token(struct kube_config *kc);
void kube_config_free(struct kube_config *kc);

#endif
