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

/* An address and port as a socket names them. */
struct sock_lb_addr {
	union cube_addr addr;
	__be16 port;
	__u8 family; /* CUBE_AF_INET (an IPv4-mapped address too) or CUBE_AF_INET6 */
	__u8 pad[5];
};

/* "sock_lb_reverse": per socket and endpoint, the frontend the socket asked
 * for (a struct sock_lb_addr), so replies (recvmsg) and getpeername show
 * the frontend. */
struct sock_lb_reverse_key {
	__u64 cookie; /* the socket's */
	struct sock_lb_addr to;
};

/* "sock_lb_gone": the endpoints (struct sock_lb_addr, value unused) whose
 * connected UDP sockets sock_lb_udp_reap destroys, filled by userspace for
 * one run of the iterator: a UDP flow has no end, so a socket connected to
 * an endpoint a service no longer has would stay on it (the chain forgets
 * such flows likewise, core/nat_flush.c). */
#define SOCK_LB_GONE_ENTRIES 4096

#define SOCK_LB_REVERSE_ENTRIES (1u << 16)
#define SOCK_LB_LOCAL_ENTRIES	256

#endif
