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
Also the tunnel settings from the agent's flags.

Dual stack: this node's IPv6 InternalIP becomes node/address6 and the
cluster's ranges of both families its masquerade ranges; a peer's first
IPv6 InternalIP is its address6 (changed: updated, removed: gone); a Node
with an IPv6 InternalIP alone is skipped, logged once; one with a pod range
that is not a CIDR of either family (an IPv4-mapped IPv6 one: Kubernetes
reads it as IPv4) is refused by the agent, the other Nodes written. Against
the real cubenetd with IPv4 pod and cluster ranges, and against the
YANG-validating store (model_store.py) with IPv6 ones and native routing, where a
Node with IPv6 ranges but no IPv6 InternalIP has no next hop for them and
is not a peer. Needs root; exits 77 without it."""
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
from model_store import ModelStore  # noqa: E402
from netns_forward import NetnsForwarder  # noqa: E402
from restconf_client import BUILD, Client, Daemon  # noqa: E402
from test_agent_api import manifest_rbac  # noqa: E402

PLUGIN = os.path.join(BUILD, "cni/cubenet")
CNI_PATH = "/usr/lib/cni"
NODE_IP = "192.0.2.1"
NODE_IP6 = "fd00:192::1"
PEERS = "/restconf/data/cubenet-pods:peers"
NODE = "/restconf/data/cubenet-pods:node"
VNI, VXLAN_PORT = 4243, 4790
# The cluster's ranges of both families, as kube-controller-manager's
# --cluster-cidr and kube-apiserver's --service-cluster-ip-range take them.
DUAL_ARGS = ["--cluster-cidr", "10.245.0.0/16,FD00:10:245::/56",
             "--service-cidr", "10.96.0.0/16,fd00:10:96::/112"]
DUAL_MASQUERADE = ["10.245.0.0/16", "10.96.0.0/16", "fd00:10:245::/56", "fd00:10:96::/112"]
API = None


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)


def node_yaml(name, pod_cidr=None):
    """pod_cidr: one range, or a list (spec.podCIDRs; podCIDR the first)."""
    cidrs = [pod_cidr] if isinstance(pod_cidr, str) else pod_cidr
    spec = (f"spec:\n  podCIDR: '{cidrs[0]}'\n  podCIDRs: {json.dumps(cidrs)}\n"
            if cidrs else "")
    return f"apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n{spec}"


def set_addresses(api, name, addresses):
    """status.addresses replaced (a merge patch: a strategic one merges the
    list by type, so two InternalIPs would be one) and read back."""
    want = [{"type": t, "address": a} for t, a in addresses]
    status, body = api.request("PATCH", f"/api/v1/nodes/{name}/status",
                               body={"status": {"addresses": want}},
                               content_type="application/merge-patch+json")
    if status != 200 or json.loads(body)["status"]["addresses"] != want:
        raise AssertionError(f"Node {name}'s addresses: {status} {body}")


def setUpModule():
    global API
    API = ApiServer().start()
    unittest.addModuleCleanup(API.stop)
    API.apply(manifest_rbac())
    set_addresses(API, NODE_NAME, [("InternalIP", NODE_IP), ("Hostname", NODE_NAME)])


def held_peers(client):
    """The peers cubenetd (or the store) holds: name -> entry, its pod
    ranges sorted."""
    r = client.get(PEERS + "?content=config")
    if r.status == 404:
        return {}
    if r.status != 200:
        raise AssertionError(f"GET peers: {r.status} {r.body}")
    out = {}
    for p in r.json()["cubenet-pods:peers"].get("peer", []):
        if "pod-cidr" in p:
            p["pod-cidr"] = sorted(p["pod-cidr"])
        out[p["name"]] = p
    return out


def peer(name, address, cidrs, address6=None):
    p = {"name": name, "address": address, "pod-cidr": sorted(cidrs)}
    if address6:
        p["address6"] = address6
    return p


class Peers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = API

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
        sh("ip", "-n", self.node, "addr", "add", f"{NODE_IP6}/64", "dev", "up0", "nodad")
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
        wait_for(lambda: "Node node-4: no spec.podCIDR(s)" in self.agent.log() and
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

    def wait_held(self, want, what):
        try:
            wait_for(lambda: held_peers(self.daemon.client()) == want, 30, what=what)
        except AssertionError:
            raise AssertionError(f"{what}: peers {held_peers(self.daemon.client())} != "
                                 f"{want}\n{self.agent.log()}")

    def test_dual_stack_nodes(self):
        """This node's IPv6 InternalIP in its settings; each peer's first
        IPv6 InternalIP as its address6, then changed and removed; an
        IPv6-only Node and one with an IPv4-mapped IPv6 pod range left out,
        by name, the others written. IPv4 ranges only: IPv6 ones (pod and
        cluster ranges) are in DualStackWrites."""
        # This node gains IPv6 InternalIPs: the first one is its address6.
        set_addresses(self.api, NODE_NAME, [("InternalIP", NODE_IP), ("Hostname", NODE_NAME),
                                             ("InternalIP", "FD00:192:0::1"),
                                             ("InternalIP", "fd00:192::11")])
        self.addCleanup(set_addresses, self.api, NODE_NAME,
                        [("InternalIP", NODE_IP), ("Hostname", NODE_NAME)])
        want_node = {"uplink": "up0", "address": NODE_IP, "address6": NODE_IP6,
                     "node-port-range": {"min": 30000, "max": 32767},
                     "tunnel": {"mode": "vxlan", "vni": VNI, "port": VXLAN_PORT},
                     "masquerade": {"cluster-cidr": ["10.245.0.0/16"]}}

        def node():
            n = self.daemon.client().get(NODE + "?content=config").json()["cubenet-pods:node"]
            n.get("masquerade", {}).get("cluster-cidr", []).sort()
            return n

        def wait_node(what):
            try:
                wait_for(lambda: node() == want_node, 20, what=what)
            except AssertionError:
                raise AssertionError(f"{what}: {node()} != {want_node}\n{self.agent.log()}")
        wait_node("node settings with address6")

        # node-2: its first IPv4 and first IPv6 InternalIP, kubelet's order.
        self.add_node("node-2", None, "10.245.2.0/24")
        set_addresses(self.api, "node-2", [("InternalIP", "192.0.2.2"), ("Hostname", "node-2"),
                                           ("InternalIP", "FD00:192:0::2"),
                                           ("InternalIP", "fd00:192::22"),
                                           ("InternalIP", "192.0.2.22")])
        # node-3: an IPv6 InternalIP alone: not a peer (address is IPv4).
        self.add_node("node-3", None, "fd00:10:245:3::/64")
        set_addresses(self.api, "node-3", [("InternalIP", "fd00:192::3")])
        # node-4: an IPv4-mapped IPv6 pod range, which the API server takes
        # (as IPv4): the agent refuses the Node, writes nothing of it.
        self.add_node("node-4", None, ["fd00:10:245:4::/64", "::ffff:10.245.4.0/120"])
        set_addresses(self.api, "node-4", [("InternalIP", "192.0.2.4"),
                                           ("InternalIP", "fd00:192::4")])
        # node-5: IPv4 only, unaffected by the others.
        self.add_node("node-5", "192.0.2.5", "10.245.5.0/24")
        want = {"node-2": peer("node-2", "192.0.2.2", ["10.245.2.0/24"], "fd00:192::2"),
                "node-5": peer("node-5", "192.0.2.5", ["10.245.5.0/24"])}
        self.wait_held(want, "node-2 (with address6) and node-5")
        self.wait_routes({k: (v["address"], v["pod-cidr"]) for k, v in want.items()},
                         "the IPv4 routes of node-2 and node-5")
        only6 = ("Node node-3: only an IPv6 InternalIP (fd00:192::3), and a peer needs an "
                 "IPv4 one: not a peer")
        mapped = ("Node node-4: pod range ::ffff:10.245.4.0/120 is not an IPv4 or IPv6 CIDR: "
                  "not a peer")
        wait_for(lambda: only6 in self.agent.log() and mapped in self.agent.log(), 10,
                 what="node-3 and node-4 logged by name")
        self.assertNotIn("cubenetd refused", self.agent.log())
        self.assertEqual(self.node_metric("no-internal-ip"), 1)
        self.assertEqual(self.node_metric("bad-value"), 1)
        self.assertEqual(self.node_metric("refused"), 0)
        self.assertEqual(self.agent.metric("cubenet_agent_peers"), 2)

        # node-2's IPv6 address changed: its peer follows.
        set_addresses(self.api, "node-2", [("InternalIP", "192.0.2.2"),
                                           ("InternalIP", "fd00:192::12")])
        want["node-2"]["address6"] = "fd00:192::12"
        self.wait_held(want, "node-2's address6 changed")
        # ... and removed: address6 gone from the peer, the rest kept.
        set_addresses(self.api, "node-2", [("InternalIP", "192.0.2.2")])
        del want["node-2"]["address6"]
        self.wait_held(want, "node-2's address6 removed")
        # node-5 gains one.
        set_addresses(self.api, "node-5", [("InternalIP", "192.0.2.5"),
                                           ("InternalIP", "fd00:192::5")])
        want["node-5"]["address6"] = "fd00:192::5"
        self.wait_held(want, "node-5's address6 added")
        # This node's IPv6 InternalIP gone: address6 gone from its settings.
        set_addresses(self.api, NODE_NAME, [("InternalIP", NODE_IP), ("Hostname", NODE_NAME)])
        del want_node["address6"]
        wait_node("node settings without address6")
        # node-2 deleted: its peer gone.
        self.api.kubectl("delete", "node", "node-2")
        del want["node-2"]
        self.wait_held(want, "node-2 gone")
        # Said once per Node, however often the Nodes changed.
        self.assertEqual(self.agent.log().count(only6), 1, self.agent.log())
        self.assertEqual(self.agent.log().count(mapped), 1, self.agent.log())
        self.assertEqual(self.node_metric("no-internal-ip"), 1)
        self.assertEqual(self.node_metric("bad-value"), 1)


class DualStackWrites(unittest.TestCase):
    """IPv6 pod ranges: what the agent writes, against the YANG-validating
    store (every write checked against cubenet-pods.yang), native routing."""

    def setUp(self):
        self.api = API
        self.tmp = tempfile.mkdtemp(prefix="agent-dual-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.store = ModelStore().start()
        self.addCleanup(self.store.stop)
        self.made = []
        self.addCleanup(self.delete_nodes)
        set_addresses(self.api, NODE_NAME, [("InternalIP", NODE_IP),
                                            ("InternalIP", NODE_IP6)])
        self.addCleanup(set_addresses, self.api, NODE_NAME,
                        [("InternalIP", NODE_IP), ("Hostname", NODE_NAME)])
        self.agent = Agent(self.api.agent_kubeconfig, self.store.socket, NODE_NAME,
                           DUAL_ARGS + ["--tunnel", "native", "--coalesce", "20"],
                           log_dir=self.tmp)
        self.addCleanup(self.agent.stop)
        self.agent.start()
        self.agent.wait_ready(40)

    def delete_nodes(self):
        for name in self.made:
            self.api.kubectl("delete", "node", name, "--ignore-not-found", check=False)

    def add_node(self, name, cidrs, addresses):
        self.api.apply(node_yaml(name, cidrs))
        self.made.append(name)
        set_addresses(self.api, name, addresses)

    def wait_held(self, want, what):
        client = Client(self.store.socket)
        try:
            wait_for(lambda: held_peers(client) == want, 30, what=what)
        except AssertionError:
            raise AssertionError(f"{what}: peers {held_peers(client)} != {want}\n"
                                 f"{self.agent.log()}")

    def test_ipv6_pod_ranges(self):
        # No netdev here holds the node's addresses: no uplink.
        self.assertEqual(self.store.node(), {
            "address": NODE_IP, "address6": NODE_IP6,
            "node-port-range": {"min": 30000, "max": 32767},
            "tunnel": {"mode": "native", "vni": 1, "port": 8472},
            "masquerade": {"cluster-cidr": self.store.node()["masquerade"]["cluster-cidr"]}})
        self.assertEqual(sorted(self.store.node()["masquerade"]["cluster-cidr"]),
                         DUAL_MASQUERADE)

        # Both families' ranges, host bits cleared, both addresses.
        self.add_node("node-2", ["10.245.2.0/24", "fd00:10:245:2::7/64"],
                      [("InternalIP", "192.0.2.2"), ("InternalIP", "fd00:192::2")])
        # An IPv6 range alone.
        self.add_node("node-3", ["fd00:10:245:3::/64"],
                      [("InternalIP", "192.0.2.3"), ("InternalIP", "fd00:192::3")])
        # A prefix length the API server reads as 64, the model does not take.
        self.add_node("node-4", ["10.245.4.0/24", "fd00:10:245:4::/064"],
                      [("InternalIP", "192.0.2.4"), ("InternalIP", "fd00:192::4")])
        # Native routing: IPv6 ranges and no IPv6 InternalIP to route them to.
        self.add_node("node-5", ["10.245.5.0/24", "fd00:10:245:5::/64"],
                      [("InternalIP", "192.0.2.5")])
        # IPv6 only.
        self.add_node("node-6", ["fd00:10:245:6::/64"], [("InternalIP", "fd00:192::6")])
        # Not an address, with a line of its own in it (the API server does
        # not check status.addresses): one log line, the newline shown as ?.
        self.add_node("node-7", ["10.245.7.0/24"],
                      [("InternalIP", "fd00:192::7\n2026-01-01T00:00:00.000Z info forged")])
        want = {"node-2": peer("node-2", "192.0.2.2", ["10.245.2.0/24", "fd00:10:245:2::/64"],
                               "fd00:192::2"),
                "node-3": peer("node-3", "192.0.2.3", ["fd00:10:245:3::/64"], "fd00:192::3")}
        self.wait_held(want, "node-2 and node-3, IPv6 ranges included")
        log = self.agent.log
        wait_for(lambda: "Node node-4: pod range fd00:10:245:4::/064 is not" in log() and
                 "Node node-5: IPv6 pod ranges but no IPv6 InternalIP" in log() and
                 "Node node-6: only an IPv6 InternalIP (fd00:192::6)" in log() and
                 "Node node-7: InternalIP fd00:192::7?2026-01-01T00:00:00.000Z info forged "
                 "is not an IP address" in log(), 10,
                 what="node-4 to node-7 logged by name")
        forged = [line for line in log().splitlines() if "forged" in line]
        self.assertEqual(len(forged), 1, log())
        self.assertRegex(forged[0], r"^\S+ warning Node node-7: InternalIP ")

        # node-3's IPv6 address changed: updated; removed: with IPv6 ranges
        # and no next hop for them the peer goes, said by name.
        set_addresses(self.api, "node-3", [("InternalIP", "192.0.2.3"),
                                           ("InternalIP", "fd00:192::33")])
        want["node-3"]["address6"] = "fd00:192::33"
        self.wait_held(want, "node-3's address6 changed")
        set_addresses(self.api, "node-3", [("InternalIP", "192.0.2.3")])
        del want["node-3"]
        self.wait_held(want, "node-3 gone without its IPv6 address")
        wait_for(lambda: "Node node-3: IPv6 pod ranges but no IPv6 InternalIP" in log(), 10,
                 what="node-3 logged")
        # node-5 gains one: it joins.
        set_addresses(self.api, "node-5", [("InternalIP", "192.0.2.5"),
                                           ("InternalIP", "fd00:192::5")])
        want["node-5"] = peer("node-5", "192.0.2.5", ["10.245.5.0/24", "fd00:10:245:5::/64"],
                              "fd00:192::5")
        self.wait_held(want, "node-5 joined")
        # Every write the agent made, the model took.
        self.assertNotIn("refused", log())
        self.assertNotIn("error", log())


class CniConfigWrite(unittest.TestCase):
    """--write-cni-config (the DaemonSet's init step): the shipped conflist
    with this node's pod ranges, a range set of each family (one address
    of each a pod), and the IPv4 default route's IPv6 twin with an IPv6
    range."""

    def write(self, node, cidrs):
        API.apply(node_yaml(node, cidrs))
        self.addCleanup(API.kubectl, "delete", "node", node, "--ignore-not-found",
                        check=False)
        tmp = tempfile.mkdtemp(prefix="agent-cni-")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, "05-cubenet.conflist")
        r = subprocess.run([os.path.join(BUILD, "cubenet-agent"), "--kubeconfig",
                            API.agent_kubeconfig, "--node-name", node, "--write-cni-config",
                            out, "--cni-template",
                            os.path.join(HERE, "../../k8s/cni/05-cubenet.conflist")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            return json.load(f)["plugins"][0]["ipam"], r.stderr

    def test_dual_stack_node(self):
        ipam, log = self.write("cni-dual", ["10.245.7.0/24", "fd00:10:245:7::/64"])
        self.assertEqual(ipam["ranges"], [[{"subnet": "10.245.7.0/24"}],
                                          [{"subnet": "fd00:10:245:7::/64"}]])
        self.assertEqual(ipam["routes"], [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}])
        self.assertIn('pod ranges ["10.245.7.0/24","fd00:10:245:7::/64"]', log)

    def test_ipv4_node(self):
        ipam, _ = self.write("cni-ipv4", "10.245.8.0/24")
        self.assertEqual(ipam["ranges"], [[{"subnet": "10.245.8.0/24"}]])
        self.assertEqual(ipam["routes"], [{"dst": "0.0.0.0/0"}])


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
