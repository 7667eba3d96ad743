// SPDX-License-Identifier: Apache-2.0
/*
 * sock_lb: the node chain's services for the node's own sockets, at the
 * socket: cgroup programs that rewrite a destination that is a service
 * frontend to the endpoint Maglev picks before any packet exists, so the
 * node's packets go straight to the endpoint and need no NAT. Loaded onto
 * the node chain's maps (classifier_services, the maglev cube's rings,
 * backends and affinity, nat's targets), so the choice is the chain's:
 *
 *   connect4/6      TCP, and UDP connect
 *   sendmsg4/6      unconnected UDP, per datagram
 *   recvmsg4/6      the reply's source back to the frontend
 *   getpeername4/6  likewise for the peer a socket reports
 *   iter/udp        connected UDP sockets of endpoints gone: destroyed
 *
 * Frontends are the chain's classifier keys: ClusterIPs, external and
 * load-balancer IPs, NodePorts on the node's address; a NodePort asked of
 * a loopback or other local address (sock_lb_local) is looked up on the
 * node's address. Only sockets of the node's network namespace are
 * touched (sock_lb_netns): pods go through the chain as before.
 *
 * What a socket hook lacks of the chain's hash inputs: the source port
 * (none is bound yet at connect; a datagram's socket is bound before its
 * first send) is the socket's cookie, folded to 16 bits, unless the socket
 * is bound; the source address is the bound one, or the node's. So one
 * socket keeps to one endpoint, datagram after datagram. A service with
 * no usable endpoint fails connect (and sendmsg) with ECONNREFUSED, as a
 * client of the chain gets an ICMP port unreachable: a connect4 program
 * that returns 0 alone gives EPERM; bpf_set_retval() sets the errno.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/hash.h"
#include "lib/maglev_pick.h"
#include "lib/abi/classifier.h"
#include "lib/abi/nat.h"
#include "lib/abi/sock_lb.h"

#define ECONNREFUSED_ 111

/* The netns cookie of the node's namespace; set before load. */
const volatile __u64 sock_lb_netns = 0;

/* The chain's maps, reused by fd (sizes here are placeholders). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct classifier_key);
	__type(value, struct classifier_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} classifier_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct maglev_counters);
} maglev_service_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_dnat_target);
} nat_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_backend_stats);
} nat_backend_stats SEC(".maps");

/* Its own, pinned beside its links. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sock_lb_node);
} sock_lb_node SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCK_LB_LOCAL_ENTRIES);
	__type(key, struct sock_lb_local_key);
	__type(value, __u32);
} sock_lb_local SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_LB_REVERSE_ENTRIES);
	__type(key, struct sock_lb_reverse_key);
	__type(value, struct sock_lb_addr);
} sock_lb_reverse SEC(".maps");

/* Not pinned: filled and emptied around one run of the iterator. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCK_LB_GONE_ENTRIES);
	__type(key, struct sock_lb_addr);
	__type(value, __u32);
} sock_lb_gone SEC(".maps");

/* An address and port as a socket sees them. */
struct sock_dst {
	union cube_addr addr;
	__be16 port;
	__u8 family;
	__u8 mapped; /* an IPv4 address in an IPv6 socket (::ffff:a.b.c.d) */
};

enum verdict { PASS, TRANSLATED, REFUSED };

static __always_inline int node_netns(struct bpf_sock_addr *ctx)
{
	return bpf_get_netns_cookie(ctx) == sock_lb_netns;
}

static __always_inline int is_local(const struct sock_dst *d)
{
	struct sock_lb_local_key k = {.addr = d->addr, .family = d->family};

	if (d->family == CUBE_AF_INET && (bpf_ntohl(d->addr.ip4) >> 24) == 127)
		return 1;
	if (d->family == CUBE_AF_INET6 && !d->addr.ip6[0] && !d->addr.ip6[1] && !d->addr.ip6[2] &&
	    d->addr.ip6[3] == bpf_htonl(1))
		return 1;
	return bpf_map_lookup_elem(&sock_lb_local, &k) != NULL;
}

static __always_inline struct classifier_value *frontend(const struct sock_dst *d, __u8 proto,
							 const struct sock_lb_node *node)
{
	struct classifier_key key = {
	    .vip = d->addr, .port = d->port, .proto = proto, .family = d->family};
	struct classifier_value *v = bpf_map_lookup_elem(&classifier_services, &key);

	/* NodePorts are keyed on the node's (IPv4) address. */
	if (!v && node && node->have_addr && d->family == CUBE_AF_INET && is_local(d)) {
		key.vip = node->addr;
		v = bpf_map_lookup_elem(&classifier_services, &key);
	}
	return v;
}

static __always_inline __be16 fold_cookie(__u64 cookie)
{
	return (__be16)(cookie ^ (cookie >> 16) ^ (cookie >> 32) ^ (cookie >> 48));
}

static __always_inline void count_refused(__u32 svc_id)
{
	struct maglev_counters *c = bpf_map_lookup_elem(&maglev_service_stats, &svc_id);

	if (c)
		c->no_backend++;
}

/*
 * d: the destination asked for; rewritten to the endpoint if it is a
 * frontend. src: the socket's source address (family d's), all zero if
 * none yet; sport its source port, 0 if none.
 */
static __always_inline enum verdict pick(struct bpf_sock_addr *ctx, struct sock_dst *d, __u8 proto,
					 union cube_addr *src, __be16 sport, int count_always)
{
	__u32 zero = 0, svc_id, backend_id, hash;
	struct sock_lb_node *node = bpf_map_lookup_elem(&sock_lb_node, &zero);
	__u64 cookie = bpf_get_socket_cookie(ctx), now = 0;
	struct sock_lb_reverse_key rkey = {.cookie = cookie};
	struct sock_lb_addr front = {.addr = d->addr, .port = d->port, .family = d->family};
	struct maglev_affinity_key akey = {};
	struct classifier_value *v;
	struct maglev_service *svc;
	struct nat_dnat_target *t;
	union cube_addr client = *src;
	int fresh;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return PASS;
	v = frontend(d, proto, node);
	if (!v)
		return PASS;
	svc_id = v->service_id;
	svc = bpf_map_lookup_elem(&maglev_services, &svc_id);
	if (!svc)
		return PASS;
	/* The client as the chain would see it: the bound source, else the
	 * node's address (the source the node's packets carry). */
	if (!client.ip6[0] && !client.ip6[1] && !client.ip6[2] && !client.ip6[3] && node &&
	    node->have_addr && d->family == CUBE_AF_INET)
		client = node->addr;
	backend_id = CUBE_NO_BACKEND;
	if (svc->flags & MAGLEV_SVC_F_AFFINITY) {
		akey.client = client;
		akey.service_id = svc_id;
		akey.family = d->family;
		backend_id = maglev_affinity_get(&akey, svc, &now);
	}
	if (backend_id == CUBE_NO_BACKEND) {
		if (svc->flags & MAGLEV_SVC_F_HASH_SRC)
			hash = cube_source_hash(d->family, &client);
		else
			hash =
			    cube_flow_hash(d->family, &client, &d->addr,
					   sport ? sport : fold_cookie(cookie), d->port, proto, 0);
		backend_id = maglev_ring_pick(svc, hash);
		if (backend_id == CUBE_NO_BACKEND || !maglev_backend_usable(backend_id, svc_id)) {
			count_refused(svc_id);
			return REFUSED;
		}
		if (svc->flags & MAGLEV_SVC_F_AFFINITY)
			maglev_affinity_put(&akey, backend_id, now);
	}
	t = bpf_map_lookup_elem(&nat_backends, &backend_id);
	if (!t || !(t->flags & NAT_DNAT_F_VALID)) {
		count_refused(svc_id);
		return REFUSED;
	}
	/* An endpoint of the other family than the frontend: no socket can
	 * reach it in place of the frontend. */
	if ((d->family == CUBE_AF_INET6) != (t->addr.ip6[1] || t->addr.ip6[2] || t->addr.ip6[3])) {
		count_refused(svc_id);
		return REFUSED;
	}
	d->addr = t->addr;
	if (t->port)
		d->port = t->port;
	rkey.to.addr = d->addr;
	rkey.to.port = d->port;
	rkey.to.family = d->family;
	fresh = !bpf_map_lookup_elem(&sock_lb_reverse, &rkey);
	bpf_map_update_elem(&sock_lb_reverse, &rkey, &front, BPF_ANY);
	if (count_always || fresh) {
		struct nat_backend_stats *s = bpf_map_lookup_elem(&nat_backend_stats, &backend_id);

		if (s)
			s->new_conns++;
	}
	return TRANSLATED;
}

static __always_inline void read4(struct bpf_sock_addr *ctx, struct sock_dst *d)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->addr.ip4 = ctx->user_ip4;
	d->port = (__be16)ctx->user_port;
	d->family = CUBE_AF_INET;
}

static __always_inline void write4(struct bpf_sock_addr *ctx, const struct sock_dst *d)
{
	ctx->user_ip4 = d->addr.ip4;
	ctx->user_port = (__u32)d->port;
}

static __always_inline void read6(struct bpf_sock_addr *ctx, struct sock_dst *d)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->port = (__be16)ctx->user_port;
	d->addr.ip6[0] = ctx->user_ip6[0];
	d->addr.ip6[1] = ctx->user_ip6[1];
	d->addr.ip6[2] = ctx->user_ip6[2];
	d->addr.ip6[3] = ctx->user_ip6[3];
	if (!d->addr.ip6[0] && !d->addr.ip6[1] && d->addr.ip6[2] == bpf_htonl(0xffff)) {
		d->addr.ip6[0] = d->addr.ip6[3];
		d->addr.ip6[2] = 0;
		d->addr.ip6[3] = 0;
		d->family = CUBE_AF_INET;
		d->mapped = 1;
	} else {
		d->family = CUBE_AF_INET6;
	}
}

static __always_inline void write6(struct bpf_sock_addr *ctx, const struct sock_dst *d)
{
	if (d->mapped) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = d->addr.ip4;
	} else {
		ctx->user_ip6[0] = d->addr.ip6[0];
		ctx->user_ip6[1] = d->addr.ip6[1];
		ctx->user_ip6[2] = d->addr.ip6[2];
		ctx->user_ip6[3] = d->addr.ip6[3];
	}
	ctx->user_port = (__u32)d->port;
}

/* The socket's bound source, if any, in d's family. */
static __always_inline void bound_source(struct bpf_sock_addr *ctx, const struct sock_dst *d,
					 union cube_addr *src, __be16 *sport)
{
	struct bpf_sock *sk = ctx->sk;

	__builtin_memset(src, 0, sizeof(*src));
	*sport = 0;
	if (!sk)
		return;
	*sport = bpf_htons((__u16)sk->src_port);
	if (d->family == CUBE_AF_INET && !d->mapped) {
		src->ip4 = sk->src_ip4;
	} else if (d->family == CUBE_AF_INET) {
		if (sk->src_ip6[2] == bpf_htonl(0xffff))
			src->ip4 = sk->src_ip6[3];
	} else {
		src->ip6[0] = sk->src_ip6[0];
		src->ip6[1] = sk->src_ip6[1];
		src->ip6[2] = sk->src_ip6[2];
		src->ip6[3] = sk->src_ip6[3];
	}
}

static __always_inline int refuse(void)
{
	bpf_set_retval(-ECONNREFUSED_);
	return 0;
}

static __always_inline int translate(struct bpf_sock_addr *ctx, int v6, int count_always)
{
	struct sock_dst d;
	union cube_addr src;
	__be16 sport;
	enum verdict verdict;

	if (!node_netns(ctx))
		return 1;
	if (v6)
		read6(ctx, &d);
	else
		read4(ctx, &d);
	bound_source(ctx, &d, &src, &sport);
	verdict = pick(ctx, &d, (__u8)ctx->protocol, &src, sport, count_always);
	if (verdict == REFUSED)
		return refuse();
	if (verdict == TRANSLATED) {
		if (v6)
			write6(ctx, &d);
		else
			write4(ctx, &d);
	}
	return 1;
}

/* The peer a socket reports and a datagram's source: the frontend. */
static __always_inline int untranslate(struct bpf_sock_addr *ctx, int v6)
{
	struct sock_lb_reverse_key k = {};
	struct sock_lb_addr *front;
	struct sock_dst d;

	if (!node_netns(ctx))
		return 1;
	if (v6)
		read6(ctx, &d);
	else
		read4(ctx, &d);
	k.cookie = bpf_get_socket_cookie(ctx);
	k.to.addr = d.addr;
	k.to.port = d.port;
	k.to.family = d.family;
	front = bpf_map_lookup_elem(&sock_lb_reverse, &k);
	if (!front || front->family != d.family)
		return 1;
	d.addr = front->addr;
	d.port = front->port;
	if (v6)
		write6(ctx, &d);
	else
		write4(ctx, &d);
	return 1;
}

SEC("cgroup/connect4")
int sock_lb_connect4(struct bpf_sock_addr *ctx)
{
	return translate(ctx, 0, 1);
}

SEC("cgroup/connect6")
int sock_lb_connect6(struct bpf_sock_addr *ctx)
{
	return translate(ctx, 1, 1);
}

SEC("cgroup/sendmsg4")
int sock_lb_sendmsg4(struct bpf_sock_addr *ctx)
{
	return translate(ctx, 0, 0);
}

SEC("cgroup/sendmsg6")
int sock_lb_sendmsg6(struct bpf_sock_addr *ctx)
{
	return translate(ctx, 1, 0);
}

SEC("cgroup/recvmsg4")
int sock_lb_recvmsg4(struct bpf_sock_addr *ctx)
{
	return untranslate(ctx, 0);
}

SEC("cgroup/recvmsg6")
int sock_lb_recvmsg6(struct bpf_sock_addr *ctx)
{
	return untranslate(ctx, 1);
}

SEC("cgroup/getpeername4")
int sock_lb_getpeername4(struct bpf_sock_addr *ctx)
{
	return untranslate(ctx, 0);
}

SEC("cgroup/getpeername6")
int sock_lb_getpeername6(struct bpf_sock_addr *ctx)
{
	return untranslate(ctx, 1);
}

/* What the iterator reads of the kernel's sockets (CO-RE: offsets from the
 * running kernel's BTF). */
struct udp_sock;
struct bpf_iter_meta;

struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
} __attribute__((preserve_access_index));

struct sock_common {
	__be32 skc_daddr;
	__be16 skc_dport;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
} __attribute__((preserve_access_index));

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

#define AF_INET_	 2
#define AF_INET6_	 10
#define TCP_ESTABLISHED_ 1 /* a connected UDP socket's state */

/*
 * Every UDP socket of the namespace the iterator is made in (the node's):
 * one connected, by a translation of ours (its cookie and peer in
 * sock_lb_reverse), to an endpoint in sock_lb_gone is destroyed. Its owner
 * gets ECONNABORTED and connects again, to an endpoint that is there.
 */
SEC("iter/udp")
int sock_lb_udp_reap(struct bpf_iter__udp *ctx)
{
	struct sock_common *sk = (struct sock_common *)ctx->udp_sk;
	struct sock_lb_reverse_key k = {};

	if (!sk || sk->skc_state != TCP_ESTABLISHED_)
		return 0;
	k.to.port = sk->skc_dport;
	if (sk->skc_family == AF_INET_) {
		k.to.family = CUBE_AF_INET;
		k.to.addr.ip4 = sk->skc_daddr;
	} else if (sk->skc_family == AF_INET6_) {
		__u32 a[4];

		a[0] = sk->skc_v6_daddr.in6_u.u6_addr32[0];
		a[1] = sk->skc_v6_daddr.in6_u.u6_addr32[1];
		a[2] = sk->skc_v6_daddr.in6_u.u6_addr32[2];
		a[3] = sk->skc_v6_daddr.in6_u.u6_addr32[3];
		if (!a[0] && !a[1] && a[2] == bpf_htonl(0xffff)) {
			k.to.family = CUBE_AF_INET;
			k.to.addr.ip4 = a[3];
		} else {
			k.to.family = CUBE_AF_INET6;
			__builtin_memcpy(k.to.addr.ip6, a, sizeof(a));
		}
	} else {
		return 0;
	}
	if (!bpf_map_lookup_elem(&sock_lb_gone, &k.to))
		return 0;
	k.cookie = bpf_get_socket_cookie(sk);
	if (bpf_map_lookup_elem(&sock_lb_reverse, &k))
		bpf_sock_destroy(sk);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
