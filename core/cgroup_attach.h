/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cgroup programs attached through bpf links pinned under bpffs, so they
 * stay attached while no daemon runs and a daemon that starts again adopts
 * them (and swaps in its own programs with one link update). Attached to
 * the root of the cgroup v2 hierarchy, a program runs for every process of
 * the machine (of the cgroup namespace the daemon sees), next to programs
 * others attach (multi-attach). Functions return 0, an fd, or a negative
 * errno.
 */
#ifndef CUBENET_CGROUP_ATTACH_H
#define CUBENET_CGROUP_ATTACH_H

#include <linux/bpf.h>

/* An open directory of the cgroup v2 hierarchy's root: the first cgroup2
 * mount of its root found in /proc/self/mountinfo; none: one mounted at
 * fallback (made if missing). */
int cgroup2_root_open(const char *fallback);

/* A link attaching prog_fd at type to cgroup_fd, pinned at pin (a pin
 * already there is replaced). The link's fd. */
int cgroup_link_create(int cgroup_fd, int prog_fd, enum bpf_attach_type type, const char *pin);

/* The link pinned at pin if it is a cgroup link attached at type (its
 * fd); -ENOENT if there is none, and a pin of anything else (or of a link
 * detached since) is removed. */
int cgroup_link_open(const char *pin, enum bpf_attach_type type);

/* Run prog_fd in the link's place, atomically. */
int cgroup_link_update(int link_fd, int prog_fd);

/* Detach (whoever else holds the link) and unpin; closes link_fd. */
void cgroup_link_remove(int link_fd, const char *pin);

#endif
