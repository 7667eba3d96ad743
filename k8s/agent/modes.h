/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's one-shot modes, besides the loop (agent.h). */
#ifndef CUBENET_AGENT_MODES_H
#define CUBENET_AGENT_MODES_H

#include "options.h"

/* --write-cni-config: wait for this node's podCIDR(s) in its Node object,
 * then write the CNI conflist from the template with those ranges. */
int write_cni_config(struct options *o);
/* --uninstall: remove every config cubenetd holds (so it takes down what
 * it made: programs, filters, pins, cubenet0, routes), then the CNI
 * plugin, its conflist and IPAM state. */
int uninstall(struct options *o);

#endif
