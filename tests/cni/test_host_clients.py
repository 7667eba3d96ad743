# SPDX-License-Identifier: Apache-2.0
"""The node's own sockets reach services: a client in the node's network
namespace (where cubenetd runs, as on a node) connects to a ClusterIP, to
127.0.0.1:NodePort, to nodeIP:NodePort and to another local address's
NodePort, over TCP, connected UDP and unconnected UDP, and reaches real
servers in pods made by the CNI plugin; the socket-level balancer (cgroup
programs on the root of the cgroup v2 hierarchy, filtered to the node's
network namespace) rewrote the destination at connect time. A service with
no endpoint is refused at once; client-IP affinity holds; the translation
is gone once the service, host-clients or the chain goes; a restarted
daemon adopts the attachment. Needs root; exits 77 without it."""
import errno
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_cni import CniNode, sh  # noqa: E402

SERVICES = "/restconf/data/cubenet-pods:services"
CLUSTER_IP, PORT, TARGET = "10.96.0.10", 80, 8080
NODE_IP, NODE_PORT = "192.0.2.1", 30080
OTHER_LOCAL = "198.51.100.7"  # a second local address of the node
LATER_LOCAL = "203.0.113.9"  # one it gains while the daemon runs
UDP_PORT, UDP_TARGET, UDP_NODE_PORT = 53, 5353, 30053

# TCP on TARGET and UDP on UDP_TARGET, each answering with the pod's name.
SERVER = """
import socket, sys, threading
name = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d)); s.listen(128)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", %d))
def udp():
    while True:
        data, peer = u.recvfrom(65535); u.sendto(name.encode() + b" " + data, peer)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
def serve(c):
    c.sendall(name.encode()); c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
""" % (TARGET, UDP_TARGET)

# argv: mode addr port count. Prints {"who": n, ...}; a failure is
# "errno:NAME"; every answer's peer (getpeername / recvfrom) must be the
# address asked for, else "peer:ADDR:PORT".
CLIENT = r"""
import errno, json, socket, sys, time
mode, addr, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen, took = {}, 0.0
for i in range(count):
    t0 = time.monotonic()
    try:
        if mode == "tcp":
            c = socket.socket(); c.settimeout(3); c.connect((addr, port))
            peer = c.getpeername(); who = c.recv(100).decode() or "empty"
        elif mode == "tcp6-mapped":  # a dual-stack socket, the IPv4 address mapped
            c = socket.socket(socket.AF_INET6); c.settimeout(3)
            c.connect(("::ffff:" + addr, port)); peer = c.getpeername()[:2]
            peer = (peer[0].replace("::ffff:", ""), peer[1])
            who = c.recv(100).decode() or "empty"
        elif mode == "udp6-mapped":
            c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); c.settimeout(3)
            c.sendto(b"ask%d" % i, ("::ffff:" + addr, port)); data, peer = c.recvfrom(100)
            peer = (peer[0].replace("::ffff:", ""), peer[1])
            who, _, echo = data.decode().partition(" ")
            assert echo == "ask%d" % i, data
        elif mode == "udp-connected":
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(3)
            c.connect((addr, port)); peer = c.getpeername()
            c.send(b"ask%d" % i); got = c.recv(100).decode()
            who, _, echo = got.partition(" ")
            assert echo == "ask%d" % i, got
        else:  # udp-sendto
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(3)
            c.sendto(b"ask%d" % i, (addr, port)); data, peer = c.recvfrom(100)
            who, _, echo = data.decode().partition(" ")
            assert echo == "ask%d" % i, data
        if peer != (addr, port):
            who = "peer:%s:%d" % peer
        c.close()
    except OSError as e:
        who = "errno:" + (errno.errorcode.get(e.errno, str(e)) if e.errno else "timeout")
    took = max(took, time.monotonic() - t0)
    seen[who] = seen.get(who, 0) + 1
print(json.dumps({"seen": seen, "slowest": took}))
"""


class HostClientTest(CniNode):
    def setUp(self):
        super().setUp()
        self.addr = {}
        # The node's uplink and address, and a second local address.
        self.outside = self.pod()
        sh("ip", "link", "add", "up0", "netns", self.node, "type", "veth", "peer", "name",
           "eth0", "netns", self.outside)
        sh("ip", "-n", self.node, "addr", "add", NODE_IP + "/24", "dev", "up0")
        sh("ip", "-n", self.node, "addr", "add", OTHER_LOCAL + "/32", "dev", "lo")
        sh("ip", "-n", self.node, "link", "set", "up0", "up")
        sh("ip", "-n", self.outside, "link", "set", "eth0", "up")
        r = self.daemon.client().put("/restconf/data/cubenet-pods:node",
                                     {"cubenet-pods:node": {"uplink": "up0"}})
        self.assertIn(r.status, (201, 204), r.body)
        for name in ("be1", "be2", "be3"):
            ns = self.pod()
            rc, res = self.cni("ADD", self.conf(), cid=name, netns=ns)
            self.assertEqual(rc, 0, res)
            self.addr[name] = (ns, res["ips"][0]["address"].split("/")[0])
            srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER,
                                    name], stdout=subprocess.PIPE, text=True)
            self.addCleanup(srv.stdout.close)
            self.addCleanup(srv.wait)
            self.addCleanup(srv.kill)
            self.assertEqual(srv.stdout.readline().strip(), "ready")

    def service(self, endpoints, affinity="none", name="web", cluster_ip=CLUSTER_IP):
        body = {"cubenet-pods:services": {"service": [{
            "namespace": "default", "name": name, "cluster-ip": [cluster_ip],
            "session-affinity": affinity,
            "port": [{"port": PORT, "protocol": "tcp", "target-port": TARGET,
                      "node-port": NODE_PORT},
                     {"port": UDP_PORT, "protocol": "udp", "target-port": UDP_TARGET,
                      "node-port": UDP_NODE_PORT}],
            "endpoint": [{"address": self.addr[e][1]} for e in endpoints]}]}}
        r = self.daemon.client().put(SERVICES, body)
        self.assertIn(r.status, (200, 201, 204), r.body)

    def client(self, mode, addr, port, count, netns=None):
        out = sh("nsenter", f"--net=/run/netns/{netns or self.node}", sys.executable, "-c",
                 CLIENT, mode, addr, str(port), str(count))
        return json.loads(out.stdout)

    def eventually(self, mode, addr, port, want):
        """What one connection gets once it starts with want (2 s at most)."""
        for _ in range(40):
            got = next(iter(self.client(mode, addr, port, 1)["seen"]))
            if got.startswith(want):
                return want
            time.sleep(0.05)
        return got

    def attached(self):
        """Our programs on the root cgroup: prog ids of the pinned links."""
        ids = {}
        for pin in sorted(os.listdir(os.path.join(self.daemon.bpffs, "host"))):
            if pin.startswith("link_"):
                out = sh("bpftool", "link", "show", "pinned",
                         os.path.join(self.daemon.bpffs, "host", pin), "-j").stdout
                ids[pin[5:]] = json.loads(out)["prog_id"]
        return ids

    def root_cgroup_progs(self):
        with open("/proc/self/mountinfo") as f:
            root = next(line.split()[4] for line in f
                        if " - cgroup2 " in line and line.split()[3] == "/")
        out = sh("bpftool", "cgroup", "show", root, "-j").stdout.strip()
        return {p["id"] for p in json.loads(out or "[]")}

    def test_tcp_to_cluster_ip_and_node_ports(self):
        self.service(["be1", "be2", "be3"])
        # The node has no route to the ClusterIP at all: only a
        # translation at connect time can reach it.
        self.assertNotEqual(sh("ip", "-n", self.node, "route", "get", CLUSTER_IP,
                               check=False).returncode, 0)
        got = self.client("tcp", CLUSTER_IP, PORT, 60)["seen"]
        self.assertEqual(set(got), {"be1", "be2", "be3"}, got)
        self.assertEqual(sum(got.values()), 60)
        for addr in ("127.0.0.1", "127.0.0.53", NODE_IP, OTHER_LOCAL):
            got = self.client("tcp", addr, NODE_PORT, 60)["seen"]
            self.assertEqual(set(got), {"be1", "be2", "be3"}, (addr, got))
        # IPv6 sockets to IPv4 frontends (mapped addresses): connect6.
        got = self.client("tcp6-mapped", CLUSTER_IP, PORT, 60)["seen"]
        self.assertEqual(set(got), {"be1", "be2", "be3"}, got)
        # Counted per endpoint as the chain counts its connections.
        svc = self.daemon.client().get(SERVICES + "/service=default,web").json()
        svc = svc["cubenet-pods:service"][0]
        self.assertEqual(int(svc["statistics"]["new-connections"]), 6 * 60)
        # An address the node gains later serves the NodePort too, one it
        # loses no longer does.
        sh("ip", "-n", self.node, "addr", "add", LATER_LOCAL + "/32", "dev", "lo")
        self.assertEqual(self.eventually("tcp", LATER_LOCAL, NODE_PORT, "be"), "be")
        sh("ip", "-n", self.node, "addr", "del", OTHER_LOCAL + "/32", "dev", "lo")
        self.assertEqual(self.eventually("tcp", OTHER_LOCAL, NODE_PORT, "errno:"), "errno:")
        # Every pod's connection came from the node's address, straight
        # to the pod: nothing was translated on the way.
        body = self.daemon.client().get("/metrics").body
        seen = [int(m.group(1)) for m in re.finditer(
            r'cubenet_cube_verdict_packets_total\{cube="node:maglev",verdict="\w+"\} (\d+)',
            body)]
        self.assertEqual(sum(seen), 0, "the chain's maglev saw packets")

    def test_udp_connected_and_unconnected(self):
        self.service(["be1", "be2", "be3"])
        for mode in ("udp-connected", "udp-sendto", "udp6-mapped"):
            got = self.client(mode, CLUSTER_IP, UDP_PORT, 60)["seen"]
            self.assertEqual(set(got), {"be1", "be2", "be3"}, (mode, got))
            for addr in ("127.0.0.1", NODE_IP):
                got = self.client(mode, addr, UDP_NODE_PORT, 60)["seen"]
                self.assertEqual(set(got), {"be1", "be2", "be3"}, (mode, addr, got))
        # One unconnected socket keeps to one endpoint, as a flow does
        # (its first datagram, before the socket has a port, too).
        out = sh("nsenter", f"--net=/run/netns/{self.node}", sys.executable, "-c",
                 "import socket,sys\n"
                 "spread = []\n"
                 "for _ in range(20):\n"
                 "    s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)\n"
                 "    seen=set()\n"
                 "    for i in range(10):\n"
                 "        s.sendto(b'x', (sys.argv[1], 53)); d, p = s.recvfrom(100)\n"
                 "        assert p == (sys.argv[1], 53), p\n"
                 "        seen.add(d.split()[0])\n"
                 "    spread.append(len(seen)); s.close()\n"
                 "print(max(spread))", CLUSTER_IP)
        self.assertEqual(out.stdout.strip(), "1")

    def test_connected_udp_of_a_removed_endpoint_is_closed(self):
        """A UDP flow has no end: a socket connected through the balancer
        to an endpoint the service lost is destroyed (its owner sees
        ECONNABORTED and connects again, to an endpoint that is there),
        as the chain forgets such flows. A socket connected to the pod's
        own address is left alone."""
        self.service(["be1"])
        talk = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{self.node}", sys.executable, "-u", "-c", r"""
import socket, sys
def conn(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
    s.connect((addr, port)); return s
def ask(s):
    try:
        s.send(b"x"); return s.recv(100).split()[0].decode()
    except OSError as e:
        return "error:%d" % e.errno
svc, direct = conn(sys.argv[1], 53), conn(sys.argv[2], 5353)
for line in sys.stdin:
    if line.strip() == "again":
        svc = conn(sys.argv[1], 53)
    print(ask(svc), ask(direct), flush=True)
""", CLUSTER_IP, self.addr["be1"][1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        self.addCleanup(talk.stdout.close)
        self.addCleanup(talk.wait)
        self.addCleanup(talk.kill)

        def say(word="ask"):
            talk.stdin.write(word + "\n")
            talk.stdin.flush()
            return talk.stdout.readline().split()

        self.assertEqual(say(), ["be1", "be1"])
        self.service(["be1", "be2"])  # be1 stays: the socket too
        self.assertEqual(say(), ["be1", "be1"])
        self.service(["be2"])
        # Destroyed: disconnected, so a send has no destination
        # (EDESTADDRREQ), or the abort itself is reported (ECONNABORTED).
        svc, direct = say()
        self.assertIn(svc, ("error:%d" % errno.EDESTADDRREQ, "error:%d" % errno.ECONNABORTED))
        self.assertEqual(direct, "be1")
        self.assertEqual(say("again"), ["be2", "be1"])
        talk.stdin.close()

    def test_no_endpoint_refused_at_once(self):
        self.service([])
        for mode, addr, port in (("tcp", CLUSTER_IP, PORT), ("tcp", "127.0.0.1", NODE_PORT),
                                 ("tcp", NODE_IP, NODE_PORT),
                                 ("udp-connected", CLUSTER_IP, UDP_PORT),
                                 ("udp-sendto", CLUSTER_IP, UDP_PORT)):
            out = self.client(mode, addr, port, 5)
            self.assertEqual(out["seen"], {"errno:ECONNREFUSED": 5}, (mode, addr, out))
            self.assertLess(out["slowest"], 0.5, (mode, addr, out))
        svc = self.daemon.client().get(SERVICES + "/service=default,web").json()
        self.assertEqual(int(svc["cubenet-pods:service"][0]["statistics"]["no-endpoint"]), 25)
        # An endpoint appears: the same clients get through.
        self.service(["be2"])
        self.assertEqual(self.client("tcp", CLUSTER_IP, PORT, 5)["seen"], {"be2": 5})

    def test_client_ip_affinity(self):
        self.service(["be1", "be2", "be3"], affinity="client-ip")
        got = self.client("tcp", CLUSTER_IP, PORT, 30)["seen"]
        self.assertEqual(len(got), 1, got)
        chosen = next(iter(got))
        self.assertIn(chosen, ("be1", "be2", "be3"))
        # The node's NodePort clients are the same client.
        self.assertEqual(self.client("tcp", "127.0.0.1", NODE_PORT, 10)["seen"], {chosen: 10})
        # Affinity is per service port, as the chain's: UDP keeps to one too.
        self.assertEqual(len(self.client("udp-sendto", CLUSTER_IP, UDP_PORT, 10)["seen"]), 1)

    def test_translation_undone_when_the_service_goes(self):
        self.service(["be1"])
        self.assertEqual(self.client("tcp", CLUSTER_IP, PORT, 3)["seen"], {"be1": 3})
        progs = self.attached()
        self.assertEqual(len(progs), 8, progs)
        self.assertLessEqual(set(progs.values()), self.root_cgroup_progs())
        r = self.daemon.client().delete(SERVICES + "/service=default,web")
        self.assertEqual(r.status, 204, r.body)
        # Not translated: no route to the ClusterIP, nothing on the port.
        self.assertEqual(self.client("tcp", CLUSTER_IP, PORT, 2)["seen"],
                         {"errno:ENETUNREACH": 2})
        self.assertEqual(self.client("tcp", "127.0.0.1", NODE_PORT, 2)["seen"],
                         {"errno:ECONNREFUSED": 2})
        self.assertEqual(self.client("udp-sendto", CLUSTER_IP, UDP_PORT, 1)["seen"],
                         {"errno:ENETUNREACH": 1})

    def test_other_namespaces_untouched(self):
        """Only the node's namespace is translated: the same connect from
        another namespace (here the uplink's peer, with the node's address
        on loopback too) meets no service."""
        self.service(["be1"])
        sh("ip", "-n", self.outside, "link", "set", "lo", "up")
        self.assertEqual(self.client("tcp", "127.0.0.1", NODE_PORT, 2, self.outside)["seen"],
                         {"errno:ECONNREFUSED": 2})
        self.assertEqual(self.client("tcp", "127.0.0.1", NODE_PORT, 2)["seen"], {"be1": 2})

    def test_host_clients_off_and_the_chain_gone(self):
        self.service(["be1"])
        progs = self.attached()
        r = self.daemon.client().patch("/restconf/data/cubenet-pods:node",
                                       {"cubenet-pods:node": {"host-clients": False}})
        self.assertIn(r.status, (200, 204), r.body)
        self.assertEqual(self.attached(), {})
        self.assertFalse(set(progs.values()) & self.root_cgroup_progs())
        self.assertEqual(self.client("tcp", "127.0.0.1", NODE_PORT, 1)["seen"],
                         {"errno:ECONNREFUSED": 1})
        r = self.daemon.client().patch("/restconf/data/cubenet-pods:node",
                                       {"cubenet-pods:node": {"host-clients": True}})
        self.assertIn(r.status, (200, 204), r.body)
        self.assertEqual(self.client("tcp", "127.0.0.1", NODE_PORT, 2)["seen"], {"be1": 2})
        progs = self.attached()
        # Every pod deleted: no chain, nothing attached, no pins.
        for name in ("be1", "be2", "be3"):
            rc, _ = self.cni("DEL", self.conf(), cid=name, netns=self.addr[name][0])
            self.assertEqual(rc, 0)
        self.assertFalse(os.path.exists(os.path.join(self.daemon.bpffs, "host")))
        self.assertFalse(set(progs.values()) & self.root_cgroup_progs())

    def test_restart_adopts_the_attachment(self):
        self.service(["be1", "be2"])
        before = self.attached()
        self.daemon.stop()
        # The datapath outlives the daemon: still translated.
        got = self.client("tcp", CLUSTER_IP, PORT, 10)["seen"]
        self.assertEqual(set(got) - {"be1", "be2"}, set(), got)
        self.daemon.start()
        after = self.attached()
        self.assertEqual(set(after), set(before))
        attached = self.root_cgroup_progs()
        # Programs of the new daemon swapped in, the old ones gone.
        self.assertLessEqual(set(after.values()), attached)
        self.assertFalse(set(before.values()) & attached)
        got = self.client("tcp", CLUSTER_IP, PORT, 20)["seen"]
        self.assertEqual(set(got), {"be1", "be2"}, got)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
