// SPDX-License-Identifier: Apache-2.0
/* One attachment's calls one at a time. The spec asks runtimes not to
 * overlap ADD, CHECK and DEL of a container; when one does anyway (a
 * retried call while the first still runs), a DEL in the middle of an ADD
 * would remove half of it and let the ADD finish the rest. Each call holds
 * a flock on a file named after the node's netns and the attachment's host
 * interface; the holder removes the file when done, so none pile up, and a
 * waiter that finds its file gone or replaced takes the new one. The
 * directory is made as cubenetd makes its socket's: for root alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cni.h"

#define LOCK_DIR "/run/cubenet/cni-locks"

static int lock_path(const struct cni_call *call, char *out, size_t size, struct cni_error *err)
{
	struct stat node;
	char host[16];

	if (stat("/proc/self/ns/net", &node))
		return cni_fail(err, CNI_ERR_IO, "cannot lock the attachment",
				"/proc/self/ns/net: %s", strerror(errno));
	cni_host_ifname(call, host);
	snprintf(out, size, LOCK_DIR "/%llu-%s", (unsigned long long)node.st_ino, host);
	return 0;
}

int cni_lock(const struct cni_call *call, struct cni_error *err)
{
	char path[128];
	struct stat held, named;

	if (lock_path(call, path, sizeof(path), err))
		return -1;
	if ((mkdir("/run/cubenet", 0700) && errno != EEXIST) ||
	    (mkdir(LOCK_DIR, 0700) && errno != EEXIST))
		return cni_fail(err, CNI_ERR_IO, "cannot lock the attachment", "%s: %s", LOCK_DIR,
				strerror(errno));
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return cni_fail(err, CNI_ERR_IO, "cannot lock the attachment", "%s: %s",
					path, strerror(errno));
		if (flock(fd, LOCK_EX)) {
			close(fd);
			if (errno == EINTR)
				continue;
			return cni_fail(err, CNI_ERR_IO, "cannot lock the attachment", "%s: %s",
					path, strerror(errno));
		}
		if (!fstat(fd, &held) && !stat(path, &named) && held.st_ino == named.st_ino &&
		    held.st_dev == named.st_dev)
			return fd;
		close(fd); /* its holder removed it: take the current one */
	}
}

void cni_unlock(const struct cni_call *call, int fd)
{
	char path[128];
	struct cni_error ignored = {0};

	if (fd < 0)
		return;
	if (!lock_path(call, path, sizeof(path), &ignored))
		unlink(path);
	close(fd);
}
