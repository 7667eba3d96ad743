// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "instance.h"
#include "log.h"

/* dir exists, is ours, and only we write it. */
static int private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		cn_log(CN_LOG_ERROR, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode)) {
		cn_log(CN_LOG_ERROR, "%s is not a directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		cn_log(CN_LOG_ERROR, "%s must be owned by this user and writable by no one else",
		       dir);
		return -1;
	}
	return 0;
}

/* An exclusive flock on lock_path (a directory, or a file made 0600), for
 * the life of the process: the descriptor is never closed. */
static int lock(const char *lock_path, int is_dir, const char *what, const char *path)
{
	int fd = is_dir ? open(lock_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			: open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		cn_log(CN_LOG_ERROR, "cannot lock %s: %s", lock_path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			cn_log(CN_LOG_ERROR, "another cubenetd is running with %s %s; not starting",
			       what, path);
		else
			cn_log(CN_LOG_ERROR, "cannot lock %s: %s", lock_path, strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

int instance_claim(const char *socket_path, const char *state_dir, const char *bpffs)
{
	const char *slash = strrchr(socket_path, '/');
	char socket_dir[256], socket_lock[300];

	if (!slash)
		snprintf(socket_dir, sizeof(socket_dir), ".");
	else
		snprintf(socket_dir, sizeof(socket_dir), "%.*s",
			 slash == socket_path ? 1 : (int)(slash - socket_path), socket_path);
	snprintf(socket_lock, sizeof(socket_lock), "%s.lock", socket_path);
	if (private_dir(socket_dir) || private_dir(state_dir))
		return -1;
	if (mkdir(bpffs, 0700) && errno != EEXIST) {
		cn_log(CN_LOG_ERROR, "cannot create %s: %s", bpffs, strerror(errno));
		return -1;
	}
	if (lock(state_dir, 1, "state dir", state_dir) ||
	    lock(socket_lock, 0, "socket", socket_path) || lock(bpffs, 1, "bpffs dir", bpffs))
		return -1;
	return 0;
}
