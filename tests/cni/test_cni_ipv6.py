# SPDX-License-Identifier: Apache-2.0
"""Dual-stack pods on one node, made by the CNI plugin with host-local
giving an IPv4 and an IPv6 range: the pod's IPv6 address without its
prefix route, its on-link gateway and default route; on the node side the
IPv6 gateway as a /128 and a /128 route to the pod; real TCP and UDP over
IPv6 pod to pod, node to pod through the host device, and through an IPv6
ClusterIP, every server seeing the client's own address and every byte
echoed; CHECK finding IPv6 drift on both sides of the link; DEL leaving no
IPv6 address or route behind; IPAM answers whose IPv6 gateway or address
makes no sense refused with nothing made. Needs root; exits 77 without
it."""
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_cni import CniNode, sh  # noqa: E402

SUBNET4, SUBNET6 = "10.245.0.0/24", "fd00:245::/64"
GW4, GW6 = "10.245.0.1", "fd00:245::1"
CLUSTER_IP6, PORT, TARGET = "fd00:96::10", 80, 8080
SERVICES = "/restconf/data/cubenet-pods:services"
# The source a pod reaching itself through a service is given (the node
# has no IPv6 address of its own in cubenet-pods: services/pods).
HAIRPIN6 = "100::42:1"

# TCP and UDP on TARGET over IPv6 (and IPv4, the socket being dual-stack):
# each connection or datagram is answered with "PEER DATA", PEER the
# source address the server saw.
SERVER = r"""
import socket, sys, threading
t = socket.socket(socket.AF_INET6); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("::", %d)); t.listen(64)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::", %d))
def udp():
    while True:
        data, peer = u.recvfrom(65535); u.sendto(peer[0].encode() + b" " + data, peer)
def serve(c, peer):
    data = b""
    while not data.endswith(b"\n"):
        got = c.recv(65535)
        if not got:
            break
        data += got
    c.sendall(peer[0].encode() + b" " + data); c.close()
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
while True:
    c, peer = t.accept(); threading.Thread(target=serve, args=(c, peer), daemon=True).start()
""" % (TARGET, TARGET)

# argv: proto addr port data. Prints {"local", "peer", "reply"} (local:
# the client's own address, peer: where the reply came from) or {"error"}.
CLIENT = r"""
import json, socket, sys
proto, addr, port, data = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
try:
    if proto == "tcp":
        c = socket.socket(socket.AF_INET6); c.settimeout(3); c.connect((addr, port))
        c.sendall(data + b"\n"); reply = b""
        while True:
            got = c.recv(65535)
            if not got:
                break
            reply += got
        peer = c.getpeername()
    else:  # connected: a reply from any other address is not taken
        c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); c.settimeout(3)
        c.connect((addr, port)); c.send(data); reply = c.recv(65535)
        peer = c.getpeername()
    print(json.dumps({"local": c.getsockname()[0], "peer": peer[0], "reply": reply.decode()}))
except OSError as e:
    print(json.dumps({"error": str(e)}))
"""


def addr_of(cidr):
    return cidr.split("/")[0]


class DualStackNode(CniNode):
    def conf(self, version="1.1.0", **extra):
        c = super().conf(version, **extra)
        if "ipam" not in extra:
            c["ipam"] = dict(c["ipam"], ranges=[[{"subnet": SUBNET4}], [{"subnet": SUBNET6}]],
                             routes=[{"dst": "0.0.0.0/0"}, {"dst": "::/0"}])
        return c

    def add(self, cid, conf=None, env=None):
        """A dual-stack pod: (netns, result, IPv4 address, IPv6 address)."""
        ns = self.pod()
        rc, res = self.cni("ADD", conf or self.conf(), cid=cid, netns=ns, env=env)
        self.assertEqual(rc, 0, res)
        by_family = {ipaddress.ip_interface(ip["address"]).version: ip for ip in res["ips"]}
        self.assertEqual(set(by_family), {4, 6}, res)
        return ns, res, addr_of(by_family[4]["address"]), addr_of(by_family[6]["address"])

    def serve(self, ns):
        srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER],
                               stdout=subprocess.PIPE, text=True)
        self.addCleanup(srv.stdout.close)
        self.addCleanup(srv.wait)
        self.addCleanup(srv.kill)
        self.assertEqual(srv.stdout.readline().strip(), "ready")

    def client(self, ns, proto, addr, port, data):
        out = sh("ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, proto, addr,
                 str(port), data)
        return json.loads(out.stdout)

    def ip6(self, ns, *what):
        return json.loads(sh("ip", "-n", ns, "-6", "-j", *what).stdout or "[]")

    def node_ipv6(self):
        """The node's IPv6 addresses and routes in the pods' range (what
        the plugin adds on the node side and DEL must take away)."""
        net = ipaddress.ip_network(SUBNET6)
        addrs = [(lk["ifname"], a["local"], a["prefixlen"])
                 for lk in self.ip6(self.node, "addr", "show")
                 for a in lk["addr_info"] if ipaddress.ip_address(a["local"]) in net]
        routes = [(r["dst"], r.get("dev"), r.get("type", "unicast"), r.get("metric"))
                  for r in self.ip6(self.node, "route", "show", "table", "all")
                  if r["dst"] != "default" and
                  ipaddress.ip_network(r["dst"], strict=False).subnet_of(net)]
        return sorted(addrs), sorted(routes)

    def metrics(self, pattern):
        """{label: value} of the /metrics lines pattern (one group, the
        label) matches."""
        body = self.daemon.client().get("/metrics").body
        return {m.group(1): int(m.group(2))
                for m in re.finditer(pattern + r" (\d+)", body)}

    def verdicts(self, cube):
        return self.metrics(r'cubenet_cube_verdict_packets_total\{cube="%s",verdict="(\w+)"\}'
                            % cube)

    def forwarded6(self):
        """IPv6 packets the node's kernel forwarded (not the chain)."""
        out = sh("ip", "netns", "exec", self.node, "cat", "/proc/net/snmp6").stdout
        return int(re.search(r"^Ip6OutForwDatagrams\s+(\d+)", out, re.M).group(1))

    def node_config(self, **node):
        r = self.daemon.client().put("/restconf/data/cubenet-pods:node",
                                     {"cubenet-pods:node": node})
        self.assertIn(r.status, (201, 204), r.body)

    def echoes(self, client_ns, server_addr, port, want_local, seen=None):
        """TCP and UDP from client_ns to server_addr:port: the client's
        address was want_local and the server saw it (or seen), the reply
        came from server_addr, all bytes came back."""
        for proto in ("tcp", "udp"):
            data = "hello-%s-%s" % (proto, "x" * 1000)
            got = self.client(client_ns, proto, server_addr, port, data)
            self.assertEqual(got, {"local": want_local, "peer": server_addr,
                                   "reply": "%s %s%s" % (seen or want_local, data,
                                                         "\n" if proto == "tcp" else "")},
                             proto)


class DualStackTest(DualStackNode):
    def test_add_sets_both_ends_and_del_takes_it_all_back(self):
        ns, res, a4, a6 = self.add("c1")
        host = res["interfaces"][0]["name"]
        by_family = {ipaddress.ip_interface(ip["address"]).version: ip for ip in res["ips"]}
        self.assertEqual(by_family[6]["gateway"], GW6)
        self.assertEqual(by_family[4]["gateway"], GW4)
        self.assertEqual(ipaddress.ip_interface(by_family[6]["address"]).network,
                         ipaddress.ip_network(SUBNET6))
        self.assertEqual(res["routes"], [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}])
        # The pod: its address with the prefix but without the prefix
        # route, used at once (no DAD); the gateway on the link; the
        # default route through it; nothing else of the /64 on the link.
        pod = self.ip6(ns, "addr", "show", "dev", "eth0")[0]["addr_info"]
        mine = [a for a in pod if a["local"] == a6]
        self.assertEqual(len(mine), 1, pod)
        self.assertEqual(mine[0]["prefixlen"], 64)
        self.assertTrue(mine[0].get("noprefixroute"), mine[0])
        self.assertTrue(mine[0].get("nodad"), mine[0])
        self.assertFalse(mine[0].get("tentative"), mine[0])
        routes = {(r["dst"], r.get("gateway"), r.get("dev"))
                  for r in self.ip6(ns, "route", "show") if not r["dst"].startswith("fe80")}
        self.assertEqual(routes, {(GW6, None, "eth0"), ("default", GW6, "eth0")})
        # The node: the gateway as a /128 on the pod's veth (no DAD, no
        # prefix route), a /128 route to the pod behind cubenetd's through
        # cubenet0, IPv6 forwarding on.
        self.assertEqual(self.node_ipv6(),
                         ([(host, GW6, 128)],
                          [(GW6, host, "local", 0), (a6, host, "unicast", 100),
                           (a6, "cubenet0", "unicast", 1)]))
        gw = [a for lk in self.ip6(self.node, "addr", "show", "dev", host)
              for a in lk["addr_info"] if a["local"] == GW6][0]
        self.assertTrue(gw.get("nodad"), gw)
        self.assertTrue(gw.get("noprefixroute"), gw)
        self.assertIn("dev cubenet0", sh("ip", "-n", self.node, "route", "get", a6).stdout)
        fwd = sh("ip", "netns", "exec", self.node, "sysctl", "-n",
                 "net.ipv6.conf.all.forwarding").stdout.strip()
        self.assertEqual(fwd, "1")
        # Registered with both addresses.
        self.assertEqual(sorted(self.registered()[0]["address"]), sorted([a4, a6]))
        self.assertEqual(self.cni("CHECK", self.conf(prevResult=res), cid="c1", netns=ns),
                         (0, None))
        self.assertEqual(self.cni("DEL", self.conf(), cid="c1", netns=ns), (0, None))
        self.assertEqual(self.node_ipv6(), ([], []))
        self.assertNothingMade()

    def test_tcp_and_udp_pod_to_pod_on_one_64(self):
        """Through the gateway and the chain's router (a redirect straight
        out of the other pod's veth), not the node's kernel."""
        a, res_a, _, a6 = self.add("ca")
        b, _, _, b6 = self.add("cb")
        self.serve(b)
        router, forwarded = self.verdicts("node:router"), self.forwarded6()
        self.echoes(a, b6, TARGET, a6)
        self.assertEqual(self.forwarded6(), forwarded)
        # Each way, TCP (at least SYN, data, FIN, their ACKs) and UDP.
        self.assertGreaterEqual(self.verdicts("node:router")["redirect"] -
                                router.get("redirect", 0), 8)
        # The pod's neighbour for the gateway is the node's end of its link.
        self.assertEqual([n["lladdr"] for n in self.ip6(a, "neigh", "show", GW6)],
                         [res_a["interfaces"][0]["mac"]])

    def test_node_to_pod_through_the_host_device_and_without(self):
        """The node's own packets to a pod go to cubenet0 and out of the
        chain's router; with the host device off, the plugin's /128 route
        through the pod's veth carries them."""
        a, _, _, a6 = self.add("ca")
        self.serve(a)
        self.node_config(**{"host-device": True})
        self.assertIn("dev cubenet0", sh("ip", "-n", self.node, "route", "get", a6).stdout)
        router = self.verdicts("node:router").get("redirect", 0)
        local = self.node_source(a6)
        self.echoes(self.node, a6, TARGET, local)
        self.assertGreaterEqual(self.verdicts("node:router")["redirect"] - router, 4)
        self.node_config(**{"host-device": False})
        self.assertNotIn("cubenet0", sh("ip", "-n", self.node, "route", "get", a6).stdout)
        self.echoes(self.node, a6, TARGET, self.node_source(a6))

    def test_a_pod_reaching_itself_through_its_ipv6_cluster_ip(self):
        """Hairpin: the pod is the service's one endpoint; its source is
        translated too, so the reply goes back through the chain and comes
        from the ClusterIP."""
        a, _, _, a6 = self.add("ca")
        self.serve(a)
        self.put_web([a6])
        self.echoes(a, CLUSTER_IP6, PORT, a6, seen=HAIRPIN6)

    def test_node_sockets_to_an_ipv6_cluster_ip(self):
        """The node's own sockets (host-clients): a connect or a send to
        the IPv6 ClusterIP reaches the endpoint from the node's address,
        the ClusterIP shown as the peer and as the replies' source."""
        a, _, _, a6 = self.add("ca")
        self.serve(a)
        self.put_web([a6])
        self.echoes(self.node, CLUSTER_IP6, PORT, self.node_source(a6))

    def put_web(self, endpoints):
        body = {"cubenet-pods:services": {"service": [{
            "namespace": "default", "name": "web", "cluster-ip": [CLUSTER_IP6],
            "port": [{"port": PORT, "protocol": "tcp", "target-port": TARGET},
                     {"port": PORT, "protocol": "udp", "target-port": TARGET}],
            "endpoint": [{"address": addr} for addr in endpoints]}]}}
        r = self.daemon.client().put(SERVICES, body)
        self.assertIn(r.status, (201, 204), r.body)

    def test_node_to_a_quiet_pod_without_the_host_device(self):
        """The node reaches a pod that never spoke (no neighbour learned
        from its solicitations): the pod's advertisements would go to the
        chain's router, so the plugin wrote the neighbour."""
        self.node_config(**{"host-device": False})
        a, _, _, a6 = self.add("ca")
        self.serve(a)
        sh("ip", "-n", self.node, "-6", "neigh", "flush", "all")
        self.echoes(self.node, a6, TARGET, self.node_source(a6))
        neigh = self.ip6(self.node, "neigh", "show", a6)
        self.assertEqual([(n["lladdr"], n["state"]) for n in neigh],
                         [(self.ip6(a, "link", "show", "eth0")[0]["address"], ["PERMANENT"])])

    def test_check_finds_drift_of_either_family_on_either_end(self):
        ns, res, a4, a6 = self.add("c1")
        host = res["interfaces"][0]["name"]
        conf = self.conf(prevResult=res)
        self.assertEqual(self.cni("CHECK", conf, cid="c1", netns=ns), (0, None))
        by_family = {ipaddress.ip_interface(ip["address"]).version: ip for ip in res["ips"]}
        drifts = (
            # (what is taken away, what puts it back, what CHECK says)
            (("-n", ns, "addr", "del", by_family[6]["address"], "dev", "eth0"),
             [("-n", ns, "addr", "add", by_family[6]["address"], "dev", "eth0", "nodad",
               "noprefixroute")], "no address " + by_family[6]["address"]),
            (("-n", ns, "-6", "route", "del", "default"),
             [("-n", ns, "-6", "route", "add", "default", "via", GW6, "dev", "eth0")],
             "no route to ::/0"),
            (("-n", ns, "-6", "route", "del", GW6 + "/128", "dev", "eth0"),
             [("-n", ns, "-6", "route", "add", GW6 + "/128", "dev", "eth0")],
             "no route to the gateway %s/128" % GW6),
            (("-n", self.node, "addr", "del", GW6 + "/128", "dev", host),
             [("-n", self.node, "addr", "add", GW6 + "/128", "dev", host, "nodad",
               "noprefixroute")], "has no address %s/128" % GW6),
            (("-n", self.node, "-6", "route", "del", a6 + "/128", "dev", host, "metric", "100"),
             [("-n", self.node, "-6", "route", "add", a6 + "/128", "dev", host, "metric",
               "100")], "no route to %s/128 through %s" % (a6, host)),
            (("-n", self.node, "route", "del", a4 + "/32", "dev", host, "metric", "100"),
             [("-n", self.node, "route", "add", a4 + "/32", "dev", host, "metric", "100")],
             "no route to %s/32 through %s" % (a4, host)),
            (("-n", self.node, "addr", "del", GW4 + "/32", "dev", host),
             [("-n", self.node, "addr", "add", GW4 + "/32", "dev", host)],
             "has no address %s/32" % GW4))
        # The veth's last IPv4 address would take its IPv4 routes with it.
        sh("ip", "-n", self.node, "addr", "add", "192.0.2.99/32", "dev", host)
        for take, put, words in drifts:
            with self.subTest(take=take):
                sh("ip", *take)
                self.assertCniError(self.cni("CHECK", conf, cid="c1", netns=ns), 5, words)
                for cmd in put:
                    sh("ip", *cmd)
                self.assertEqual(self.cni("CHECK", conf, cid="c1", netns=ns), (0, None))

    def test_ipam_answers_no_pod_can_use_are_refused(self):
        """Whatever IPAM answers for the pod's address and its gateway, one
        the node cannot route or the pod cannot reach on its link is the
        spec's error and nothing is left behind: no address held, no veth,
        no IPv6 address or route on the node, no interface in the pod."""
        a = self.pod()
        conf = self.conf(ipam=dict(self.conf()["ipam"], type="fake-ipam"))
        for mode, words in (
                ("set:6:gateway:{addr}", "ips[1].gateway fd00:245::"),
                ("set:6:gateway:{addr}", "is the pod's own address"),
                ("set:6:gateway:fe80::1", "ips[1].gateway fe80::1 is link-local"),
                ("set:6:gateway:ff02::2", "ips[1].gateway ff02::2 is a multicast address"),
                ("set:6:gateway:::", "ips[1].gateway :: is unspecified"),
                ("set:6:gateway:::1", "ips[1].gateway ::1 is the loopback address"),
                ("set:6:gateway:::ffff:10.245.0.1", "is an IPv4-mapped address"),
                ("set:6:gateway:fd00:999::1",
                 "ips[1].gateway fd00:999::1 is outside the address's prefix"),
                ("set:6:address:{addr}/128", "ips[1].gateway fd00:245::1 is outside"),
                ("set:6:address:{addr}/0", "/0 has no prefix a node can route"),
                ("set:6:address:fe80::2/64", "ips[1].address fe80::2/64 is link-local"),
                ("set:6:address:ff05::2/64", "ips[1].address ff05::2/64 is a multicast"),
                ("set:4:gateway:{addr}", "is the pod's own address"),
                ("set:4:gateway:10.99.0.1", "ips[0].gateway 10.99.0.1 is outside"),
                ("set:4:gateway:224.0.0.1", "ips[0].gateway 224.0.0.1 is a multicast"),
                ("set:4:address:127.0.0.2/8", "ips[0].address 127.0.0.2/8 is a loopback")):
            with self.subTest(mode=mode):
                self.assertCniError(self.cni("ADD", conf, netns=a, env=self.fake_ipam(mode)),
                                    5, words)
                self.assertNothingMade(a)
                self.assertEqual(self.node_ipv6(), ([], []))
        rc, res = self.cni("ADD", conf, netns=a, env=self.fake_ipam())
        self.assertEqual(rc, 0, res)
        self.assertEqual(self.cni("DEL", conf, netns=a, env=self.fake_ipam()), (0, None))
        self.assertNothingMade(a)
        self.assertEqual(self.node_ipv6(), ([], []))

    def node_source(self, dst):
        """The source address the node's kernel picks for dst."""
        out = json.loads(sh("ip", "-n", self.node, "-6", "-j", "route", "get", dst).stdout)
        return out[0]["prefsrc"]

    def test_cluster_ip_from_a_pod_to_pods_on_the_node(self):
        """An IPv6 ClusterIP: DNAT to an endpoint pod keeping the client's
        address, the reply translated back to come from the ClusterIP."""
        a, _, _, a6 = self.add("ca")
        pods = {}
        for cid in ("be1", "be2"):
            ns, _, _, addr = self.add(cid)
            self.serve(ns)
            pods[addr] = ns
        self.put_web(list(pods))
        for _ in range(10):
            self.echoes(a, CLUSTER_IP6, PORT, a6)
        svc = self.daemon.client().get(SERVICES + "/service=default,web").json()
        svc = svc["cubenet-pods:service"][0]
        self.assertEqual(int(svc["statistics"]["new-connections"]), 20)
        used = {e["address"] for e in svc["endpoint"]
                if int(e["statistics"]["new-connections"])}
        self.assertEqual(used, set(pods))

    def test_masqueraded_pod_learns_the_path_mtu_over_ipv6(self):
        """A pod masqueraded to the node's IPv6 address sends 200 KB to a
        host beyond a router whose next link carries 1280 bytes: the
        router's "packet too big", sent to the node's address about the
        translated packet, reaches the pod as about its own, and the pod's
        route to the host learns mtu 1280."""
        outside, far = self.pod(), self.pod()
        sh("ip", "link", "add", "up0", "netns", self.node, "type", "veth", "peer", "name",
           "eth0", "netns", outside)
        sh("ip", "link", "add", "eth1", "netns", outside, "type", "veth", "peer", "name",
           "eth0", "netns", far)
        sh("ip", "-n", self.node, "addr", "add", "192.0.2.1/24", "dev", "up0")
        sh("ip", "-n", self.node, "addr", "add", "2001:db8:1::1/64", "dev", "up0", "nodad")
        sh("ip", "-n", self.node, "link", "set", "up0", "up")
        sh("ip", "-n", outside, "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad")
        sh("ip", "-n", outside, "addr", "add", "2001:db8:2::1/64", "dev", "eth1", "nodad")
        sh("ip", "-n", outside, "link", "set", "eth0", "up")
        sh("ip", "-n", outside, "link", "set", "eth1", "mtu", "1280", "up")
        sh("ip", "netns", "exec", outside, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        sh("ip", "-n", far, "addr", "add", "2001:db8:2::2/64", "dev", "eth0", "nodad")
        sh("ip", "-n", far, "link", "set", "eth0", "up")
        sh("ip", "-n", far, "-6", "route", "add", "default", "via", "2001:db8:2::1")
        sh("ip", "-n", self.node, "-6", "route", "add", "2001:db8:2::/64", "via",
           "2001:db8:1::2")
        self.node_config(uplink="up0", masquerade={"cluster-cidr": ["10.245.0.0/16",
                                                                    "fd00:245::/64"]})
        a, _, _, a6 = self.add("ca")
        sink = ("import socket; s=socket.socket(socket.AF_INET6); "
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                "s.bind(('::', 9000)); s.listen(); print('ready', flush=True)\n"
                "while True:\n    c, a = s.accept(); n = 0\n"
                "    while (d := c.recv(65536)):\n        n += len(d)\n"
                "    c.sendall(f'{a[0]} {n}'.encode()); c.close()")
        srv = subprocess.Popen(["ip", "netns", "exec", far, sys.executable, "-c", sink],
                               stdout=subprocess.PIPE, text=True)
        self.addCleanup(srv.stdout.close)
        self.addCleanup(srv.wait)
        self.addCleanup(srv.kill)
        self.assertEqual(srv.stdout.readline().strip(), "ready")
        send = ("import socket\n"
                "c = socket.create_connection(('2001:db8:2::2', 9000), timeout=10)\n"
                "c.sendall(bytes(200000)); c.shutdown(socket.SHUT_WR)\n"
                "print(c.recv(100).decode())")
        out = sh("ip", "netns", "exec", a, sys.executable, "-c", send)
        self.assertEqual(out.stdout.strip(), "2001:db8:1::1 200000")
        route = sh("ip", "-n", a, "-6", "route", "get", "2001:db8:2::2").stdout
        self.assertIn("mtu 1280", route)

    def test_host_ports_in_both_families(self):
        """A port mapping without a host IP is served on the node's address
        of each family, to the pod's address of that family; 0.0.0.0 and ::
        keep it to theirs."""
        outside = self.pod()
        sh("ip", "link", "add", "up0", "netns", self.node, "type", "veth", "peer", "name",
           "eth0", "netns", outside)
        sh("ip", "-n", self.node, "addr", "add", "192.0.2.1/24", "dev", "up0")
        sh("ip", "-n", self.node, "addr", "add", "2001:db8:1::1/64", "dev", "up0", "nodad")
        sh("ip", "-n", self.node, "link", "set", "up0", "up")
        sh("ip", "-n", outside, "addr", "add", "192.0.2.2/24", "dev", "eth0")
        sh("ip", "-n", outside, "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad")
        sh("ip", "-n", outside, "link", "set", "eth0", "up")
        self.node_config(uplink="up0")
        maps = [{"hostPort": 8081, "containerPort": TARGET, "protocol": "tcp"},
                {"hostPort": 8082, "containerPort": TARGET, "protocol": "tcp", "hostIP": "::"},
                {"hostPort": 8083, "containerPort": TARGET, "protocol": "tcp",
                 "hostIP": "0.0.0.0"}]
        a, _, _, _ = self.add("ca", self.conf(runtimeConfig={"portMappings": maps}))
        self.serve(a)
        v4, v6 = "::ffff:192.0.2.1", "2001:db8:1::1"
        seen = {v4: "::ffff:192.0.2.2", v6: "2001:db8:1::2"}
        for port, served in ((8081, (v4, v6)), (8082, (v6,)), (8083, (v4,))):
            for node_addr in (v4, v6):
                with self.subTest(port=port, node_addr=node_addr):
                    got = self.client(outside, "tcp", node_addr, port, "hi")
                    if node_addr in served:
                        self.assertEqual(got, {"local": seen[node_addr], "peer": node_addr,
                                               "reply": f"{seen[node_addr]} hi\n"})
                    else:
                        self.assertEqual(got, {"error": "[Errno 111] Connection refused"})


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
