// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "netdev_attach.h"

/* Our filter's place on a clsact hook; fixed, so a re-attach replaces it. */
#define TC_HANDLE   0xcbe
#define TC_PRIORITY 1

static uint32_t xdp_flags(enum attach_mode mode)
{
	return mode == ATTACH_XDP_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

static int tc_hook(uint32_t ifindex, enum attach_mode mode, struct bpf_tc_hook *hook)
{
	int err;

	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = (int)ifindex;
	hook->attach_point = mode == ATTACH_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
	err = bpf_tc_hook_create(hook);
	return err == -EEXIST ? 0 : err;
}

int netdev_attach(const struct cube *head, uint32_t ifindex, enum attach_mode mode)
{
	struct bpf_tc_hook hook;
	int err;

	switch (mode) {
	case ATTACH_XDP_NATIVE:
	case ATTACH_XDP_GENERIC:
		if (head->hook != CUBE_HOOK_XDP)
			return -EINVAL;
		/* Without XDP_FLAGS_UPDATE_IF_NOEXIST an existing program is
		 * replaced atomically. */
		return bpf_xdp_attach((int)ifindex, head->prog_fd, xdp_flags(mode), NULL);
	case ATTACH_TC_INGRESS:
	case ATTACH_TC_EGRESS: {
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY,
			    .prog_fd = head->prog_fd, .flags = BPF_TC_F_REPLACE);

		if (head->hook != CUBE_HOOK_TC)
			return -EINVAL;
		err = tc_hook(ifindex, mode, &hook);
		if (err)
			return err;
		return bpf_tc_attach(&hook, &opts);
	}
	}
	return -EINVAL;
}

int netdev_detach(uint32_t ifindex, enum attach_mode mode)
{
	struct bpf_tc_hook hook;
	int err;

	switch (mode) {
	case ATTACH_XDP_NATIVE:
	case ATTACH_XDP_GENERIC:
		return bpf_xdp_detach((int)ifindex, xdp_flags(mode), NULL);
	case ATTACH_TC_INGRESS:
	case ATTACH_TC_EGRESS: {
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);

		err = tc_hook(ifindex, mode, &hook);
		if (err)
			return err;
		return bpf_tc_detach(&hook, &opts);
	}
	}
	return -EINVAL;
}

const char *attach_mode_name(enum attach_mode mode)
{
	static const char *const names[] = {"xdp", "xdp-generic", "tc-ingress", "tc-egress"};

	return mode <= ATTACH_TC_EGRESS ? names[mode] : "unknown";
}
