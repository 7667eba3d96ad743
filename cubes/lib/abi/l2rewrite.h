/* SPDX-License-Identifier: Apache-2.0 */
/* l2rewrite cube: the L2DSR step. Backend id -> destination MAC (and
 * optionally source MAC) and VLAN action, then transmit. */
#ifndef CUBENET_ABI_L2REWRITE_H
#define CUBENET_ABI_L2REWRITE_H

#include <linux/types.h>

#define L2REWRITE_PORT_OUT 0 /* usually wired as CUBE_PORT_TX */

enum l2rewrite_vlan_action {
	L2REWRITE_VLAN_KEEP = 0, /* leave tags as they are */
	L2REWRITE_VLAN_SET,	 /* rewrite the outer VID, or push a tag if untagged */
	L2REWRITE_VLAN_POP,	 /* remove the outer tag if there is one */
};

enum l2rewrite_target_flags {
	L2REWRITE_F_VALID = 1 << 0,
	L2REWRITE_F_SET_SMAC = 1 << 1,
};

struct l2rewrite_target {
	__u8 dmac[6];
	__u8 smac[6];
	__u16 vlan_id;	  /* host order, for L2REWRITE_VLAN_SET */
	__u8 vlan_action; /* enum l2rewrite_vlan_action */
	__u8 flags;	  /* enum l2rewrite_target_flags */
};

#endif
