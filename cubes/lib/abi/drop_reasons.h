/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drop reasons: one documented code per way a cube can refuse a packet.
 *
 * Shared by the datapath (which counts them per cube in struct cube_stats)
 * and userspace (which names them in metrics and the CLI). Codes are part of
 * the ABI: append new ones, never renumber.
 */
#ifndef CUBENET_ABI_DROP_REASONS_H
#define CUBENET_ABI_DROP_REASONS_H

/* X(code, NAME, "what happened") */
#define CUBE_DROP_REASONS(X)                                                                       \
	X(0, NONE, "not a drop")                                                                   \
	X(1, PORT_UNCONNECTED, "forwarded out of a port that is connected to nothing")             \
	X(2, TAIL_CALL_FAILED, "port is wired to a cube but the tail call missed")                 \
	X(3, NO_META, "per-packet metadata missing or of another version")                         \
	X(4, ETH_TRUNCATED, "frame shorter than an Ethernet header")                               \
	X(5, VLAN_TRUNCATED, "frame ends inside an 802.1Q tag")                                    \
	X(6, VLAN_TOO_DEEP, "more than two VLAN tags")                                             \
	X(7, IPV4_TRUNCATED, "frame ends inside the IPv4 header")                                  \
	X(8, IPV4_BAD_VERSION, "IPv4 ethertype but version field is not 4")                        \
	X(9, IPV4_BAD_IHL, "IPv4 header length below 20 bytes")                                    \
	X(10, IPV4_BAD_LEN, "IPv4 total length shorter than its header or longer than the frame")  \
	X(11, IPV6_TRUNCATED, "frame ends inside the IPv6 header")                                 \
	X(12, IPV6_BAD_VERSION, "IPv6 ethertype but version field is not 6")                       \
	X(13, IPV6_BAD_LEN, "IPv6 payload length longer than the frame")                           \
	X(14, IPV6_EXT_TRUNCATED, "frame ends inside an IPv6 extension header")                    \
	X(15, IPV6_EXT_TOO_MANY, "more IPv6 extension headers than the parser walks")              \
	X(16, TCP_TRUNCATED, "frame ends inside the TCP header")                                   \
	X(17, TCP_BAD_DOFF, "TCP data offset below 5 words or past the packet")                    \
	X(18, UDP_TRUNCATED, "frame ends inside the UDP header")                                   \
	X(19, UDP_BAD_LEN, "UDP length below 8 or longer than the IP payload")                     \
	X(20, ICMP_TRUNCATED, "frame ends inside the ICMP header")                                 \
	X(21, ARP_TRUNCATED, "frame ends inside the ARP header")                                   \
	X(22, CLASSIFIER_MISS, "no service for this destination (miss verdict is drop)")           \
	X(23, NO_SERVICE, "service id has no Maglev table")                                        \
	X(24, NO_BACKEND, "service has no active backend")                                         \
	X(25, NO_L2_TARGET, "no MAC/VLAN rewrite entry for the chosen backend")                    \
	X(26, VLAN_REWRITE_FAILED, "could not push, pop or rewrite the VLAN tag")                  \
	X(27, NO_ROUTE, "no route to the destination")                                             \
	X(28, TTL_EXCEEDED, "TTL or hop limit would reach zero")                                   \
	X(29, SLOWPATH_FULL, "slow-path ring buffer full; packet could not be queued")             \
	X(30, NOT_IP, "an IP-only cube received a non-IP frame")                                   \
	X(31, NAT_NO_PORT, "no free NAT port for a new connection")                                \
	X(32, NAT_UNSUPPORTED, "protocol or fragment the NAT cannot translate")                    \
	X(33, ROUTER_BAD_PORT, "router output port out of range")                                  \
	X(34, SLOWPATH, "handed to the daemon through the slow path (not lost)")                   \
	X(35, FRAGMENT, "fragment where whole packets are needed")                                 \
	X(36, REWRITE_FAILED, "the kernel refused a header rewrite (checksum or store helper)")    \
	X(37, HDR_TOO_DEEP, "L4 header starts past CUBE_HDR_OFF_MASK, deeper than cubes read")     \
	X(38, STALE_BACKEND, "a ring named a backend that is not this service's (never in use)")   \
	X(39, FRAG_UNKNOWN, "a later IP fragment whose first fragment the NAT has not seen")       \
	X(40, REJECT_SUPPRESSED, "reject due, but no ICMP error may answer this packet")           \
	X(41, REJECT_RATE_LIMITED, "reject due, but the ICMP error rate limit was reached")        \
	X(42, TUNNEL_NO_REMOTE, "a tunnel got no remote end: no router set a next hop")            \
	X(43, TUNNEL_KEY_FAILED, "the kernel refused the tunnel key (XDP has no tunnel metadata)") \
	X(44, TUNNEL_FOREIGN_KEY, "decapsulated without an IPv4 tunnel key of this node's VNI")    \
	X(45, TUNNEL_SPOOFED, "decapsulated from a remote end that may not send its inner source")

/* clang-format off: it cannot see that the macro expands to enumerators */
enum cube_drop_reason {
#define CUBE_DROP_ENUM(code, name, text) CUBE_DROP_##name = code,
	CUBE_DROP_REASONS(CUBE_DROP_ENUM)
#undef CUBE_DROP_ENUM
	    CUBE_DROP_MAX,
};
/* clang-format on */

#endif
