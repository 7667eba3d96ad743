/* SPDX-License-Identifier: Apache-2.0 */
/* NAT defaults, used where struct nat_cfg leaves a field 0. */
#ifndef CUBENET_NAT_CONSTS_H
#define CUBENET_NAT_CONSTS_H

#define NS_PER_SEC 1000000000ull

/* Source ports handed out for SNAT: everything above the well-known range. */
#define NAT_DEFAULT_PORT_MIN 1024
#define NAT_DEFAULT_PORT_MAX 65535

/* RFC 5382 asks at least 2 h 4 min for established TCP. */
#define NAT_DEFAULT_TCP_ESTABLISHED_S 7440
/* RFC 5382: 4 min for connections being opened or closed (2 MSL). */
#define NAT_DEFAULT_TCP_TRANSITORY_S  240
/* RFC 4787 REQ-5: at least 2 min for UDP. */
#define NAT_DEFAULT_UDP_S	      120
/* RFC 5508 REQ-1: at least 60 s for ICMP queries. */
#define NAT_DEFAULT_ICMP_S	      60

/* A datagram not reassembled within 60 s is abandoned by its receiver
 * (RFC 8200, and the low end of RFC 1122's range): its later fragments
 * find no record after that. */
#define NAT_DEFAULT_FRAG_S 60

/* Refresh the other direction's entry at most this often, so a one-way
 * stream keeps its reply path without a second update per packet. */
#define NAT_TWIN_REFRESH_NS NS_PER_SEC

/* Random draws before giving up on finding a free source port. */
#define NAT_PORT_TRIES 16

#endif
