// SPDX-License-Identifier: Apache-2.0
/*
 * nat: SNAT, masquerade and DNAT with connection tracking.
 *
 * A connection is two entries in an LRU table, one per direction, each
 * keyed by the tuple as it appears on the wire and holding the tuple to
 * rewrite it to. A packet that matches neither is checked against the rules
 * (DNAT by destination or by the backend a load balancer chose; SNAT by
 * source prefix) and, if one applies, opens a connection. Packets no rule
 * covers go on untouched, as do protocols the NAT does not translate.
 * TCP, UDP and ICMP echo are translated with L3 and L4 checksums updated;
 * their IP fragments too (lib/nat_frag.h), and the ICMP errors about them
 * (lib/nat_icmp_error.h).
 *
 * A connection DNATed back to its own source (a pod reaching its own
 * service: hairpin) has its source translated as well, to nat_cfg's hairpin
 * address, so the reply returns through the NAT instead of going straight
 * to the pod; so does one that came through an external frontend to a
 * target on another node (NAT_DNAT_F_MASQUERADE_EXTERNAL). A packet a load balancer found a service
 * but no backend for (CUBE_META_F_BACKEND with CUBE_NO_BACKEND) is rejected (lib/reject.h). Each
 * new connection to a load balancer's backend is counted in nat_backend_stats.
 */
#include "lib/chain.h"
#include "lib/hdr.h"
#include "lib/csum.h"
#include "lib/nat_consts.h"
#include "lib/nat_frag.h"
#include "lib/nat_icmp_error.h"
#include "lib/reject.h"
#include "lib/abi/nat.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NAT_MAX_CONNS);
	__type(key, struct nat_tuple);
	__type(value, struct nat_conn);
} nat_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NAT_MAX_RULES);
	__type(key, struct nat_dnat_key);
	__type(value, struct nat_dnat_target);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_dnat SEC(".maps");

/* DNAT to the backend a maglev cube chose (meta.backend_id). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NAT_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct nat_dnat_target);
} nat_backends SEC(".maps");

/* New connections per backend, indexed and sized like nat_backends. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NAT_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct nat_backend_stats);
} nat_backend_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NAT_MAX_RULES);
	__type(key, struct nat_snat_lpm4_key);
	__type(value, struct nat_snat_target);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_snat4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NAT_MAX_RULES);
	__type(key, struct nat_snat_lpm6_key);
	__type(value, struct nat_snat_target);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_snat6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NAT_MAX_RULES);
	__type(key, struct nat_dst_lpm4_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_snat_skip4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NAT_MAX_RULES);
	__type(key, struct nat_dst_lpm6_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_snat_skip6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_cfg);
} nat_cfg SEC(".maps");

static __always_inline int is_icmp(__u8 proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* The tuple a reply to t carries. ICMP echo replies keep the identifier. */
static __always_inline void tuple_reverse(struct nat_tuple *out, const struct nat_tuple *t)
{
	out->saddr = t->daddr;
	out->daddr = t->saddr;
	out->proto = t->proto;
	out->family = t->family;
	out->pad = 0;
	if (is_icmp(t->proto)) {
		out->sport = t->sport;
		out->dport = 0;
	} else {
		out->sport = t->dport;
		out->dport = t->sport;
	}
}

static __always_inline int tuple_eq(const struct nat_tuple *a, const struct nat_tuple *b)
{
	return cube_addr_eq(&a->saddr, &b->saddr) && cube_addr_eq(&a->daddr, &b->daddr) &&
	       a->sport == b->sport && a->dport == b->dport && a->proto == b->proto &&
	       a->family == b->family;
}

/* What the NAT does with a packet (translatable()). */
enum nat_kind {
	NAT_KIND_OTHER = 0,	 /* forwarded untouched */
	NAT_KIND_FLOW = 1,	 /* TCP, UDP, ICMP echo: tracked and translated */
	NAT_KIND_ICMP_ERROR = 2, /* follows the connection it quotes */
};

/* Only ICMP echo carries an identifier we can translate, and ICMP errors
 * quote a packet we may have. A nat_kind, or a negative drop reason: an
 * ICMP message we cannot read is not let through untranslated. */
static __always_inline int translatable(CUBE_CTX *ctx, struct cube_meta *meta)
{
	struct icmphdr *icmp;

	if (!(meta->flags & CUBE_META_F_L4))
		return NAT_KIND_OTHER;
	if (meta->l4_proto == IPPROTO_TCP || meta->l4_proto == IPPROTO_UDP)
		return NAT_KIND_FLOW;
	if (!is_icmp(meta->l4_proto))
		return NAT_KIND_OTHER;
	icmp = ctx_hdr(ctx, meta->l4_off, sizeof(*icmp));
	if (!icmp)
		return -CUBE_DROP_ICMP_TRUNCATED;
	if (icmp_is_echo(meta->l4_proto, icmp->type))
		return NAT_KIND_FLOW;
	return icmp_is_error(meta->l4_proto, icmp->type) ? NAT_KIND_ICMP_ERROR : NAT_KIND_OTHER;
}

static __always_inline __u64 timeout_ns(const struct nat_cfg *cfg, const struct nat_conn *conn,
					__u8 proto)
{
	__u32 s;

	if (proto == IPPROTO_TCP) {
		if ((conn->flags & NAT_CONN_F_SEEN_REPLY) && !(conn->flags & NAT_CONN_F_CLOSING))
			s = cfg && cfg->timeout_tcp_established_s ? cfg->timeout_tcp_established_s
								  : NAT_DEFAULT_TCP_ESTABLISHED_S;
		else
			s = cfg && cfg->timeout_tcp_transitory_s ? cfg->timeout_tcp_transitory_s
								 : NAT_DEFAULT_TCP_TRANSITORY_S;
	} else if (proto == IPPROTO_UDP) {
		s = cfg && cfg->timeout_udp_s ? cfg->timeout_udp_s : NAT_DEFAULT_UDP_S;
	} else {
		s = cfg && cfg->timeout_icmp_s ? cfg->timeout_icmp_s : NAT_DEFAULT_ICMP_S;
	}
	return (__u64)s * NS_PER_SEC;
}

/* The DNAT target for t; *backend_id says which backend it is, or
 * CUBE_NO_BACKEND for a rule of nat_dnat. */
static __always_inline struct nat_dnat_target *
dnat_rule(struct cube_meta *meta, const struct nat_tuple *t, __u32 *backend_id)
{
	struct nat_dnat_target *target;
	struct nat_dnat_key key = {};

	*backend_id = CUBE_NO_BACKEND;
	if (meta->flags & CUBE_META_F_BACKEND) {
		__u32 id = meta->backend_id;

		target = bpf_map_lookup_elem(&nat_backends, &id);
		if (target && (target->flags & NAT_DNAT_F_VALID)) {
			*backend_id = id;
			return target;
		}
	}
	key.daddr = t->daddr;
	key.dport = t->dport;
	key.proto = t->proto;
	key.family = t->family;
	return bpf_map_lookup_elem(&nat_dnat, &key);
}

/* The SNAT rule for t's source, unless t's destination is one SNAT skips.
 * The skip list is read first: on a node most packets go from pod to pod,
 * which a rule covers and the list exempts, so they pay one LPM lookup
 * instead of two; only packets to a destination the list does not hold
 * pay both. */
static __always_inline struct nat_snat_target *snat_rule(const struct nat_tuple *t)
{
	if (t->family == CUBE_AF_INET) {
		struct nat_snat_lpm4_key k4 = {.prefixlen = 32, .saddr = t->saddr.ip4};
		struct nat_dst_lpm4_key d4 = {.prefixlen = 32, .daddr = t->daddr.ip4};

		if (bpf_map_lookup_elem(&nat_snat_skip4, &d4))
			return NULL;
		return bpf_map_lookup_elem(&nat_snat4, &k4);
	}
	struct nat_snat_lpm6_key k6 = {.prefixlen = 128};
	struct nat_dst_lpm6_key d6 = {.prefixlen = 128};

	__builtin_memcpy(k6.saddr, t->saddr.bytes, 16);
	__builtin_memcpy(d6.daddr, t->daddr.bytes, 16);
	if (bpf_map_lookup_elem(&nat_snat_skip6, &d6))
		return NULL;
	return bpf_map_lookup_elem(&nat_snat6, &k6);
}

/* The source a connection DNATed to `to` gets, if that is its own source,
 * or it came through an external frontend to a target that masquerades
 * those (masquerade set), and a hairpin address is set; else NULL. */
static __always_inline const union cube_addr *hairpin_source(const struct nat_cfg *cfg,
							     const struct nat_tuple *t,
							     const union cube_addr *to,
							     int masquerade)
{
	if (!cfg)
		return NULL;
	if (t->family == CUBE_AF_INET)
		return (masquerade || to->ip4 == t->saddr.ip4) && cfg->hairpin4.ip4 ? &cfg->hairpin4
										    : NULL;
	if (!(masquerade || cube_addr_eq(to, &t->saddr)) ||
	    !(cfg->hairpin6.ip6[0] | cfg->hairpin6.ip6[1] | cfg->hairpin6.ip6[2] |
	      cfg->hairpin6.ip6[3]))
		return NULL;
	return &cfg->hairpin6;
}

static __always_inline void count_new_conn(__u32 backend_id)
{
	struct nat_backend_stats *bs;

	if (backend_id == CUBE_NO_BACKEND)
		return;
	bs = bpf_map_lookup_elem(&nat_backend_stats, &backend_id);
	if (bs)
		bs->new_conns++;
}

/* Connection entries being made: kept off the stack, which the rest needs. */
struct nat_conn_pair {
	struct nat_conn orig;
	struct nat_conn reply;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_conn_pair);
} nat_scratch SEC(".maps");

static __always_inline struct nat_conn_pair *scratch_pair(void)
{
	__u32 zero = 0;
	struct nat_conn_pair *p = bpf_map_lookup_elem(&nat_scratch, &zero);

	if (p)
		__builtin_memset(p, 0, sizeof(*p));
	return p;
}

/*
 * Open a connection for t if a rule covers it, or give back the one whose
 * reply entry outlived t's in the LRU. Returns 0 with *out set, 0 with
 * *out NULL if no rule applies, or a drop reason.
 */
static __always_inline int conn_create(struct cube_meta *meta, const struct nat_tuple *t,
				       const struct nat_cfg *cfg, __u64 now, struct nat_conn **out)
{
	__u32 port_min, port_max, i, backend_id;
	struct nat_dnat_target *dnat = dnat_rule(meta, t, &backend_id);
	struct nat_snat_target *snat = snat_rule(t);
	const union cube_addr *hairpin = NULL;
	struct nat_conn *orig, *reply, *taken, *own = NULL;
	struct nat_conn_pair *pair;
	struct nat_tuple x = *t;

	*out = NULL;
	/* Keep clang from OR-ing the two pointers, which the verifier refuses. */
	barrier_var(dnat);
	if (!dnat && !snat)
		return 0;
	pair = scratch_pair();
	if (!pair)
		return CUBE_DROP_NAT_NO_PORT; /* a one-slot array: cannot happen */
	orig = &pair->orig;
	reply = &pair->reply;
	if (dnat) {
		x.daddr = dnat->addr;
		if (dnat->port && !is_icmp(t->proto))
			x.dport = dnat->port;
		hairpin = hairpin_source(cfg, t, &dnat->addr,
					 (dnat->flags & NAT_DNAT_F_MASQUERADE_EXTERNAL) &&
					     (meta->flags & CUBE_META_F_EXTERNAL));
	}
	if (snat)
		x.saddr = snat->addr;
	if (hairpin)
		x.saddr = *hairpin;
	tuple_reverse(&orig->twin, &x);

	/*
	 * Keep the source port when the reply tuple is free, else draw one at
	 * random. A destination-only rewrite can clash too: one client port to
	 * two frontends of one backend (a NodePort, then the load-balancer IP)
	 * has one reply tuple, and the first connection's entry outlives its
	 * close by the transitory timeout. Like the kernel's NAT, move the
	 * second connection's source port rather than drop it.
	 */
	port_min = cfg && cfg->port_min ? cfg->port_min : NAT_DEFAULT_PORT_MIN;
	port_max = cfg && cfg->port_max ? cfg->port_max : NAT_DEFAULT_PORT_MAX;
	if (port_max < port_min)
		port_max = port_min;
	for (i = 0; i < NAT_PORT_TRIES; i++) {
		taken = bpf_map_lookup_elem(&nat_conns, &orig->twin);
		if (!taken)
			break;
		/* The reply entry of this very connection, whose own entry
		 * the LRU took: it goes on as it was, on its port. */
		if (!i && (taken->flags & NAT_CONN_F_REPLY) && tuple_eq(&taken->twin, t)) {
			own = taken;
			break;
		}
		x.sport = bpf_htons(port_min + bpf_get_prandom_u32() % (port_max - port_min + 1));
		tuple_reverse(&orig->twin, &x);
	}
	if (i == NAT_PORT_TRIES)
		return CUBE_DROP_NAT_NO_PORT;
	orig->rewrite = x;
	orig->last_seen_ns = now;
	if (own) {
		if (now - own->last_seen_ns > timeout_ns(cfg, own, t->proto)) {
			/* Over: a new connection on the same port. */
			bpf_map_delete_elem(&nat_conns, &orig->twin);
		} else {
			own->last_seen_ns = now;
			orig->flags = own->flags & (NAT_CONN_F_SEEN_REPLY | NAT_CONN_F_CLOSING);
			if (bpf_map_update_elem(&nat_conns, t, orig, BPF_NOEXIST))
				return CUBE_DROP_NAT_NO_PORT;
			*out = bpf_map_lookup_elem(&nat_conns, t);
			return 0;
		}
	}
	tuple_reverse(&reply->rewrite, t);
	reply->twin = *t;
	reply->last_seen_ns = now;
	reply->flags = NAT_CONN_F_REPLY;
	if (bpf_map_update_elem(&nat_conns, &orig->twin, reply, BPF_NOEXIST))
		return CUBE_DROP_NAT_NO_PORT;
	if (bpf_map_update_elem(&nat_conns, t, orig, BPF_ANY)) {
		bpf_map_delete_elem(&nat_conns, &orig->twin);
		return CUBE_DROP_NAT_NO_PORT;
	}
	count_new_conn(backend_id);
	*out = bpf_map_lookup_elem(&nat_conns, t);
	return 0;
}

/* Keep the other direction alive (and re-create it if the LRU took it). */
static __always_inline void twin_refresh(const struct nat_tuple *t, struct nat_conn *conn,
					 __u64 now)
{
	struct nat_conn *twin = bpf_map_lookup_elem(&nat_conns, &conn->twin);

	if (twin) {
		twin->last_seen_ns = now;
		twin->flags |= conn->flags & (NAT_CONN_F_SEEN_REPLY | NAT_CONN_F_CLOSING);
		return;
	}
	struct nat_conn_pair *pair = scratch_pair();
	struct nat_conn *fresh;

	if (!pair)
		return;
	fresh = &pair->orig;
	fresh->twin = *t;
	fresh->last_seen_ns = now;
	tuple_reverse(&fresh->rewrite, t);
	fresh->flags = (conn->flags & ~NAT_CONN_F_REPLY) | (~conn->flags & NAT_CONN_F_REPLY);
	bpf_map_update_elem(&nat_conns, &conn->twin, fresh, BPF_NOEXIST);
}

/* Where a translatable L4 header keeps its checksum and ports. */
struct l4_fields {
	__u16 *check;  /* NULL: no checksum to update (IPv4 UDP sent without one) */
	__be16 *sport; /* ICMP echo: the identifier */
	__be16 *dport; /* NULL for ICMP echo */
	int pseudo;    /* the checksum covers the IP addresses */
};

static __always_inline int l4_locate(CUBE_CTX *ctx, __u32 off, __u8 proto, __u8 family,
				     struct l4_fields *f)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = ctx_hdr(ctx, off, sizeof(*tcp));

		if (!tcp)
			return CUBE_DROP_TCP_TRUNCATED;
		f->check = &tcp->check;
		f->sport = &tcp->source;
		f->dport = &tcp->dest;
		f->pseudo = 1;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = ctx_hdr(ctx, off, sizeof(*udp));

		if (!udp)
			return CUBE_DROP_UDP_TRUNCATED;
		/* 0: the sender did not checksum (IPv4, or an IPv6 tunnel as
		 * RFC 6935 allows): it stays 0, on both hooks. */
		f->check = udp->check ? &udp->check : NULL;
		f->sport = &udp->source;
		f->dport = &udp->dest;
		f->pseudo = 1;
	} else {
		/* ICMP and ICMPv6 echo share the layout: type, code, checksum, id. */
		struct icmphdr *icmp = ctx_hdr(ctx, off, sizeof(*icmp));

		if (!icmp)
			return CUBE_DROP_ICMP_TRUNCATED;
		f->check = &icmp->checksum;
		f->sport = &icmp->un.echo.id;
		f->dport = NULL;
		f->pseudo = family == CUBE_AF_INET6; /* ICMPv4 has no pseudo-header */
	}
	return 0;
}

#ifndef CUBE_TC
static __always_inline void port_rewrite(__be16 *field, __u16 *check, __be16 from, __be16 to)
{
	if (!field || from == to)
		return;
	if (check)
		csum_replace2(check, from, to);
	*field = to;
}

/* Write the tuple `to` over `from` in the packet, fixing checksums. */
static __always_inline int rewrite(CUBE_CTX *ctx, struct cube_meta *meta,
				   const struct nat_tuple *from, const struct nat_tuple *to)
{
	struct l4_fields f;
	int reason;

	reason = l4_locate(ctx, meta->l4_off, from->proto, from->family, &f);
	if (reason)
		return reason;
	port_rewrite(f.sport, f.check, from->sport, to->sport);
	port_rewrite(f.dport, f.check, from->dport, to->dport);

	if (from->family == CUBE_AF_INET) {
		struct iphdr *ip = ctx_hdr(ctx, meta->l3_off, sizeof(*ip));

		if (!ip)
			return CUBE_DROP_IPV4_TRUNCATED;
		if (f.check && f.pseudo) {
			csum_replace4(f.check, from->saddr.ip4, to->saddr.ip4);
			csum_replace4(f.check, from->daddr.ip4, to->daddr.ip4);
		}
		csum_replace4(&ip->check, from->saddr.ip4, to->saddr.ip4);
		csum_replace4(&ip->check, from->daddr.ip4, to->daddr.ip4);
		ip->saddr = to->saddr.ip4;
		ip->daddr = to->daddr.ip4;
	} else {
		struct ipv6hdr *ip6 = ctx_hdr(ctx, meta->l3_off, sizeof(*ip6));

		if (!ip6)
			return CUBE_DROP_IPV6_TRUNCATED;
		if (f.check) {
			csum_replace16(f.check, from->saddr.ip6, to->saddr.ip6);
			csum_replace16(f.check, from->daddr.ip6, to->daddr.ip6);
		}
		__builtin_memcpy(&ip6->saddr, to->saddr.bytes, 16);
		__builtin_memcpy(&ip6->daddr, to->daddr.bytes, 16);
	}
	if (from->proto == IPPROTO_UDP && f.check && *f.check == 0)
		*f.check = 0xffff; /* a computed 0 is sent as all ones */
	return 0;
}

#else
/*
 * On TC the skb may carry CHECKSUM_PARTIAL (a local sender, a veth): its L4
 * checksum field then holds only the pseudo-header's sum, and the ports are
 * not in it. The kernel's helpers know which case the skb is in, so every
 * checksum update goes through them, and the new values are stored after.
 */
static __always_inline int l4_csum(CUBE_CTX *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	return off ? bpf_l4_csum_replace(ctx, off, from, to, flags) : 0;
}

static __always_inline int rewrite(CUBE_CTX *ctx, struct cube_meta *meta,
				   const struct nat_tuple *from, const struct nat_tuple *to)
{
	__u32 l3 = meta->l3_off, check_off = 0;
	__u64 pseudo = 0, mangled0 = 0;
	__u32 sport_off = 0, dport_off = 0, addr_check_off;
	struct l4_fields f;
	void *data;
	int reason;

	reason = l4_locate(ctx, meta->l4_off, from->proto, from->family, &f);
	if (reason)
		return reason;
	data = ctx_data(ctx);
	/* Offsets, not pointers: the helpers below move the packet. */
	if (f.check)
		check_off = (__u32)((void *)f.check - data);
	addr_check_off = check_off;
	if (f.sport)
		sport_off = (__u32)((void *)f.sport - data);
	if (f.dport)
		dport_off = (__u32)((void *)f.dport - data);
	if (f.pseudo)
		pseudo = BPF_F_PSEUDO_HDR;
	else
		addr_check_off = 0; /* ICMPv4: the addresses are not in its checksum */
	if (from->proto == IPPROTO_UDP)
		mangled0 = BPF_F_MARK_MANGLED_0; /* a computed 0 is sent as all ones */

	if (sport_off && from->sport != to->sport &&
	    (l4_csum(ctx, check_off, from->sport, to->sport, mangled0 | 2) ||
	     bpf_skb_store_bytes(ctx, sport_off, &to->sport, 2, 0)))
		return CUBE_DROP_REWRITE_FAILED;
	if (dport_off && from->dport != to->dport &&
	    (l4_csum(ctx, check_off, from->dport, to->dport, mangled0 | 2) ||
	     bpf_skb_store_bytes(ctx, dport_off, &to->dport, 2, 0)))
		return CUBE_DROP_REWRITE_FAILED;
	if (from->family == CUBE_AF_INET) {
		__u32 ip_check = l3 + offsetof(struct iphdr, check);

		if (l4_csum(ctx, addr_check_off, from->saddr.ip4, to->saddr.ip4,
			    pseudo | mangled0 | 4) ||
		    l4_csum(ctx, addr_check_off, from->daddr.ip4, to->daddr.ip4,
			    pseudo | mangled0 | 4) ||
		    bpf_l3_csum_replace(ctx, ip_check, from->saddr.ip4, to->saddr.ip4, 4) ||
		    bpf_l3_csum_replace(ctx, ip_check, from->daddr.ip4, to->daddr.ip4, 4) ||
		    bpf_skb_store_bytes(ctx, l3 + offsetof(struct iphdr, saddr), &to->saddr.ip4, 4,
					0) ||
		    bpf_skb_store_bytes(ctx, l3 + offsetof(struct iphdr, daddr), &to->daddr.ip4, 4,
					0))
			return CUBE_DROP_REWRITE_FAILED;
	} else {
		for (int i = 0; i < 4; i++)
			if (l4_csum(ctx, addr_check_off, from->saddr.ip6[i], to->saddr.ip6[i],
				    pseudo | mangled0 | 4) ||
			    l4_csum(ctx, addr_check_off, from->daddr.ip6[i], to->daddr.ip6[i],
				    pseudo | mangled0 | 4))
				return CUBE_DROP_REWRITE_FAILED;
		if (bpf_skb_store_bytes(ctx, l3 + offsetof(struct ipv6hdr, saddr), to->saddr.bytes,
					16, 0) ||
		    bpf_skb_store_bytes(ctx, l3 + offsetof(struct ipv6hdr, daddr), to->daddr.bytes,
					16, 0))
			return CUBE_DROP_REWRITE_FAILED;
	}
	return 0;
}
#endif

static __always_inline void track_tcp_flags(CUBE_CTX *ctx, struct cube_meta *meta,
					    struct nat_conn *conn)
{
	struct tcphdr *tcp = ctx_hdr(ctx, meta->l4_off, sizeof(*tcp));

	if (meta->l4_proto == IPPROTO_TCP && tcp && (tcp->fin || tcp->rst))
		conn->flags |= NAT_CONN_F_CLOSING;
}

/* Returned by fragment_begin() for a fragment that goes on as it now is. */
#define NAT_FRAG_FORWARD (-1)

/*
 * An IP fragment. A later one is placed by its first fragment's record and
 * NAT_FRAG_FORWARD returned. For a first one, *t is set from its L4 header
 * and 0 returned, or NAT_FRAG_FORWARD if it is not translatable (recorded
 * as such). Fragments of protocols the NAT never translates go on
 * untouched, unrecorded. Otherwise a drop reason.
 */
static __always_inline int fragment_begin(CUBE_CTX *ctx, struct cube_meta *meta,
					  const struct nat_cfg *cfg, __u64 now,
					  struct frag_info *fi, struct nat_tuple *t)
{
	__u32 timeout_s;
	int reason, ok;

	reason = frag_info_read(ctx, meta, fi);
	if (reason)
		return reason;
	if (meta->l4_proto != IPPROTO_TCP && meta->l4_proto != IPPROTO_UDP &&
	    !is_icmp(meta->l4_proto))
		return NAT_FRAG_FORWARD;
	if (!fi->first) {
		timeout_s = cfg && cfg->timeout_frag_s ? cfg->timeout_frag_s : NAT_DEFAULT_FRAG_S;
		reason = frag_follow(ctx, meta, fi, (__u64)timeout_s * NS_PER_SEC, now);
		return reason ? reason : NAT_FRAG_FORWARD;
	}
	reason = frag_first_tuple(ctx, meta, fi, t, &ok);
	if (reason)
		return reason;
	if (!ok) {
		frag_record(fi, t, NULL, now);
		return NAT_FRAG_FORWARD;
	}
	return 0;
}

/*
 * An ICMP error (lib/nat_icmp_error.h): rewritten as the reply of the
 * connection it quotes, if that is tracked and live; else forwarded as it
 * is. It does not keep the connection alive.
 */
static __always_inline int icmp_error(CUBE_CTX *ctx, struct cube_meta *meta,
				      const struct nat_cfg *cfg, __u64 now)
{
	struct nat_tuple quoted, key, inner;
	const union cube_addr *saddr;
	struct icmp_quote q;
	struct nat_conn *conn;

	if (!icmp_quote_read(ctx, meta, &q, &quoted))
		return 0;
	tuple_reverse(&key, &quoted);
	conn = bpf_map_lookup_elem(&nat_conns, &key);
	if (!conn || now - conn->last_seen_ns > timeout_ns(cfg, conn, key.proto))
		return 0;
	tuple_reverse(&inner, &conn->rewrite);
	/* The quoted packet's destination reports itself: it had been
	 * translated too. A router on the way keeps its address. */
	saddr = cube_addr_eq(&meta->saddr, &quoted.daddr) ? &conn->rewrite.saddr : &meta->saddr;
	return icmp_quote_write(ctx, meta, &q, &inner, saddr, &conn->rewrite.daddr);
}

/* A load balancer found the packet's service, but it has no backend. */
static __always_inline int no_backend(const struct cube_meta *meta)
{
	return (meta->flags & CUBE_META_F_BACKEND) && meta->backend_id == CUBE_NO_BACKEND;
}

CUBE_ENTRY(cube_nat)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();
	struct frag_info fi; /* written by fragment_begin(), read only for fragments */
	struct nat_conn *conn;
	struct nat_tuple t = {};
	struct nat_cfg *cfg;
	__u32 zero = 0, old_flags;
	__u64 now, last;
	int reason, frag;

	if (!meta)
		return cube_drop_no_meta(ctx, st);
	cube_count_rx(st, meta->pkt_len);
	if (!meta->ip_version)
		return cube_out(ctx, st, NAT_PORT_OUT);
	frag = meta->flags & CUBE_META_F_FRAGMENT;
	if (frag) {
		cfg = bpf_map_lookup_elem(&nat_cfg, &zero);
		now = bpf_ktime_get_coarse_ns();
		reason = fragment_begin(ctx, meta, cfg, now, &fi, &t);
		if (reason == NAT_FRAG_FORWARD)
			return cube_out(ctx, st, NAT_PORT_OUT);
		if (reason)
			return cube_drop(st, reason);
	} else {
		reason = translatable(ctx, meta);
		if (reason < 0)
			return cube_drop(st, -reason);
		if (reason == NAT_KIND_OTHER)
			return cube_out(ctx, st, NAT_PORT_OUT);
		if (reason == NAT_KIND_ICMP_ERROR) {
			reason = icmp_error(ctx, meta, bpf_map_lookup_elem(&nat_cfg, &zero),
					    bpf_ktime_get_coarse_ns());
			return reason ? cube_drop(st, reason) : cube_out(ctx, st, NAT_PORT_OUT);
		}
		t.saddr = meta->saddr;
		t.daddr = meta->daddr;
		t.sport = meta->sport;
		t.dport = is_icmp(meta->l4_proto) ? 0 : meta->dport;
		t.proto = meta->l4_proto;
		t.family = meta->ip_version;
		cfg = bpf_map_lookup_elem(&nat_cfg, &zero);
		now = bpf_ktime_get_coarse_ns();
	}

	conn = bpf_map_lookup_elem(&nat_conns, &t);
	if (conn && now - conn->last_seen_ns > timeout_ns(cfg, conn, t.proto)) {
		bpf_map_delete_elem(&nat_conns, &conn->twin);
		bpf_map_delete_elem(&nat_conns, &t);
		conn = NULL;
	}
	if (!conn) {
		if (no_backend(meta))
			return cube_reject(ctx, st, meta);
		reason = conn_create(meta, &t, cfg, now, &conn);
		if (reason)
			return cube_drop(st, reason);
		if (!conn) {
			if (frag)
				frag_record(&fi, &t, NULL, now);
			return cube_out(ctx, st, NAT_PORT_OUT);
		}
	}

	old_flags = conn->flags;
	last = conn->last_seen_ns;
	if (conn->flags & NAT_CONN_F_REPLY)
		conn->flags |= NAT_CONN_F_SEEN_REPLY;
	track_tcp_flags(ctx, meta, conn);
	conn->last_seen_ns = now;
	if (conn->flags != old_flags || now - last > NAT_TWIN_REFRESH_NS)
		twin_refresh(&t, conn, now);

	reason = rewrite(ctx, meta, &t, &conn->rewrite);
	if (reason)
		return cube_drop(st, reason);
	if (frag)
		frag_record(&fi, &t, &conn->rewrite, now);
	meta->saddr = conn->rewrite.saddr;
	meta->daddr = conn->rewrite.daddr;
	meta->sport = conn->rewrite.sport;
	if (!is_icmp(t.proto))
		meta->dport = conn->rewrite.dport;
	return cube_out(ctx, st, NAT_PORT_OUT);
}
