/* SPDX-License-Identifier: Apache-2.0 */
/* Writing the kernel's network settings (/proc/sys/net). */
#ifndef CUBENET_NET_SYSCTL_H
#define CUBENET_NET_SYSCTL_H

/* Write value to the sysctl path under /proc/sys/net ("ipv4/ip_forward",
 * "ipv4/conf/eth0/accept_local"); 0 or -errno. */
int net_sysctl(const char *path, const char *value);

#endif
