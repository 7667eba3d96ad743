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

/* Records the first error; msg and details are made valid UTF-8, since
 * they quote what the runtime sent. Returns -1. */
int cni_fail(struct cni_error *err, int code, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define CNI_STR_(x) #x
#define CNI_STR(x)  CNI_STR_(x)

/* The longest container id cubenetd keeps: the container-id key of
 * cubenet-pods (services/pods/cubenet-pods.yang). */
#define CNI_MAX_CONTAINER_ID 128
/* Stdin beyond this is refused: a GC's list of every attachment on a node
 * is far smaller. */
#define CNI_MAX_CONFIG	     (4 << 20)

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
	const char *args;    /* CNI_ARGS if well-formed, else NULL */
	int netns_fd;	     /* ADD, CHECK: CNI_NETNS, opened and checked; else -1 */
	int never_attached;  /* DEL: an attachment ADD refuses, so nothing to remove */
	const json_t *valid; /* GC: cni.dev/valid-attachments, checked */
	char pod_namespace[64], pod_name[256], pod_uid[64];
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

/* config.c: env + stdin -> call; checks everything the command uses.
 * cni_parse_call checks all but CNI_NETNS being a network namespace, which
 * cni_read_call opens too (ADD, CHECK). */
int cni_read_call(struct cni_call *call, const char *stdin_text, size_t len, struct cni_error *err);
int cni_parse_call(struct cni_call *call, const char *stdin_text, size_t len,
		   struct cni_error *err);
void cni_call_free(struct cni_call *call);
int cni_version_at_least(const char *version, const char *least);
extern const char *const cni_supported_versions[];

/* validate.c: NULL, or what is wrong with a value the runtime sent. */
const char *cni_text_problem(const char *s);
const char *cni_container_id_problem(const char *id);
const char *cni_ifname_problem(const char *name);
const char *cni_network_name_problem(const char *name);
const char *cni_plugin_name_problem(const char *type);
/* Replaces each byte that is not part of well-formed UTF-8 with '?'. */
void cni_utf8_clean(char *s);

/* lock.c: the attachment's lock, held for one ADD, CHECK or DEL. */
int cni_lock(const struct cni_call *call, struct cni_error *err);
void cni_unlock(const struct cni_call *call, int fd);

/* ipam.c: run the IPAM plugin named in the config for this command. */
int cni_ipam_exec(const struct cni_call *call, const char *command, struct cni_ipam *out,
		  struct cni_error *err);
/* What the plugin of that type answered to command (its stdout, that parsed
 * or NULL, and its wait status): 0, with ADD's addresses, routes and DNS in
 * out if not NULL; or -1 with err set. */
int cni_ipam_answer(const char *type, const char *command, const json_t *result, const char *output,
		    int status, struct cni_ipam *out, struct cni_error *err);
/* 1 if the IPAM plugin speaks version, 0 if not, -1 (err set) if it cannot run. */
int cni_ipam_speaks(const struct cni_call *call, const char *version, struct cni_error *err);
void cni_ipam_free(struct cni_ipam *ipam);

/* link.c: the pod's veth, its addresses and routes. */
void cni_host_ifname(const struct cni_call *call, char out[16]);
/* CNI_NETNS opened, if it is a network namespace other than the node's. */
int cni_open_netns(const char *path, struct cni_error *err);
int cni_link_exists(const struct cni_call *call);
int cni_link_add(const struct cni_call *call, const struct cni_ipam *ipam, char host_mac[18],
		 char pod_mac[18], struct cni_error *err);
/* Removes the host side (and so the pair); no error if it is gone. */
int cni_link_del(const struct cni_call *call, struct cni_error *err);
int cni_link_check(const struct cni_call *call, const json_t *prev, struct cni_error *err);

/* registry.c: the pod's entry in cubenetd (cubenet-pods): its RESTCONF
 * path and the body of the PUT that registers it. */
void cni_registry_path(const struct cni_call *call, char *out, size_t size);
json_t *cni_registry_body(const struct cni_call *call, const struct cni_ipam *ipam,
			  const char *pod_mac);
int cni_register(const struct cni_call *call, const struct cni_ipam *ipam, const char *pod_mac,
		 struct cni_error *err);
int cni_unregister(const struct cni_call *call, struct cni_error *err);
int cni_registry_check(const struct cni_call *call, const json_t *prev, struct cni_error *err);
/* Entries of this network, as (container-id, interface) pairs. */
json_t *cni_registry_list(const struct cni_call *call, struct cni_error *err);
int cni_registry_ready(const struct cni_call *call, struct cni_error *err);

/* result.c: the result JSON in the call's version, and the shape of the
 * results the plugin is given (IPAM's, prevResult): "ips" and "routes" hold
 * addresses that parse, "dns" is an object. what names the source. */
json_t *cni_result(const struct cni_call *call, const struct cni_ipam *ipam, const char *host_mac,
		   const char *pod_mac);
int cni_result_shape(const json_t *result, const char *what, int code, struct cni_error *err);
/* What makes an IPAM address and its gateway unfit for a pod (one that
 * no node routes, a gateway that is not another address on the pod's
 * prefix), or NULL; *which names the member at fault. */
const char *cni_ip_problem(const struct cni_ip *ip, const char **which);
/* 4 or 6 for an address (with /prefix if cidr), 0 if it is none. */
int cni_address_family(const char *s, int cidr);
/* The address of text (its "/prefix" cut, *plen set from it if asked) as
 * 4 or 16 bytes; its size, or 0. */
size_t cni_address_bytes(const char *text, unsigned char out[16], int *plen);

#endif
