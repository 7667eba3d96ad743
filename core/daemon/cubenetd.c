// SPDX-License-Identifier: Apache-2.0
/*
 * cubenetd: loads, wires and serves cubes through a YANG-modelled RESTCONF
 * API. Listens on a root-only unix socket; on TCP only when asked, and then
 * only with a bearer token.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "cubenetd_socket.h"
#include "datastore.h"
#include "instance.h"
#include "log.h"
#include "restconf.h"
#include "runtime.h"
#include "packet_in.h"
#include "service.h"
#include "service_registry.h"

#define DEFAULT_STATE_DIR "/var/lib/cubenet"
#define DEFAULT_BPFFS	  "/sys/fs/bpf/cubenet"

struct options {
	const char *socket_path;
	const char *tcp; /* "ADDR:PORT" or NULL */
	const char *token_file;
	const char *state_dir;
	const char *yang_dir;
	const char *bpffs;
	const char *log_level;
};

static const struct option long_options[] = {
    {"socket", required_argument, NULL, 's'},
    {"tcp", required_argument, NULL, 't'},
    {"token-file", required_argument, NULL, 'k'},
    {"state-dir", required_argument, NULL, 'd'},
    {"yang-dir", required_argument, NULL, 'y'},
    {"bpffs", required_argument, NULL, 'b'},
    {"log-level", required_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *const option_help[] = {
    "unix socket to listen on (default " CUBENETD_SOCKET ", mode 0600)",
    "also listen on TCP [ADDR:]PORT, loopback by default (needs --token-file)",
    "file holding the bearer token TCP clients must send",
    "where the running config is saved (default " DEFAULT_STATE_DIR ")",
    "where the YANG modules are, folders separated by ':' (default: those\n"
    "                      installed beside the binary, PREFIX/share/cubenet/yang;\n"
    "                      for the build tree's daemon, the sources')",
    "where programs and maps are pinned (default " DEFAULT_BPFFS ")",
    "error, warning, info (default: each write and what it changed) or debug\n"
    "                      (also reads, and libbpf's own messages)",
    "this help",
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cubenetd [options]\n\n");
	for (size_t i = 0; long_options[i].name; i++)
		fprintf(f, "  --%-12s %s%s\n", long_options[i].name,
			long_options[i].has_arg ? "ARG  " : "     ", option_help[i]);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The modules installed with this binary (PREFIX/sbin/cubenetd ->
 * PREFIX/share/cubenet/yang), or the sources' for the build tree's. */
static const char *default_yang_dir(void)
{
	static char dir[PATH_MAX + 64];
	char exe[PATH_MAX], build[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (len <= 0)
		return CUBENET_YANG_DIR;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return CUBENET_YANG_DIR;
	*slash = '\0';
	if (realpath(CUBENETD_BUILD_DIR, build) && !strcmp(build, exe))
		return CUBENET_YANG_DIR;
	snprintf(dir, sizeof(dir), "%s/%s", exe, CUBENETD_YANG_FROM_BIN);
	return dir;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Root only: created 0600 (under a 0177 umask, not chmod()ed after, which
 * would follow a link put there meanwhile). A socket already there is a
 * stale one of a daemon that died (we hold the lock); anything else is
 * not ours to remove. *made gets what was created, to unlink only that.
 */
static int listen_unix(const char *path, struct stat *made)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			cn_log(CN_LOG_ERROR, "%s exists and is not a socket; not touching it",
			       path);
			return -EEXIST;
		}
		if (unlink(path))
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc || lstat(path, made) || listen(fd, SOMAXCONN)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Descriptors: each cube holds its program and maps (up to 16, a nat
 * cube), each connection one. Take what the hard limit allows, and say so. */
#define FDS_PER_CUBE 16

static void raise_fd_limit(const struct datastore *ds)
{
	const struct lysc_node *cube =
	    lys_find_path(ds->ctx, NULL, "/cubenet-core:cubes/cubenet-core:cube", 0);
	unsigned long max_cubes = cube ? ((const struct lysc_node_list *)cube)->max : 0;
	unsigned long need = max_cubes * FDS_PER_CUBE + 2ul * RESTCONF_MAX_CONNECTIONS + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	cn_log(CN_LOG_DEBUG, "%lu file descriptors", (unsigned long)rl.rlim_cur);
	if (rl.rlim_cur < need)
		cn_log(CN_LOG_WARNING,
		       "%lu file descriptors; up to %lu may be needed (%lu cubes, %u connections "
		       "on each server): raise the hard limit (LimitNOFILE=)",
		       (unsigned long)rl.rlim_cur, need, max_cubes, RESTCONF_MAX_CONNECTIONS);
}

static int listen_tcp(const char *spec)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	char host[64];
	const char *colon = strrchr(spec, ':');
	int fd, one = 1;

	/* A bare port listens on loopback: reaching further is a choice. */
	if (!colon) {
		snprintf(host, sizeof(host), "127.0.0.1");
		colon = spec - 1;
	} else if (colon - spec >= (long)sizeof(host)) {
		return -EINVAL;
	} else {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	}
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 || !addr.sin_port)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, SOMAXCONN)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static char *read_token(const char *path)
{
	char buf[256] = {0};
	FILE *f = fopen(path, "r");
	struct stat st;

	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return NULL;
	}
	/* Whoever can read the token can drive the node over TCP. */
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
		cn_log(CN_LOG_WARNING, "%s is open to others than its owner (mode %o)", path,
		       (unsigned int)(st.st_mode & 0777));
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return strlen(buf) >= 16 ? strdup(buf) : NULL; /* refuse guessable tokens */
}

int main(int argc, char **argv)
{
	struct options o = {.socket_path = CUBENETD_SOCKET,
			    .state_dir = DEFAULT_STATE_DIR,
			    .yang_dir = default_yang_dir(),
			    .bpffs = DEFAULT_BPFFS,
			    .log_level = "info"};
	struct restconf_server unix_srv = {0}, tcp_srv = {0};
	struct cn_error err = {0};
	struct datastore ds;
	struct runtime *rt = NULL;
	struct stat socket_made = {0};
	const char **modules = NULL;
	char *token = NULL;
	struct packet_in *packet_in = NULL;
	int opt, ufd = -1, tfd = -1, rc = 1;
	struct timespec started;

	clock_gettime(CLOCK_MONOTONIC, &started);

	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (opt) {
		case 's':
			o.socket_path = optarg;
			break;
		case 't':
			o.tcp = optarg;
			break;
		case 'k':
			o.token_file = optarg;
			break;
		case 'd':
			o.state_dir = optarg;
			break;
		case 'y':
			o.yang_dir = optarg;
			break;
		case 'b':
			o.bpffs = optarg;
			break;
		case 'l':
			o.log_level = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cn_log_set_level(o.log_level)) {
		cn_log(CN_LOG_ERROR, "--log-level %s: error, warning, info or debug", o.log_level);
		return 2;
	}
	cn_log_take_libbpf();
	if (o.tcp && !o.token_file) {
		cn_log(CN_LOG_ERROR, "--tcp needs --token-file: TCP clients must authenticate");
		return 2;
	}
	if (o.token_file && !(token = read_token(o.token_file))) {
		cn_log(CN_LOG_ERROR, "%s: need a token of at least 16 characters", o.token_file);
		return 2;
	}
	if (instance_claim(o.socket_path, o.state_dir, o.bpffs)) {
		free(token);
		return 1;
	}
	rt = calloc(1, sizeof(*rt));
	modules = services_modules();
	if (!rt || !modules || runtime_init(rt, o.bpffs, &err) ||
	    ds_init(&ds, o.yang_dir, modules, o.state_dir, &err) || services_declare(&ds, &err)) {
		cn_log(CN_LOG_ERROR, "%s", err.message);
		return 1;
	}
	cn_log(CN_LOG_DEBUG, "modules and runtime ready in %.0f ms", ms_since(&started));
	raise_fd_limit(&ds);
	ds.handler = &service_handler;
	ds.handler_arg = rt;
	if (ds_restore(&ds, &err)) {
		cn_log(CN_LOG_ERROR, "restoring the config in %s: %s (%s)", o.state_dir,
		       err.message, err.path);
		goto cleanup;
	}
	cn_log(CN_LOG_DEBUG, "config restored at %.0f ms", ms_since(&started));
	runtime_gc_pins(rt);
	if (services_start(rt, &err)) {
		cn_log(CN_LOG_ERROR, "%s", err.message);
		goto cleanup;
	}
	packet_in = packet_in_start(&ds, rt);
	if (!packet_in) {
		cn_log(CN_LOG_ERROR, "cannot start the slow path");
		goto cleanup;
	}

	ufd = listen_unix(o.socket_path, &socket_made);
	if (ufd < 0) {
		cn_log(CN_LOG_ERROR, "%s: %s", o.socket_path, strerror(-ufd));
		goto cleanup;
	}
	unix_srv = (struct restconf_server){.ds = &ds, .rt = rt};
	if (restconf_start(&unix_srv, ufd)) {
		cn_log(CN_LOG_ERROR, "cannot serve on %s", o.socket_path);
		goto cleanup;
	}
	if (o.tcp) {
		tfd = listen_tcp(o.tcp);
		tcp_srv = (struct restconf_server){.ds = &ds, .rt = rt, .token = token};
		if (tfd < 0 || restconf_start(&tcp_srv, tfd)) {
			cn_log(CN_LOG_ERROR, "cannot listen on %s: %s", o.tcp,
			       strerror(tfd < 0 ? -tfd : EIO));
			goto cleanup;
		}
	}
	cn_log(CN_LOG_INFO,
	       "config of generation %llu restored from %s in %.0f ms; serving RESTCONF on %s%s%s",
	       (unsigned long long)ds.journal.generation, o.state_dir, ms_since(&started),
	       o.socket_path, o.tcp ? " and " : "", o.tcp ? o.tcp : "");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	while (!stop)
		sleep(1);
	cn_log(CN_LOG_INFO, "stopping: the datapath stays as it is, pinned in %s", o.bpffs);
	rc = 0;
cleanup:
	restconf_stop(&tcp_srv);
	restconf_stop(&unix_srv);
	packet_in_stop(packet_in);
	services_stop(rt);
	if (ufd >= 0) {
		struct stat st;

		close(ufd);
		/* Only the socket this daemon made, not one put in its place. */
		if (lstat(o.socket_path, &st) == 0 && st.st_dev == socket_made.st_dev &&
		    st.st_ino == socket_made.st_ino)
			unlink(o.socket_path);
	}
	if (tfd >= 0)
		close(tfd);
	runtime_destroy(rt);
	ds_destroy(&ds);
	free(rt);
	free(modules);
	free(token);
	return rc;
}
