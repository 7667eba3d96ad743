/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's command line. */
#ifndef CUBENET_AGENT_OPTIONS_H
#define CUBENET_AGENT_OPTIONS_H

#include <stddef.h>
#include "node_config.h"
#include "writer.h"

struct options {
	const char *kubeconfig, *context, *serviceaccount_dir;
	const char *socket;
	const char *status_address;
	const char *slice_version; /* NULL: discover */
	struct node_options node;
	enum write_mode write_mode;
	double coalesce; /* seconds a first change waits for more */
	size_t max_batch_bytes;
	double resync_period; /* full reconcile against cubenetd, seconds */
	double max_backoff;
	/* Other modes. */
	int uninstall;
	const char *cni_conf_out, *cni_template;
	const char *cni_conf_dir, *cni_bin_dir, *ipam_dir;
};

#endif
