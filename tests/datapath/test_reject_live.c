// SPDX-License-Identifier: Apache-2.0
/*
 * lib/reject.h against real kernels' sockets: a parser and the reject test
 * cube on the node side of a pod's veth (TC ingress, then generic XDP), and
 * on TC egress of a netdev the node's own traffic leaves by. A client's
 * UDP and TCP sockets, IPv4 and IPv6, must see ECONNREFUSED at once: the
 * error reached them, their kernel took its checksums and found the socket
 * from the quote. Everything lives in network namespaces this test makes
 * (the node's is its own, unshared; each pod's is a child's), gone when
 * the processes exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "netdev.h"
#include "netdev_attach.h"
#include "test.h"

/*
 * Sockets to the addresses given, each told what answered; then how many
 * SYNs the TCP ones sent again (tcp_info's total_retrans): one whose
 * error came while connect() still held its socket may only mark a soft
 * error, and the SYN goes once more.
 */
static const char *const CLIENT =
    "import socket, struct, sys\n"
    "out, resent = [], 0\n"
    "for vip in sys.argv[1:]:\n"
    "    fam = socket.AF_INET6 if ':' in vip else socket.AF_INET\n"
    "    u = socket.socket(fam, socket.SOCK_DGRAM); u.settimeout(2)\n"
    "    u.connect((vip, 53)); u.send(b'q' * 20)\n"
    "    t = socket.socket(fam, socket.SOCK_STREAM); t.settimeout(2)\n"
    "    for f in (lambda: u.recv(100), lambda: t.connect((vip, 80))):\n"
    "        try:\n"
    "            f(); out.append('answered')\n"
    "        except ConnectionRefusedError:\n"
    "            out.append('refused')\n"
    "        except OSError as e:\n"
    "            out.append(type(e).__name__)\n"
    "    info = t.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)\n"
    "    resent += struct.unpack_from('I', info, 100)[0]\n"
    "print(' '.join(out))\n"
    "print(resent)\n";

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "  `%s` failed: %d\n", cmd, rc);
	return rc;
}

/* The client in this namespace; its answers in out, then a newline and
 * the count of its SYNs sent again. */
static int client(const char *vips, char *out, size_t size)
{
	char cmd[1024];
	size_t len;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "python3 -c \"$DPK8S_CLIENT\" %s", vips);
	setenv("DPK8S_CLIENT", CLIENT, 1);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	len = fread(out, 1, size - 1, p);
	out[len] = 0;
	return pclose(p);
}

static struct cube *reject_cube(enum cube_hook hook)
{
	const char *path = hook == CUBE_HOOK_TC ? REJECT_TEST_TC : REJECT_TEST_XDP;
	struct cube *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->hook = hook;
	c->prog_fd = -1;
	c->obj = bpf_object__open_file(path, NULL);
	c->prog = c->obj ? bpf_object__find_program_by_name(c->obj, "cube_reject_test") : NULL;
	if (!c->prog || cube_load(c, &harness_shared)) {
		cube_destroy(c);
		return NULL;
	}
	return c;
}

struct chain {
	struct cube *parser, *rejector;
};

static int chain_make(struct chain *ch, enum cube_hook hook)
{
	ch->parser = harness_cube("parser", hook, NULL, NULL);
	ch->rejector = reject_cube(hook);
	if (!ch->parser || !ch->rejector)
		return -1;
	return cube_connect_cube(ch->parser, 0, ch->rejector);
}

static void chain_free(struct chain *ch)
{
	cube_destroy(ch->parser);
	cube_destroy(ch->rejector);
}

#define NODE_MAC "02:00:00:00:aa:01"

/*
 * A pod behind veth rjhN (node; N counts the calls, as a namespace gone
 * takes its veth away in the background) / rjp (pod), its gateway's
 * neighbours set by hand (the cube rejects everything, ARP and ND
 * included), the chain attached to rjhN in mode; the pod's client asks the
 * ClusterIPs. The pod's namespace is a child's: it goes when the child
 * exits.
 */
static void pod_asks(const struct chain *ch, enum attach_mode mode, char *out, size_t size)
{
	static unsigned int calls;
	char node_end[IF_NAMESIZE];
	int go[2], done[2];
	pid_t pid;
	char c = 0;

	out[0] = 0;
	if (pipe(go) || pipe(done))
		return;
	pid = fork();
	if (pid == 0) {
		char buf[256] = "";

		close(go[1]);
		close(done[0]);
		if (unshare(CLONE_NEWNET) || write(done[1], "u", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		if (run("ip link set lo up && ip link set rjp up && "
			"ip addr add 10.244.0.5/24 dev rjp && ip addr add fd00::5/64 dev rjp nodad "
			"&& "
			"ip route add default via 10.244.0.1 && ip -6 route add default via "
			"fd00::1 && "
			"ip neigh add 10.244.0.1 lladdr " NODE_MAC " dev rjp && "
			"ip -6 neigh add fd00::1 lladdr " NODE_MAC " dev rjp"))
			_exit(1);
		client("10.96.0.10 fd00:96::10", buf, sizeof(buf));
		_exit(write(done[1], buf, strlen(buf) + 1) < 0);
	}
	close(go[0]);
	close(done[1]);
	if (pid < 0 || read(done[0], &c, 1) != 1)
		goto out;
	snprintf(node_end, sizeof(node_end), "rjh%u", calls++);
	if (run("ip link add %s address " NODE_MAC " type veth peer name rjp && "
		"ip link set rjp netns %d && ip link set %s up && "
		"ip addr add 10.244.0.1/24 dev %s && ip addr add fd00::1/64 dev %s nodad",
		node_end, (int)pid, node_end, node_end, node_end))
		goto out;
	CHECK_EQ(netdev_attach(ch->parser, netdev_index(node_end), mode), 0);
	if (write(go[1], "g", 1) != 1)
		goto out;
	ssize_t n = read(done[0], out, size - 1);

	out[n > 0 ? n : 0] = 0;
out:
	close(go[1]);
	close(done[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static const char *const REFUSED = "refused refused refused refused\n";

/*
 * The client saw every socket refused, and every packet the cube saw was
 * answered, but for the ones no error may answer (the namespaces' own
 * neighbour discovery and multicast reports): one error per socket, and
 * one more per SYN sent again (see CLIENT).
 */
static void check_refused_and_answered(const struct cube *rejector, const char *out)
{
	struct cube_stats st = harness_stats(rejector);
	size_t answers = strlen(REFUSED);
	char *end = NULL;
	unsigned long resent;

	CHECK(strncmp(out, REFUSED, answers) == 0, "client saw '%s'", out);
	if (strncmp(out, REFUSED, answers))
		return;
	resent = strtoul(out + answers, &end, 10);
	CHECK(end != out + answers && *end == '\n', "client's resent count '%s'", out + answers);
	CHECK_EQ(st.verdict[CUBE_VERDICT_TX], 4 + resent);
	CHECK_EQ(st.verdict[CUBE_VERDICT_DROP], st.drop[CUBE_DROP_REJECT_SUPPRESSED]);
	CHECK_EQ(st.rx_packets, st.verdict[CUBE_VERDICT_TX] + st.verdict[CUBE_VERDICT_DROP]);
}

/* A pod's packets on TC ingress of its veth: the errors go back out of it. */
TEST(pod_refused_through_tc_ingress)
{
	struct chain ch = {0};
	char out[256];

	REQUIRE(chain_make(&ch, CUBE_HOOK_TC) == 0, "load");
	pod_asks(&ch, ATTACH_TC_INGRESS, out, sizeof(out));
	check_refused_and_answered(ch.rejector, out);
	chain_free(&ch);
}

/* The same frames through generic XDP: XDP_TX back to the pod. */
TEST(pod_refused_through_xdp)
{
	struct chain ch = {0};
	char out[256];

	REQUIRE(chain_make(&ch, CUBE_HOOK_XDP) == 0, "load");
	pod_asks(&ch, ATTACH_XDP_GENERIC, out, sizeof(out));
	check_refused_and_answered(ch.rejector, out);
	chain_free(&ch);
}

/*
 * The node's own sockets, their packets on TC egress of rje (as the node
 * chain takes them on cubenet0): the errors must come up this host's
 * ingress, not go out to the peer, where nothing would answer.
 */
TEST(node_refused_through_tc_egress)
{
	struct chain ch = {0};
	char out[256] = "";

	REQUIRE(chain_make(&ch, CUBE_HOOK_TC) == 0, "load");
	if (run("ip link add rje type veth peer name rjf && ip link set rje up && "
		"ip link set rjf up && ip addr add 10.97.0.1/24 dev rje && "
		"ip addr add fd97::1/64 dev rje nodad && "
		"ip neigh add 10.97.0.10 lladdr 02:00:00:00:aa:09 dev rje && "
		"ip -6 neigh add fd97::10 lladdr 02:00:00:00:aa:09 dev rje") == 0) {
		CHECK_EQ(netdev_attach(ch.parser, netdev_index("rje"), ATTACH_TC_EGRESS), 0);
		client("10.97.0.10 fd97::10", out, sizeof(out));
	}
	check_refused_and_answered(ch.rejector, out);
	run("ip link del rje");
	chain_free(&ch);
}

static const struct test_case cases[] = {
    TEST_ENTRY(pod_refused_through_tc_ingress),
    TEST_ENTRY(pod_refused_through_xdp),
    TEST_ENTRY(node_refused_through_tc_egress),
};

int main(void)
{
	harness_init("reject_live");
	/* This process's own network namespace: nothing it makes outlives it. */
	if (unshare(CLONE_NEWNET) || system("ip link set lo up"))
		test_skip("reject_live", "cannot make a network namespace");
	return test_run_all("reject_live", cases, sizeof(cases) / sizeof(cases[0]));
}
