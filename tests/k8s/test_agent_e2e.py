# SPDX-License-Identifier: Apache-2.0
"""The node agent end to end: a real kube-apiserver and controller manager,
Services and Pods applied with kubectl, the Pods real (network namespaces
made by the CNI plugin, running TCP and UDP servers, their status patched
Ready with the address the plugin gave), the agent in the node's namespace
writing to the real cubenetd, and real connections from a client pod and
from beyond the node's uplink: ClusterIP, NodePort, load-balancer and
external IPs; the spread following scale up and down; a deleted Pod's
endpoint terminating (no new connections, an open one lives on); client-IP
affinity and its timeout; externalTrafficPolicy Local keeping the client's
address, with the health check port answering 200 and 503; named and
multiple target ports; cubenetd's config equal to the API after the agent
was killed while services changed. Needs root; exits 77 without it."""
import json
import os
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../cni"))
from agent_fixture import Agent, wait_for  # noqa: E402
from apiserver import NODE_NAME, ApiServer  # noqa: E402
from netns_forward import NetnsForwarder  # noqa: E402
from test_agent_api import manifest_rbac, service  # noqa: E402
from test_cni import CniNode, sh  # noqa: E402

NODE_IP, OUTSIDE_IP = "192.0.2.1", "192.0.2.2"
EXTERNAL_IP, LB_IP = "198.51.100.7", "203.0.113.9"

# Each pod: TCP and UDP on every port given; a TCP connection gets
# "name port peer\n", then its lines echoed; a UDP datagram gets the same.
SERVER = r"""
import socket, sys, threading
name, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(128)
    while True:
        c, peer = s.accept()
        threading.Thread(target=serve, args=(c, port, peer), daemon=True).start()
def serve(c, port, peer):
    try:
        c.sendall(f"{name} {port} {peer[0]}\n".encode())
        while data := c.recv(4096):
            c.sendall(data)
    except OSError:
        pass
    c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(f"{name} {port} {peer[0]}\n".encode(), peer)
for p in ports:
    threading.Thread(target=tcp, args=(p,), daemon=True).start()
    threading.Thread(target=udp, args=(p,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

# N connections (or datagrams) to ip:port: {"name port peer": count}.
# A source port, when given, is bound for each (TCP).
CLIENT = r"""
import json, socket, sys
ip, port, n, proto = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sport = int(sys.argv[5]) if len(sys.argv) > 5 else 0
seen = {}
for _ in range(n):
    try:
        if proto == "tcp":
            c = socket.socket(); c.settimeout(3)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            c.bind(("", sport))
            c.connect((ip, port))
            who = c.makefile().readline().strip()
            assert c.getpeername()[0] == ip
        else:
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(3)
            c.sendto(b"hi", (ip, port))
            data, peer = c.recvfrom(2048)
            assert peer[0] == ip
            who = data.decode().strip()
        c.close()
    except (OSError, AssertionError) as e:
        who = "failed"
    seen[who] = seen.get(who, 0) + 1
print(json.dumps(seen))
"""


def stop(proc):
    proc.kill()
    proc.wait()
    if proc.stdout:
        proc.stdout.close()


class E2E(CniNode):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer().start()
        cls.addClassCleanup(cls.api.stop)
        cls.api.apply(manifest_rbac())
        # This node as kubelet would report it: its InternalIP is the uplink's.
        cls.api.patch_status(f"/api/v1/nodes/{NODE_NAME}", {"status": {"addresses": [
            {"type": "InternalIP", "address": NODE_IP},
            {"type": "Hostname", "address": NODE_NAME}]}})
        cls.api.apply("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-2\n")
        cls.seq = 0

    def setUp(self):
        super().setUp()
        type(self).seq += 1
        self.ns_k8s = f"e{self.seq}"
        self.api.create_namespace(self.ns_k8s)
        # The next test's cubenetd starts empty: leave it no services of ours.
        self.addCleanup(self.api.kubectl, "delete", "svc", "--all", "-n", self.ns_k8s,
                        check=False)
        self.pod_ns = {}
        self.pod_ip = {}
        # The uplink and a host beyond it.
        self.outside = self.pod()
        sh("ip", "link", "add", "up0", "netns", self.node, "type", "veth", "peer", "name",
           "eth0", "netns", self.outside)
        sh("ip", "-n", self.node, "addr", "add", f"{NODE_IP}/24", "dev", "up0")
        sh("ip", "-n", self.node, "link", "set", "up0", "up")
        sh("ip", "-n", self.outside, "addr", "add", f"{OUTSIDE_IP}/24", "dev", "eth0")
        sh("ip", "-n", self.outside, "link", "set", "eth0", "up")
        sh("ip", "-n", self.outside, "route", "add", "default", "via", NODE_IP)
        self.fwd = NetnsForwarder(self.node, self.api.port)
        self.addCleanup(self.fwd.stop)
        self.agent = Agent(self.api.agent_kubeconfig, self.daemon.socket, NODE_NAME,
                           ["--cluster-cidr", "10.245.0.0/16", "--service-cidr", "10.96.0.0/16"],
                           netns=self.node, log_dir=self.tmp)
        self.addCleanup(self.agent.stop)
        self.agent.start()
        self.agent.wait_ready(40)
        self.client = self.make_netns_pod("client")

    def make_netns_pod(self, name):
        ns = self.pod()
        rc, res = self.cni("ADD", self.conf(), cid=name, netns=ns,
                           args=f"K8S_POD_NAMESPACE={self.ns_k8s};K8S_POD_NAME={name}")
        self.assertEqual(rc, 0, res)
        self.pod_ns[name] = ns
        self.pod_ip[name] = res["ips"][0]["address"].split("/")[0]
        return ns

    def backend(self, name, app, ports, named=(), node=NODE_NAME):
        """A real pod running servers on ports, and its Pod object, Ready
        at the address the plugin gave it. named: (port name, number)."""
        ns = self.make_netns_pod(name)
        srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER, name,
                                *map(str, ports)], stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop, srv)
        self.assertEqual(srv.stdout.readline().strip(), "ready")
        cports = "".join(f"        - name: {n}\n          containerPort: {p}\n"
                         for n, p in named) or "        - containerPort: 1\n"
        self.api.apply(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"
                       f"  namespace: {self.ns_k8s}\n  labels:\n    app: {app}\n"
                       f"spec:\n  nodeName: {node}\n  automountServiceAccountToken: false\n"
                       f"  containers:\n    - name: c\n      image: img:1\n      ports:\n"
                       f"{cports}")
        self.api.patch_pod_ready(self.ns_k8s, name, self.pod_ip[name])
        return self.pod_ip[name]

    def svc(self, name):
        return json.loads(self.api.kubectl("get", "svc", "-n", self.ns_k8s, name, "-o", "json"))

    def programmed(self, name, n_endpoints, cond=lambda e: True):
        """cubenetd holds the service with n endpoints (and cond)."""
        def held():
            r = self.daemon.client().get(
                f"/restconf/data/cubenet-pods:services/service={self.ns_k8s},{name}")
            if r.status != 200:
                return None
            e = r.json()["cubenet-pods:service"][0]
            return e if len(e.get("endpoint", [])) == n_endpoints and cond(e) else None
        return wait_for(held, 30, what=f"{name} with {n_endpoints} endpoints in cubenetd")

    def connect(self, ns, ip, port, n, proto="tcp", sport=0):
        out = sh("ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, ip, str(port), str(n),
                 proto, str(sport))
        return json.loads(out.stdout)

    def names(self, seen):
        self.assertNotIn("failed", seen, seen)
        out = {}
        for who, n in seen.items():
            name = who.split()[0]
            out[name] = out.get(name, 0) + n
        return out

    # -- the tests ----------------------------------------------------------
    def test_cluster_ip_tcp_and_udp_follow_scale(self):
        for i in range(3):
            self.backend(f"be{i}", "web", [8080, 5353])
        self.api.apply(service(self.ns_k8s, "web", [
            "{name: http, port: 80, targetPort: 8080}",
            "{name: dns, port: 53, protocol: UDP, targetPort: 5353}"], selector="web"))
        self.programmed("web", 3)
        cip = self.svc("web")["spec"]["clusterIP"]
        self.assertEqual(set(self.names(self.connect(self.client, cip, 80, 60))),
                         {"be0", "be1", "be2"})
        self.assertEqual(set(self.names(self.connect(self.client, cip, 53, 60, "udp"))),
                         {"be0", "be1", "be2"})
        # Down: be1 deleted for good.
        self.api.kubectl("delete", "pod", "-n", self.ns_k8s, "be1", "--grace-period=0", "--force")
        self.programmed("web", 2)
        self.assertEqual(set(self.names(self.connect(self.client, cip, 80, 40))), {"be0", "be2"})
        # Up: two more.
        self.backend("be3", "web", [8080, 5353])
        self.backend("be4", "web", [8080, 5353])
        self.programmed("web", 4)
        self.assertEqual(set(self.names(self.connect(self.client, cip, 80, 80))),
                         {"be0", "be2", "be3", "be4"})
        self.assertEqual(set(self.names(self.connect(self.client, cip, 53, 80, "udp"))),
                         {"be0", "be2", "be3", "be4"})

    def test_node_port_load_balancer_and_external_ip_from_outside(self):
        self.backend("be0", "lb", [8080])
        self.backend("be1", "lb", [8080])
        self.api.apply(service(self.ns_k8s, "lb", ["{port: 80, targetPort: 8080}"],
                               type_="LoadBalancer", selector="lb",
                               extra=f"  externalIPs: [{EXTERNAL_IP}]\n"))
        self.api.patch_status(f"/api/v1/namespaces/{self.ns_k8s}/services/lb", {"status": {
            "loadBalancer": {"ingress": [{"ip": LB_IP}]}}})
        e = self.programmed("lb", 2, lambda e: "load-balancer-ip" in e)
        self.assertEqual(e["load-balancer-ip"], [LB_IP])
        self.assertEqual(e["external-ip"], [EXTERNAL_IP])
        node_port = self.svc("lb")["spec"]["ports"][0]["nodePort"]
        for ip, port in ((NODE_IP, node_port), (LB_IP, 80), (EXTERNAL_IP, 80)):
            with self.subTest(ip=ip):
                self.assertEqual(set(self.names(self.connect(self.outside, ip, port, 30))),
                                 {"be0", "be1"})
        # Pods reach the NodePort and the external IP too.
        self.assertEqual(set(self.names(self.connect(self.client, NODE_IP, node_port, 20))),
                         {"be0", "be1"})

    def test_terminating_endpoint_drains(self):
        self.backend("be0", "d", [8080])
        self.backend("be1", "d", [8080])
        self.api.apply(service(self.ns_k8s, "d", ["{port: 80, targetPort: 8080}"],
                               selector="d"))
        self.programmed("d", 2)
        cip = self.svc("d")["spec"]["clusterIP"]
        # An open connection to be0, from the client pod.
        conn = subprocess.Popen(
            ["ip", "netns", "exec", self.client, sys.executable, "-u", "-c", DRAIN_CLIENT, cip,
             "be0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop, conn)
        self.assertEqual(conn.stdout.readline().strip(), "connected be0")
        # be0 deleted, not gone (no kubelet): terminating.
        self.api.kubectl("delete", "pod", "-n", self.ns_k8s, "be0", "--wait=false")
        wait_for(lambda: any(ep.get("terminating") for ep in self.programmed("d", 2)["endpoint"]),
                 30, what="be0 terminating in cubenetd")
        self.assertEqual(self.names(self.connect(self.client, cip, 80, 30)), {"be1": 30})
        conn.stdin.write("still there?\n")
        conn.stdin.flush()
        self.assertEqual(conn.stdout.readline().strip(), "echo still there?")
        conn.stdin.close()
        self.assertEqual(conn.wait(10), 0)

    def test_client_ip_affinity_and_its_timeout(self):
        for i in range(2):
            self.backend(f"be{i}", "a", [8080])
        # Four more, made now and joined to the service later in one call:
        # making them then would take a good part of the timeout.
        for i in range(2, 6):
            self.backend(f"be{i}", "a-later", [8080])
        clients = [self.client] + [self.make_netns_pod(f"client{i}") for i in range(1, 4)]
        self.api.apply(service(self.ns_k8s, "a", ["{port: 80, targetPort: 8080}"], selector="a",
                               extra="  sessionAffinity: ClientIP\n"
                                     "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 4}}\n"))
        self.programmed("a", 2)
        cip = self.svc("a")["spec"]["clusterIP"]
        first = {}
        for c in clients:
            got = self.names(self.connect(c, cip, 80, 15))
            self.assertEqual(len(got), 1, got)
            first[c] = next(iter(got))
        # More endpoints: within the timeout every client keeps its own.
        self.api.kubectl("label", "pod", "-n", self.ns_k8s, "--overwrite",
                         *[f"be{i}" for i in range(2, 6)], "app=a")
        self.programmed("a", 6)
        for c in clients:
            self.assertEqual(self.names(self.connect(c, cip, 80, 5)), {first[c]: 5})
        # Idle past the timeout: the choice is made again, over six. The four
        # fresh choices all repeat the old ones by chance once in 1,296
        # times; three idle rounds make that once in two billion.
        for _ in range(3):
            time.sleep(6)
            after = {c: next(iter(self.names(self.connect(c, cip, 80, 5)))) for c in clients}
            if after != first:
                break
        self.assertNotEqual(after, first)
        for c in clients:
            self.assertEqual(len(self.names(self.connect(c, cip, 80, 5))), 1)

    def test_external_traffic_policy_local_keeps_the_source_and_health_checks(self):
        self.backend("be0", "loc", [8080])
        # An endpoint on another node: never chosen for external traffic.
        self.api.apply(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: far\n"
                       f"  namespace: {self.ns_k8s}\n  labels:\n    app: loc\nspec:\n"
                       f"  nodeName: node-2\n  automountServiceAccountToken: false\n"
                       f"  containers:\n    - name: c\n      image: img:1\n")
        self.api.patch_pod_ready(self.ns_k8s, "far", "10.246.0.9")
        self.api.apply(service(self.ns_k8s, "loc", ["{port: 80, targetPort: 8080}"],
                               type_="LoadBalancer", selector="loc",
                               extra="  externalTrafficPolicy: Local\n"))
        self.api.patch_status(f"/api/v1/namespaces/{self.ns_k8s}/services/loc", {"status": {
            "loadBalancer": {"ingress": [{"ip": LB_IP}]}}})
        self.programmed("loc", 2, lambda e: "load-balancer-ip" in e)
        spec = self.svc("loc")["spec"]
        seen = self.connect(self.outside, NODE_IP, spec["ports"][0]["nodePort"], 20)
        self.assertEqual(seen, {f"be0 8080 {OUTSIDE_IP}": 20})
        seen = self.connect(self.outside, LB_IP, 80, 20)
        self.assertEqual(seen, {f"be0 8080 {OUTSIDE_IP}": 20})
        # One client port to both frontends: one reply tuple at be0, so the
        # second connection's source port moves; both connect.
        for ip, port in ((NODE_IP, spec["ports"][0]["nodePort"]), (LB_IP, 80)):
            with self.subTest(ip=ip):
                self.assertEqual(self.connect(self.outside, ip, port, 1, sport=61123),
                                 {f"be0 8080 {OUTSIDE_IP}": 1})
        hc = spec["healthCheckNodePort"]
        status, body = self.health(hc)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"service": {"namespace": self.ns_k8s, "name": "loc"},
                                            "localEndpoints": 1, "serviceProxyHealthy": True})
        self.api.kubectl("delete", "pod", "-n", self.ns_k8s, "be0", "--grace-period=0", "--force")
        wait_for(lambda: self.health(hc)[0] == 503, what="503 without local endpoints")
        self.assertEqual(json.loads(self.health(hc)[1])["localEndpoints"], 0)

    def health(self, port):
        out = sh("ip", "netns", "exec", self.outside, "curl", "-s", "-w", "\n%{http_code}",
                 f"http://{NODE_IP}:{port}/healthz", check=False).stdout
        body, _, code = out.rpartition("\n")
        return int(code or 0), body

    def test_named_and_multiple_target_ports(self):
        self.backend("be0", "named", [8080, 9100], named=(("web", 8080), ("metrics", 9100)))
        self.backend("be1", "named", [8081, 9100], named=(("web", 8081), ("metrics", 9100)))
        self.api.apply(service(self.ns_k8s, "named", ["{name: http, port: 80, targetPort: web}",
                                                  "{name: m, port: 81, targetPort: metrics}"],
                               selector="named"))
        e = self.programmed("named", 2)
        self.assertEqual(sorted((p["port"], p["target-port"]) for p in e["port"]),
                         [(80, 8080), (81, 9100)])
        cip = self.svc("named")["spec"]["clusterIP"]
        got = self.connect(self.client, cip, 80, 40)
        self.assertNotIn("failed", got)
        self.assertEqual({w.rsplit(" ", 1)[0] for w in got}, {"be0 8080", "be1 8081"})
        got = self.connect(self.client, cip, 81, 40)
        self.assertEqual({w.rsplit(" ", 1)[0] for w in got}, {"be0 9100", "be1 9100"})

    def test_config_matches_the_api_after_the_agent_was_killed(self):
        self.api.apply("---\n".join(service(self.ns_k8s, f"k{i}", ["{port: 80}"])
                                    for i in range(4)))
        for i in range(4):
            self.programmed(f"k{i}", 0)
        self.agent.kill()
        self.api.kubectl("delete", "svc", "-n", self.ns_k8s, "k0", "k1")
        self.api.apply(service(self.ns_k8s, "k9", ["{port: 90}"]))
        self.agent.start()
        self.agent.wait_ready(40)
        held = self.daemon.client().get("/restconf/data/cubenet-pods:services?content=config")
        self.assertEqual(held.status, 200, held.body)
        names = {s["name"] for s in held.json()["cubenet-pods:services"]["service"]
                 if s["namespace"] == self.ns_k8s}
        self.assertEqual(names, {"k2", "k3", "k9"})
        node = self.daemon.client().get("/restconf/data/cubenet-pods:node?content=config").json()
        self.assertEqual(node["cubenet-pods:node"]["uplink"], "up0")
        self.assertEqual(node["cubenet-pods:node"]["address"], NODE_IP)
        # cubenetd takes YANG Patch: every write was one, each one transaction.
        m = self.agent.metrics()
        writes = {l: v for (k, l), v in m.items()
                  if k == "cubenet_agent_cubenetd_requests_total" and 'method="GET"' not in l}
        self.assertGreater(writes['{method="YANG-PATCH",result="ok"}'], 0, writes)
        self.assertEqual(sum(v for l, v in writes.items() if 'YANG-PATCH' not in l), 0, writes)
        self.assertEqual(writes['{method="YANG-PATCH",result="error"}'], 0, writes)


# Connects to ip:80 until it reaches `want`; says so; then echoes stdin
# lines through the connection until stdin closes.
DRAIN_CLIENT = r"""
import socket, sys
ip, want = sys.argv[1], sys.argv[2]
for _ in range(50):
    c = socket.create_connection((ip, 80), timeout=5)
    f = c.makefile("rw")
    if f.readline().split()[0] == want:
        break
    c.close()
else:
    sys.exit(1)
print("connected", want, flush=True)
for line in sys.stdin:
    f.write(line); f.flush()
    print("echo", f.readline().strip(), flush=True)
c.close()
"""


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
