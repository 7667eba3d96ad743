/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's VXLAN device for the overlay: collect-metadata mode (each
 * packet's remote end and VNI come from the node chain's tunnel cube), on
 * one UDP port, no learning, no ARP, and the MAC every node's device has
 * (TUNNEL_DEVICE_MAC, lib/abi/tunnel.h). Functions return 0 or a negative
 * errno.
 */
#ifndef CUBENET_TUNNEL_DEVICE_H
#define CUBENET_TUNNEL_DEVICE_H

#include <stdint.h>

#define TUNNEL_DEVICE "cubenet-vxlan"

/* Create it if there is none (or make it anew if it is not such a device
 * on that port), and set it up. */
int tunnel_device_ensure(const char *name, uint16_t port);
/* (netdev_delete() removes it.) */

#endif
