/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cubenet CNI plugin: what its parts share. The runtime's call (env and
 * stdin), the network config, the IPAM result, and errors as values that
 * become the spec's error JSON at the edge (main.c).
 */
#ifndef CUBENET_CNI_H
#define CUBENET_CNI_H

#include <stdint.h>
#include <jansson.h>

/* Error codes of the CNI spec (1.1, "Error codes"). */
enum cni_code {
	CNI_OK = 0,
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,	   /* STATUS: cannot serve ADD now */
	CNI_ERR_LIMITED_CONNECTIVITY = 51, /* STATUS */
};

struct cni_error {
	int code; /* enum cni_code; 0: none */
	char msg[256];
	char details[768];
};

int cni_fail(struct cni_error *err, int code, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define CNI_MAX_IPS   4
#define CNI_MAX_PORTS 32

struct cni_ip {
	int family;	  /* 4 or 6 */
	char address[64]; /* "10.244.0.5/24" */
	char gateway[48]; /* "" if none */
};

struct cni_port_mapping {
	int host_port, container_port;
	char protocol[8], host_ip[48];
};

/* One call, as the runtime made it. */
struct cni_call {
	const char *command, *container_id, *netns, *ifname, *path;
	char pod_namespace[256], pod_name[256], pod_uid[64];
	json_t *conf;	     /* stdin, parsed */
	const char *version; /* the config's cniVersion */
	const char *network; /* its name */
	const char *socket;  /* cubenetd's unix socket */
	int mtu;
	struct cni_port_mapping ports[CNI_MAX_PORTS];
	size_t n_ports;
};

/* The IPAM plugin's answer. */
struct cni_ipam {
	struct cni_ip ips[CNI_MAX_IPS];
	size_t n_ips;
	json_t *routes; /* [{"dst": ..., "gw": ...}] as IPAM gave them */
	json_t *dns;
};

/* config.c: env + stdin -> call; checks versions and required fields. */
int cni_read_call(struct cni_call *call, const char *stdin_text, struct cni_error *err);
int cni_version_at_least(const char *version, const char *least);
extern const char *const cni_supported_versions[];

/* ipam.c: run the IPAM plugin named in the config for this command. */
int cni_ipam_exec(const struct cni_call *call, const char *command, struct cni_ipam *out,
		  struct cni_error *err);
void cni_ipam_free(struct cni_ipam *ipam);

/* link.c: the pod's veth, its addresses and routes. */
void cni_host_ifname(const struct cni_call *call, char out[16]);
int cni_link_add(const struct cni_call *call, const struct cni_ipam *ipam, char host_mac[18],
		 char pod_mac[18], struct cni_error *err);
/* Removes the host side (and so the pair); no error if it is gone. */
int cni_link_del(const struct cni_call *call, struct cni_error *err);
int cni_link_check(const struct cni_call *call, const json_t *prev, struct cni_error *err);

/* registry.c: the pod's entry in cubenetd (cubenet-pods). */
int cni_register(const struct cni_call *call, const struct cni_ipam *ipam, const char *pod_mac,
		 struct cni_error *err);
int cni_unregister(const struct cni_call *call, struct cni_error *err);
int cni_registry_check(const struct cni_call *call, const json_t *prev, struct cni_error *err);
/* Entries of this network, as (container-id, interface) pairs. */
json_t *cni_registry_list(const struct cni_call *call, struct cni_error *err);
int cni_registry_ready(const struct cni_call *call, struct cni_error *err);

/* result.c: the result JSON in the call's version. */
json_t *cni_result(const struct cni_call *call, const struct cni_ipam *ipam, const char *host_mac,
		   const char *pod_mac);

#endif
