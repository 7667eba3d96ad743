# SPDX-License-Identifier: Apache-2.0
"""ClusterIP services through cubes: pods made by the CNI plugin, a service
written to cubenetd's API, and real TCP from a client pod to the ClusterIP
reaching the endpoints through node:parser -> classifier -> maglev -> nat on
the pods' veths (TC ingress), replies translated back. Needs root; exits 77
without it."""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from service_node import SERVICES, ServiceNode  # noqa: E402
from test_cni import sh  # noqa: E402

CLUSTER_IP, PORT, TARGET = "10.96.0.10", 80, 8080

SERVER = """
import socket, sys, threading
name = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d)); s.listen(128); print("ready", flush=True)
def serve(c):
    c.sendall(name.encode()); c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
""" % TARGET

CLIENT = """
import json, socket, sys
seen = {}
for _ in range(int(sys.argv[2])):
    try:
        c = socket.create_connection((sys.argv[1], %d), timeout=3)
        who = c.recv(100).decode() or "empty"
        # The connection's peer is the ClusterIP: replies were translated back.
        assert c.getpeername()[0] == sys.argv[1]
        c.close()
    except OSError as e:
        who = "failed"
    seen[who] = seen.get(who, 0) + 1
print(json.dumps(seen))
""" % PORT

UDP_ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(65535); s.sendto(data, peer)
"""

# Datagrams of the sizes asked for, each answered by the same bytes from
# the address sent to (a connected socket takes nothing from elsewhere).
UDP_ASK = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
out = []
for size in map(int, sys.argv[3:]):
    data = bytes(i % 251 for i in range(size))
    s.send(data)
    try:
        out.append("ok" if s.recv(65535) == data else "bad")
    except OSError:
        out.append("failed")
print(" ".join(out))
"""


class ServiceTest(ServiceNode):
    def setUp(self):
        super().setUp()
        self.servers = []
        for name in ("client", "be1", "be2", "be3"):
            ns = self.pod()
            rc, res = self.cni("ADD", self.conf(), cid=name, netns=ns)
            self.assertEqual(rc, 0, res)
            # Checksums offloaded as a real pod's are: partial, finished later.
            self.addr[name] = (ns, res["ips"][0]["address"].split("/")[0])
        for name in ("be1", "be2", "be3"):
            ns = self.addr[name][0]
            srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER, name],
                                   stdout=subprocess.PIPE, text=True)
            self.servers.append(srv)
            self.addCleanup(srv.kill)
            self.assertEqual(srv.stdout.readline().strip(), "ready")

    def service(self, endpoints, affinity="none", node_port=None):
        port = {"port": PORT, "protocol": "tcp", "target-port": TARGET}
        if node_port:
            port["node-port"] = node_port
        body = {"cubenet-pods:services": {"service": [{
            "namespace": "default", "name": "web", "cluster-ip": [CLUSTER_IP],
            "session-affinity": affinity, "port": [port],
            "endpoint": [{"address": self.addr[e][1]} for e in endpoints]}]}}
        r = self.daemon.client().put(SERVICES, body)
        self.assertIn(r.status, (200, 201, 204), r.body)

    def connect(self, count):
        out = sh("ip", "netns", "exec", self.addr["client"][0], sys.executable, "-c", CLIENT,
                 CLUSTER_IP, str(count))
        return json.loads(out.stdout)

    def test_clusterip_spreads_over_endpoints_and_replies_come_back(self):
        self.service(["be1", "be2", "be3"])
        # Every pod's veth carries the node chain on TC ingress.
        filters = sh("tc", "-n", self.node, "filter", "show", "dev",
                     self.cni_host_if("client"), "ingress").stdout
        self.assertIn("cube_parser", filters)
        got = self.connect(60)
        self.assertNotIn("failed", got, got)
        self.assertEqual(set(got), {"be1", "be2", "be3"}, got)
        # The chain's counters through the core API: the classifier saw
        # the ClusterIP connections, nat translated them.
        st = self.daemon.client().get("/metrics").body
        self.assertIn('cube="node:nat"', st)

        # An endpoint removed: new connections avoid it.
        self.service(["be2"])
        self.assertEqual(self.connect(20), {"be2": 20})

    def test_client_ip_affinity(self):
        self.service(["be1", "be2", "be3"], affinity="client-ip")
        got = self.connect(30)
        self.assertEqual(len(got), 1, got)
        self.assertNotIn("failed", got)

    def verdicts(self, cube):
        body = self.daemon.client().get("/metrics").body
        return {m.group(1): int(m.group(2)) for m in re.finditer(
            r'cubenet_cube_verdict_packets_total\{cube="%s",verdict="(\w+)"\} (\d+)' % cube,
            body)}

    def test_pod_to_pod_goes_through_the_router_cube(self):
        """Pod to pod leaves through node:router's redirect straight out of
        the other pod's veth; pod to node goes to the kernel (pass)."""
        self.service(["be1"])
        before = self.verdicts("node:router")
        self.assertTrue(self.ping(self.addr["client"][0], self.addr["be2"][1]))
        after = self.verdicts("node:router")
        # Echo request and reply, each redirected once.
        self.assertGreaterEqual(after["redirect"] - before["redirect"], 2)
        self.assertTrue(self.ping(self.addr["client"][0], "10.245.0.1"))  # the node
        self.assertGreater(self.verdicts("node:router")["pass"], after["pass"])
        out = sh("ip", "netns", "exec", self.addr["client"][0], sys.executable, "-c",
                 "import socket,sys; c=socket.create_connection((sys.argv[1], %d), timeout=3);"
                 "print(c.recv(100).decode())" % TARGET, self.addr["be3"][1])
        self.assertEqual(out.stdout.strip(), "be3")

    def test_fragments_between_pods_and_through_a_service(self):
        """ping -s 3000 and 3 KB UDP datagrams, which the sender's IP layer
        cuts into fragments, reach the other pod and come back (node:nat
        used to drop every fragment); so do datagrams of an open UDP flow
        to a ClusterIP, translated both ways."""
        srv = subprocess.Popen(["ip", "netns", "exec", self.addr["be3"][0], sys.executable,
                                "-c", UDP_ECHO, "5353"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(srv.kill)
        self.assertEqual(srv.stdout.readline().strip(), "ready")
        body = {"cubenet-pods:services": {"service": [{
            "namespace": "default", "name": "dns", "cluster-ip": [CLUSTER_IP],
            "port": [{"port": 53, "protocol": "udp", "target-port": 5353}],
            "endpoint": [{"address": self.addr["be3"][1]}]}]}}
        r = self.daemon.client().put(SERVICES, body)
        self.assertIn(r.status, (200, 201, 204), r.body)
        client = self.addr["client"][0]
        ping = sh("ip", "netns", "exec", client, "ping", "-c", "2", "-s", "3000", "-W", "2",
                  self.addr["be2"][1], check=False)
        self.assertEqual(ping.returncode, 0, ping.stdout + ping.stderr)
        out = sh("ip", "netns", "exec", client, sys.executable, "-c", UDP_ASK,
                 self.addr["be3"][1], "5353", "3000", "9000")
        self.assertEqual(out.stdout.split(), ["ok", "ok"])
        # A small datagram opens the flow; big ones follow it.
        out = sh("ip", "netns", "exec", client, sys.executable, "-c", UDP_ASK, CLUSTER_IP,
                 "53", "10", "3000", "9000")
        self.assertEqual(out.stdout.split(), ["ok", "ok", "ok"])
        body = self.daemon.client().get("/metrics").body
        for reason in ("FRAGMENT", "FRAG_UNKNOWN"):
            m = re.search(r'cubenet_cube_drop_packets_total\{cube="node:nat",reason="%s"\} (\d+)'
                          % reason, body)
            self.assertEqual(int(m.group(1)) if m else 0, 0, reason)

    def test_node_to_pod_through_the_chain(self):
        """By default the node's own packets to a pod are routed to
        cubenet0 and the chain's router puts them out of the pod's veth;
        with the host device off, the plugin's fallback routes carry them."""
        ns, addr = self.addr["be1"]
        route = sh("ip", "-n", self.node, "route", "get", addr).stdout
        self.assertIn("dev cubenet0", route)
        before = self.verdicts("node:router").get("redirect", 0)
        self.assertTrue(self.ping(self.node, addr))
        out = sh("nsenter", f"--net=/run/netns/{self.node}", sys.executable, "-c",
                 "import socket,sys; c=socket.create_connection((sys.argv[1], %d), timeout=3);"
                 "print(c.recv(100).decode())" % TARGET, addr)
        self.assertEqual(out.stdout.strip(), "be1")
        self.assertGreater(self.verdicts("node:router")["redirect"], before)
        # A pod deleted takes its route through cubenet0 with it.
        rc, _ = self.cni("DEL", self.conf(), cid="be3", netns=self.addr["be3"][0])
        self.assertEqual(rc, 0)
        routes = sh("ip", "-n", self.node, "route", "show", "dev", "cubenet0").stdout
        self.assertNotIn(self.addr["be3"][1] + " ", routes + " ")
        self.assertIn(addr, routes)

        r = self.daemon.client().put("/restconf/data/cubenet-pods:node",
                                     {"cubenet-pods:node": {"host-device": False}})
        self.assertIn(r.status, (201, 204), r.body)
        self.assertEqual(sh("ip", "-n", self.node, "link", "show", "cubenet0",
                            check=False).returncode, 1)
        self.assertNotIn("cubenet0", sh("ip", "-n", self.node, "route", "get", addr).stdout)
        self.assertTrue(self.ping(self.node, addr))

    def test_masquerade_to_outside_the_cluster(self):
        """Pod traffic leaving the cluster comes from the node's address;
        pod to pod keeps the pod's own."""
        outside = self.outside({"masquerade": {"cluster-cidr": ["10.245.0.0/16",
                                                                "10.96.0.0/12"]}})
        peer = ("import socket; s=socket.socket(); "
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                "s.bind(('0.0.0.0', 9000)); s.listen(); print('ready', flush=True)\n"
                "while True:\n    c, a = s.accept(); c.sendall(a[0].encode()); c.close()")
        for ns in (outside, self.addr["be3"][0]):
            srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", peer],
                                   stdout=subprocess.PIPE, text=True)
            self.addCleanup(srv.kill)
            self.assertEqual(srv.stdout.readline().strip(), "ready")
        ask = ("import socket,sys; c=socket.create_connection((sys.argv[1], 9000), timeout=3);"
               "print(c.recv(100).decode())")
        client_ns, client_ip = self.addr["client"]
        seen = sh("ip", "netns", "exec", client_ns, sys.executable, "-c", ask, "192.0.2.2")
        self.assertEqual(seen.stdout.strip(), "192.0.2.1")
        seen = sh("ip", "netns", "exec", client_ns, sys.executable, "-c", ask,
                  self.addr["be3"][1])
        self.assertEqual(seen.stdout.strip(), client_ip)
        # Masquerading off: the pod's own address goes out.
        r = self.daemon.client().delete("/restconf/data/cubenet-pods:node/masquerade")
        self.assertEqual(r.status, 204, r.body)
        seen = sh("ip", "netns", "exec", client_ns, sys.executable, "-c", ask, "192.0.2.2")
        self.assertEqual(seen.stdout.strip(), client_ip)

    def test_host_ports(self):
        """A pod's port mapping (the runtime's hostPort) is served on the
        node's address, for clients beyond the uplink and for pods."""
        outside = self.outside()
        ns = self.addr["be2"][0]
        self.assertEqual(self.cni("DEL", self.conf(), cid="be2", netns=ns), (0, None))
        rc, res = self.cni("ADD", self.conf(runtimeConfig={"portMappings": [
            {"hostPort": 8081, "containerPort": TARGET, "protocol": "tcp"}]}),
            cid="be2", netns=ns)
        self.assertEqual(rc, 0, res)
        for client in (outside, self.addr["client"][0]):
            out = sh("ip", "netns", "exec", client, sys.executable, "-c",
                     CLIENT.replace(f"(sys.argv[1], {PORT})", "(sys.argv[1], 8081)"),
                     "192.0.2.1", "5")
            self.assertEqual(json.loads(out.stdout), {"be2": 5})
        # A second pod asking for the port, on any address or on the
        # node's own, is refused with nothing made; be2 keeps it. Another
        # protocol or address is another mapping.
        ns3 = self.addr["be3"][0]
        self.assertEqual(self.cni("DEL", self.conf(), cid="be3", netns=ns3), (0, None))
        links, allocated, registered = self.host_links(), self.allocated(), self.registered()
        for ip in ("", "0.0.0.0", "192.0.2.1"):
            mapping = {"hostPort": 8081, "containerPort": TARGET, "protocol": "tcp"}
            if ip:
                mapping["hostIP"] = ip
            with self.subTest(host_ip=ip):
                self.assertCniError(self.cni("ADD", self.conf(runtimeConfig={
                    "portMappings": [mapping]}), cid="be3", netns=ns3), 5,
                    "host port 8081/tcp is already mapped by be2/eth0")
                self.assertEqual((self.host_links(), self.allocated(), self.registered()),
                                 (links, allocated, registered))
        rc, res = self.cni("ADD", self.conf(runtimeConfig={"portMappings": [
            {"hostPort": 8081, "containerPort": TARGET, "protocol": "udp"},
            {"hostPort": 8081, "containerPort": TARGET, "protocol": "tcp",
             "hostIP": "192.0.2.9"}]}), cid="be3", netns=ns3)
        self.assertEqual(rc, 0, res)
        out = sh("ip", "netns", "exec", outside, sys.executable, "-c",
                 CLIENT.replace(f"(sys.argv[1], {PORT})", "(sys.argv[1], 8081)"),
                 "192.0.2.1", "5")
        self.assertEqual(json.loads(out.stdout), {"be2": 5})

    def test_node_port_from_outside_the_node(self):
        """A client beyond the node's uplink reaches the service on the
        node's address and NodePort; the reply comes from that address."""
        outside = self.outside()
        self.service(["be1", "be2"], node_port=30080)
        out = sh("ip", "netns", "exec", outside, sys.executable, "-c",
                 CLIENT.replace(f"(sys.argv[1], {PORT})", "(sys.argv[1], 30080)"),
                 "192.0.2.1", "20")
        got = json.loads(out.stdout)
        self.assertNotIn("failed", got, got)
        self.assertEqual(set(got), {"be1", "be2"}, got)
        # Pods reach the NodePort too.
        out = sh("ip", "netns", "exec", self.addr["client"][0], sys.executable, "-c",
                 CLIENT.replace(f"(sys.argv[1], {PORT})", "(sys.argv[1], 30080)"),
                 "192.0.2.1", "5")
        self.assertNotIn("failed", json.loads(out.stdout))
        # A NodePort without a node address is refused, nothing changed.
        before = self.daemon.client().config()
        r = self.daemon.client().delete("/restconf/data/cubenet-pods:node")
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("has a NodePort but the node has no address", r.body)
        self.assertEqual(self.daemon.client().config(), before)

    def test_icmp_errors_reach_the_clients_they_are_about(self):
        """An ICMP error about a translated packet reaches the host that sent
        it, as about the packet it sent: a NodePort client's UDP hears
        "refused" from an endpoint with no listener, and a pod masqueraded
        to the node learns the path MTU from a router beyond the uplink."""
        outside = self.outside({"masquerade": {"cluster-cidr": ["10.245.0.0/16",
                                                                "10.96.0.0/12"]}})
        body = {"cubenet-pods:service": [{
            "namespace": "default", "name": "dns", "cluster-ip": ["10.96.0.53"],
            "port": [{"port": 53, "protocol": "udp", "target-port": 5353,
                      "node-port": 30053}],
            "endpoint": [{"address": self.addr["be1"][1]}]}]}
        r = self.daemon.client().put(f"{SERVICES}/service=default,dns", body)
        self.assertIn(r.status, (201, 204), r.body)
        ask = ("import socket\n"
               "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)\n"
               "s.connect(('192.0.2.1', 30053)); s.send(b'hi')\n"
               "try:\n    s.recv(100); print('answered')\n"
               "except ConnectionRefusedError:\n    print('refused')\n"
               "except OSError as e:\n    print(type(e).__name__)\n")
        out = sh("ip", "netns", "exec", outside, sys.executable, "-c", ask)
        self.assertEqual(out.stdout.strip(), "refused")

        # far: beyond the outside host, which routes to it over a link of
        # MTU 1280 (its own side takes 1500, and says so in its MSS).
        far = self.pod()
        sh("ip", "link", "add", "eth1", "netns", outside, "type", "veth", "peer", "name",
           "eth0", "netns", far)
        sh("ip", "-n", outside, "link", "set", "eth1", "mtu", "1280", "up")
        sh("ip", "-n", outside, "addr", "add", "198.51.100.1/24", "dev", "eth1")
        sh("ip", "netns", "exec", outside, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh("ip", "-n", far, "addr", "add", "198.51.100.2/24", "dev", "eth0")
        sh("ip", "-n", far, "link", "set", "eth0", "up")
        sh("ip", "-n", far, "route", "add", "default", "via", "198.51.100.1")
        sh("ip", "-n", self.node, "route", "add", "198.51.100.0/24", "via", "192.0.2.2")
        sink = ("import socket; s=socket.socket(); "
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                "s.bind(('0.0.0.0', 9000)); s.listen(); print('ready', flush=True)\n"
                "while True:\n    c, a = s.accept(); n = 0\n"
                "    while (d := c.recv(65536)):\n        n += len(d)\n"
                "    c.sendall(str(n).encode()); c.close()")
        srv = subprocess.Popen(["ip", "netns", "exec", far, sys.executable, "-c", sink],
                               stdout=subprocess.PIPE, text=True)
        self.addCleanup(srv.kill)
        self.assertEqual(srv.stdout.readline().strip(), "ready")
        send = ("import socket\n"
                "c = socket.create_connection(('198.51.100.2', 9000), timeout=10)\n"
                "c.sendall(bytes(200000)); c.shutdown(socket.SHUT_WR)\n"
                "print(c.recv(100).decode())")
        out = sh("ip", "netns", "exec", self.addr["client"][0], sys.executable, "-c", send)
        self.assertEqual(out.stdout.strip(), "200000")
        route = sh("ip", "-n", self.addr["client"][0], "route", "get", "198.51.100.2").stdout
        self.assertIn("mtu 1280", route)

    def cni_host_if(self, name):
        pods = {p["container-id"]: p for p in self.registered()}
        return pods[name]["host-interface"]


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
