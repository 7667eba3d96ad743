// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "cgroup_attach.h"

/* mountinfo: "id parent major:minor root mountpoint opts ... - fstype src opts".
 * Mount points escape spaces as \040; cgroup2 roots seldom have any. */
static int find_cgroup2(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (found && fgets(line, sizeof(line), f)) {
		char root[1024], point[1024], *dash = strstr(line, " - ");
		char fstype[64];

		if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2") ||
		    sscanf(line, "%*s %*s %*s %1023s %1023s", root, point) != 2 ||
		    strcmp(root, "/") || strchr(point, '\\') || strlen(point) >= size)
			continue;
		snprintf(out, size, "%s", point);
		found = 0;
	}
	fclose(f);
	return found;
}

int cgroup2_root_open(const char *fallback)
{
	char path[1024];
	int fd;

	if (find_cgroup2(path, sizeof(path))) {
		if (mkdir(fallback, 0700) && errno != EEXIST)
			return -errno;
		if (mount("cgroup2", fallback, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) &&
		    errno != EBUSY)
			return -errno;
		snprintf(path, sizeof(path), "%s", fallback);
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cgroup_link_create(int cgroup_fd, int prog_fd, enum bpf_attach_type type, const char *pin)
{
	int fd = bpf_link_create(prog_fd, cgroup_fd, type, NULL), e;

	if (fd < 0)
		return -errno;
	unlink(pin);
	if (bpf_obj_pin(fd, pin)) {
		e = -errno;
		close(fd); /* the only reference: detached */
		return e;
	}
	return fd;
}

int cgroup_link_open(const char *pin, enum bpf_attach_type type)
{
	struct bpf_link_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	memset(&info, 0, sizeof(info));
	/* A link someone detached names no cgroup: of no use, replaced. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_CGROUP ||
	    info.cgroup.attach_type != type || !info.cgroup.cgroup_id) {
		close(fd);
		unlink(pin);
		return -ENOENT;
	}
	return fd;
}

int cgroup_link_update(int link_fd, int prog_fd)
{
	return bpf_link_update(link_fd, prog_fd, NULL) ? -errno : 0;
}

void cgroup_link_remove(int link_fd, const char *pin)
{
	if (pin)
		unlink(pin);
	if (link_fd >= 0) {
		bpf_link_detach(link_fd);
		close(link_fd);
	}
}
