# SPDX-License-Identifier: Apache-2.0
"""The node agent against a real kube-apiserver and controller manager:
Services and Pods applied with kubectl, EndpointSlices made by the
controller, translated to cubenet-pods entries and written incrementally,
in batches, to a config store that validates every write against the YANG
model (model_store.py, a stand-in for cubenetd's API: no datapath here;
test_agent_e2e.py drives the real daemon). Faults: the agent killed while
services change, the API server restarted, a forced 410, the API server
unreachable at start, a cubenetd of another model. Also the health check
node ports it serves, over IPv4 and IPv6 (dual-stack and IPv6-only
Services, the limits on clients, a kernel without IPv6), its metrics,
readiness, and in-cluster and client-certificate credentials."""
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_fixture import Agent, free_port, wait_for  # noqa: E402
from apiserver import NODE_NAME, ApiServer  # noqa: E402
from model_store import ModelStore  # noqa: E402
from netns_forward import NetnsForwarder, Relay, connect_in_netns  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))


def manifest_rbac():
    """The agent's namespace, ServiceAccount and role as k8s/manifests
    ships them: the agent must work with exactly those rights."""
    with open(os.path.join(ROOT, "k8s/manifests/cubenet.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f)
                if d["kind"] in ("Namespace", "ServiceAccount", "ClusterRole",
                                 "ClusterRoleBinding")]
    return yaml.safe_dump_all(docs)

AGENT_ARGS = ["--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/16",
              "--coalesce", "20"]


def service(ns, name, ports, type_="ClusterIP", selector=None, extra=""):
    p = "\n".join(f"    - {line}" for line in ports)
    sel = f"  selector:\n    app: {selector}\n" if selector else ""
    return (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"spec:\n  type: {type_}\n{sel}{extra}  ports:\n{p}\n")


def pod(ns, name, app, ports=(("web", 8080),), node=NODE_NAME):
    ps = "".join(f"        - name: {n}\n          containerPort: {p}\n" for n, p in ports)
    return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"  labels:\n    app: {app}\nspec:\n  nodeName: {node}\n"
            f"  automountServiceAccountToken: false\n  containers:\n    - name: c\n"
            f"      image: img:1\n      ports:\n{ps}")


def slice_(ns, name, service_name, endpoints, ports=(("", 80),), address_type="IPv4"):
    """A selector-less service's EndpointSlice, as a controller of one's own
    would write it: endpoints [(address, ready, node)]."""
    eps = "".join(
        f"  - addresses: [\"{a}\"]\n    conditions: {{ready: {str(r).lower()}}}\n"
        f"    topology: {{kubernetes.io/hostname: {n}}}\n" for a, r, n in endpoints)
    ps = "".join(f"  - name: \"{n}\"\n    port: {p}\n    protocol: TCP\n" for n, p in ports)
    return (f"apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata:\n"
            f"  name: {name}\n  namespace: {ns}\n  labels:\n"
            f"    kubernetes.io/service-name: {service_name}\n"
            f"    endpointslice.kubernetes.io/managed-by: test.cubenet\n"
            f"addressType: {address_type}\nports:\n{ps}endpoints:\n{eps or '  []'}\n")


def endpoints(entry):
    return {e["address"]: e for e in entry.get("endpoint", [])}


class AgentTest(unittest.TestCase):
    watch_cache = True

    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(watch_cache=cls.watch_cache).start()
        cls.addClassCleanup(cls.api.stop)
        cls.api.apply(manifest_rbac())
        wait_for(lambda: cls.api.get("/api/v1/nodes", token=cls.api.agent_token)[0] == 200,
                 what="the agent's RBAC")
        cls.seq = 0

    def setUp(self):
        type(self).seq += 1
        self.ns = f"t{self.seq}"
        self.api.create_namespace(self.ns)
        self.tmp = tempfile.mkdtemp(prefix="agent-api-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def store(self, **kw):
        s = ModelStore(**kw).start()
        self.addCleanup(s.stop)
        return s

    def agent(self, store, args=(), kubeconfig=None, start=True):
        a = Agent(kubeconfig or self.api.agent_kubeconfig, store.socket, NODE_NAME,
                  AGENT_ARGS + list(args), log_dir=self.tmp)
        self.addCleanup(a.stop)
        return a.start() if start else a

    def mine(self, store):
        return {k: v for k, v in store.services().items() if k.startswith(self.ns + "/")}

    def wait_entry(self, store, name, cond=lambda e: True, timeout=20):
        key = f"{self.ns}/{name}"
        return wait_for(lambda: (e := store.services().get(key)) is not None and cond(e) and e,
                        timeout, what=f"entry {key}")

    def local_service(self, name, families):
        """An externalTrafficPolicy Local LoadBalancer of those families
        (ipFamilyPolicy lines): its healthCheckNodePort and ipFamilies."""
        self.api.apply(service(self.ns, name, ["{port: 80, targetPort: 8080}"],
                               type_="LoadBalancer", selector=name,
                               extra="  externalTrafficPolicy: Local\n" + families))
        svc = json.loads(self.api.kubectl("get", "svc", "-n", self.ns, name, "-o", "json"))
        return svc["spec"]["healthCheckNodePort"], svc["spec"]["ipFamilies"]

    def ready_pods(self, app, ips, ports=(("web", 8080),), node=NODE_NAME):
        self.api.apply("---\n".join(pod(self.ns, f"{app}-{i}", app, ports, node)
                                    for i in range(len(ips))))
        for i, ip in enumerate(ips):
            self.api.patch_pod_ready(self.ns, f"{app}-{i}", ip)


class Translation(AgentTest):
    def test_cluster_ip_named_target_port_and_conditions(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        self.api.apply(service(self.ns, "web", [
            "{name: http, port: 80, targetPort: web}",
            "{name: metrics, port: 9090, targetPort: 9100}"], selector="web"))
        self.ready_pods("web", ["10.244.1.10", "10.244.1.11"],
                        ports=(("web", 8080), ("m", 9100)))
        e = self.wait_entry(store, "web", lambda e: len(e.get("endpoint", [])) == 2)
        cip = json.loads(self.api.kubectl("get", "svc", "-n", self.ns, "web", "-o", "json"))[
            "spec"]["clusterIP"]
        self.assertEqual(e["cluster-ip"], [cip])
        self.assertEqual(sorted((p["port"], p["protocol"], p["target-port"]) for p in e["port"]),
                         [(80, "tcp", 8080), (9090, "tcp", 9100)])
        for addr in ("10.244.1.10", "10.244.1.11"):
            self.assertEqual(endpoints(e)[addr], {
                "address": addr, "ready": True, "serving": True, "terminating": False,
                "local": True})
        self.assertEqual((e["session-affinity"], e["external-traffic-policy"]),
                         ("none", "cluster"))
        # A pod whose named port is another number gets its own target-port.
        self.api.apply(pod(self.ns, "web-odd", "web", (("web", 8081), ("m", 9100))))
        self.api.patch_pod_ready(self.ns, "web-odd", "10.244.1.12")
        e = self.wait_entry(store, "web", lambda e: "10.244.1.12" in endpoints(e))
        self.assertEqual(endpoints(e)["10.244.1.12"]["target-port"],
                         [{"port": 80, "protocol": "tcp", "number": 8081}])
        self.assertEqual([p["target-port"] for p in e["port"] if p["port"] == 80], [8080])

        # Deleted, not yet gone (no kubelet): terminating, still serving.
        self.api.kubectl("delete", "pod", "-n", self.ns, "web-0", "--wait=false")
        e = self.wait_entry(store, "web",
                            lambda e: endpoints(e).get("10.244.1.10", {}).get("terminating"))
        self.assertEqual(endpoints(e)["10.244.1.10"],
                         {"address": "10.244.1.10", "ready": False, "serving": True,
                          "terminating": True, "local": True})
        self.api.kubectl("delete", "pod", "-n", self.ns, "web-0", "--grace-period=0", "--force")
        e = self.wait_entry(store, "web", lambda e: "10.244.1.10" not in endpoints(e))
        self.assertEqual(set(endpoints(e)), {"10.244.1.11", "10.244.1.12"})
        # The Service deleted: its entry too.
        self.api.kubectl("delete", "svc", "-n", self.ns, "web")
        wait_for(lambda: f"{self.ns}/web" not in store.services(), what="entry removed")

    def test_node_port_load_balancer_external_ips_affinity_local_policy(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        self.api.apply(service(self.ns, "dns", [
            "{name: dns, port: 53, protocol: UDP, targetPort: 5353}"], type_="NodePort"))
        self.api.apply(service(self.ns, "lb", [
            "{name: https, port: 443, targetPort: 8443}",
            "{name: http, port: 80, targetPort: 8080}"],
            type_="LoadBalancer", selector="lb", extra=(
                "  externalTrafficPolicy: Local\n  sessionAffinity: ClientIP\n"
                "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n"
                "  externalIPs: [198.51.100.7]\n")))
        self.api.patch_status(f"/api/v1/namespaces/{self.ns}/services/lb", {"status": {
            "loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example"}]}}})
        # One endpoint on this node, one on another.
        self.api.apply("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-2\n")
        self.ready_pods("lb", ["10.244.1.20"], ports=(("s", 8443), ("h", 8080)))
        self.api.apply(pod(self.ns, "lb-far", "lb", (("s", 8443), ("h", 8080)), node="node-2"))
        self.api.patch_pod_ready(self.ns, "lb-far", "10.244.2.20")
        e = self.wait_entry(store, "lb", lambda e: len(e.get("endpoint", [])) == 2
                            and e.get("load-balancer-ip"))
        svc = json.loads(self.api.kubectl("get", "svc", "-n", self.ns, "lb", "-o", "json"))
        ports = {p["name"]: p["nodePort"] for p in svc["spec"]["ports"]}
        self.assertEqual(sorted((p["port"], p["protocol"], p["target-port"], p["node-port"])
                                for p in e["port"]),
                         [(80, "tcp", 8080, ports["http"]), (443, "tcp", 8443, ports["https"])])
        dns = self.wait_entry(store, "dns")
        udp = json.loads(self.api.kubectl("get", "svc", "-n", self.ns, "dns", "-o", "json"))
        self.assertEqual(dns["port"], [{"port": 53, "protocol": "udp", "target-port": 5353,
                                        "node-port": udp["spec"]["ports"][0]["nodePort"]}])
        self.assertEqual(e["external-ip"], ["198.51.100.7"])
        self.assertEqual(e["load-balancer-ip"], ["203.0.113.9"])
        self.assertEqual((e["session-affinity"], e["session-affinity-timeout"]),
                         ("client-ip", 60))
        self.assertEqual(e["external-traffic-policy"], "local")
        hc = svc["spec"]["healthCheckNodePort"]
        self.assertEqual(e["health-check-node-port"], hc)
        self.assertEqual({a: x["local"] for a, x in endpoints(e).items()},
                         {"10.244.1.20": True, "10.244.2.20": False})

        # The health check node port, served by the agent on the node's
        # address (the fixture's node is 127.0.0.1), as kube-proxy does.
        status, headers, body = wait_for(lambda: health_or_none(hc), what="health check port")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertEqual(body, '{\n\t"service": {\n\t\t"namespace": "%s",\n\t\t"name": "lb"\n'
                         '\t},\n\t"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n}'
                         % self.ns)
        self.assertEqual(json.loads(body)["localEndpoints"], 1)
        # The local endpoint gone: 503.
        self.api.kubectl("delete", "pod", "-n", self.ns, "lb-0", "--grace-period=0", "--force")
        wait_for(lambda: (health_or_none(hc) or [0])[0] == 503, what="503 without local endpoints")
        status, _, body = health_or_none(hc)
        self.assertEqual(json.loads(body)["localEndpoints"], 0)
        # The node settings: InternalIP's netdev as uplink, the ranges.
        node = store.node()
        self.assertEqual(node["uplink"], "lo")
        self.assertEqual(node["address"], "127.0.0.1")
        self.assertEqual(sorted(node["masquerade"]["cluster-cidr"]),
                         ["10.244.0.0/16", "10.96.0.0/16"])
        self.assertEqual(node["node-port-range"], {"min": 30000, "max": 32767})
        # Policy back to Cluster: no health check port any more.
        self.api.kubectl("patch", "svc", "-n", self.ns, "lb", "-p",
                         '{"spec": {"externalTrafficPolicy": "Cluster"}}')
        self.wait_entry(store, "lb", lambda e: e["external-traffic-policy"] == "cluster"
                        and "health-check-node-port" not in e)
        wait_for(lambda: health_or_none(hc) is None, what="health check port closed")

    def test_what_is_not_written(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        self.api.apply("---\n".join([
            service(self.ns, "headless", ["{port: 80}"], selector="x",
                    extra="  clusterIP: None\n"),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: ext\n  namespace: %s\n"
            "spec:\n  type: ExternalName\n  externalName: example.org\n" % self.ns,
            service(self.ns, "mixed", ["{name: a, port: 80, protocol: TCP}",
                                       "{name: s, port: 9, protocol: SCTP}"]),
            service(self.ns, "pnra", ["{port: 80}"], selector="pnra",
                    extra="  publishNotReadyAddresses: true\n"),
            service(self.ns, "guarded", ["{port: 80}"], type_="LoadBalancer",
                    extra="  loadBalancerSourceRanges: [192.0.2.0/24]\n")]))
        self.api.patch_status(f"/api/v1/namespaces/{self.ns}/services/guarded", {"status": {
            "loadBalancer": {"ingress": [{"ip": "203.0.113.50"}]}}})
        self.api.apply(pod(self.ns, "pnra-0", "pnra"))
        self.api.patch_pod_ready(self.ns, "pnra-0", "10.244.1.30", ready=False)
        e = self.wait_entry(store, "pnra", lambda e: endpoints(e))
        self.assertTrue(endpoints(e)["10.244.1.30"]["ready"], e)
        mixed = self.wait_entry(store, "mixed")
        self.assertEqual([(p["port"], p["protocol"]) for p in mixed["port"]], [(80, "tcp")])
        guarded = self.wait_entry(store, "guarded")
        self.assertNotIn("load-balancer-ip", guarded)
        wait_for(lambda: f"problem: service {self.ns}/mixed" in agent.log()
                 or f"service {self.ns}/mixed: port s 9/SCTP" in agent.log(), what="SCTP log")
        self.assertIn(f"service {self.ns}/mixed: port s 9/SCTP: SCTP is not supported",
                      agent.log())
        self.assertIn(f"service {self.ns}/guarded: loadBalancerSourceRanges cannot be enforced",
                      agent.log())
        m = agent.metrics()
        self.assertGreaterEqual(m[("cubenet_agent_untranslatable_total", '{reason="sctp"}')], 1)
        self.assertGreaterEqual(m[("cubenet_agent_untranslatable_services", '{reason="sctp"}')],
                                1)
        self.assertGreaterEqual(m[("cubenet_agent_untranslatable_services",
                                   '{reason="load-balancer-source-ranges"}')], 1)
        mine = self.mine(store)
        self.assertNotIn(f"{self.ns}/headless", mine)
        self.assertNotIn(f"{self.ns}/ext", mine)


def health_or_none(port, host="127.0.0.1"):
    try:
        return http_get(host, port, "/anything")
    except OSError:
        return None


# The node's addresses in the fixture: its InternalIP and, in the other
# family, loopback's.
FAMILIES = ("127.0.0.1", "::1")
DUAL_STACK = "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n"
IPV6_ONLY = "  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv6]\n"


def kube_proxy_body(ns, name, local, healthy=True):
    return ('{\n\t"service": {\n\t\t"namespace": "%s",\n\t\t"name": "%s"\n\t},'
            '\n\t"localEndpoints": %d,\n\t"serviceProxyHealthy": %s\n}'
            % (ns, name, local, "true" if healthy else "false"))


def closed_by_server(sock, timeout):
    """True when the server ends the connection within timeout."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class HealthChecks(AgentTest):
    """The health check node ports over IPv4 and IPv6 alike: load balancers
    of either family probe the node's addresses."""

    def answers(self, port, status, body, hosts=FAMILIES):
        for host in hosts:
            got = wait_for(lambda: (r := health_or_none(port, host)) and r[0] == status and r,
                           what=f"{status} on [{host}]:{port}")
            self.assertEqual(got[1]["content-type"], "application/json")
            self.assertEqual(got[1]["x-content-type-options"], "nosniff")
            self.assertEqual(got[2], body, host)

    def test_both_families_follow_local_endpoints_and_close_with_the_service(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        hc, families = self.local_service("dual", DUAL_STACK)
        self.assertEqual(families, ["IPv4", "IPv6"])
        self.ready_pods("dual", [["10.244.1.40", "fd00:10:244:1::40"]])
        e = self.wait_entry(store, "dual", lambda e: endpoints(e))
        self.assertEqual(e["health-check-node-port"], hc)
        self.answers(hc, 200, kube_proxy_body(self.ns, "dual", 1))
        # The local endpoint goes: 503 in both families; it comes back: 200.
        self.api.kubectl("delete", "pod", "-n", self.ns, "dual-0", "--grace-period=0",
                         "--force")
        self.answers(hc, 503, kube_proxy_body(self.ns, "dual", 0))
        self.ready_pods("dual", [["10.244.1.41", "fd00:10:244:1::41"]])
        self.answers(hc, 200, kube_proxy_body(self.ns, "dual", 1))
        # The service goes: the port is closed in both families.
        self.api.kubectl("delete", "svc", "-n", self.ns, "dual")
        for host in FAMILIES:
            wait_for(lambda: health_or_none(hc, host) is None, what=f"[{host}]:{hc} closed")
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection((host, hc), timeout=3).close()
        self.assertNotIn("cannot serve its health check", agent.log())

    def test_ipv6_only_service(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        hc, families = self.local_service("six", IPV6_ONLY)
        self.assertEqual(families, ["IPv6"])
        self.ready_pods("six", ["fd00:10:244:1::60"])
        self.wait_entry(store, "six", lambda e: endpoints(e))
        self.answers(hc, 200, kube_proxy_body(self.ns, "six", 1))
        self.api.kubectl("patch", "svc", "-n", self.ns, "six", "-p",
                         '{"spec": {"externalTrafficPolicy": "Cluster"}}')
        for host in FAMILIES:
            wait_for(lambda: health_or_none(hc, host) is None, what=f"[{host}]:{hc} closed")

    def test_limits_hold_in_both_families(self):
        """A client may hold 32 connections, no more; one that stalls is cut
        after 10 s; a request line past libmicrohttpd's buffer is refused:
        over IPv6 as over IPv4."""
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        hc, _ = self.local_service("guard", DUAL_STACK)
        self.ready_pods("guard", [["10.244.1.50", "fd00:10:244:1::50"]])
        body = kube_proxy_body(self.ns, "guard", 1)
        self.answers(hc, 200, body)
        for host, other in (FAMILIES, FAMILIES[::-1]):
            held = [socket.create_connection((host, hc), timeout=3) for _ in range(32)]
            try:
                # Refused: closed at once (one within the limit waits 10 s).
                extra = socket.create_connection((host, hc), timeout=3)
                self.assertTrue(closed_by_server(extra, 3), f"a 33rd connection on {host}")
                extra.close()
                # The other address is not this client.
                self.assertEqual(health_or_none(hc, other)[2], body)
            finally:
                for c in held:
                    c.close()
            self.answers(hc, 200, body, hosts=(host,))
            # A request line of 64 KiB.
            status, _, _ = http_get(host, hc, "/" + "a" * 65536)
            self.assertEqual(status, 414, host)
        # Stalled mid request line, in both families at once.
        stalled = [socket.create_connection((host, hc), timeout=3) for host in FAMILIES]
        started = time.monotonic()
        for c in stalled:
            c.sendall(b"GET /slow HT")
        for host, c in zip(FAMILIES, stalled):
            self.assertTrue(closed_by_server(c, 20), f"a stalled client on {host}")
            c.close()
        self.assertGreaterEqual(time.monotonic() - started, 9)
        self.answers(hc, 200, body)
        self.assertIsNone(agent.proc.poll())


class ClientsOfOneNetwork(AgentTest):
    def test_an_ipv6_64_is_one_client(self):
        """A host with a /64 of its own holds no more connections than one
        with an IPv4 address: 32 from two addresses of one /64, the next
        from either closed at once; another /64 still answered."""
        import subprocess
        import uuid
        node = "hc6" + uuid.uuid4().hex[:8]
        subprocess.run(["ip", "netns", "add", node], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", node])
        subprocess.run(["ip", "-n", node, "link", "set", "lo", "up"], check=True)
        here, near, other = "fd00:5ee:1::1", "fd00:5ee:1::2", "fd00:5ee:2::1"
        for a in (here, near, other):
            subprocess.run(["ip", "-n", node, "addr", "add", f"{a}/64", "dev", "lo", "nodad"],
                           check=True)
        fwd = NetnsForwarder(node, self.api.port)
        self.addCleanup(fwd.stop)
        store = self.store()
        agent = Agent(self.api.agent_kubeconfig, store.socket, NODE_NAME, AGENT_ARGS,
                      netns=node, log_dir=self.tmp)
        self.addCleanup(agent.stop)
        agent.start().wait_ready()
        hc, _ = self.local_service("net", DUAL_STACK)
        self.ready_pods("net", [["10.244.1.80", "fd00:10:244:1::80"]])
        body = kube_proxy_body(self.ns, "net", 1)

        def probe(source):
            c = connect_in_netns(node, other, hc, timeout=3, source=source)
            try:
                c.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := c.recv(4096):
                    data += chunk
                return data.decode()
            except (ConnectionResetError, socket.timeout):
                return None
            finally:
                c.close()
        wait_for(lambda: (probe(here) or "").endswith(body), what="the health check in the netns")
        held = [connect_in_netns(node, other, hc, timeout=3, source=src)
                for src in [here] * 16 + [near] * 16]
        try:
            for src in (here, near):
                extra = connect_in_netns(node, other, hc, timeout=3, source=src)
                self.assertTrue(closed_by_server(extra, 3), f"a 33rd connection from {src}")
                extra.close()
            answer = probe(other)
            self.assertTrue(answer.startswith("HTTP/1.1 200 OK\r\n"), answer)
            self.assertTrue(answer.endswith(body), answer)
        finally:
            for c in held:
                c.close()
        wait_for(lambda: (probe(near) or "").endswith(body), what="the /64 answered again")
        self.assertIsNone(agent.proc.poll())


class WithoutIPv6(AgentTest):
    def test_a_kernel_without_ipv6_still_serves_ipv4(self):
        """socket(AF_INET6) fails as under ipv6.disable=1: IPv4 answers, the
        agent says so once."""
        build = os.environ.get("CUBENET_BUILD", os.path.join(ROOT, "build"))
        shim = os.path.join(build, "no_ipv6.so")
        self.assertTrue(os.path.exists(shim), shim)
        store = self.store()
        a = Agent(self.api.agent_kubeconfig, store.socket, NODE_NAME, AGENT_ARGS,
                  log_dir=self.tmp, env={"LD_PRELOAD": shim,
                                         "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")
                                         + ":verify_asan_link_order=0"})
        self.addCleanup(a.stop)
        a.start().wait_ready()
        ports = {}
        for name in ("v4a", "v4b"):
            self.api.apply(service(self.ns, name, ["{port: 80, targetPort: 8080}"],
                                   type_="LoadBalancer", selector=name,
                                   extra="  externalTrafficPolicy: Local\n"))
            ports[name] = json.loads(self.api.kubectl(
                "get", "svc", "-n", self.ns, name, "-o", "json"))["spec"]["healthCheckNodePort"]
            self.ready_pods(name, ["10.244.1.70" if name == "v4a" else "10.244.1.71"])
        for name, hc in ports.items():
            got = wait_for(lambda: (r := health_or_none(hc)) and r[0] == 200 and r,
                           what=f"{name}'s health check over IPv4")
            self.assertEqual(got[2], kube_proxy_body(self.ns, name, 1))
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("::1", hc), timeout=3).close()
        log = a.log()
        self.assertEqual(log.count("IPv6 is off on this node"), 1, log)
        self.assertIn("IPv6 is off on this node (Address family not supported by protocol): "
                      "health checks answer over IPv4 only", log)
        self.assertNotIn("cannot serve its health check", log)
        self.assertIsNone(a.proc.poll())


def http_get(host, port, path):
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=3)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        c.close()


class Batching(AgentTest):
    def test_burst_is_one_transaction_and_one_change_one_entry(self):
        store = self.store()
        agent = self.agent(store, ["--coalesce", "200"])
        agent.wait_ready()
        before = len(store.writes())
        docs = []
        for i in range(30):
            docs.append(service(self.ns, f"s{i}", ["{port: 80, targetPort: 8080}"]))
            docs.append(slice_(self.ns, f"s{i}-1", f"s{i}",
                               [(f"10.244.3.{i}", True, NODE_NAME)], ports=(("", 8080),)))
        started = time.monotonic()
        self.api.apply("---\n".join(docs))
        applying = time.monotonic() - started
        wait_for(lambda: len(self.mine(store)) == 30
                 and all(endpoints(e) for e in self.mine(store).values()), what="30 entries")
        writes = store.writes()[before:]
        # kubectl creates them one by one (in about a second): one batch per
        # 200 ms window of that time and the last, each one merge of
        # complete entries (never one per object).
        self.assertLessEqual(len(writes), min(int(applying / 0.2) + 3, 29),
                             (applying, [w["path"] for w in writes]))
        self.assertTrue(all(w["method"] == "PATCH" and w["path"] == "/restconf/data"
                            for w in writes), writes)
        self.assertEqual(sum(len(w["body"]["cubenet-pods:services"]["service"])
                             for w in writes if "cubenet-pods:services" in w["body"]) >= 30,
                         True)
        # One endpoint added: one write, with that one entry.
        n = len(store.writes())
        self.api.apply(slice_(self.ns, "s7-1", "s7", [("10.244.3.7", True, NODE_NAME),
                                                      ("10.244.3.107", True, NODE_NAME)],
                              ports=(("", 8080),)))
        self.wait_entry(store, "s7", lambda e: len(endpoints(e)) == 2)
        time.sleep(0.5)
        writes = store.writes()[n:]
        self.assertEqual(len(writes), 1, writes)
        self.assertEqual([s["name"] for s in writes[0]["body"]["cubenet-pods:services"]["service"]],
                         ["s7"])
        # One endpoint removed: merge cannot remove, so one PUT of that entry.
        n = len(store.writes())
        self.api.apply(slice_(self.ns, "s7-1", "s7", [("10.244.3.107", True, NODE_NAME)],
                              ports=(("", 8080),)))
        self.wait_entry(store, "s7", lambda e: list(endpoints(e)) == ["10.244.3.107"])
        time.sleep(0.5)
        writes = store.writes()[n:]
        self.assertEqual([(w["method"], w["path"]) for w in writes],
                         [("PUT", f"/restconf/data/cubenet-pods:services/service={self.ns},s7")])
        # A deletion: one DELETE of the entry.
        n = len(store.writes())
        self.api.kubectl("delete", "svc", "-n", self.ns, "s8")
        wait_for(lambda: f"{self.ns}/s8" not in store.services(), what="s8 removed")
        time.sleep(0.5)
        self.assertEqual([(w["method"], w["path"]) for w in store.writes()[n:]],
                         [("DELETE", f"/restconf/data/cubenet-pods:services/service={self.ns},s8")])

    def test_yang_patch_one_transaction_for_mixed_changes(self):
        store = self.store(yang_patch=True)
        # A window that holds both kubectl calls below on a loaded machine.
        agent = self.agent(store, ["--coalesce", "2000"])
        agent.wait_ready()
        docs = [service(self.ns, f"y{i}", ["{port: 80}"]) for i in range(3)]
        docs += [slice_(self.ns, f"y{i}-1", f"y{i}", [(f"10.244.4.{i}", True, NODE_NAME),
                                                       (f"10.244.4.{i + 100}", True, NODE_NAME)])
                 for i in range(3)]
        self.api.apply("---\n".join(docs))
        wait_for(lambda: len(self.mine(store)) == 3
                 and all(len(endpoints(e)) == 2 for e in self.mine(store).values()),
                 what="3 entries")
        n = len(store.writes())
        # A removal, an endpoint lost and a new service at once.
        self.api.apply("---\n".join([
            slice_(self.ns, "y1-1", "y1", [("10.244.4.1", True, NODE_NAME)]),
            service(self.ns, "y3", ["{port: 81}"])]))
        self.api.kubectl("delete", "svc", "-n", self.ns, "y0")
        wait_for(lambda: set(self.mine(store)) == {f"{self.ns}/y1", f"{self.ns}/y2",
                                                    f"{self.ns}/y3"}
                 and len(endpoints(self.mine(store)[f"{self.ns}/y1"])) == 1, what="mixed batch")
        writes = store.writes()[n:]
        self.assertTrue(all(w["type"] == "application/yang-patch+json" for w in writes), writes)
        ops = sorted((e["operation"], e["target"].rsplit("=", 1)[-1])
                     for w in writes for e in w["body"]["ietf-yang-patch:yang-patch"]["edit"])
        self.assertEqual(ops, [("remove", f"{self.ns},y0"), ("replace", f"{self.ns},y1"),
                               ("replace", f"{self.ns},y3")])
        self.assertLessEqual(len(writes), 2)  # one when kubectl's two calls fall in one window

    def test_plain_fallback_when_cubenetd_takes_no_yang_patch(self):
        store = self.store(yang_patch=False)
        agent = self.agent(store, ["--write-mode", "auto"])
        agent.wait_ready()
        self.api.apply(service(self.ns, "p", ["{port: 80}"]))
        self.wait_entry(store, "p")
        self.assertIn("does not take YANG Patch", agent.log())


class PeerWrites(AgentTest):
    def peers(self, store):
        return {p["name"]: p for p in
                (store.config.get([]).get("cubenet-pods:peers") or {}).get("peer", [])}

    def test_a_node_is_one_edit_of_its_peer(self):
        """Another Node becomes a peer in an edit of its own entry; its
        deletion one remove; nothing else is re-sent."""
        store = self.store(yang_patch=True)
        agent = self.agent(store)
        agent.wait_ready()
        # The node's settings are in (a peer needs them), not waiting for
        # a retry that a node change would bring.
        self.assertEqual(store.node()["address"], "127.0.0.1")
        name = f"peer-{self.ns}"
        target = f"/cubenet-pods:peers/peer={name}"
        self.addCleanup(self.api.kubectl, "delete", "node", name, "--ignore-not-found",
                        check=False)
        n = len(store.writes())
        self.api.apply(f"apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n"
                       f"spec:\n  podCIDR: 10.244.77.0/24\n")
        self.api.patch_status(f"/api/v1/nodes/{name}", {"status": {"addresses": [
            {"type": "InternalIP", "address": "192.0.2.77"}]}})
        wait_for(lambda: self.peers(store).get(name, {}).get("address") == "192.0.2.77",
                 what="the peer written")
        self.assertEqual(self.peers(store)[name]["pod-cidr"], ["10.244.77.0/24"])
        time.sleep(0.5)
        edits = [(e["operation"], e["target"]) for w in store.writes()[n:]
                 for e in w["body"]["ietf-yang-patch:yang-patch"]["edit"]]
        self.assertEqual(edits, [("replace", target)], [w["body"] for w in store.writes()[n:]])
        n = len(store.writes())
        self.api.kubectl("delete", "node", name)
        wait_for(lambda: name not in self.peers(store), what="the peer removed")
        time.sleep(0.5)
        edits = [(e["operation"], e["target"]) for w in store.writes()[n:]
                 for e in w["body"]["ietf-yang-patch:yang-patch"]["edit"]]
        self.assertEqual(edits, [("remove", target)])


class Faults(AgentTest):
    def test_agent_killed_while_services_change(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        self.api.apply("---\n".join([
            service(self.ns, "keep", ["{port: 80}"]),
            service(self.ns, "gone", ["{port: 80}"]),
            service(self.ns, "shrink", ["{port: 80}"]),
            slice_(self.ns, "shrink-1", "shrink", [("10.244.5.1", True, NODE_NAME),
                                                    ("10.244.5.2", True, NODE_NAME)])]))
        wait_for(lambda: len(self.mine(store)) == 3
                 and len(endpoints(self.mine(store)[f"{self.ns}/shrink"])) == 2,
                 what="three entries")
        agent.kill()
        self.api.kubectl("delete", "svc", "-n", self.ns, "gone")
        self.api.apply("---\n".join([
            service(self.ns, "new", ["{port: 81}"]),
            slice_(self.ns, "shrink-1", "shrink", [("10.244.5.2", True, NODE_NAME)])]))
        self.assertIn(f"{self.ns}/gone", store.services())  # nobody told it yet
        agent = self.agent(store)
        agent.wait_ready()
        mine = self.mine(store)
        self.assertEqual(set(mine), {f"{self.ns}/keep", f"{self.ns}/shrink", f"{self.ns}/new"})
        self.assertEqual(list(endpoints(mine[f"{self.ns}/shrink"])), ["10.244.5.2"])

    def test_api_server_restart_resumes(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        self.api.apply(service(self.ns, "before", ["{port: 80}"]))
        self.wait_entry(store, "before")
        self.api.restart_apiserver()
        self.api.apply(service(self.ns, "after", ["{port: 80}"]))
        self.wait_entry(store, "after", timeout=30)
        self.api.kubectl("delete", "svc", "-n", self.ns, "before")
        wait_for(lambda: f"{self.ns}/before" not in store.services(), what="removal after restart")
        m = agent.metrics()
        self.assertGreaterEqual(sum(v for (k, l), v in m.items()
                                    if k == "cubenet_agent_api_errors_total"
                                    and 'reason="connect"' in l), 1)

    def test_api_server_unreachable_at_start(self):
        store = self.store()
        # What a previous agent wrote: it must survive an agent that cannot
        # reach the API server.
        previous = {"namespace": self.ns, "name": "old", "cluster-ip": ["10.96.9.9"],
                    "port": [{"port": 80, "protocol": "tcp", "target-port": 80}]}
        store.config.apply([("merge", [], {"cubenet-pods:services": {"service": [previous]}})])
        port = free_port()
        with open(self.api.agent_kubeconfig) as f:
            config = json.load(f)
        config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
        path = os.path.join(self.tmp, "elsewhere.kubeconfig")
        with open(path, "w") as f:
            json.dump(config, f)
        agent = self.agent(store, kubeconfig=path)
        time.sleep(4)
        status, body = agent.status("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("waiting for the API server", body)
        self.assertEqual(store.writes(), [])
        self.assertIn(f"{self.ns}/old", store.services())
        self.assertEqual(agent.status("/healthz")[0], 200)
        # The API server appears there: the agent syncs, and only then
        # removes what the API does not have.
        fwd = Forwarder(port, self.api.port)
        self.addCleanup(fwd.stop)
        agent.wait_ready(40)
        self.assertNotIn(f"{self.ns}/old", store.services())

    def test_cubenetd_of_another_model(self):
        store = self.store(revision="2026-11-23")
        agent = self.agent(store)
        wait_for(lambda: "needs an upgrade" in agent.log(), what="the model mismatch logged")
        status, body = agent.status("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("revision 2026-11-23", body)
        self.assertEqual(store.writes(), [])

    def test_refused_entry_is_left_out_the_rest_written(self):
        store = self.store()
        store.refuse = {"r3"}
        agent = self.agent(store, ["--coalesce", "500"])
        agent.wait_ready()
        self.api.apply("---\n".join(service(self.ns, f"r{i}", ["{port: 80}"]) for i in range(8)))
        wait_for(lambda: len(self.mine(store)) == 7, what="seven entries")
        wait_for(lambda: f"service {self.ns}/r3: cubenetd refused it: told to refuse r3"
                 in agent.log(), what="the refusal logged")
        self.assertNotIn(f"{self.ns}/r3", store.services())
        self.assertGreaterEqual(agent.metric("cubenet_agent_untranslatable_total",
                                             '{reason="refused"}'), 1)
        # Not sent again as it is; sent again once it changes.
        n = len(store.writes())
        self.api.apply(service(self.ns, "r4", ["{port: 80}", "{name: b, port: 81}"])
                       .replace("    - {port: 80}", "    - {name: a, port: 80}"))
        self.wait_entry(store, "r4", lambda e: len(e["port"]) == 2)
        time.sleep(0.7)
        self.assertFalse(any("r3" in json.dumps(w["body"]) for w in store.writes()[n:]))
        store.refuse = set()
        self.api.kubectl("label", "svc", "-n", self.ns, "r3", "touched=yes")
        self.api.kubectl("patch", "svc", "-n", self.ns, "r3", "-p",
                         '{"spec": {"sessionAffinity": "ClientIP"}}')
        self.wait_entry(store, "r3", lambda e: e["session-affinity"] == "client-ip")


class StaleWatch(AgentTest):
    watch_cache = False

    def test_forced_410_relists_to_the_same_end_state(self):
        store = self.store()
        agent = self.agent(store)
        agent.wait_ready()
        self.api.apply("---\n".join([service(self.ns, "a", ["{port: 80}"]),
                                     service(self.ns, "b", ["{port: 80}"])]))
        wait_for(lambda: len(self.mine(store)) == 2, what="two entries")
        lists = agent.metric("cubenet_agent_lists_total", '{kind="Service"}')
        agent.proc.send_signal(signal.SIGSTOP)
        try:
            self.api.restart_apiserver()
            self.api.kubectl("delete", "svc", "-n", self.ns, "a")
            self.api.apply(service(self.ns, "c", ["{port: 80}"]))
            self.api.compact_etcd()
        finally:
            agent.proc.send_signal(signal.SIGCONT)
        wait_for(lambda: set(self.mine(store)) == {f"{self.ns}/b", f"{self.ns}/c"},
                 timeout=30, what="end state after relist")
        self.assertGreater(agent.metric("cubenet_agent_lists_total", '{kind="Service"}'), lists)
        self.assertGreaterEqual(agent.metric("cubenet_agent_api_errors_total",
                                             '{kind="Service",reason="expired"}'), 1)
        self.assertIn("expired; listing again", agent.log())


class Credentials(AgentTest):
    def test_client_certificate(self):
        store = self.store()
        agent = self.agent(store, kubeconfig=self.api.agent_cert_kubeconfig)
        agent.wait_ready()
        self.api.apply(service(self.ns, "cert", ["{port: 80}"]))
        self.wait_entry(store, "cert")

    def test_in_cluster(self):
        store = self.store()
        sa = os.path.join(self.tmp, "serviceaccount")
        os.makedirs(sa)
        shutil.copy(self.api.ca_file, os.path.join(sa, "ca.crt"))
        with open(os.path.join(sa, "token"), "w") as f:
            f.write(self.api.agent_token + "\n")
        env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
                   KUBERNETES_SERVICE_PORT=str(self.api.port))
        a = Agent("", store.socket, NODE_NAME, AGENT_ARGS, log_dir=self.tmp)
        a.kubeconfig = None
        self.addCleanup(a.stop)
        import subprocess
        from agent_fixture import AGENT
        log = open(a.log_path, "ab")
        a.proc = subprocess.Popen([AGENT, "--serviceaccount-dir", sa, "--node-name", NODE_NAME,
                                   "--socket", store.socket,
                                   "--status-address", f"127.0.0.1:{a.status_port}",
                                   *AGENT_ARGS], env=env, stdout=log, stderr=log)
        log.close()
        a.wait_ready()
        self.api.apply(service(self.ns, "incluster", ["{port: 80}"]))
        self.wait_entry(store, "incluster")
        # A wrong token: 401, retried, never ready.
        with open(os.path.join(sa, "token"), "w") as f:
            f.write("not-the-token\n")
        b = Agent("", store.socket, NODE_NAME, AGENT_ARGS, log_dir=os.path.join(self.tmp))
        b.log_path = os.path.join(self.tmp, "b.log")
        self.addCleanup(b.stop)
        log = open(b.log_path, "ab")
        b.proc = subprocess.Popen([AGENT, "--serviceaccount-dir", sa, "--node-name", NODE_NAME,
                                   "--socket", store.socket,
                                   "--status-address", f"127.0.0.1:{b.status_port}",
                                   *AGENT_ARGS], env=env, stdout=log, stderr=log)
        log.close()
        wait_for(lambda: "HTTP 401" in b.log() or "not HTTP 200" in b.log(), what="401 logged")
        self.assertEqual(b.status("/readyz", check=False)[0], 503)


class Forwarder(Relay):
    """127.0.0.1:listen relayed to 127.0.0.1:target, byte for byte."""

    def __init__(self, listen, target):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", listen))
        sock.listen(64)
        super().__init__(sock, target)


if __name__ == "__main__":
    unittest.main(verbosity=2)
