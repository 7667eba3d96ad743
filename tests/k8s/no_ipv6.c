// SPDX-License-Identifier: Apache-2.0
/*
 * Preloaded into a process to give it a kernel booted with ipv6.disable=1:
 * every AF_INET6 socket fails with EAFNOSUPPORT, the rest is untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);

	if (domain == AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	return real(domain, type, protocol);
}
