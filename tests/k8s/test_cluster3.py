# SPDX-License-Identifier: Apache-2.0
"""The 3-node cluster, run as Kubernetes runs it, dual-stack: three node
namespaces on an emulated L2 underlay (a bridge in a namespace of its own,
IPv4 and IPv6), each running its own cubenetd and its own cubenet-agent,
all against ONE real kube-apiserver (dual-stack service range, with etcd
and the controller manager's EndpointSlice controllers) holding three
Node objects with podCIDRs and InternalIPs of both families. Pods on every
node are made by the CNI plugin (an address of each family), run real TCP
and UDP servers, and have Pod objects whose status is patched Ready with
both addresses the plugin gave; a dual-stack Service is applied with
kubectl and its EndpointSlices (one a family) made by the controller
manager. Nothing is written to any cubenetd by hand: peers, node settings
and services all come from the agents. In both modes (the agents'
--tunnel vxlan and native), checked with real TCP and UDP, each family:
pod to pod across every pair of nodes (and on one node); what crosses the
underlay (VXLAN between the nodes' IPv4 addresses with both families
inside, or bare pod addresses natively); a ClusterIP of each family whose
only endpoint is on another node; a NodePort on node 1's IPv4 and IPv6
addresses reaching a pod on node 3 from a host on the underlay; a Local
LoadBalancer's health check node port probed from there at every node's
IPv4 and IPv6 address (200 where its pod is, 503 elsewhere); pod
traffic to that host masqueraded to its node's address of the family;
node-3's Node deleted from the API: its routes of both families go on the
other nodes and connections to its pods fail at once (network
unreachable), then its Node back: reachable again; node 2's cubenetd
SIGKILLed (the pinned datapath carries on), a Service made meanwhile,
then restarted: its agent writes what it missed; a fourth node joining
(its namespace, cubenetd and agent, then its Node): its NodePort serves a
pod on node 3 before it has a pod of its own, and once it has one every
pair reaches every other. Needs root; exits 77 without it."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../cni"))
sys.path.insert(0, os.path.join(HERE, "../daemon"))
from agent_fixture import Agent, wait_for  # noqa: E402
from apiserver import NODE_NAME, SERVICE_CIDRS, ApiServer  # noqa: E402
from netns_forward import NetnsForwarder  # noqa: E402
from restconf_client import BUILD, Daemon  # noqa: E402
from test_agent_api import manifest_rbac, service  # noqa: E402
import test_multinode as mn  # noqa: E402

PLUGIN = os.path.join(BUILD, "cni/cubenet")
CNI_PATH = "/usr/lib/cni"
UNDERLAY, UNDERLAY6 = mn.UNDERLAY, mn.UNDERLAY6  # node i: .i, ::i; the outside host: 100
OUTSIDE, OUTSIDE6 = UNDERLAY % 100, UNDERLAY6 % 100
CLUSTER_CIDRS = f"{mn.CLUSTER_CIDR},{mn.CLUSTER_CIDR6}"
POD_CIDR, POD_CIDR6 = mn.POD_CIDR, mn.POD_CIDR6  # node i's
DUAL_STACK = "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n"
VNI, VXLAN_PORT = 4242, 8472
PORT, NODE_PORT = 7000, 30080
# The API server's own Node (its fixture makes it) is node 1.
NODE_NAMES = {1: NODE_NAME}


sh = mn.sh


def node_name(i):
    return NODE_NAMES.get(i, f"node-{i}")


def node_object(i):
    """Node i as the control plane and its kubelet make it: podCIDRs of
    both families in the spec, an InternalIP of each in the status (a
    kubelet registers with them)."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node_name(i),
                         "labels": {"kubernetes.io/hostname": node_name(i)}},
            "spec": {"podCIDR": POD_CIDR % i, "podCIDRs": [POD_CIDR % i, POD_CIDR6 % i]},
            "status": {"addresses": [{"type": "InternalIP", "address": UNDERLAY % i},
                                     {"type": "InternalIP", "address": UNDERLAY6 % i},
                                     {"type": "Hostname", "address": node_name(i)}]}}


class Cluster:
    """The underlay and its nodes (each: a namespace, cubenetd, the agent),
    pods made by the CNI plugin with their Pod objects, against `api`."""

    def __init__(self, api, mode, pods_per_node=2, ns_k8s=None):
        self.api = api
        self.mode = mode
        self.tag = "c3" + uuid.uuid4().hex[:6]
        self.ns_k8s = ns_k8s or self.tag
        self.tmp = tempfile.mkdtemp(prefix="cluster3-")
        self.underlay = self.tag + "-ul"
        self.pods_per_node = pods_per_node
        self.nodes = {}  # i -> netns
        self.daemons, self.agents, self.forwarders = {}, {}, {}
        self.netns = []
        self.procs = []
        self.servers = {}  # pod name -> its server
        self.node_objects = set()
        self.pods = {}  # name -> (node index, netns, IPv4 address, IPv6 address)

    # -- lifecycle ---------------------------------------------------------
    def start(self, nodes=(1, 2, 3)):
        self.api.create_namespace(self.ns_k8s)
        self.add_netns(self.underlay)
        sh("ip", "-n", self.underlay, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.underlay, "addr", "add", OUTSIDE + "/24", "dev", "br0")
        sh("ip", "-n", self.underlay, "addr", "add", OUTSIDE6 + "/64", "dev", "br0", "nodad")
        sh("ip", "-n", self.underlay, "link", "set", "br0", "up")
        for i in nodes:
            self.add_node(i)
        for i in nodes:
            self.create_node_object(i)
        for i in nodes:
            self.agents[i].wait_ready(60)
            for k in range(self.pods_per_node):
                self.add_pod(i, f"p{i}{k}")
        self.wait_peers(nodes)
        return self

    def stop(self):
        try:
            for p in self.procs:
                p.kill()
                p.wait()
                if p.stdout:
                    p.stdout.close()
            for a in self.agents.values():
                a.stop()
            for f in self.forwarders.values():
                f.stop()
            for d in self.daemons.values():
                d.cleanup()
        finally:
            # Whatever failed above, the namespaces go.
            for ns in reversed(self.netns):
                sh("ip", "netns", "del", ns, check=False)
            shutil.rmtree(self.tmp, ignore_errors=True)
        for name in self.node_objects - {NODE_NAME}:
            self.api.kubectl("delete", "node", name, "--ignore-not-found", check=False)
        for kind in ("svc", "pod"):
            self.api.kubectl("delete", kind, "--all", "-n", self.ns_k8s, "--grace-period=0",
                             "--force", check=False)

    def add_netns(self, ns):
        sh("ip", "netns", "add", ns)
        self.netns.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")

    def add_node(self, i):
        """Node i's namespace on the underlay, its cubenetd and its agent
        (which waits for its Node object to learn its address)."""
        node = f"{self.tag}-n{i}"
        self.add_netns(node)
        self.nodes[i] = node
        sh("ip", "link", "add", f"ul{i}", "netns", self.underlay, "type", "veth", "peer",
           "name", "eth0", "netns", node)
        sh("ip", "-n", self.underlay, "link", "set", f"ul{i}", "master", "br0", "up")
        sh("ip", "-n", node, "addr", "add", UNDERLAY % i + "/24", "dev", "eth0")
        sh("ip", "-n", node, "addr", "add", UNDERLAY6 % i + "/64", "dev", "eth0", "nodad")
        sh("ip", "-n", node, "link", "set", "eth0", "up")
        self.daemons[i] = Daemon(netns=node).start()
        self.forwarders[i] = NetnsForwarder(node, self.api.port)
        self.agents[i] = Agent(self.api.agent_kubeconfig, self.daemons[i].socket, node_name(i),
                               ["--cluster-cidr", CLUSTER_CIDRS, "--service-cidr", SERVICE_CIDRS,
                                "--tunnel", self.mode, "--vxlan-vni", str(VNI),
                                "--vxlan-port", str(VXLAN_PORT)],
                               netns=node, log_dir=os.path.join(self.tmp, f"agent{i}"))
        os.mkdir(self.agents[i].dir)
        self.agents[i].start()

    def remove_node(self, i):
        """Node i gone: its Node object, agent, cubenetd, pods, namespaces."""
        if node_name(i) in self.node_objects:
            self.delete_node_object(i)
        self.agents.pop(i).stop()
        self.forwarders.pop(i).stop()
        self.daemons.pop(i).cleanup()
        for name, (n, ns, *_) in list(self.pods.items()):
            if n == i:
                self.api.kubectl("delete", "pod", "-n", self.ns_k8s, name, "--grace-period=0",
                                 "--force", check=False)
                srv = self.servers.pop(name, None)
                if srv:
                    self.procs.remove(srv)
                    srv.kill()
                    srv.wait()
                    srv.stdout.close()
                sh("ip", "netns", "del", ns, check=False)
                self.netns.remove(ns)
                del self.pods[name]
        # Its end of the underlay now: the namespace may outlive the call.
        sh("ip", "-n", self.underlay, "link", "del", f"ul{i}", check=False)
        sh("ip", "netns", "del", self.nodes[i], check=False)
        self.netns.remove(self.nodes.pop(i))
        shutil.rmtree(os.path.join(self.tmp, f"ipam{i}"), ignore_errors=True)
        shutil.rmtree(os.path.join(self.tmp, f"agent{i}"), ignore_errors=True)

    def create_node_object(self, i):
        obj = node_object(i)
        if node_name(i) == NODE_NAME:
            # The fixture's own Node: given this node's spec and addresses.
            status, body = self.api.request(
                "PATCH", f"/api/v1/nodes/{NODE_NAME}", body={"spec": obj["spec"]},
                content_type="application/strategic-merge-patch+json")
            assert status == 200, body
            # A merge patch: a strategic one merges addresses by type, and
            # the two InternalIPs would be one.
            want = obj["status"]["addresses"]
            status, body = self.api.request(
                "PATCH", f"/api/v1/nodes/{NODE_NAME}/status", body={"status": {"addresses": want}},
                content_type="application/merge-patch+json")
            assert status == 200 and json.loads(body)["status"]["addresses"] == want, body
        else:
            # With its status, as a kubelet registers its Node.
            status, body = self.api.request("POST", "/api/v1/nodes", body=obj)
            assert status == 201, body
        self.node_objects.add(node_name(i))

    def delete_node_object(self, i):
        self.api.kubectl("delete", "node", node_name(i))
        self.node_objects.discard(node_name(i))

    def mtu(self):
        return 1450 if self.mode == "vxlan" else 1500

    def conf(self, i):
        return {"cniVersion": "1.1.0", "name": "podnet", "type": "cubenet",
                "socket": self.daemons[i].socket, "mtu": self.mtu(),
                "ipam": {"type": "host-local", "dataDir": os.path.join(self.tmp, f"ipam{i}"),
                         "ranges": [[{"subnet": POD_CIDR % i}], [{"subnet": POD_CIDR6 % i}]],
                         "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}}

    def add_pod(self, i, name, server=True):
        """A pod on node i: its netns made by the CNI plugin as the
        runtime calls it, a TCP and UDP server in it (test_multinode's),
        and its Pod object, Ready at the plugin's two addresses."""
        ns = f"{self.tag}-{name}"
        self.add_netns(ns)
        env = {"PATH": os.environ["PATH"], "CNI_COMMAND": "ADD", "CNI_CONTAINERID": name,
               "CNI_NETNS": f"/run/netns/{ns}", "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH,
               "CNI_ARGS": f"K8S_POD_NAMESPACE={self.ns_k8s};K8S_POD_NAME={name}"}
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.nodes[i]}", PLUGIN],
                           input=json.dumps(self.conf(i)).encode(), capture_output=True,
                           env=env, timeout=60)
        assert r.returncode == 0, r.stdout
        ips = [ip["address"].split("/")[0] for ip in json.loads(r.stdout)["ips"]]
        addr, addr6 = (next(a for a in ips if (":" in a) == v6) for v6 in (False, True))
        if server:
            srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", mn.SERVER,
                                    name, str(PORT)], stdout=subprocess.PIPE, text=True)
            self.procs.append(srv)
            self.servers[name] = srv
            assert srv.stdout.readline().strip() == "ready"
        self.api.apply(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"
                       f"  namespace: {self.ns_k8s}\n  labels:\n    app: {name}\n"
                       f"spec:\n  nodeName: {node_name(i)}\n"
                       f"  automountServiceAccountToken: false\n"
                       f"  containers:\n    - name: c\n      image: img:1\n")
        self.api.patch_pod_ready(self.ns_k8s, name, [addr, addr6])
        self.pods[name] = (i, ns, addr, addr6)
        return addr

    # -- what the nodes hold -----------------------------------------------
    def routes(self, i, family=4):
        """Node i's router, IPv4 or IPv6: {prefix: [port, next hop]}; {}
        without a chain."""
        pin = os.path.join(self.daemons[i].bpffs,
                           f"cubes/tc/router/node:router/router_routes{family}")
        if not os.path.exists(pin):
            return {}
        return mn.Cluster.routes(self, i, family)  # it reads self.daemons[i]

    def want_routes(self, i, others):
        """Node i's routes to others, IPv4 and IPv6: IPv6 rides the IPv4
        tunnel; natively, to the peer's IPv6 address."""
        port = 1 if self.mode == "vxlan" else 0
        want, want6 = {}, {}
        for j in others:
            if j != i:
                want[POD_CIDR % j] = [port, UNDERLAY % j]
                want6[POD_CIDR6 % j] = [port, UNDERLAY % j if port else UNDERLAY6 % j]
                if self.mode == "vxlan":
                    want[f"{UNDERLAY % j}/32"] = [port, UNDERLAY % j]
                    want6[f"{UNDERLAY6 % j}/128"] = [port, UNDERLAY % j]
        return want, want6

    def all_routes(self, i):
        return self.routes(i), self.routes(i, 6)

    def wait_peers(self, nodes, timeout=60):
        """Every node in nodes routes to every other's pods, both families,
        and no further."""
        for i in nodes:
            want = self.want_routes(i, nodes)
            try:
                wait_for(lambda: self.all_routes(i) == want, timeout, what=f"node {i}'s routes")
            except AssertionError:
                raise AssertionError(f"node {i}: routes {self.all_routes(i)} != {want}\n"
                                     f"{self.agents[i].log()[-3000:]}")

    def addresses(self, *pods):
        """The IPv4 and IPv6 addresses of the pods named."""
        return {a for p in pods for a in self.pods[p][2:]}

    def wait_service(self, i, name, endpoints, timeout=60):
        """Node i holds service name with exactly the endpoint addresses
        given (a set; empty: the service is gone)."""
        try:
            wait_for(lambda: self.service_held(i, name) == endpoints, timeout,
                     what=f"{name} with endpoints {endpoints} on node {i}")
        except AssertionError:
            with open(os.path.join(self.daemons[i].dir, "log"), errors="replace") as f:
                daemon = f.read()[-3000:]
            raise AssertionError(f"{name} not held on node {i}\n{self.agents[i].log()[-3000:]}"
                                 f"\ncubenetd:\n{daemon}")

    def service_held(self, i, name):
        """The endpoint addresses node i holds for service name; set() if it
        holds no such service, None if it cannot say."""
        try:
            r = self.daemons[i].client().get(
                f"/restconf/data/cubenet-pods:services/service={self.ns_k8s},{name}")
        except OSError:
            return None
        if r.status == 404:
            return set()
        if r.status != 200:
            return None
        return {e["address"] for e in r.json()["cubenet-pods:service"][0].get("endpoint", [])}

    # test_multinode's, on this cluster's pods and underlay.
    udp_sizes = mn.Cluster.udp_sizes
    ask = mn.Cluster.ask
    capture = mn.Cluster.capture


class ThreeNodes:
    """The checks, on a cluster in self.mode (a subclass sets it). One
    cluster a mode; the tests run in their numbered order, each leaving
    the cluster as it found it except the last (a fourth node)."""

    mode = None

    @classmethod
    def setUpClass(cls):
        cls.c = Cluster(api, cls.mode)
        cls.addClassCleanup(cls.c.stop)
        cls.c.start()
        # One Service, applied as a user does: dual-stack, its only endpoint
        # p30 on node 3 (both its addresses), ClusterIP and NodePort, TCP
        # and UDP.
        cls.cluster_ips = cls.dual_stack_service("web", "p30", type_="NodePort")
        for i in cls.c.nodes:
            cls.c.wait_service(i, "web", cls.c.addresses("p30"))
        # The controller manager's slices, one a family, from p30's podIPs.
        slices = json.loads(api.kubectl("get", "endpointslices", "-n", cls.c.ns_k8s, "-l",
                                        "kubernetes.io/service-name=web", "-o", "json"))
        assert sorted((s["addressType"], [a for e in s.get("endpoints") or []
                                          for a in e["addresses"]])
                      for s in slices["items"]) == [
            ("IPv4", [cls.c.pods["p30"][2]]), ("IPv6", [cls.c.pods["p30"][3]])], slices

    @classmethod
    def dual_stack_service(cls, name, selector, type_="ClusterIP"):
        """Service name to the pod selector, TCP and UDP (NODE_PORT if a
        NodePort): its IPv4 and IPv6 ClusterIPs."""
        node_port = f", nodePort: {NODE_PORT}" if type_ == "NodePort" else ""
        api.apply(service(cls.c.ns_k8s, name, [
            f"{{name: tcp, port: {PORT}, targetPort: {PORT}{node_port}}}",
            f"{{name: udp, port: {PORT}, protocol: UDP, targetPort: {PORT}{node_port}}}"],
            type_=type_, selector=selector, extra=DUAL_STACK))
        spec = json.loads(api.kubectl("get", "svc", "-n", cls.c.ns_k8s, name, "-o", "json"))
        assert spec["spec"]["ipFamilies"] == ["IPv4", "IPv6"], spec
        v4, v6 = spec["spec"]["clusterIPs"]
        assert ":" not in v4 and ":" in v6, spec
        return v4, v6

    def expect_all(self, pods=None):
        mn.expect_all(self, self.c, pods)

    def test_1_pod_to_pod_across_every_pair(self):
        self.expect_all()

    def test_2_what_crosses_the_underlay(self):
        """VXLAN on the port and VNI configured between the nodes' IPv4
        addresses, pod addresses of both families only inside, never
        bare; natively, plain IP of both families from pod to pod."""
        mn.expect_underlay(self, self.c)

    def test_3_cluster_ip_whose_only_endpoint_is_on_another_node(self):
        """From every node, each ClusterIP of web reaches p30 at its
        address of that family, the client's address kept."""
        ip4, ip6 = self.cluster_ips
        for src in ("p10", "p20", "p31"):
            _, ns, addr, addr6 = self.c.pods[src]
            self.assertEqual(self.c.ask(ns, [ip4, ip6]),
                             {ip4: [f"p30 {addr}"] * 2, ip6: [f"p30 {addr6}"] * 2}, src)

    def node_port_reaches_p30(self, i):
        """A host on the underlay to node i's NodePort at its IPv4 and IPv6
        address: p30 answers, SNATed to node i's address of that family."""
        node, node6 = UNDERLAY % i, UNDERLAY6 % i
        # The host sends what the pods' MTU carries (no ICMP "fragmentation
        # needed" tells it less).
        mtu = self.c.mtu()
        self.assertEqual(self.c.ask(self.c.underlay, [node, node6], port=NODE_PORT,
                                    sizes=f"1200,{mtu - 28}/1200,{mtu - 48}"),
                         {node: [f"p30 {node}"] * 2, node6: [f"p30 {node6}"] * 2}, f"node {i}")

    def test_4_node_port_on_node_1_reaches_a_pod_on_node_3(self):
        self.node_port_reaches_p30(1)

    def health(self, address, port):
        """(status, body) of a load balancer's probe from the underlay to
        address:port; ("refused", "") when the node refuses the connection."""
        host = f"[{address}]" if ":" in address else address
        r = sh("ip", "netns", "exec", self.c.underlay, "curl", "-s", "-g", "-m", "3", "-w",
               "\n%{http_code}", f"http://{host}:{port}/healthz", check=False)
        if r.returncode == 7:  # curl: could not connect
            return "refused", ""
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body

    def test_4a_health_check_of_a_local_service_in_both_families(self):
        """A dual-stack LoadBalancer with externalTrafficPolicy Local, its
        only endpoint p30: every node's healthCheckNodePort answers a probe
        from the underlay at its IPv4 and its IPv6 address, 200 on node 3,
        503 on the others, kube-proxy's body; the Service deleted, no node
        answers in either family."""
        api.apply(service(self.c.ns_k8s, "local", [f"{{port: {PORT}, targetPort: {PORT}}}"],
                          type_="LoadBalancer", selector="p30",
                          extra=DUAL_STACK + "  externalTrafficPolicy: Local\n"))
        self.addCleanup(api.kubectl, "delete", "svc", "-n", self.c.ns_k8s, "local",
                        "--ignore-not-found", check=False)
        hc = json.loads(api.kubectl("get", "svc", "-n", self.c.ns_k8s, "local", "-o", "json"))[
            "spec"]["healthCheckNodePort"]
        for i in self.c.nodes:
            self.c.wait_service(i, "local", self.c.addresses("p30"))
        for i in self.c.nodes:
            local = 1 if i == 3 else 0
            for address in (UNDERLAY % i, UNDERLAY6 % i):
                status, body = wait_for(
                    lambda: (r := self.health(address, hc))[0] == (200 if local else 503) and r,
                    what=f"node {i}'s health check at {address}")
                self.assertEqual(json.loads(body), {
                    "service": {"namespace": self.c.ns_k8s, "name": "local"},
                    "localEndpoints": local, "serviceProxyHealthy": True}, address)
        api.kubectl("delete", "svc", "-n", self.c.ns_k8s, "local")
        for i in self.c.nodes:
            for address in (UNDERLAY % i, UNDERLAY6 % i):
                wait_for(lambda: self.health(address, hc) == ("refused", ""),
                         what=f"node {i}'s health check at {address} closed")
            self.c.wait_service(i, "local", set())

    def test_5_pod_traffic_to_the_outside_is_masqueraded(self):
        """A host on the underlay, outside the cluster's ranges, sees a pod
        of each node come from that node's address, IPv4 and IPv6."""
        srv = subprocess.Popen(["ip", "netns", "exec", self.c.underlay, sys.executable, "-c",
                                mn.SERVER, "outside", str(PORT)], stdout=subprocess.PIPE,
                               text=True)
        self.c.procs.append(srv)
        self.addCleanup(srv.kill)
        self.assertEqual(srv.stdout.readline().strip(), "ready")
        # The host's link carries more than the pods' (vxlan): its answer,
        # longer than what it was sent, must fit the pod's link whole
        # (test_multinode's sizes; see the README's multinode section).
        for i in self.c.nodes:
            ns = self.c.pods[f"p{i}0"][1]
            self.assertEqual(self.c.ask(ns, [OUTSIDE, OUTSIDE6], sizes="1200,1350"),
                             {OUTSIDE: [f"outside {UNDERLAY % i}"] * 2,
                              OUTSIDE6: [f"outside {UNDERLAY6 % i}"] * 2}, f"node {i}")

    def test_6_a_node_deleted_from_the_api_and_back(self):
        """node-3's Node deleted: nodes 1 and 2 lose its routes of both
        families, and connections to its pods fail at once (no route: ICMP
        network unreachable, not a timeout); the others unharmed. Its Node
        back: reachable again."""
        self.c.delete_node_object(3)
        self.c.wait_peers([1, 2])  # exactly each other's routes, both families
        for i in (1, 2):
            self.assertNotIn(POD_CIDR % 3, self.c.routes(i))
            self.assertNotIn(POD_CIDR6 % 3, self.c.routes(i, 6))
        ns = self.c.pods["p10"][1]
        for ip in sorted(self.c.addresses("p30", "p31")):
            # The kernel answers with ICMP network unreachable at a bounded
            # rate to one host: TCP's first is never held back (a second
            # apart), UDP's may be, and then nothing answers at all.
            time.sleep(1.1)
            t0 = time.monotonic()
            (tcp, udp), = self.c.ask(ns, [ip]).values()
            self.assertEqual(tcp, "error: ENETUNREACH", ip)
            self.assertIn(udp, ("error: ENETUNREACH", "error: timed out"), ip)
            self.assertLess(time.monotonic() - t0, 5, ip)
        self.expect_all(["p10", "p11", "p20", "p21"])
        self.c.create_node_object(3)
        self.c.wait_peers([1, 2, 3])
        self.expect_all()
        self.test_3_cluster_ip_whose_only_endpoint_is_on_another_node()

    def test_7_a_nodes_cubenetd_killed_and_restarted(self):
        """Node 2's cubenetd SIGKILLed: its pinned datapath carries on, so
        every pod keeps reaching every other, across and on node 2. A
        Service made while it is down (the other nodes take it); restarted,
        node 2 adopts what is pinned and its agent writes what it missed:
        the new Service serves node 2's pods, and all else still works."""
        d = self.c.daemons[2]
        d.stop(signal.SIGKILL)
        self.expect_all()
        self.addCleanup(api.kubectl, "delete", "svc", "-n", self.c.ns_k8s, "web2",
                        "--ignore-not-found", check=False)
        ip4, ip6 = self.dual_stack_service("web2", "p10")
        p10 = self.c.addresses("p10")
        for i in (1, 3):
            self.c.wait_service(i, "web2", p10)
        self.assertIsNone(self.c.service_held(2, "web2"))  # nothing answers there
        d.start()
        self.c.wait_service(2, "web2", p10)
        self.c.wait_service(2, "web", self.c.addresses("p30"))
        self.c.wait_peers([1, 2, 3])
        for src in ("p20", "p31"):
            _, ns, addr, addr6 = self.c.pods[src]
            self.assertEqual(self.c.ask(ns, [ip4, ip6]),
                             {ip4: [f"p10 {addr}"] * 2, ip6: [f"p10 {addr6}"] * 2}, src)
        self.expect_all()
        self.test_3_cluster_ip_whose_only_endpoint_is_on_another_node()
        self.node_port_reaches_p30(2)
        # The cluster as it was: web2 gone from every node.
        api.kubectl("delete", "svc", "-n", self.c.ns_k8s, "web2")
        for i in self.c.nodes:
            self.c.wait_service(i, "web2", set())

    def test_8_a_fourth_node_joins(self):
        """node-4: its namespace, cubenetd and agent, then its Node. Before
        it has a pod, its NodePort (IPv4 and IPv6) serves the pod on node
        3; with a pod, every pair of pods reaches every other, both
        families."""
        self.c.add_node(4)
        self.c.create_node_object(4)
        self.c.agents[4].wait_ready(60)
        self.c.wait_service(4, "web", self.c.addresses("p30"))
        self.c.wait_peers([1, 2, 3, 4])
        self.node_port_reaches_p30(4)
        self.c.add_pod(4, "p40")
        self.expect_all()


api = None


def setUpModule():
    global api
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root")
    api = ApiServer().start()
    unittest.addModuleCleanup(api.stop)
    api.apply(manifest_rbac())


class Vxlan(ThreeNodes, unittest.TestCase):
    mode = "vxlan"


class Native(ThreeNodes, unittest.TestCase):
    mode = "native"


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
