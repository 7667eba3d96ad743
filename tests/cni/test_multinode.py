# SPDX-License-Identifier: Apache-2.0
"""Three nodes, one pod network: three node namespaces on an emulated L2
underlay (a bridge in a namespace of its own), each with its own cubenetd
and pods made by the CNI plugin (two a node, real TCP and UDP servers in
them), the cluster's other nodes written to each cubenetd as peers; in
both modes, the VXLAN overlay and native routing. Checked with real TCP
and UDP: pod to pod on one node and across every pair of nodes, the
client's address kept; a ClusterIP whose only endpoint is on another node,
replies back through the client node's nat; a NodePort on node 1 reaching
a pod on node 3 from a host on the underlay (SNAT to node 1's address);
what crosses the underlay (a packet socket on the bridge): VXLAN on the
configured port and VNI, or plain IP; a peer removed (its routes go,
connections to its pods fail at once) and added back; one node's cubenetd
SIGKILLed (the pinned datapath carries on), restarted, and converging.
Needs root; exits 77 without it."""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../daemon"))
from restconf_client import BUILD, Daemon  # noqa: E402

PLUGIN = os.path.join(BUILD, "cni/cubenet")
CNI_PATH = "/usr/lib/cni"
NODES = 3
UNDERLAY = "198.51.100.%d"  # node i: .i; the outside host: .100
OUTSIDE = UNDERLAY % 100
UNDERLAY6 = "2001:db8:51::%d"  # the same, IPv6
CLUSTER_CIDR, SERVICE_CIDR = "10.250.0.0/16", "10.96.0.0/12"
CLUSTER_CIDR6, SERVICE_CIDR6 = "fd00:250::/32", "fd00:96::/112"
POD_CIDR = "10.250.%d.0/24"  # node i's
POD_CIDR6 = "fd00:250:%d::/64"
VNI, VXLAN_PORT = 4242, 8472
CLUSTER_IP, NODE_PORT, PORT = "10.96.7.7", 30080, 7000
CLUSTER_IP6 = "fd00:96::7"


def sh(*cmd, check=True, timeout=60):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout)


# A pod's servers: TCP and UDP on PORT; each answers "name peer-address".
SERVER = r"""
import socket, sys, threading
name, port = sys.argv[1], int(sys.argv[2])
def bound(family, kind):
    s = socket.socket(family, kind); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    return s
def tcp(family):
    s = bound(family, socket.SOCK_STREAM); s.listen(128)
    while True:
        c, peer = s.accept()
        threading.Thread(target=serve, args=(c, peer), daemon=True).start()
def serve(c, peer):
    try:
        c.sendall(f"{name} {peer[0]}\n".encode())
        while data := c.recv(65536):
            c.sendall(data)
    except OSError:
        pass
    c.close()
def udp(family):
    s = bound(family, socket.SOCK_DGRAM)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(f"{name} {peer[0]} ".encode() + data, peer)
for family in (socket.AF_INET, socket.AF_INET6):
    threading.Thread(target=tcp, args=(family,), daemon=True).start()
    threading.Thread(target=udp, args=(family,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

# For each target "ip" (IPv4 or IPv6): one TCP connection (the greeting,
# then 64 KiB echoed whole) and UDP datagrams of each size in argv[2], each
# answered by the same bytes from the address sent to (an ICMP error
# answering one fails it). argv[2] is "sizes" or "IPv4 sizes/IPv6 sizes",
# comma separated. Prints {ip: [tcp, udp]}, each "name peer" or "error: why".
CLIENT = r"""
import errno, json, socket, sys
port, targets = int(sys.argv[1]), sys.argv[3:]
sizes4, _, sizes6 = sys.argv[2].partition("/")
sizes4 = [int(x) for x in sizes4.split(",")]
sizes6 = [int(x) for x in sizes6.split(",")] if sizes6 else sizes4
out = {}
def tcp(ip):
    c = socket.create_connection((ip, port), timeout=3)
    try:
        f = c.makefile("rb")
        who = f.readline().decode().strip()
        data = bytes(i % 253 for i in range(65536))
        c.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = f.read1(65536)
            if not chunk:
                break
            got += chunk
        if got != data:
            return "error: echo of %d bytes" % len(got)
        if c.getpeername()[0] != ip:
            return "error: peer " + c.getpeername()[0]
        return who
    finally:
        c.close()
def udp(ip):
    v6 = ":" in ip
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    # IP_RECVERR, IPV6_RECVERR: an ICMP error fails the recv
    s.setsockopt(*((socket.IPPROTO_IPV6, 25) if v6 else (socket.SOL_IP, 11)), 1)
    s.settimeout(3)
    s.connect((ip, port))
    answers = set()
    for size in sizes6 if v6 else sizes4:
        data = bytes(i % 251 for i in range(size))
        s.send(data)
        got = s.recv(65535)
        head, _, body = got.partition(b" ")
        peer, _, body = body.partition(b" ")
        if body != data:
            return "error: datagram of %d bytes came back as %d" % (size, len(body))
        answers.add(head.decode() + " " + peer.decode())
    s.close()
    return " | ".join(sorted(answers))
for ip in targets:
    res = []
    for fn in (tcp, udp):
        try:
            res.append(fn(ip))
        except OSError as e:
            res.append("error: " + (errno.errorcode.get(e.errno, "") if e.errno else str(e)))
    out[ip] = res
print(json.dumps(out))
"""


# Frames on one netdev until the time is up or stdin closes: every IP one
# (either family; with "outgoing", only those the netdev sent) as {"src",
# "dst", "proto", and for UDP "dport", and for VXLAN on port "vni", "flags"
# and "inner": [src, dst] of the inner IPv4 or IPv6 packet}, the IPv6 ones'
# next header (no extension header here) as their proto. Prints "ready",
# then the JSON list when done.
CAPTURE = r"""
import json, select, socket, struct, sys, time
dev, seconds, vxlan_port = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
outgoing_only = sys.argv[4:] == ["outgoing"]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind((dev, 0))
print("ready", flush=True)
frames, end = [], time.time() + seconds
# (src, dst, proto, l4 offset) of the IP packet at f[at:], or None.
def ip_of(f, at):
    if len(f) >= at + 20 and f[at] >> 4 == 4:
        return (socket.inet_ntoa(f[at + 12:at + 16]), socket.inet_ntoa(f[at + 16:at + 20]),
                f[at + 9], at + (f[at] & 15) * 4)
    if len(f) >= at + 40 and f[at] >> 4 == 6:
        return (socket.inet_ntop(socket.AF_INET6, f[at + 8:at + 24]),
                socket.inet_ntop(socket.AF_INET6, f[at + 24:at + 40]), f[at + 6], at + 40)
    return None
stdin_open = True
while True:
    # Once stdin closes, what the socket holds is still read.
    ready = select.select([s, sys.stdin] if stdin_open else [s], [], [],
                          0.1 if stdin_open and time.time() < end else 0)[0]
    if sys.stdin in ready:
        stdin_open = sys.stdin.read(1) != ""
    if s not in ready:
        if not stdin_open or time.time() >= end:
            break
        continue
    f, addr = s.recvfrom(65535)
    if outgoing_only and addr[2] != socket.PACKET_OUTGOING:
        continue
    if len(f) < 14 or f[12:14] not in (b"\x08\x00", b"\x86\xdd"):
        continue
    ip = ip_of(f, 14)
    if not ip:
        continue
    rec = {"src": ip[0], "dst": ip[1], "proto": ip[2]}
    l4 = ip[3]
    if rec["proto"] == 17 and len(f) >= l4 + 8:
        rec["dport"] = struct.unpack("!H", f[l4 + 2:l4 + 4])[0]
        v = l4 + 8
        if rec["dport"] == vxlan_port and len(f) >= v + 8 + 14:
            rec["flags"] = f[v]
            rec["vni"] = struct.unpack("!I", f[v + 4:v + 8])[0] >> 8
            inner = ip_of(f, v + 8 + 14)
            if inner:
                rec["inner"] = [inner[0], inner[1]]
    frames.append(rec)
print(json.dumps(frames))
"""


class Cluster:
    """The underlay, three nodes with their daemons, pods and servers."""

    def __init__(self, mode, pods_per_node=2):
        self.mode = mode
        self.tag = "mn" + uuid.uuid4().hex[:6]
        self.tmp = tempfile.mkdtemp(prefix="multinode-")
        self.underlay = self.tag + "-ul"
        self.nodes = [f"{self.tag}-n{i}" for i in range(1, NODES + 1)]
        self.daemons = {}
        self.netns = [self.underlay]
        self.procs = []
        self.pods = {}  # name -> (node index, netns, IPv4 address, IPv6 address)
        self.pods_per_node = pods_per_node

    def start(self):
        sh("ip", "netns", "add", self.underlay)
        self.netns_up(self.underlay)
        sh("ip", "-n", self.underlay, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.underlay, "addr", "add", OUTSIDE + "/24", "dev", "br0")
        sh("ip", "-n", self.underlay, "addr", "add", UNDERLAY6 % 100 + "/64", "dev", "br0",
           "nodad")
        sh("ip", "-n", self.underlay, "link", "set", "br0", "up")
        for i, node in enumerate(self.nodes, 1):
            sh("ip", "netns", "add", node)
            self.netns.append(node)
            self.netns_up(node)
            sh("ip", "link", "add", f"ul{i}", "netns", self.underlay, "type", "veth", "peer",
               "name", "eth0", "netns", node)
            sh("ip", "-n", self.underlay, "link", "set", f"ul{i}", "master", "br0", "up")
            sh("ip", "-n", node, "addr", "add", UNDERLAY % i + "/24", "dev", "eth0")
            sh("ip", "-n", node, "addr", "add", UNDERLAY6 % i + "/64", "dev", "eth0", "nodad")
            sh("ip", "-n", node, "link", "set", "eth0", "up")
            self.daemons[i] = Daemon(netns=node).start()
            self.write_node(i)
        for i in range(1, NODES + 1):
            for k in range(self.pods_per_node):
                self.add_pod(i, f"p{i}{k}")
        for i in range(1, NODES + 1):
            self.write_peers(i, [j for j in range(1, NODES + 1) if j != i])
        return self

    def netns_up(self, ns):
        sh("ip", "-n", ns, "link", "set", "lo", "up")

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()
            if p.stdout:
                p.stdout.close()
        for d in self.daemons.values():
            d.cleanup()
        for ns in self.netns:
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def client(self, i):
        return self.daemons[i].client()

    def mtu(self):
        return 1450 if self.mode == "vxlan" else 1500

    def write_node(self, i):
        r = self.client(i).put("/restconf/data/cubenet-pods:node", {"cubenet-pods:node": {
            "uplink": "eth0", "tunnel": {"mode": self.mode, "vni": VNI, "port": VXLAN_PORT},
            "masquerade": {"cluster-cidr": [CLUSTER_CIDR, SERVICE_CIDR, CLUSTER_CIDR6,
                                            SERVICE_CIDR6]}}})
        assert r.status in (201, 204), r.body

    def peer(self, j):
        return {"name": f"node-{j}", "address": UNDERLAY % j, "address6": UNDERLAY6 % j,
                "pod-cidr": [POD_CIDR % j, POD_CIDR6 % j]}

    def write_peers(self, i, peers):
        r = self.client(i).put("/restconf/data/cubenet-pods:peers", {"cubenet-pods:peers": {
            "peer": [self.peer(j) for j in peers]}})
        assert r.status in (201, 204), r.body

    def conf(self, i):
        return {"cniVersion": "1.1.0", "name": "podnet", "type": "cubenet",
                "socket": self.daemons[i].socket, "mtu": self.mtu(),
                "ipam": {"type": "host-local", "dataDir": os.path.join(self.tmp, f"ipam{i}"),
                         "ranges": [[{"subnet": POD_CIDR % i}], [{"subnet": POD_CIDR6 % i}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}}

    def cni(self, i, command, cid, netns):
        env = {"PATH": os.environ["PATH"], "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
               "CNI_NETNS": f"/run/netns/{netns}", "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH}
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.nodes[i - 1]}", PLUGIN],
                           input=json.dumps(self.conf(i)).encode(), capture_output=True,
                           env=env, timeout=60)
        out = json.loads(r.stdout) if r.stdout.strip() else None
        assert r.returncode == 0, out
        return out

    def add_pod(self, i, name):
        ns = f"{self.tag}-{name}"
        sh("ip", "netns", "add", ns)
        self.netns.append(ns)
        self.netns_up(ns)
        res = self.cni(i, "ADD", name, ns)
        addr, addr6 = (next(ip["address"].split("/")[0] for ip in res["ips"]
                            if (":" in ip["address"]) == v6) for v6 in (False, True))
        srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER, name,
                                str(PORT)], stdout=subprocess.PIPE, text=True)
        self.procs.append(srv)
        assert srv.stdout.readline().strip() == "ready"
        self.pods[name] = (i, ns, addr, addr6)
        return addr

    def udp_sizes(self):
        """A datagram, the largest one the pod's MTU carries whole, and one
        the pod sends in fragments: IPv4's, then IPv6's."""
        return f"1200,{self.mtu() - 28},4000/1200,{self.mtu() - 48},4000"

    def capture(self, dev, seconds, ns=None, outgoing=False):
        """A running CAPTURE on dev of ns (the underlay's by default);
        .communicate() ends it and gives what it saw."""
        p = subprocess.Popen(["ip", "netns", "exec", ns or self.underlay, sys.executable, "-c",
                              CAPTURE, dev, str(seconds), str(VXLAN_PORT)]
                             + (["outgoing"] if outgoing else []),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        assert p.stdout.readline().strip() == "ready"
        return p

    def service(self, endpoints):
        """ClusterIP and NodePort web, dual-stack, TCP and UDP, on every
        node, its endpoints the pods named (both their addresses; local
        where the node is theirs)."""
        for i in self.daemons:
            body = {"cubenet-pods:services": {"service": [{
                "namespace": "default", "name": "web", "cluster-ip": [CLUSTER_IP, CLUSTER_IP6],
                "port": [{"port": PORT, "protocol": proto, "target-port": PORT,
                          "node-port": NODE_PORT} for proto in ("tcp", "udp")],
                "endpoint": [{"address": self.pods[e][k], "local": self.pods[e][0] == i}
                             for e in endpoints for k in (2, 3)]}]}}
            r = self.client(i).put("/restconf/data/cubenet-pods:services", body)
            assert r.status in (201, 204), r.body

    def routes(self, i, family=4):
        """node i's router, IPv4 or IPv6 routes: {prefix: [port, next hop]},
        an IPv6 route's next hop IPv4 where its flags say so."""
        pin = os.path.join(self.daemons[i].bpffs,
                           f"cubes/tc/router/node:router/router_routes{family}")
        out = json.loads(sh("bpftool", "-j", "map", "dump", "pinned", pin).stdout)
        routes, size = {}, 4 if family == 4 else 16
        af = socket.AF_INET if family == 4 else socket.AF_INET6
        for e in out:
            k, v = bytes(int(b, 16) for b in e["key"]), bytes(int(b, 16) for b in e["value"])
            plen, addr = struct.unpack("<I", k[:4])[0], k[4:4 + size]
            port, flags = struct.unpack("<II", v[16:24])
            nexthop = (socket.inet_ntoa(v[:4]) if family == 4 or flags & 2  # NEXTHOP_INET
                       else socket.inet_ntop(af, v[:16]))
            routes[f"{socket.inet_ntop(af, addr)}/{plen}"] = [port, nexthop]
        return routes

    def hosts(self, i):
        """node i's router's attached hosts: {address: ifindex}."""
        pin = os.path.join(self.daemons[i].bpffs, "cubes/tc/router/node:router/router_hosts")
        out = json.loads(sh("bpftool", "-j", "map", "dump", "pinned", pin).stdout)
        hosts = {}
        for e in out:
            k, v = bytes(int(b, 16) for b in e["key"]), bytes(int(b, 16) for b in e["value"])
            family = struct.unpack("<I", k[16:20])[0]
            addr = (socket.inet_ntoa(k[:4]) if family == 4
                    else socket.inet_ntop(socket.AF_INET6, k[:16]))
            hosts[addr] = struct.unpack("<I", v[:4])[0]
        return hosts

    def kernel_routes(self, i, family=4):
        """node i's kernel routes through the host device."""
        out = sh("ip", f"-{family}", "-n", self.nodes[i - 1], "-j", "route", "show", "dev",
                 "cubenet0").stdout
        # (IPv6: not the link-local prefix every netdev has.)
        return sorted(r["dst"] for r in json.loads(out) if not r["dst"].startswith("fe80:"))

    def veth(self, name):
        """Pod name's veth: (its node's end as (netns, name), packets its
        own end received)."""
        i, ns = self.pods[name][:2]
        pod_end = json.loads(sh("ip", "-n", ns, "-j", "-s", "link", "show", "eth0").stdout)[0]
        node_end = [link for link in json.loads(sh("ip", "-n", self.nodes[i - 1], "-j",
                                                   "link", "show").stdout)
                    if link["ifindex"] == pod_end["link_index"]]
        assert len(node_end) == 1, pod_end
        return ((self.nodes[i - 1], node_end[0]["ifname"]),
                pod_end["stats64"]["rx"]["packets"])

    def ask(self, ns, targets, port=PORT, sizes=None, timeout=120):
        """CLIENT run in ns against targets: {ip: [tcp, udp]}."""
        sizes = sizes or self.udp_sizes()
        out = sh("ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, str(port),
                 sizes if isinstance(sizes, str) else ",".join(map(str, sizes)), *targets,
                 timeout=timeout)
        return json.loads(out.stdout)


def expect_all(test, cluster, pods=None):
    """Every pod of cluster (all, or those named) reaches every other, TCP
    and UDP, at each of its addresses (IPv4, and IPv6 where pods have one),
    seen from its own address of that family."""
    pods = pods or sorted(cluster.pods)
    for src in pods:
        ns, saddrs = cluster.pods[src][1], cluster.pods[src][2:]
        targets = {cluster.pods[d][k]: (d, saddrs[k - 2]) for d in pods if d != src
                   for k in range(2, 2 + len(saddrs))}
        got = cluster.ask(ns, list(targets))
        want = {ip: [f"{name} {saddr}"] * 2 for ip, (name, saddr) in targets.items()}
        test.assertEqual(got, want, f"from {src} ({saddrs})")


def expect_underlay(test, cluster):
    """What crosses the underlay (on node 1's port) while p10 talks to p30
    in both families: VXLAN on the configured port and VNI between the
    nodes' IPv4 addresses with both families inside, never a bare pod
    address; natively, plain IP of both families from pod to pod."""
    _, ns, src, src6 = cluster.pods["p10"]
    _, _, dst, dst6 = cluster.pods["p30"]
    cap = cluster.capture("ul1", 6)
    test.assertEqual(cluster.ask(ns, [dst, dst6]),
                     {dst: [f"p30 {src}"] * 2, dst6: [f"p30 {src6}"] * 2})
    frames = json.loads(cap.communicate(timeout=30)[0])
    pods = {a for v in cluster.pods.values() for a in v[2:]}
    bare = [f for f in frames if f["src"] in pods or f["dst"] in pods]
    if cluster.mode == "vxlan":
        for s, d in ((src, dst), (src6, dst6)):
            flow = [f for f in frames if f.get("inner") in ([s, d], [d, s])]
            test.assertGreater(len(flow), 10, frames[:5])
            for f in flow:
                test.assertEqual((f["proto"], f["dport"], f["flags"], f["vni"]),
                                 (17, VXLAN_PORT, 8, VNI), f)
                test.assertEqual({f["src"], f["dst"]}, {UNDERLAY % 1, UNDERLAY % 3}, f)
        test.assertEqual(bare, [])
    else:
        test.assertEqual([f for f in frames if f.get("dport") == VXLAN_PORT], [])
        test.assertGreater(len([f for f in bare if ":" in f["src"]]), 10, frames[:5])
        test.assertGreater(len([f for f in bare if ":" not in f["src"]]), 10, frames[:5])
        test.assertEqual({(f["src"], f["dst"]) for f in bare},
                         {(src, dst), (dst, src), (src6, dst6), (dst6, src6)})


class Multinode:
    """The checks, for a cluster in self.mode (a subclass sets it)."""

    mode = None

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        self.c = Cluster(self.mode)
        self.addCleanup(self.c.stop)
        self.c.start()

    def expect_all(self, pods=None):
        expect_all(self, self.c, pods)

    def test_pod_to_pod_on_one_node_and_across_every_pair(self):
        self.expect_all()

    def test_packets_for_a_pod_go_straight_into_its_namespace(self):
        """What the chain sends to a pod, from another node (the uplink's
        or the VXLAN device's ingress) or from a pod of the same node, goes
        from that ingress into the pod's namespace: the pod's end of the
        veth receives it, the node's end never transmits it (no second
        pass through the node's veth and backlog)."""
        n = 200
        for src, dst in (("p10", "p20"), ("p11", "p10")):
            with self.subTest(f"{src} to {dst}"):
                _, ns, saddr, _ = self.c.pods[src]
                daddr = self.c.pods[dst][2]
                self.assertEqual(self.c.ask(ns, [daddr], sizes=",".join(["64"] * n)),
                                 {daddr: [f"{dst} {saddr}"] * 2})  # paths settled
                (node, node_end), rx0 = self.c.veth(dst)
                cap = self.c.capture(node_end, 60, ns=node, outgoing=True)
                self.assertEqual(self.c.ask(ns, [daddr], sizes=",".join(["64"] * n)),
                                 {daddr: [f"{dst} {saddr}"] * 2})
                sent = json.loads(cap.communicate(timeout=30)[0])
                rx = self.c.veth(dst)[1]
                # n datagrams and a TCP connection's packets arrived...
                self.assertGreaterEqual(rx - rx0, n + 4)
                # ...and the node's end sent none of them (what it may send
                # is the node's own: ARP, neighbour discovery, MLD).
                data = [f for f in sent if f["proto"] in (6, 17)]
                self.assertEqual(len(data), 0, data[:3])

    def test_only_a_veth_into_another_namespace_is_a_pods_way_in(self):
        """The router hands a pod's packets to the other end of its veth
        (bpf_redirect_peer), which drops them unless that end is in
        another namespace: a pod registered on a veth whose two ends are
        the node's gets no entry (its packets are the kernel's), while the
        plugin's pods keep theirs."""
        node = self.c.nodes[0]
        sh("ip", "-n", node, "link", "add", "samens0", "type", "veth", "peer", "name", "samens1")
        sh("ip", "-n", node, "link", "set", "samens0", "up")
        sh("ip", "-n", node, "link", "set", "samens1", "up")
        pod = {"container-id": "samens", "interface": "eth0", "network": "podnet",
               "netns": "/run/netns/none", "host-interface": "samens0",
               "address": ["10.250.1.200"], "mac": "02:00:00:00:01:c8"}
        r = self.c.client(1).put("/restconf/data/cubenet-pods:pods/pod=samens,eth0",
                                 {"cubenet-pods:pod": [pod]})
        self.assertEqual(r.status, 201, r.body)
        want = {}
        for name, (i, ns, addr, addr6) in self.c.pods.items():
            if i == 1:
                link = json.loads(sh("ip", "-n", ns, "-j", "link", "show", "eth0").stdout)[0]
                want[addr] = want[addr6] = link["link_index"]
        self.assertEqual(len(want), 4)
        self.assertEqual(self.c.hosts(1), want)
        self.expect_all(["p10", "p11", "p20"])

    def test_routes_of_the_other_nodes(self):
        """Each node's router holds the others' pod ranges (and in vxlan
        mode their addresses) to the right port and next hop; the kernel
        routes their pod ranges through the host device."""
        port = 1 if self.mode == "vxlan" else 0
        for i in range(1, NODES + 1):
            want, want6 = {}, {}
            for j in range(1, NODES + 1):
                if j != i:
                    want[POD_CIDR % j] = [port, UNDERLAY % j]
                    # IPv6 rides the IPv4 tunnel; natively, to the IPv6 address.
                    want6[POD_CIDR6 % j] = [port, UNDERLAY % j if port else UNDERLAY6 % j]
                    if self.mode == "vxlan":
                        want[f"{UNDERLAY % j}/32"] = [port, UNDERLAY % j]
                        want6[f"{UNDERLAY6 % j}/128"] = [port, UNDERLAY % j]
            self.assertEqual(self.c.routes(i), want, f"node {i}")
            self.assertEqual(self.c.routes(i, 6), want6, f"node {i}")
            for k, fam, cidr in ((2, 4, POD_CIDR), (3, 6, POD_CIDR6)):
                pods = [v[k] for v in self.c.pods.values() if v[0] == i]
                self.assertEqual(self.c.kernel_routes(i, fam),
                                 sorted(pods + [cidr % j for j in range(1, NODES + 1)
                                                if j != i]), f"node {i} IPv{fam}")

    def test_cluster_ip_whose_only_endpoint_is_on_another_node(self):
        """From every node, to a ClusterIP whose one endpoint is on node 3:
        DNATed on the client's node, the reply translated back by that
        node's nat (the peer is the ClusterIP), the client's address kept."""
        self.c.service(["p30"])
        for src in ("p10", "p20", "p31"):
            _, ns, addr, addr6 = self.c.pods[src]
            # Dual-stack: each ClusterIP reaches p30's address of its family.
            self.assertEqual(self.c.ask(ns, [CLUSTER_IP, CLUSTER_IP6]),
                             {CLUSTER_IP: [f"p30 {addr}"] * 2,
                              CLUSTER_IP6: [f"p30 {addr6}"] * 2}, src)

    def test_node_port_on_node_1_reaches_a_pod_on_node_3(self):
        """A host on the underlay to node 1's NodePort, the only endpoint on
        node 3: SNAT to node 1's address, the reply back through node 1."""
        self.c.service(["p31"])
        node1, node1_6 = UNDERLAY % 1, UNDERLAY6 % 1
        want = {node1: [f"p31 {node1}"] * 2, node1_6: [f"p31 {node1_6}"] * 2}
        # The host's MTU is the underlay's: it sends what the pods' MTU
        # carries (no ICMP "fragmentation needed" tells it less yet).
        self.assertEqual(self.c.ask(self.c.underlay, [node1, node1_6], port=NODE_PORT,
                                    sizes=f"1200,{self.c.mtu() - 28}/1200,{self.c.mtu() - 48}"),
                         want)
        # And from a pod on node 2, to node 1's NodePort.
        ns = self.c.pods["p20"][1]
        self.assertEqual(self.c.ask(ns, [node1, node1_6], port=NODE_PORT), want)

    def test_ipv6_forwarding_keeps_router_advertisements(self):
        """Forwarding IPv6 (pods, IPv6 peers), a node still takes router
        advertisements where it did: accept_ra 1 becomes 2, which takes
        them while forwarding; where they were off they stay off."""
        for i in range(1, NODES + 1):
            def conf(path):
                return sh("ip", "netns", "exec", self.c.nodes[i - 1], "cat",
                          "/proc/sys/net/ipv6/conf/" + path).stdout.strip()
            self.assertEqual(conf("all/forwarding"), "1")
            self.assertEqual((conf("eth0/accept_ra"), conf("default/accept_ra")), ("2", "2"))
            self.assertEqual(conf("lo/accept_ra"), "2")  # lo's is 1 in a new namespace too
        # One that had them off is not turned on.
        node = self.c.nodes[0]
        sh("ip", "-n", node, "link", "add", "quiet0", "type", "veth", "peer", "name", "quiet1")
        sh("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv6.conf.quiet0.accept_ra=0")
        self.c.add_pod(1, "p1q")
        self.assertEqual(sh("ip", "netns", "exec", node, "cat",
                            "/proc/sys/net/ipv6/conf/quiet0/accept_ra").stdout.strip(), "0")

    def test_pod_traffic_to_the_outside_is_masqueraded(self):
        """A host on the underlay, outside the cluster's ranges, sees a pod
        of each node come from that node's address, IPv4 and IPv6."""
        srv = subprocess.Popen(["ip", "netns", "exec", self.c.underlay, sys.executable, "-c",
                                SERVER, "outside", str(PORT)], stdout=subprocess.PIPE, text=True)
        self.c.procs.append(srv)
        self.assertEqual(srv.stdout.readline().strip(), "ready")
        outside6 = UNDERLAY6 % 100
        # The host's link carries more than the pods' (vxlan): its answer,
        # longer than what it was sent, must fit the pod's link whole (what
        # does not is lost; see the README's multinode section).
        sizes = "1200,1350"
        for i in range(1, NODES + 1):
            ns = self.c.pods[f"p{i}0"][1]
            self.assertEqual(self.c.ask(ns, [OUTSIDE, outside6], sizes=sizes),
                             {OUTSIDE: [f"outside {UNDERLAY % i}"] * 2,
                              outside6: [f"outside {UNDERLAY6 % i}"] * 2}, f"node {i}")

    def test_what_crosses_the_underlay(self):
        """VXLAN on the port and VNI configured, node to node, pod
        addresses only inside; native: plain IP from pod to pod."""
        expect_underlay(self, self.c)

    def test_five_thousand_peers(self):
        """A 5,000-node cluster's peers on node 1: every map holds them
        (routes, and one masquerade exception each)."""
        many = [self.c.peer(2), self.c.peer(3)] + [
            {"name": f"far-{k}", "address": f"172.16.{k // 250}.{k % 250 + 1}",
             "pod-cidr": [f"10.250.{128 + k // 64}.{(k % 64) * 4}/30"]}
            for k in range(4998)]
        r = self.c.client(1).put("/restconf/data/cubenet-pods:peers",
                                 {"cubenet-pods:peers": {"peer": many}})
        self.assertIn(r.status, (201, 204), r.body)
        routes = self.c.routes(1)
        self.assertEqual(len(routes), 5000 * (2 if self.mode == "vxlan" else 1))
        self.assertEqual(routes["10.250.206.20/30"][1], "172.16.19.248")
        self.expect_all(["p10", "p20", "p30"])

    def test_two_peers_trading_pod_ranges_in_one_write(self):
        """Node 1 is told in one write that nodes 2 and 3 traded pod ranges:
        each range ends up routed to its new owner, whatever order the
        two peers are written in."""
        swapped = [{"name": "node-2", "address": UNDERLAY % 2, "pod-cidr": [POD_CIDR % 3]},
                   {"name": "node-3", "address": UNDERLAY % 3, "pod-cidr": [POD_CIDR % 2]}]
        r = self.c.client(1).put("/restconf/data/cubenet-pods:peers",
                                 {"cubenet-pods:peers": {"peer": swapped}})
        self.assertIn(r.status, (201, 204), r.body)
        port = 1 if self.mode == "vxlan" else 0
        want = {POD_CIDR % 3: [port, UNDERLAY % 2], POD_CIDR % 2: [port, UNDERLAY % 3]}
        if self.mode == "vxlan":
            want.update({f"{UNDERLAY % j}/32": [port, UNDERLAY % j] for j in (2, 3)})
        self.assertEqual(self.c.routes(1), want)
        self.assertIn(POD_CIDR % 2, self.c.kernel_routes(1))
        self.assertIn(POD_CIDR % 3, self.c.kernel_routes(1))

    def test_a_node_removed_and_added_back(self):
        """Node 3 leaves nodes 1 and 2's peers: its routes go, and
        connections to its pods fail at once (the node has no route: ICMP
        network unreachable), pod to pod elsewhere unharmed; back: reachable."""
        for i in (1, 2):
            r = self.c.client(i).delete("/restconf/data/cubenet-pods:peers/peer=node-3")
            self.assertEqual(r.status, 204, r.body)
            self.assertNotIn(POD_CIDR % 3, self.c.routes(i))
            self.assertNotIn(f"{UNDERLAY % 3}/32", self.c.routes(i))
            self.assertNotIn(POD_CIDR % 3, self.c.kernel_routes(i))
            self.assertNotIn(POD_CIDR6 % 3, self.c.routes(i, 6))
            self.assertNotIn(f"{UNDERLAY6 % 3}/128", self.c.routes(i, 6))
            self.assertNotIn(POD_CIDR6 % 3, self.c.kernel_routes(i, 6))
        ns = self.c.pods["p10"][1]
        for ip in (self.c.pods[p][2] for p in ("p30", "p31")):
            # Node 1's kernel answers with ICMP network unreachable, a few a
            # second to one host: TCP's first is never held back (a second
            # apart), UDP's may be, and then nothing answers at all.
            time.sleep(1.1)
            t0 = time.monotonic()
            (tcp, udp), = self.c.ask(ns, [ip]).values()
            self.assertEqual(tcp, "error: ENETUNREACH")
            self.assertIn(udp, ("error: ENETUNREACH", "error: timed out"))
            self.assertLess(time.monotonic() - t0, 5)
        self.expect_all(["p10", "p11", "p20", "p21"])
        for i in (1, 2):
            r = self.c.client(i).post("/restconf/data/cubenet-pods:peers",
                                      {"cubenet-pods:peer": [self.c.peer(3)]})
            self.assertEqual(r.status, 201, r.body)
        self.expect_all()

    def test_a_nodes_cubenetd_killed_and_restarted(self):
        """Node 2's cubenetd SIGKILLed: its pinned datapath carries on, so
        every pod keeps reaching every other; restarted, it adopts what is
        pinned and takes changes again: a peer removed and put back, a new
        pod reachable from every node."""
        d = self.c.daemons[2]
        d.stop(signal.SIGKILL)
        self.expect_all()
        d.start()
        self.expect_all()
        r = d.client().delete("/restconf/data/cubenet-pods:peers/peer=node-3")
        self.assertEqual(r.status, 204, r.body)
        self.assertEqual(sorted(self.c.routes(2)),
                         sorted(k for k in self.c.routes(1) if k != POD_CIDR % 2
                                and k != f"{UNDERLAY % 2}/32") if False else
                         sorted([POD_CIDR % 1] + ([f"{UNDERLAY % 1}/32"]
                                                  if self.mode == "vxlan" else [])))
        self.c.write_peers(2, [1, 3])
        self.c.add_pod(2, "p22")
        self.expect_all()


class PeerValidation(unittest.TestCase):
    """What YANG cannot check across peers, and the node settings peers
    need, refused with a 400 naming the problem; nothing changes."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        self.ns = "mnv" + uuid.uuid4().hex[:6]
        sh("ip", "netns", "add", self.ns)
        self.addCleanup(sh, "ip", "netns", "del", self.ns, check=False)
        sh("ip", "-n", self.ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
        sh("ip", "-n", self.ns, "addr", "add", UNDERLAY % 1 + "/24", "dev", "eth0")
        sh("ip", "-n", self.ns, "link", "set", "eth0", "up")
        self.daemon = Daemon(netns=self.ns).start()
        self.addCleanup(self.daemon.cleanup)
        self.c = self.daemon.client()

    def put(self, path, body):
        return self.c.put("/restconf/data/" + path, body)

    def refused(self, r, words, status=400):
        self.assertEqual(r.status, status, r.body)
        err = r.error()
        self.assertIn(words, err["error-message"], err)
        return err

    def peers(self, *entries):
        """Entries (name, address, pod ranges[, address6])."""
        return {"cubenet-pods:peers": {"peer": [
            {"name": e[0], "address": e[1], "pod-cidr": list(e[2]),
             **({"address6": e[3]} if len(e) > 3 else {})} for e in entries]}}

    def test_refusals(self):
        # No node address yet: peers have no next hop to leave from.
        before = self.c.config()
        self.refused(self.put("cubenet-pods:peers", self.peers(("n2", UNDERLAY % 2,
                                                                 [POD_CIDR % 2]))),
                     "peers need the node's address")
        self.assertEqual(self.c.config(), before)
        r = self.put("cubenet-pods:node", {"cubenet-pods:node": {"uplink": "eth0"}})
        self.assertIn(r.status, (201, 204), r.body)
        good = ("n2", UNDERLAY % 2, [POD_CIDR % 2])
        r = self.put("cubenet-pods:peers", self.peers(good))
        self.assertIn(r.status, (201, 204), r.body)
        before = self.c.config()
        cases = [
            (self.peers(good, ("n3", UNDERLAY % 1, [POD_CIDR % 3])),
             "peers/peer[name='n3']: address 198.51.100.1 is this node's"),
            (self.peers(good, ("n3", UNDERLAY % 2, [POD_CIDR % 3])),
             "address 198.51.100.2 is peer n"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["10.250.0.0/16"])),
             "overlaps peer n"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["198.51.100.0/25"])),
             "pod-cidr 198.51.100.0/25 holds"),
            (self.peers(good, ("n3", "10.250.2.9", [POD_CIDR % 3])),
             "address 10.250.2.9 is in peer n2's pod-cidr 10.250.2.0/24"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["0.0.0.0/0"])), "holds"),
            # Addresses this node would encapsulate to itself or to all.
            (self.peers(good, ("n3", "127.0.0.1", [POD_CIDR % 3])),
             "peers/peer[name='n3']: address 127.0.0.1 is not a unicast address"),
            (self.peers(good, ("n3", "224.0.0.1", [POD_CIDR % 3])), "not a unicast address"),
            (self.peers(good, ("n3", "255.255.255.255", [POD_CIDR % 3])),
             "not a unicast address"),
            (self.peers(good, ("n3", "0.0.0.3", [POD_CIDR % 3])), "not a unicast address"),
            # Its own address in its pod range: a routing loop.
            (self.peers(good, ("n3", "10.99.0.5", ["10.99.0.0/24"])),
             "pod-cidr 10.99.0.0/24 holds the peer's own address"),
            # Both new in one write, at odds with each other.
            (self.peers(good, ("n3", UNDERLAY % 3, ["10.251.0.0/24"]),
                        ("n4", UNDERLAY % 4, ["10.251.0.128/25"])), "overlaps peer n"),
            # IPv6: the same rules for ranges and addresses of that family.
            (self.peers(("n2", UNDERLAY % 2, [POD_CIDR % 2, "fd00:250:2::/64"], "2001:db8::2"),
                        ("n3", UNDERLAY % 3, ["fd00:250:2:0:8000::/65"], "2001:db8::3")),
             "pod-cidr fd00:250:2::/64 overlaps peer n3's pod-cidr fd00:250:2:0:8000::/65"),
            (self.peers(("n2", UNDERLAY % 2, [POD_CIDR % 2], "2001:db8::2"),
                        ("n3", UNDERLAY % 3, [POD_CIDR % 3], "2001:db8::2")),
             "address6 2001:db8::2 is peer n"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["2001:db8::/64"], "2001:db8::3")),
             "pod-cidr 2001:db8::/64 holds the peer's own address"),
            (self.peers(("n2", UNDERLAY % 2, ["fd00:250::/48"], "2001:db8::2"),
                        ("n3", UNDERLAY % 3, [POD_CIDR % 3], "fd00:250:0:7::1")),
             "pod-cidr fd00:250::/48 holds peer n3's address fd00:250:0:7::1"),
            (self.peers(good, ("n3", UNDERLAY % 3, [], "fe80::3")),
             "address6 fe80::3 is not a global unicast address"),
            (self.peers(good, ("n3", UNDERLAY % 3, [], "ff02::1")), "not a global unicast"),
            (self.peers(good, ("n3", UNDERLAY % 3, [], "::1")), "not a global unicast"),
            (self.peers(good, ("n3", UNDERLAY % 3, [], "::")), "not a global unicast"),
            (self.peers(good, ("n3", UNDERLAY % 3, [], "::ffff:198.51.100.3")),
             "address6 ::ffff:198.51.100.3 is not a global unicast"),
            # Ranges no pod is in: a route to them would take the pods' own
            # link-local and multicast traffic (neighbour discovery).
            (self.peers(good, ("n3", UNDERLAY % 3, ["ff00::/8"], "2001:db8::3")),
             "pod-cidr ff00::/8 overlaps addresses no pod has"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["fe80::/10"], "2001:db8::3")),
             "overlaps addresses no pod has"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["::ffff:10.9.0.0/112"], "2001:db8::3")),
             "overlaps addresses no pod has"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["2000::/3"], "fd00:99::3")),
             "pod-cidr 2000::/3 is shorter than /8"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["239.1.0.0/16"])),
             "pod-cidr 239.1.0.0/16 overlaps addresses no pod has"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["169.254.0.0/16"])),
             "overlaps addresses no pod has"),
            (self.peers(good, ("n3", UNDERLAY % 3, ["10.250.0.0/7"])), "shorter than /8"),
        ]
        for body, words in cases:
            with self.subTest(words=words):
                self.refused(self.put("cubenet-pods:peers", body), words)
                self.assertEqual(self.c.config(), before)
        # What YANG refuses itself.
        for body in (self.peers(("Bad_Name", UNDERLAY % 3, [])),
                     self.peers(("n3", "2001:db8::3", [])),
                     self.peers(("n3", UNDERLAY % 3, [f"10.252.{i}.0/24" for i in range(9)]))):
            with self.subTest(body=body):
                r = self.put("cubenet-pods:peers", body)
                self.assertEqual(r.status, 400, r.body)
                self.assertEqual(self.c.config(), before)
        for tunnel in ({"vni": 0}, {"vni": 16777216}, {"port": 0}, {"mode": "gre"}):
            with self.subTest(tunnel=tunnel):
                r = self.put("cubenet-pods:node", {"cubenet-pods:node": {
                    "uplink": "eth0", "tunnel": tunnel}})
                self.assertEqual(r.status, 400, r.body)
                self.assertEqual(self.c.config(), before)
        # The node's settings are checked against the peers they leave.
        for node, words in (({"address": UNDERLAY % 2}, "address 198.51.100.2 is this node's"),
                            ({"uplink": "eth0", "masquerade": {"cluster-cidr": ["fd00::/48"]}},
                             "masquerade of IPv6 ranges needs the node's IPv6 address"),
                            ({"uplink": "eth0", "address6": "2001:db8::1",
                              "masquerade": {"cluster-cidr": ["ff00::/8"]}},
                             "cluster-cidr ff00::/8 overlaps addresses no pod has"),
                            ({"uplink": "eth0", "masquerade": {"cluster-cidr": ["0.0.0.0/0"]}},
                             "cluster-cidr 0.0.0.0/0 is shorter than /8"),
                            ({"uplink": "eth0", "address6": "::ffff:10.0.0.1"},
                             "address6 ::ffff:10.0.0.1 is not a global unicast address"),
                            ({"address": "10.250.2.1"}, "holds this node's address"),
                            ({"address": UNDERLAY % 1, "tunnel": {"mode": "native"}},
                             "native routing needs node/uplink"),
                            ({"uplink": "eth0", "tunnel": {"port": 4789}},
                             "the VXLAN port cannot change while peers use the overlay")):
            with self.subTest(node=node):
                self.refused(self.put("cubenet-pods:node", {"cubenet-pods:node": node}), words)
                self.assertEqual(self.c.config(), before)

    def test_pod_ranges_inside_the_cluster_ranges(self):
        """With the cluster's ranges set, a peer claims pods only there: a
        peer (or a Node object) cannot route the outside world to itself."""
        r = self.put("cubenet-pods:node", {"cubenet-pods:node": {
            "uplink": "eth0", "masquerade": {"cluster-cidr": ["10.250.0.0/16"]}}})
        self.assertIn(r.status, (201, 204), r.body)
        before = self.c.config()
        for cidr in ("64.0.0.0/2", "8.8.8.0/24", "10.0.0.0/8", "10.251.0.0/24"):
            with self.subTest(cidr=cidr):
                self.refused(self.put("cubenet-pods:peers", self.peers(
                    ("n2", UNDERLAY % 2, [POD_CIDR % 2, cidr]))),
                    f"pod-cidr {cidr} is outside the cluster's ranges")
                self.assertEqual(self.c.config(), before)
        r = self.put("cubenet-pods:peers", self.peers(("n2", UNDERLAY % 2, [POD_CIDR % 2])))
        self.assertIn(r.status, (201, 204), r.body)

    def test_ipv6_ranges_natively_routed_need_the_peers_ipv6_address(self):
        """Native routing sends a peer's IPv6 pods to its IPv6 address: a
        peer with an IPv6 range and none is refused; with one, taken."""
        r = self.put("cubenet-pods:node", {"cubenet-pods:node": {
            "uplink": "eth0", "tunnel": {"mode": "native"}}})
        self.assertIn(r.status, (201, 204), r.body)
        before = self.c.config()
        self.refused(self.put("cubenet-pods:peers", self.peers(
            ("n2", UNDERLAY % 2, [POD_CIDR % 2, "fd00:250:2::/64"]))),
            "peers/peer[name='n2']: native routing of pod-cidr fd00:250:2::/64 needs the "
            "peer's IPv6 address (address6)")
        self.assertEqual(self.c.config(), before)
        r = self.put("cubenet-pods:peers", self.peers(
            ("n2", UNDERLAY % 2, [POD_CIDR % 2, "fd00:250:2::/64"], "2001:db8::2")))
        self.assertIn(r.status, (201, 204), r.body)

    def test_more_routes_than_the_router_holds(self):
        r = self.put("cubenet-pods:node", {"cubenet-pods:node": {"uplink": "eth0"}})
        self.assertIn(r.status, (201, 204), r.body)
        before = self.c.config()
        # 2,048 peers of 8 ranges: with their addresses (vxlan), 18,432 routes.
        entries = [(f"n{i}", f"10.{100 + i // 250}.{i % 250}.1",
                    [f"172.{16 + i // 1024}.{(i % 1024) // 4}.{(i % 4) * 64 + k * 8}/29"
                     for k in range(8)]) for i in range(2048)]
        err = self.refused(self.put("cubenet-pods:peers", self.peers(*entries)),
                           "peers need 18432 IPv4 routes; the node chain's router holds 16384",
                           status=413)
        self.assertEqual(err["error-tag"], "too-big")
        self.assertEqual(self.c.config(), before)


# Sends one VXLAN datagram to argv[1]:argv[5]: VNI argv[2], an inner
# Ethernet frame as the tunnel cube makes them carrying UDP from argv[3] to
# argv[4]:argv[6].
FORGE = r"""
import socket, struct, sys
node, vni, src, dst, vport, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
    int(sys.argv[5]), int(sys.argv[6])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
data = b"forged"
udp = struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data
if ":" in src:  # IPv6: the UDP checksum is mandatory
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    pseudo = s6 + d6 + struct.pack("!IxxxB", len(udp), 17)
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xffff) + udp[8:]
    ip = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + s6 + d6
    ethertype = 0x86DD
else:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    ethertype = 0x0800
eth = bytes.fromhex("02636e767801" "02636e767802") + struct.pack("!H", ethertype)
vxlan = struct.pack("!BBHI", 0x08, 0, 0, vni << 8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(vxlan + eth + ip + udp, (node, vport))
"""


class Vxlan(Multinode, unittest.TestCase):
    mode = "vxlan"

    def decap_counters(self, i):
        """node i's decapsulation check: ({verdict: packets}, {reason: packets})."""
        text = self.c.client(i).get("/metrics").body
        cube = 'cube="node:decap-check"'
        verdicts = {m[0]: int(m[1]) for m in re.findall(
            r'cubenet_cube_verdict_packets_total\{%s,verdict="(\w+)"\} (\d+)' % cube, text)}
        drops = {m[0]: int(m[1]) for m in re.findall(
            r'cubenet_cube_drop_packets_total\{%s,reason="(\w+)"\} (\d+)' % cube, text)}
        self.assertTrue(verdicts, "node:decap-check has no counters")
        return verdicts, drops

    def settled_decap_counters(self, i):
        """decap_counters(i) once two reads 0.3 s apart agree: the last
        packets of traffic just ended (a connection's final ACK) are in."""
        last, deadline = self.decap_counters(i), time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.decap_counters(i)
            if now == last:
                break
            last = now
        return last

    def forge(self, ns, node, vni, src, dst):
        # To a port nothing listens on: what gets through is answered with
        # an ICMP error to the source's node, and nothing comes back here.
        sh("ip", "netns", "exec", ns, sys.executable, "-c", FORGE, node, str(vni), src, dst,
           str(VXLAN_PORT), str(PORT + 1))

    def test_decapsulated_packets_must_come_from_the_peer_owning_their_source(self):
        """The VXLAN device takes datagrams from anyone: what it
        decapsulates goes on only from a peer, with this node's VNI, for a
        source that peer owns. Each case is one datagram to node 1, seen
        in node 1's decapsulation check's counters."""
        p10, p20, p30 = (self.c.pods[n][2] for n in ("p10", "p20", "p30"))
        v6 = {n: self.c.pods[n][3] for n in ("p10", "p20", "p30")}
        node1 = UNDERLAY % 1
        self.expect_all(["p10", "p20"])  # settled: the tunnel carries traffic
        cases = [
            # (what, from, VNI, inner source, outcome)
            ("a host that is no peer", self.c.underlay, VNI, p20, "TUNNEL_SPOOFED"),
            ("another VNI", self.c.nodes[1], VNI + 1, p20, "TUNNEL_FOREIGN_KEY"),
            ("node 2 speaking for node 3's pod", self.c.nodes[1], VNI, p30, "TUNNEL_SPOOFED"),
            ("node 2 for its own pod", self.c.nodes[1], VNI, p20, "forward"),
            # IPv6 inside: the sources of that family, the same owners.
            ("IPv6 from a host that is no peer", self.c.underlay, VNI, v6["p20"],
             "TUNNEL_SPOOFED"),
            ("node 2 speaking for node 3's pod, IPv6", self.c.nodes[1], VNI, v6["p30"],
             "TUNNEL_SPOOFED"),
            ("node 2 for its own pod, IPv6", self.c.nodes[1], VNI, v6["p20"], "forward"),
        ]
        for what, ns, vni, src, outcome in cases:
            with self.subTest(what):
                verdicts, drops = self.settled_decap_counters(1)
                self.forge(ns, node1, vni, src, v6["p10"] if ":" in src else p10)
                want_v, want_d = dict(verdicts), dict(drops)
                if outcome == "forward":
                    want_v["forward"] += 1
                else:
                    want_v["drop"] += 1
                    want_d[outcome] = want_d.get(outcome, 0) + 1
                deadline = time.monotonic() + 5
                while self.decap_counters(1) != (want_v, want_d) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertEqual(self.decap_counters(1), (want_v, want_d))
        # A pod of node 2 sends VXLAN to node 1's address itself: its own
        # datagram is node 2's to carry (it owns p20) and goes on; what node
        # 1's kernel then decapsulates from it comes from a pod, no peer.
        verdicts, drops = self.settled_decap_counters(1)
        self.forge(self.c.pods["p20"][1], node1, VNI, p30, p10)
        want_v, want_d = dict(verdicts), dict(drops)
        want_v["forward"] += 1
        want_v["drop"] += 1
        want_d["TUNNEL_SPOOFED"] = want_d.get("TUNNEL_SPOOFED", 0) + 1
        deadline = time.monotonic() + 5
        while self.decap_counters(1) != (want_v, want_d) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.decap_counters(1), (want_v, want_d))


class Native(Multinode, unittest.TestCase):
    mode = "native"


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: needs root")
        sys.exit(77)
    unittest.main()
