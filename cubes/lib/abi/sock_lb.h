/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The socket-level balancer (sock_lb.bpf.c): cgroup programs that give the
 * node's own sockets the node chain's services at connect (and send) time,
 * on the chain's classifier, maglev and nat maps, plus maps of their own.
 */
#ifndef CUBENET_ABI_SOCK_LB_H
#define CUBENET_ABI_SOCK_LB_H

#include <linux/types.h>
#include "addr.h"

/* "sock_lb_node", one entry: what the node is, for the programs. */
struct sock_lb_node {
	/* The node's address: the frontend of its NodePorts (a NodePort on a
	 * loopback or other local address is looked up on it), and the client
	 * address a socket with no source yet is given for affinity. */
	union cube_addr addr;
	__u32 have_addr;
	__u32 pad;
};

/* "sock_lb_local": the node's local addresses (besides loopback), on which
 * its NodePorts are served too. Value: unused (1). */
struct sock_lb_local_key {
	union cube_addr addr;
	__u32 family; /* CUBE_AF_INET or CUBE_AF_INET6 */
};

/* "sock_lb_reverse": per socket and endpoint, the frontend the socket asked
 * for, so replies (recvmsg) and getpeername show the frontend. */
struct sock_lb_reverse_key {
	__u64 cookie; /* the socket's */
	union cube_addr addr;
	__be16 port;
	__u8 family;
	__u8 pad[5];
};

struct sock_lb_reverse {
	union cube_addr addr;
	__be16 port;
	__u8 family;
	__u8 pad[5];
};

#define SOCK_LB_REVERSE_ENTRIES (1u << 16)
#define SOCK_LB_LOCAL_ENTRIES	256

#endif
