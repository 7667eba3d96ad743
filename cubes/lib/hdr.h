/* SPDX-License-Identifier: Apache-2.0 */
/* Packet header layouts the uapi headers do not give us, and bounds checks. */
#ifndef CUBENET_HDR_H
#define CUBENET_HDR_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include "ctx.h"
#include "abi/meta.h"

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

#define VLAN_VID_MASK 0x0fff

/* ARP for Ethernet and IPv4, the only kind we answer. */
struct arp_eth_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__be32 spa;
	__u8 tha[ETH_ALEN];
	__be32 tpa;
} __attribute__((packed));

/* ICMP and ICMPv6 messages share their first eight bytes (type, code,
 * checksum, then an echo's identifier and sequence). Declared here because
 * linux/icmp.h reaches glibc's headers through linux/if.h, and the BPF build
 * sees no libc at all. */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		__be32 gateway;
	} un;
};

#define ICMP_ECHOREPLY	  0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO	  8

/* ICMP is IPv4's and ICMPv6 is IPv6's (RFC 792, RFC 4443): either carried
 * by the other family is just another protocol. */
static __always_inline int icmp_of_family(__u8 family, __u8 proto)
{
	return family == CUBE_AF_INET ? proto == IPPROTO_ICMP : proto == IPPROTO_ICMPV6;
}

/* An echo request or reply of that ICMP: the messages with an identifier. */
static __always_inline int icmp_is_echo(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
	return type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY;
}

#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

struct ipv6_opt_hdr_min {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 identification;
};

#define IPV4_FRAG_MF	 0x2000
#define IPV4_FRAG_OFFSET 0x1fff
#define IPV6_FRAG_MF	 0x0001
#define IPV6_FRAG_OFFSET 0xfff8

/* True when [p, p + len) lies inside the packet. */
#define hdr_fits(p, len, end) ((void *)(p) + (len) <= (void *)(end))

/*
 * The len bytes at off from the start of the frame, or NULL unless all of
 * them are directly readable. An offset past CUBE_HDR_OFF_MASK is refused;
 * the mask after the check changes nothing and keeps the pointer bounded for
 * the verifier however clang arranges the comparison.
 */
static __always_inline void *ctx_hdr(CUBE_CTX *ctx, __u32 off, __u32 len)
{
	void *p;

	if (off > CUBE_HDR_OFF_MASK)
		return NULL;
	p = ctx_data(ctx) + (off & CUBE_HDR_OFF_MASK);
	return hdr_fits(p, len, ctx_data_end(ctx)) ? p : NULL;
}

static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, ETH_ALEN);
}

#endif
