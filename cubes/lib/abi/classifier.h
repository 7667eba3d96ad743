/* SPDX-License-Identifier: Apache-2.0 */
/* Classifier cube: (VIP, port, protocol[, VLAN]) -> service id. */
#ifndef CUBENET_ABI_CLASSIFIER_H
#define CUBENET_ABI_CLASSIFIER_H

#include <linux/types.h>
#include "addr.h"

/* Port slots. */
#define CLASSIFIER_PORT_HIT  0 /* a service matched; meta.service_id is set */
#define CLASSIFIER_PORT_MISS 1 /* used when the miss verdict is "port" */

struct classifier_key {
	union cube_addr vip;
	__be16 port;   /* 0: every port of this VIP (and IP fragments) */
	__u8 proto;    /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 family;   /* CUBE_AF_INET or CUBE_AF_INET6 */
	__u16 vlan_id; /* 0: any VLAN */
	__u16 pad;
};

struct classifier_value {
	__u32 service_id;
	__u32 flags; /* enum classifier_value_flags */
};

enum classifier_value_flags {
	/* A frontend for clients from outside the cluster (a node port, an
	 * external or load-balancer IP): the classifier sets
	 * CUBE_META_F_EXTERNAL. */
	CLASSIFIER_F_EXTERNAL = 1 << 0,
};

/* What an unmatched packet gets; the const volatile "classifier_miss". */
enum classifier_miss_verdict {
	CLASSIFIER_MISS_PASS = 0, /* to the kernel stack untouched */
	CLASSIFIER_MISS_PORT,	  /* out of CLASSIFIER_PORT_MISS */
	CLASSIFIER_MISS_DROP,	  /* counted as CUBE_DROP_CLASSIFIER_MISS */
};

/* Slot 0 of "classifier_cfg": which wider lookups can match at all, kept up
 * to date by userspace so a miss costs one lookup when none can. */
enum classifier_cfg_flags {
	CLASSIFIER_CFG_VLAN_KEYS = 1 << 0,     /* some key has a vlan_id */
	CLASSIFIER_CFG_WILDCARD_PORT = 1 << 1, /* some key has port 0 */
};

struct classifier_cfg {
	__u32 flags;
};

#endif
