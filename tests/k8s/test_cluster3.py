# SPDX-License-Identifier: Apache-2.0
"""The 3-node cluster, run as Kubernetes runs it: three node namespaces on
an emulated L2 underlay (a bridge in a namespace of its own), each running
its own cubenetd and its own cubenet-agent, all against ONE real
kube-apiserver (with etcd and the controller manager's EndpointSlice
controllers) holding three Node objects with their podCIDRs and
InternalIPs. Pods on every node are made by the CNI plugin, run real TCP
and UDP servers, and have Pod objects whose status is patched Ready with
the address the plugin gave; a Service is applied with kubectl and its
EndpointSlice made by the controller manager. Nothing is written to any
cubenetd by hand: peers, node settings and services all come from the
agents. In both modes (the agents' --tunnel vxlan and native), checked
with real TCP and UDP: pod to pod across every pair of nodes (and on one
node); a ClusterIP whose only endpoint is on another node; a NodePort on
node 1 reaching a pod on node 3 from a host on the underlay; node-3's
Node deleted from the API: its routes go on the other nodes and
connections to its pods fail at once (network unreachable), then its Node
back: reachable again; a fourth node joining (its namespace, cubenetd and
agent, then its Node): its NodePort serves a pod on node 3 before it has
a pod of its own, and once it has one every pair reaches every other.
Needs root; exits 77 without it."""
import json
import os
import shutil
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
from apiserver import NODE_NAME, ApiServer  # noqa: E402
from netns_forward import NetnsForwarder  # noqa: E402
from restconf_client import BUILD, Daemon  # noqa: E402
from test_agent_api import manifest_rbac, service  # noqa: E402
import test_multinode as mn  # noqa: E402

PLUGIN = os.path.join(BUILD, "cni/cubenet")
CNI_PATH = "/usr/lib/cni"
UNDERLAY = "198.51.100.%d"  # node i: .i; the outside host: .100
OUTSIDE = UNDERLAY % 100
CLUSTER_CIDR, SERVICE_CIDR = "10.250.0.0/16", "10.96.0.0/16"
POD_CIDR = "10.250.%d.0/24"  # node i's
VNI, VXLAN_PORT = 4242, 8472
PORT, NODE_PORT = 7000, 30080
# The API server's own Node (its fixture makes it) is node 1.
NODE_NAMES = {1: NODE_NAME}


sh = mn.sh


def node_name(i):
    return NODE_NAMES.get(i, f"node-{i}")


def node_object(i):
    """Node i as the control plane and its kubelet make it: podCIDR in the
    spec, InternalIP in the status (a kubelet registers with it)."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node_name(i),
                         "labels": {"kubernetes.io/hostname": node_name(i)}},
            "spec": {"podCIDR": POD_CIDR % i, "podCIDRs": [POD_CIDR % i]},
            "status": {"addresses": [{"type": "InternalIP", "address": UNDERLAY % i},
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
        self.pods = {}  # name -> (node index, netns, address)

    # -- lifecycle ---------------------------------------------------------
    def start(self, nodes=(1, 2, 3)):
        self.api.create_namespace(self.ns_k8s)
        self.add_netns(self.underlay)
        sh("ip", "-n", self.underlay, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.underlay, "addr", "add", OUTSIDE + "/24", "dev", "br0")
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
        sh("ip", "-n", node, "link", "set", "eth0", "up")
        self.daemons[i] = Daemon(netns=node).start()
        self.forwarders[i] = NetnsForwarder(node, self.api.port)
        self.agents[i] = Agent(self.api.agent_kubeconfig, self.daemons[i].socket, node_name(i),
                               ["--cluster-cidr", CLUSTER_CIDR, "--service-cidr", SERVICE_CIDR,
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
        for name, (n, ns, _) in list(self.pods.items()):
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
            self.api.patch_status(f"/api/v1/nodes/{NODE_NAME}",
                                  {"status": {"addresses": obj["status"]["addresses"]}})
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
                         "ranges": [[{"subnet": POD_CIDR % i}]],
                         "routes": [{"dst": "0.0.0.0/0"}]}}

    def add_pod(self, i, name, server=True):
        """A pod on node i: its netns made by the CNI plugin as the
        runtime calls it, a TCP and UDP server in it (test_multinode's),
        and its Pod object, Ready at the plugin's address."""
        ns = f"{self.tag}-{name}"
        self.add_netns(ns)
        env = {"PATH": os.environ["PATH"], "CNI_COMMAND": "ADD", "CNI_CONTAINERID": name,
               "CNI_NETNS": f"/run/netns/{ns}", "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH,
               "CNI_ARGS": f"K8S_POD_NAMESPACE={self.ns_k8s};K8S_POD_NAME={name}"}
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.nodes[i]}", PLUGIN],
                           input=json.dumps(self.conf(i)).encode(), capture_output=True,
                           env=env, timeout=60)
        assert r.returncode == 0, r.stdout
        addr = json.loads(r.stdout)["ips"][0]["address"].split("/")[0]
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
        self.api.patch_pod_ready(self.ns_k8s, name, addr)
        self.pods[name] = (i, ns, addr)
        return addr

    # -- what the nodes hold -----------------------------------------------
    def routes(self, i):
        """Node i's router: {prefix: [port, next hop]}; {} without a chain."""
        pin = os.path.join(self.daemons[i].bpffs, "cubes/tc/router/node:router/router_routes4")
        if not os.path.exists(pin):
            return {}
        return mn.Cluster.routes(self, i)  # it reads self.daemons[i]

    def want_routes(self, i, others):
        port = 1 if self.mode == "vxlan" else 0
        want = {}
        for j in others:
            if j != i:
                want[POD_CIDR % j] = [port, UNDERLAY % j]
                if self.mode == "vxlan":
                    want[f"{UNDERLAY % j}/32"] = [port, UNDERLAY % j]
        return want

    def wait_peers(self, nodes, timeout=60):
        """Every node in nodes routes to every other's pods, and no further."""
        for i in nodes:
            want = self.want_routes(i, nodes)
            try:
                wait_for(lambda: self.routes(i) == want, timeout, what=f"node {i}'s routes")
            except AssertionError:
                raise AssertionError(f"node {i}: routes {self.routes(i)} != {want}\n"
                                     f"{self.agents[i].log()[-3000:]}")

    def wait_service(self, i, name, n_endpoints, timeout=60):
        try:
            wait_for(lambda: self.service_held(i, name, n_endpoints), timeout,
                     what=f"{name} with {n_endpoints} endpoints on node {i}")
        except AssertionError:
            with open(os.path.join(self.daemons[i].dir, "log"), errors="replace") as f:
                daemon = f.read()[-3000:]
            raise AssertionError(f"{name} not held on node {i}\n{self.agents[i].log()[-3000:]}"
                                 f"\ncubenetd:\n{daemon}")

    def service_held(self, i, name, n_endpoints):
        r = self.daemons[i].client().get(
            f"/restconf/data/cubenet-pods:services/service={self.ns_k8s},{name}")
        if r.status != 200:
            return False
        return len(r.json()["cubenet-pods:service"][0].get("endpoint", [])) == n_endpoints

    def ask(self, ns, targets, port=PORT, sizes=None):
        """test_multinode's client in ns: {ip: [tcp, udp]}."""
        sizes = sizes or [1200, self.mtu() - 28, 4000]
        out = sh("ip", "netns", "exec", ns, sys.executable, "-c", mn.CLIENT, str(port),
                 ",".join(map(str, sizes)), *targets, timeout=120)
        return json.loads(out.stdout)


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
        # One Service, applied as a user does: its only endpoint p30 on node
        # 3, ClusterIP and NodePort, TCP and UDP.
        api.apply(service(cls.c.ns_k8s, "web", [
            f"{{name: tcp, port: {PORT}, targetPort: {PORT}, nodePort: {NODE_PORT}}}",
            f"{{name: udp, port: {PORT}, protocol: UDP, targetPort: {PORT}, "
            f"nodePort: {NODE_PORT}}}"], type_="NodePort", selector="p30"))
        spec = json.loads(api.kubectl("get", "svc", "-n", cls.c.ns_k8s, "web", "-o", "json"))
        cls.cluster_ip = spec["spec"]["clusterIP"]
        for i in cls.c.nodes:
            cls.c.wait_service(i, "web", 1)

    def expect_all(self, pods=None):
        mn.expect_all(self, self.c, pods)

    def test_1_pod_to_pod_across_every_pair(self):
        self.expect_all()

    def test_2_cluster_ip_whose_only_endpoint_is_on_another_node(self):
        for src in ("p10", "p20", "p31"):
            _, ns, addr = self.c.pods[src]
            self.assertEqual(self.c.ask(ns, [self.cluster_ip]),
                             {self.cluster_ip: [f"p30 {addr}"] * 2}, src)

    def test_3_node_port_on_node_1_reaches_a_pod_on_node_3(self):
        node1 = UNDERLAY % 1
        # The underlay host sends what the pods' MTU carries (no ICMP
        # "fragmentation needed" tells it less).
        self.assertEqual(self.c.ask(self.c.underlay, [node1], port=NODE_PORT,
                                    sizes=[1200, self.c.mtu() - 28]),
                         {node1: [f"p30 {node1}"] * 2})

    def test_4_a_node_deleted_from_the_api_and_back(self):
        """node-3's Node deleted: nodes 1 and 2 lose its routes, and
        connections to its pods fail at once (no route: ICMP network
        unreachable, not a timeout); the others unharmed. Its Node back:
        reachable again."""
        self.c.delete_node_object(3)
        self.c.wait_peers([1, 2])
        for i in (1, 2):
            self.assertNotIn(POD_CIDR % 3, self.c.routes(i))
        _, ns, _ = self.c.pods["p10"]
        for ip in (self.c.pods[p][2] for p in ("p30", "p31")):
            # The kernel answers with ICMP network unreachable at a bounded
            # rate to one host: TCP's first is never held back (a second
            # apart), UDP's may be, and then nothing answers at all.
            time.sleep(1.1)
            (tcp, udp), = self.c.ask(ns, [ip]).values()
            self.assertEqual(tcp, "error: ENETUNREACH")
            self.assertIn(udp, ("error: ENETUNREACH", "error: timed out"))
        self.expect_all(["p10", "p11", "p20", "p21"])
        self.c.create_node_object(3)
        self.c.wait_peers([1, 2, 3])
        self.expect_all()
        self.test_2_cluster_ip_whose_only_endpoint_is_on_another_node()

    def test_5_a_fourth_node_joins(self):
        """node-4: its namespace, cubenetd and agent, then its Node. Before
        it has a pod, its NodePort serves the pod on node 3; with a pod,
        every pair of pods reaches every other."""
        self.c.add_node(4)
        self.c.create_node_object(4)
        self.c.agents[4].wait_ready(60)
        self.c.wait_service(4, "web", 1)
        self.c.wait_peers([1, 2, 3, 4])
        node4 = UNDERLAY % 4
        self.assertEqual(self.c.ask(self.c.underlay, [node4], port=NODE_PORT,
                                    sizes=[1200, self.c.mtu() - 28]),
                         {node4: [f"p30 {node4}"] * 2})
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
