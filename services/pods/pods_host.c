// SPDX-License-Identifier: Apache-2.0
/*
 * The node's own sockets and the services (node/host-clients): the
 * socket-level balancer (cubes/sock_lb.bpf.c) loaded onto the node chain's
 * maps and attached to the root of the cgroup v2 hierarchy through bpf
 * links pinned under bpffs:
 *
 *   BPFFS/host/link_<hook>        one link per hook (connect4, sendmsg6, ...)
 *   BPFFS/host/sock_lb_<map>      its own maps: node, local addresses, reverse
 *
 * A change whose chain keeps its maps only rewrites the node's entries; one
 * that reloads a cube the programs read (a map outgrown, a restart) loads
 * them again onto the new maps and swaps each link at commit, so no connect
 * meets a half-made choice. Links that must be made are made in apply (an
 * abort removes them); the chain gone, or host-clients off, they go.
 * Connected UDP sockets of endpoints a change removed are destroyed at
 * commit (an iterator over the namespace's UDP sockets), as the chain
 * forgets such flows.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroup_attach.h"
#include "pods_state.h"
#include "runtime.h"
#include "lib/abi/sock_lb.h"
#include "sock_lb.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* Where a cgroup2 hierarchy is mounted if the machine has it nowhere. */
#define CGROUP2_FALLBACK "/run/cubenet-cgroup2"

enum {
	HOOK_CONNECT4,
	HOOK_CONNECT6,
	HOOK_SENDMSG4,
	HOOK_SENDMSG6,
	HOOK_RECVMSG4,
	HOOK_RECVMSG6,
	HOOK_GETPEERNAME4,
	HOOK_GETPEERNAME6,
	N_HOOKS
};

static const struct {
	const char *name;
	enum bpf_attach_type type;
} hooks[N_HOOKS] = {
    [HOOK_CONNECT4] = {"connect4", BPF_CGROUP_INET4_CONNECT},
    [HOOK_CONNECT6] = {"connect6", BPF_CGROUP_INET6_CONNECT},
    [HOOK_SENDMSG4] = {"sendmsg4", BPF_CGROUP_UDP4_SENDMSG},
    [HOOK_SENDMSG6] = {"sendmsg6", BPF_CGROUP_UDP6_SENDMSG},
    [HOOK_RECVMSG4] = {"recvmsg4", BPF_CGROUP_UDP4_RECVMSG},
    [HOOK_RECVMSG6] = {"recvmsg6", BPF_CGROUP_UDP6_RECVMSG},
    [HOOK_GETPEERNAME4] = {"getpeername4", BPF_CGROUP_INET4_GETPEERNAME},
    [HOOK_GETPEERNAME6] = {"getpeername6", BPF_CGROUP_INET6_GETPEERNAME},
};

/* The chain's maps the programs read, by stage. */
static const struct {
	enum pods_stage stage;
	const char *map;
} chain_maps[] = {
    {STAGE_CLASSIFIER, "classifier_services"},
    {STAGE_MAGLEV, "maglev_slots"},
    {STAGE_MAGLEV, "maglev_services"},
    {STAGE_MAGLEV, "maglev_backends"},
    {STAGE_MAGLEV, "maglev_affinity"},
    {STAGE_MAGLEV, "maglev_service_stats"},
    {STAGE_NAT, "nat_backends"},
    {STAGE_NAT, "nat_backend_stats"},
};
#define N_CHAIN_MAPS (sizeof(chain_maps) / sizeof(chain_maps[0]))

static struct {
	struct sock_lb *live; /* what the links run, if this daemon loaded it */
	struct sock_lb *next; /* loaded by the change in flight */
	uint32_t live_ids[N_CHAIN_MAPS], next_ids[N_CHAIN_MAPS];
	int links[N_HOOKS];
	int made[N_HOOKS]; /* the link was made by the change in flight */
	char dir[300];	   /* BPFFS/host */
	int cgroup_fd;
} host = {.links = {-1, -1, -1, -1, -1, -1, -1, -1}, .cgroup_fd = -1};

/* Endpoints of UDP balancers the change in commit removed. */
static struct {
	struct sock_lb_addr *at;
	size_t n, cap;
} gone;

static struct bpf_program *prog_of(struct sock_lb *s, int hook)
{
	struct bpf_program *const progs[N_HOOKS] = {
	    s->progs.sock_lb_connect4,	   s->progs.sock_lb_connect6,	  s->progs.sock_lb_sendmsg4,
	    s->progs.sock_lb_sendmsg6,	   s->progs.sock_lb_recvmsg4,	  s->progs.sock_lb_recvmsg6,
	    s->progs.sock_lb_getpeername4, s->progs.sock_lb_getpeername6,
	};

	return progs[hook];
}

static void pin_path(struct runtime *rt, char *out, size_t size, const char *name)
{
	snprintf(host.dir, sizeof(host.dir), "%s/host", rt->bpffs);
	snprintf(out, size, "%s/%s", host.dir, name);
}

static void link_path(struct runtime *rt, char *out, size_t size, int hook)
{
	char name[32];

	snprintf(name, sizeof(name), "link_%s", hooks[hook].name);
	pin_path(rt, out, size, name);
}

static int netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		e = -errno;
	close(fd);
	return e;
}

static int chain_fds(struct runtime *rt, int fds[N_CHAIN_MAPS], uint32_t ids[N_CHAIN_MAPS])
{
	for (size_t i = 0; i < N_CHAIN_MAPS; i++) {
		struct cube *c = rt_cube(rt, pods_stage_names[chain_maps[i].stage]);
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);

		fds[i] = c ? cube_map_fd(c, chain_maps[i].map) : -ENOENT;
		if (fds[i] < 0)
			return fds[i];
		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			return -errno;
		ids[i] = info.id;
	}
	return 0;
}

/* The programs, on the chain's maps and on its own pinned ones. */
static int load(struct runtime *rt, const int fds[N_CHAIN_MAPS], struct sock_lb **out)
{
	struct sock_lb *s = sock_lb__open();
	struct bpf_map *own[] = {NULL, NULL, NULL};
	char path[400];
	uint64_t cookie;
	int e;

	if (!s)
		return -errno;
	if ((e = netns_cookie(&cookie)))
		goto fail;
	s->rodata->sock_lb_netns = cookie;
	for (size_t i = 0; i < N_CHAIN_MAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(s->obj, chain_maps[i].map);

		if (!m || (e = bpf_map__reuse_fd(m, fds[i])))
			goto fail;
	}
	own[0] = s->maps.sock_lb_node;
	own[1] = s->maps.sock_lb_local;
	own[2] = s->maps.sock_lb_reverse;
	pin_path(rt, path, sizeof(path), "");
	if (mkdir(path, 0700) && errno != EEXIST) {
		e = -errno;
		goto fail;
	}
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		pin_path(rt, path, sizeof(path), bpf_map__name(own[i]));
		if ((e = bpf_map__set_pin_path(own[i], path)))
			goto fail;
	}
	if ((e = sock_lb__load(s)))
		goto fail;
	*out = s;
	return 0;
fail:
	sock_lb__destroy(s);
	return e < 0 ? e : -EINVAL;
}

/* The node's address and local addresses, for NodePorts on them. */
static int local_key(const struct ifaddrs *a, struct sock_lb_local_key *key)
{
	memset(key, 0, sizeof(*key));
	if (!a->ifa_addr)
		return -1;
	if (a->ifa_addr->sa_family == AF_INET) {
		key->family = CUBE_AF_INET;
		memcpy(key->addr.bytes, &((const struct sockaddr_in *)a->ifa_addr)->sin_addr, 4);
	} else if (a->ifa_addr->sa_family == AF_INET6) {
		key->family = CUBE_AF_INET6;
		memcpy(key->addr.bytes, &((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, 16);
	} else {
		return -1;
	}
	return 0;
}

/* The node's local addresses, for NodePorts on them: the new ones first,
 * then those gone. From apply and from the address watcher, one at a time. */
static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;

static int write_local(int local)
{
	struct sock_lb_local_key key, next, have;
	struct ifaddrs *ifs = NULL;
	uint32_t one = 1;
	int rc;

	pthread_mutex_lock(&local_lock);
	if (getifaddrs(&ifs)) {
		rc = -errno;
		pthread_mutex_unlock(&local_lock);
		return rc;
	}
	for (struct ifaddrs *a = ifs; a; a = a->ifa_next)
		if (!local_key(a, &key))
			bpf_map_update_elem(local, &key, &one, BPF_ANY); /* full: those served */
	for (rc = bpf_map_get_next_key(local, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(local, &key, &next)) {
		int kept = 0;

		key = next;
		for (struct ifaddrs *a = ifs; a && !kept; a = a->ifa_next)
			kept = !local_key(a, &have) && !memcmp(&have, &key, sizeof(key));
		if (!kept)
			bpf_map_delete_elem(local, &key);
	}
	freeifaddrs(ifs);
	pthread_mutex_unlock(&local_lock);
	return 0;
}

static int write_node(struct sock_lb *s, const struct pods_node *node)
{
	struct sock_lb_node v = {.addr = node->addr, .have_addr = (uint32_t)node->have_addr};
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(s->maps.sock_lb_node), &zero, &v, BPF_ANY))
		return -errno;
	return write_local(bpf_map__fd(s->maps.sock_lb_local));
}

/* Addresses come and go between changes: a thread follows them (on the
 * pinned map, so it shares nothing else with the changes). */
static struct {
	pthread_t thread;
	int nl_fd, stop_fd, running;
	char map[400];
} watch = {.nl_fd = -1, .stop_fd = -1};

static void *watch_addresses(void *arg)
{
	struct pollfd fds[2] = {{.fd = watch.nl_fd, .events = POLLIN},
				{.fd = watch.stop_fd, .events = POLLIN}};
	char buf[8192];

	(void)arg;
	while (poll(fds, 2, -1) >= 0 || errno == EINTR) {
		int changed = 0, fd;

		if (fds[1].revents)
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		/* Any message (or an overrun, ENOBUFS): read the set anew. */
		while (recv(watch.nl_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
			changed = 1;
		if (changed && (fd = bpf_obj_get(watch.map)) >= 0) {
			write_local(fd);
			close(fd);
		}
	}
	return NULL;
}

int pods_host_start(struct runtime *rt, struct cn_error *err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};

	pin_path(rt, watch.map, sizeof(watch.map), "sock_lb_local");
	watch.nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	watch.stop_fd = eventfd(0, EFD_CLOEXEC);
	if (watch.nl_fd < 0 || watch.stop_fd < 0 ||
	    bind(watch.nl_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    pthread_create(&watch.thread, NULL, watch_addresses, NULL)) {
		int e = errno;

		pods_host_stop(rt);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, NODE,
			       "cannot follow the node's addresses: %s", strerror(e));
	}
	watch.running = 1;
	return 0;
}

void pods_host_stop(struct runtime *rt)
{
	uint64_t one = 1;

	(void)rt;
	if (watch.running) {
		if (write(watch.stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(watch.thread, NULL);
		watch.running = 0;
	}
	free(gone.at);
	gone.at = NULL;
	gone.n = gone.cap = 0;
	if (watch.nl_fd >= 0)
		close(watch.nl_fd);
	if (watch.stop_fd >= 0)
		close(watch.stop_fd);
	watch.nl_fd = watch.stop_fd = -1;
}

static void links_remove(struct runtime *rt)
{
	char path[400];

	for (int h = 0; h < N_HOOKS; h++) {
		link_path(rt, path, sizeof(path), h);
		if (host.links[h] < 0)
			host.links[h] = cgroup_link_open(path, hooks[h].type);
		cgroup_link_remove(host.links[h], path);
		host.links[h] = -1;
	}
}

/* The pinned links a daemon before this one made, or new ones running s. */
static int links_ensure(struct runtime *rt, struct sock_lb *s)
{
	char path[400];

	for (int h = 0; h < N_HOOKS; h++) {
		if (host.links[h] >= 0)
			continue;
		link_path(rt, path, sizeof(path), h);
		host.links[h] = cgroup_link_open(path, hooks[h].type);
		if (host.links[h] >= 0)
			continue;
		if (host.cgroup_fd < 0 &&
		    (host.cgroup_fd = cgroup2_root_open(CGROUP2_FALLBACK)) < 0)
			return host.cgroup_fd;
		host.links[h] = cgroup_link_create(host.cgroup_fd, bpf_program__fd(prog_of(s, h)),
						   hooks[h].type, path);
		if (host.links[h] < 0)
			return host.links[h];
		host.made[h] = 1;
	}
	return 0;
}

void pods_host_udp_gone(const union cube_addr *addr, uint8_t family, uint16_t port)
{
	if (gone.n == gone.cap) {
		size_t cap = gone.cap ? 2 * gone.cap : 64;
		struct sock_lb_addr *grown = realloc(gone.at, cap * sizeof(*grown));

		if (!grown)
			return; /* out of memory: those sockets stay on the endpoint */
		gone.at = grown;
		gone.cap = cap;
	}
	gone.at[gone.n++] =
	    (struct sock_lb_addr){.addr = *addr, .port = htons(port), .family = family};
}

static void run_iterator(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	char buf[64];
	int fd;

	if (!link)
		return;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
}

/* Destroy the node's connected UDP sockets of the endpoints gone, a map's
 * worth at a time. */
static void reap_udp(struct sock_lb *s)
{
	int map = bpf_map__fd(s->maps.sock_lb_gone);
	uint32_t one = 1;

	for (size_t from = 0; from < gone.n; from += SOCK_LB_GONE_ENTRIES) {
		size_t to =
		    from + SOCK_LB_GONE_ENTRIES < gone.n ? from + SOCK_LB_GONE_ENTRIES : gone.n;

		for (size_t i = from; i < to; i++)
			bpf_map_update_elem(map, &gone.at[i], &one, BPF_ANY);
		run_iterator(s->progs.sock_lb_udp_reap);
		for (size_t i = from; i < to; i++)
			bpf_map_delete_elem(map, &gone.at[i]);
	}
}

int pods_host_apply(struct runtime *rt, const struct ds_change *c, struct cn_error *err)
{
	const struct pods_node *node = pods_next_node();
	int fds[N_CHAIN_MAPS], e;

	if (!node->host_clients)
		return 0; /* removed at commit */
	if ((e = chain_fds(rt, fds, host.next_ids)))
		goto fail;
	if (!host.live || c->restore ||
	    memcmp(host.live_ids, host.next_ids, sizeof(host.live_ids))) {
		if ((e = load(rt, fds, &host.next)))
			goto fail;
	}
	if ((e = write_node(host.next ? host.next : host.live, node)) ||
	    (e = links_ensure(rt, host.next ? host.next : host.live)))
		goto fail;
	return 0;
fail:
	return cn_fail(err, CN_ERR_OPERATION_FAILED, NODE,
		       "cannot attach the node's socket-level balancer: %s", strerror(-e));
}

void pods_host_commit(struct runtime *rt)
{
	if (!pods.chain || !pods.node.host_clients) {
		links_remove(rt);
		sock_lb__destroy(host.next);
		sock_lb__destroy(host.live);
		host.next = host.live = NULL;
		if (!pods.chain) {
			char path[400];

			/* Its own maps go with it (a new chain starts them empty). */
			for (const char *const *m =
				 (const char *const[]){"sock_lb_node", "sock_lb_local",
						       "sock_lb_reverse", NULL};
			     *m; m++) {
				pin_path(rt, path, sizeof(path), *m);
				unlink(path);
			}
			pin_path(rt, path, sizeof(path), "");
			rmdir(path);
		}
	} else if (host.next) {
		/* Links that are not new run what a daemon or a chain before
		 * loaded: the new programs in their place, one link at a time
		 * (each hook is on its own). */
		for (int h = 0; h < N_HOOKS; h++)
			if (host.links[h] >= 0)
				cgroup_link_update(host.links[h],
						   bpf_program__fd(prog_of(host.next, h)));
		sock_lb__destroy(host.live);
		host.live = host.next;
		host.next = NULL;
		memcpy(host.live_ids, host.next_ids, sizeof(host.live_ids));
	}
	if (host.live)
		reap_udp(host.live);
	gone.n = 0;
	memset(host.made, 0, sizeof(host.made));
}

void pods_host_abort(void)
{
	char path[400];

	for (int h = 0; h < N_HOOKS; h++) {
		if (!host.made[h])
			continue;
		snprintf(path, sizeof(path), "%s/link_%s", host.dir, hooks[h].name);
		cgroup_link_remove(host.links[h], path);
		host.links[h] = -1;
		host.made[h] = 0;
	}
	sock_lb__destroy(host.next);
	host.next = NULL;
	/* The node's entries are shared by every load: back to the committed. */
	if (host.live)
		write_node(host.live, &pods.node);
}
