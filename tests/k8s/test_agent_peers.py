# SPDX-License-Identifier: Apache-2.0
"""The node agent learns the cluster's other nodes: a real kube-apiserver,
the agent in a node namespace writing to the real cubenetd (a pod made by the CNI plugin
gives it a node chain). Every other
Node with an IPv4 InternalIP and podCIDR(s) becomes a cubenet-pods:peers
entry, and the node chain's router holds routes to its pod ranges (vxlan:
out of the tunnel port, the peer's address as the remote end); a Node
deleted takes its peer and routes; one given a podCIDR later joins; a Node
without podCIDR or InternalIP is skipped, logged by name and counted; one
cubenetd refuses (its pod range overlaps another's) is logged, counted and
the rest written; the agent killed while Nodes change, then restarted:
its full resync removes the stale peers, one written by hand included.
Also the tunnel settings from the agent's flags. Needs root; exits 77
without it."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../daemon"))
from agent_fixture import Agent, wait_for  # noqa: E402
from apiserver import NODE_NAME, ApiServer  # noqa: E402
from netns_forward import NetnsForwarder  # noqa: E402
from restconf_client import BUILD, Daemon  # noqa: E402
from test_agent_api import manifest_rbac  # noqa: E402

PLUGIN = os.path.join(BUILD, "cni/cubenet")
CNI_PATH = "/usr/lib/cni"
NODE_IP = "192.0.2.1"
PEERS = "/restconf/data/cubenet-pods:peers"
VNI, VXLAN_PORT = 4243, 4790


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)


def node_yaml(name, pod_cidr=None):
    spec = f"spec:\n  podCIDR: {pod_cidr}\n  podCIDRs: [{pod_cidr}]\n" if pod_cidr else ""
    return f"apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n{spec}"


class Peers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer().start()
        cls.addClassCleanup(cls.api.stop)
        cls.api.apply(manifest_rbac())
        cls.api.patch_status(f"/api/v1/nodes/{NODE_NAME}", {"status": {"addresses": [
            {"type": "InternalIP", "address": NODE_IP},
            {"type": "Hostname", "address": NODE_NAME}]}})

    def setUp(self):
        self.tag = "agp" + uuid.uuid4().hex[:6]
        self.node = self.tag + "-node"
        self.tmp = tempfile.mkdtemp(prefix="agent-peers-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        sh("ip", "netns", "add", self.node)
        self.addCleanup(sh, "ip", "netns", "del", self.node, check=False)
        sh("ip", "-n", self.node, "link", "set", "lo", "up")
        # The uplink, holding this node's InternalIP; its peer end stays in
        # the namespace: nothing is sent anywhere.
        sh("ip", "-n", self.node, "link", "add", "up0", "type", "veth", "peer", "name", "up1")
        sh("ip", "-n", self.node, "addr", "add", f"{NODE_IP}/24", "dev", "up0")
        for dev in ("up0", "up1"):
            sh("ip", "-n", self.node, "link", "set", dev, "up")
        self.daemon = Daemon(netns=self.node).start()
        self.addCleanup(self.daemon.cleanup)
        # A pod: the node chain (and its router) exists once one does.
        self.pod = self.tag + "-p0"
        sh("ip", "netns", "add", self.pod)
        self.addCleanup(sh, "ip", "netns", "del", self.pod, check=False)
        self.cni_add(self.pod)
        self.fwd = NetnsForwarder(self.node, self.api.port)
        self.addCleanup(self.fwd.stop)
        self.made = []
        self.addCleanup(self.delete_nodes)
        self.agent = Agent(self.api.agent_kubeconfig, self.daemon.socket, NODE_NAME,
                           ["--cluster-cidr", "10.245.0.0/16", "--tunnel", "vxlan",
                            "--vxlan-vni", str(VNI), "--vxlan-port", str(VXLAN_PORT),
                            "--coalesce", "20"],
                           netns=self.node, log_dir=self.tmp)
        self.addCleanup(self.agent.stop)
        self.agent.start()
        self.agent.wait_ready(40)

    # -- helpers -------------------------------------------------------------
    def cni_add(self, netns):
        conf = {"cniVersion": "1.1.0", "name": "podnet", "type": "cubenet",
                "socket": self.daemon.socket, "mtu": 1450,
                "ipam": {"type": "host-local", "dataDir": os.path.join(self.tmp, "ipam"),
                         "ranges": [[{"subnet": "10.245.1.0/24"}]],
                         "routes": [{"dst": "0.0.0.0/0"}]}}
        env = {"PATH": os.environ["PATH"], "CNI_COMMAND": "ADD", "CNI_CONTAINERID": netns,
               "CNI_NETNS": f"/run/netns/{netns}", "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH}
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.node}", PLUGIN],
                           input=json.dumps(conf).encode(), capture_output=True, env=env,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout)

    def add_node(self, name, address=None, pod_cidr=None):
        """A Node as the control plane and kubelet make it: podCIDR in its
        spec, the InternalIP in its status."""
        self.api.apply(node_yaml(name, pod_cidr))
        self.made.append(name)
        if address:
            self.api.patch_status(f"/api/v1/nodes/{name}", {"status": {"addresses": [
                {"type": "InternalIP", "address": address},
                {"type": "Hostname", "address": name}]}})

    def delete_nodes(self):
        for name in self.made:
            self.api.kubectl("delete", "node", name, "--ignore-not-found", check=False)

    def peers(self):
        r = self.daemon.client().get(PEERS + "?content=config")
        if r.status == 404:
            return {}
        self.assertEqual(r.status, 200, r.body)
        return {p["name"]: (p["address"], sorted(p.get("pod-cidr", [])))
                for p in r.json()["cubenet-pods:peers"].get("peer", [])}

    def routes(self):
        """The node chain's router: {prefix: [port, next hop]}."""
        pin = os.path.join(self.daemon.bpffs, "cubes/tc/router/node:router/router_routes4")
        if not os.path.exists(pin):
            return {}
        out = json.loads(sh("bpftool", "-j", "map", "dump", "pinned", pin).stdout)
        routes = {}
        for e in out:
            k, v = bytes(int(b, 16) for b in e["key"]), bytes(int(b, 16) for b in e["value"])
            plen, addr = struct.unpack("<I4s", k)
            nexthop, port = socket.inet_ntoa(v[:4]), struct.unpack("<I", v[16:20])[0]
            routes[f"{socket.inet_ntoa(addr)}/{plen}"] = [port, nexthop]
        return routes

    def wait_peers(self, want, what):
        try:
            wait_for(lambda: self.peers() == want, 30, what=what)
        except AssertionError:
            raise AssertionError(f"{what}: peers {self.peers()} != {want}\n{self.agent.log()}")

    def want_routes(self, peers):
        """vxlan: each pod range and the peer's own address out of the
        tunnel port (1), the peer's address the remote end."""
        want = {}
        for address, cidrs in peers.values():
            for c in cidrs:
                want[c] = [1, address]
            want[f"{address}/32"] = [1, address]
        return want

    def wait_routes(self, want, what):
        try:
            wait_for(lambda: self.routes() == self.want_routes(want), 10, what=what)
        except AssertionError:
            raise AssertionError(f"{what}: routes {self.routes()} != {self.want_routes(want)}")

    def node_metric(self, reason):
        return self.agent.metric("cubenet_agent_untranslatable_nodes", f'{{reason="{reason}"}}')

    # -- the test ------------------------------------------------------------
    def test_peers_follow_the_nodes(self):
        node = self.daemon.client().get("/restconf/data/cubenet-pods:node?content=config")
        self.assertEqual(node.json()["cubenet-pods:node"]["tunnel"],
                         {"mode": "vxlan", "vni": VNI, "port": VXLAN_PORT})
        self.assertEqual(self.peers(), {})

        self.add_node("node-2", "192.0.2.2", "10.245.2.0/24")
        self.add_node("node-3", "192.0.2.3", "10.245.3.0/24")
        self.add_node("node-4", "192.0.2.4")        # no podCIDR (yet)
        self.add_node("node-5", None, "10.245.5.0/24")  # no InternalIP
        want = {"node-2": ("192.0.2.2", ["10.245.2.0/24"]),
                "node-3": ("192.0.2.3", ["10.245.3.0/24"])}
        self.wait_peers(want, "node-2 and node-3 as peers")
        self.wait_routes(want, "the router's routes to node-2 and node-3")
        wait_for(lambda: "Node node-4: no IPv4 spec.podCIDR" in self.agent.log() and
                 "Node node-5: no IPv4 InternalIP" in self.agent.log(), 10,
                 what="node-4 and node-5 logged by name")
        self.assertEqual(self.node_metric("no-pod-cidr"), 1)
        self.assertEqual(self.node_metric("no-internal-ip"), 1)
        self.assertEqual(self.agent.metric("cubenet_agent_peers"), 2)

        # A Node deleted: its peer and its routes go.
        self.api.kubectl("delete", "node", "node-2")
        del want["node-2"]
        self.wait_peers(want, "node-2 gone")
        self.wait_routes(want, "node-2's routes gone")

        # node-4 given its podCIDR (what the node IPAM controller does): it joins.
        status, body = self.api.request(
            "PATCH", "/api/v1/nodes/node-4", body={"spec": {"podCIDR": "10.245.4.0/24",
                                                           "podCIDRs": ["10.245.4.0/24"]}},
            content_type="application/strategic-merge-patch+json")
        self.assertEqual(status, 200, body)
        want["node-4"] = ("192.0.2.4", ["10.245.4.0/24"])
        self.wait_peers(want, "node-4 joined")
        self.wait_routes(want, "node-4's routes")
        wait_for(lambda: self.node_metric("no-pod-cidr") == 0, 10,
                 what="node-4 no longer counted")

        # A Node whose pod range overlaps another's: cubenetd refuses it
        # (a 400 naming the overlap); logged, counted; the rest go on.
        self.add_node("node-6", "192.0.2.6", "10.245.4.0/25")
        wait_for(lambda: "Node node-6: cubenetd refused it as a peer" in self.agent.log(), 20,
                 what="node-6 refused and logged")
        self.assertIn("overlaps", self.agent.log())
        self.assertEqual(self.node_metric("refused"), 1)
        self.add_node("node-7", "192.0.2.7", "10.245.7.0/24")
        want["node-7"] = ("192.0.2.7", ["10.245.7.0/24"])
        self.wait_peers(want, "node-7 written, node-6 left out")

        # The agent killed; meanwhile Nodes go and a peer is written by
        # hand. Restarted, its full resync leaves exactly the API's peers.
        self.agent.kill()
        self.api.kubectl("delete", "node", "node-3", "node-6")
        r = self.daemon.client().patch("/restconf/data", {"cubenet-pods:peers": {"peer": [
            {"name": "ghost", "address": "192.0.2.99", "pod-cidr": ["10.245.99.0/24"]}]}})
        self.assertIn(r.status, (200, 204), r.body)
        self.assertIn("ghost", self.peers())
        self.agent.start()
        self.agent.wait_ready(40)
        del want["node-3"]
        self.wait_peers(want, "stale peers removed by the resync")
        self.wait_routes(want, "the routes of node-4 and node-7 only")
        self.assertEqual(self.agent.metric("cubenet_agent_peers"), 2)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
