# SPDX-License-Identifier: Apache-2.0
"""The L2DSR lb service end to end: configured through cubenetd's API only,
real TCP between namespaces.

  client ──┐                       ┌── be1, be2, be3 (+ be4 later), the VIP on lo
           ├── bridge (fabric ns) ─┤
  lb ──────┘   10.88.0.0/24        └── (backends answer the client directly)

Needs root (BPF, namespaces); exits 77 (skip) without it."""
import json
import math
import os
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from restconf_client import Daemon  # noqa: E402

BUILD = os.environ.get("CUBENET_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
PASS_OBJ = os.path.join(BUILD, "pass.bpf.o")
PEERS = os.path.join(os.path.dirname(__file__), "lb_peers.py")
LBS = "/restconf/data/cubenet-lb:lbs"
VIP, PORT = "10.88.1.100", 80
VIP6 = "fd88:1::100"
NET = "10.88.0"
NET6 = "fd88::"


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def vip_path(address=VIP, port=PORT, proto="tcp", lb="lb0"):
    return f"{LBS}/lb={lb}/vip={address},{port},{proto}"


def within_binomial(count, n, p):
    """Whether count of n is within 4.5 standard deviations of n * p, plus
    the Maglev table's own imbalance (under 1% at M >= 100 N). A correct
    spread fails this about once in 150,000 runs per backend; a spread that
    ignores the weights (1/3 each instead of 1/4, 1/4, 1/2) fails it."""
    sigma = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= 4.5 * sigma + 0.01 * n


class LbTopology(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        self.tag = "cnl" + uuid.uuid4().hex[:6]
        self.fab = self.tag + "-fab"
        self.namespaces = [self.fab]
        self.servers = []
        self.daemon = None
        self.addCleanup(self.cleanup)  # runs even if setUp fails half way
        sh("ip", "netns", "add", self.fab)
        sh("ip", "-n", self.fab, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.fab, "link", "set", "br0", "up")
        self.macs = {}
        self.host("cli", f"{NET}.10")
        self.host("lb", f"{NET}.2")
        for i in (1, 2, 3, 4):
            self.backend(f"be{i}", f"{NET}.1{i}")
        sh("ip", "-n", self.ns("cli"), "route", "add", f"{VIP}/32", "via", f"{NET}.2")
        sh("ip", "-n", self.ns("cli"), "route", "add", f"{VIP6}/128", "via", f"{NET6}2")
        # Native XDP_TX on a veth reaches the peer only if the peer runs XDP.
        sh("ip", "-n", self.fab, "link", "set", "dev", "lb", "xdpdrv", "obj", PASS_OBJ, "sec",
           "xdp")
        self.daemon = Daemon(netns=self.ns("lb")).start()
        self.c = self.daemon.client()

    def ns(self, name):
        return f"{self.tag}-{name}"

    def host(self, name, ip):
        ns = self.ns(name)
        mac = "02:88:00:00:00:%02x" % int(ip.rsplit(".", 1)[1])
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "link", "add", "eth0", "netns", ns, "address", mac, "type", "veth", "peer",
           "name", name, "netns", self.fab)
        sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
        sh("ip", "-n", ns, "addr", "add", f"{NET6}{ip.rsplit('.', 1)[1]}/64", "dev", "eth0",
           "nodad")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.fab, "link", "set", name, "master", "br0", "up")
        # Checksums finished in software, as a NIC would: a veth otherwise
        # hands on partial checksums that do not survive an XDP hop.
        sh("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off")
        self.macs[name] = mac

    def backend(self, name, ip):
        self.host(name, ip)
        ns = self.ns(name)
        # The VIP on loopback, never announced: the seed's L2DSR backends.
        sh("ip", "-n", ns, "addr", "add", f"{VIP}/32", "dev", "lo")
        sh("ip", "-n", ns, "addr", "add", f"{VIP6}/128", "dev", "lo")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1",
           "net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.all.rp_filter=0",
           "net.ipv4.conf.default.rp_filter=0")
        srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, PEERS, "serve", name,
                                VIP, str(PORT)], stdout=subprocess.PIPE, text=True)
        self.servers.append(srv)
        self.assertEqual(srv.stdout.readline().strip(), "ready")
        srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, PEERS, "serve", name,
                                VIP6, str(PORT)], stdout=subprocess.PIPE, text=True)
        self.servers.append(srv)
        self.assertEqual(srv.stdout.readline().strip(), "ready")

    def cleanup(self):
        for srv in self.servers:
            srv.kill()
            srv.wait()
        if self.daemon:
            self.daemon.cleanup()
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)

    # -- the API --------------------------------------------------------------

    def backend_entry(self, name, weight=1, **extra):
        entry = {"name": name, "mac": self.macs[name], "weight": weight,
                 "address": f"{NET}.1{name[-1]}"}
        entry.update(extra)
        return entry

    def lb_config(self, backends, **vip_extra):
        vip = {"address": VIP, "port": PORT, "protocol": "tcp", "backend": backends}
        vip.update(vip_extra)
        return {"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": "eth0", "vip": [vip]}]}}

    def configure(self, body):
        r = self.c.put(LBS, body)
        self.assertIn(r.status, (200, 201, 204), r.body)

    def lb_state(self):
        r = self.c.get(LBS)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["cubenet-lb:lbs"]["lb"][0]

    # -- traffic --------------------------------------------------------------

    def connect(self, count, port=PORT, vip=VIP):
        out = sh("ip", "netns", "exec", self.ns("cli"), sys.executable, PEERS, "connect", vip,
                 str(port), str(count))
        return json.loads(out.stdout)

    def hold(self, count):
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns("cli"), sys.executable, PEERS,
                                 "hold", VIP, str(PORT), str(count)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        return proc

    def ask_again(self, proc):
        proc.stdin.write("again\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    def rx_packets(self, name):
        out = sh("ip", "netns", "exec", self.ns(name), "cat",
                 "/sys/class/net/eth0/statistics/rx_packets")
        return int(out.stdout)

    def tcpdump(self, name, *args):
        """tcpdump on name's eth0 (-nn -l and args), once it is listening."""
        cap = subprocess.Popen(["ip", "netns", "exec", self.ns(name), "tcpdump", "-i", "eth0",
                                "-nn", "-l", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(cap.kill)
        for line in cap.stderr:
            if "listening on" in line:
                break
        else:
            self.fail(f"tcpdump in {name} did not start")
        return cap


class LbTrafficTest(LbTopology):
    def test_spread_follows_weights_and_replies_bypass_the_lb(self):
        self.configure(self.lb_config([self.backend_entry("be1", 1), self.backend_entry("be2", 1),
                                       self.backend_entry("be3", 2)]))
        replies = self.tcpdump("lb", f"ether dst {self.macs['lb']} and tcp and src host {VIP}")
        n = 400
        got = self.connect(n)
        self.assertEqual(got.pop("failed"), 0, got)
        self.assertEqual(sum(got.values()), n)
        for name, share in (("be1", 0.25), ("be2", 0.25), ("be3", 0.5)):
            self.assertTrue(within_binomial(got.get(name, 0), n, share), (name, got))
        self.assertNotIn("be4", got)

        # Direct server return: none of the backends' replies (from the
        # VIP) was sent to the lb.
        replies.terminate()
        self.assertEqual(replies.communicate(timeout=10)[0].split(), [])

        # The daemon's counters: per backend, per VIP, for the chain.
        st = self.lb_state()
        vip = st["vip"][0]
        per_backend = {b["name"]: int(b["statistics"]["packets"]) for b in vip["backend"]}
        self.assertEqual(sum(per_backend.values()), int(vip["statistics"]["packets"]))
        self.assertEqual(int(st["statistics"]["forwarded"]), int(vip["statistics"]["packets"]))
        self.assertGreaterEqual(int(vip["statistics"]["packets"]), 5 * n)
        for name, conns in got.items():
            # Every connection is 5 or 6 packets through the lb.
            self.assertTrue(5 * conns <= per_backend[name] <= 6 * conns + 5,
                            (name, conns, per_backend))
        self.assertNotIn("drop", st["statistics"])
        # ARP for the lb's own address reached the stack, not a backend.
        self.assertGreater(int(st["statistics"]["not-for-a-vip"]), 0)
        self.assertEqual(int(st["statistics"]["rx-packets"]),
                         int(st["statistics"]["not-for-a-vip"]) +
                         int(st["statistics"]["forwarded"]))

    def test_established_flows_keep_their_backend(self):
        self.configure(self.lb_config([self.backend_entry(f"be{i}") for i in (1, 2, 3)]))
        held = self.hold(30)
        first = json.loads(held.stdout.readline())
        self.assertNotIn(None, first)

        # Adding a backend moves about a quarter of the hash space; with the
        # connection table on, no established connection notices.
        self.configure(self.lb_config([self.backend_entry(f"be{i}") for i in (1, 2, 3, 4)]))
        self.assertEqual(self.ask_again(held), first)
        got = self.connect(100)
        self.assertEqual(got["failed"], 0, got)
        self.assertGreater(got.get("be4", 0), 0, got)

        # Draining be1: its connections keep working, it gets no new ones.
        self.configure(self.lb_config([self.backend_entry("be1", state="draining")] +
                                      [self.backend_entry(f"be{i}") for i in (2, 3, 4)]))
        self.assertEqual(self.ask_again(held), first)
        got = self.connect(100)
        self.assertEqual(got["failed"], 0, got)
        self.assertNotIn("be1", got)

        # The daemon killed and restarted: the datapath and the ids stay, so
        # the connections still reach the same backends, before and after a
        # further change made by the new daemon.
        self.daemon.stop(sig=9)
        self.assertEqual(self.ask_again(held), first)
        self.daemon.start()
        self.c = self.daemon.client()
        self.assertEqual(self.ask_again(held), first)
        self.configure(self.lb_config([self.backend_entry("be1", state="draining")] +
                                      [self.backend_entry(f"be{i}", weight=2)
                                       for i in (2, 3, 4)]))
        self.assertEqual(self.ask_again(held), first)

    def test_without_connection_table_flows_move(self):
        """The control for the test above: the same change breaks some
        connections when flows are not remembered (80 connections: the
        chance none hashes onto be4 is (3/4)^80, 1e-10)."""
        self.configure(self.lb_config([self.backend_entry(f"be{i}") for i in (1, 2, 3)],
                                      **{"connection-table": False}))
        held = self.hold(80)
        first = json.loads(held.stdout.readline())
        self.assertNotIn(None, first)
        self.configure(self.lb_config([self.backend_entry(f"be{i}") for i in (1, 2, 3, 4)],
                                      **{"connection-table": False}))
        again = self.ask_again(held)
        self.assertIn(None, again)

    def test_ipv6_vip(self):
        body = self.lb_config([self.backend_entry("be1")])
        body["cubenet-lb:lbs"]["lb"][0]["vip"].append({
            "address": VIP6, "port": PORT, "protocol": "tcp",
            "backend": [self.backend_entry("be2"), self.backend_entry("be3")]})
        self.configure(body)
        got = self.connect(60, vip=VIP6)
        self.assertEqual(got.pop("failed"), 0, got)
        self.assertEqual(set(got), {"be2", "be3"}, got)
        for name in ("be2", "be3"):
            self.assertTrue(within_binomial(got[name], 60, 0.5), got)
        got = self.connect(5)  # the IPv4 VIP beside it
        self.assertEqual(got, {"failed": 0, "be1": 5})
        st = self.lb_state()
        six = [v for v in st["vip"] if v["address"] == VIP6][0]
        self.assertGreaterEqual(int(six["statistics"]["packets"]), 5 * 60)

    def test_source_address_hash_gives_client_affinity(self):
        self.configure(self.lb_config([self.backend_entry(f"be{i}") for i in (1, 2, 3, 4)],
                                      hash="source-address"))
        got = self.connect(50)
        self.assertEqual(got.pop("failed"), 0)
        self.assertEqual(len(got), 1, got)  # one client address, one backend

    def test_vlan_rewrite_seen_on_the_wire(self):
        """A UDP VIP whose backend, be4, sits on VLAN 100: the lb pushes the
        tag and a capture in be4's namespace sees every frame tagged, from
        the lb's MAC to be4's, the IP packet unchanged. (This kernel has no
        802.1Q sub-interfaces, CONFIG_VLAN_8021Q is off, so the capture is
        on be4's eth0, where the tag is still in the frame.)"""
        body = self.lb_config([self.backend_entry("be1")])
        body["cubenet-lb:lbs"]["lb"][0]["vip"].append({
            "address": VIP, "port": 5000, "protocol": "udp",
            "backend": [self.backend_entry("be4", **{"vlan-id": 100})]})
        self.configure(body)
        cap = self.tcpdump("be4", "-e", "-c", "3", "-xx", "udp or (vlan and udp)")
        send = ("import socket,sys\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                "s.bind(('0.0.0.0',41000))\n"
                f"[s.sendto(b'hello vlan',('{VIP}',5000)) for _ in range(3)]\n")
        sh("ip", "netns", "exec", self.ns("cli"), sys.executable, "-c", send)
        out, _ = cap.communicate(timeout=10)
        frames = [line for line in out.splitlines() if not line.startswith("\t")]
        self.assertEqual(len(frames), 3, out)
        for line in frames:
            self.assertIn(f"{self.macs['lb']} > {self.macs['be4']}", line)
            self.assertIn("vlan 100", line)
            self.assertIn(f"{NET}.10.41000 > {VIP}.5000: UDP, length 10", line)
        # The first bytes of a frame: dst MAC, src MAC, TPID 0x8100, TCI
        # (PCP 0, VID 100 = 0x0064), then IPv4.
        first = "".join(line.split(":", 1)[1] for line in out.splitlines()[1:4]).split()
        want = (self.macs["be4"] + self.macs["lb"]).replace(":", "") + "8100" + "0064" + "0800"
        self.assertEqual("".join(first)[:len(want)], want, out)
        st = self.lb_state()
        udp = [v for v in st["vip"] if v["protocol"] == "udp"][0]
        self.assertEqual(udp["statistics"]["packets"], "3")
        self.assertEqual(udp["backend"][0]["statistics"]["packets"], "3")

    def test_not_for_a_vip_reaches_the_stack(self):
        self.configure(self.lb_config([self.backend_entry("be1")]))
        out = sh("ip", "netns", "exec", self.ns("cli"), "ping", "-c", "3", "-i", "0.2", "-W", "1",
                 f"{NET}.2")
        self.assertIn("3 received", out.stdout)
        # A port the VIP does not serve is not for a VIP either: the lb
        # node's stack answers (it has no such address: no reply at all).
        got = self.connect(1, port=81)
        self.assertEqual(got["failed"], 1)
        st = self.lb_state()
        self.assertEqual(int(st["vip"][0]["statistics"]["packets"]), 0)


class LbScaleTest(LbTopology):
    def test_seed_scale_4096_vips_4096_backends(self):
        """The seed's scale in one lb: 4,096 VIPs, a backend each (so more
        than 4,000 backends); a packet to the last VIP reaches its backend
        and is counted there. The time the API took is printed, not judged."""
        vips = []
        for i in range(4096):
            mac = "02:89:00:00:%02x:%02x" % (i >> 8, i & 0xff)
            vips.append({"address": f"10.89.{i >> 8}.{i & 0xff}", "port": 7000,
                         "protocol": "udp", "table-size": 251,
                         "backend": [{"name": f"b{i}", "mac": mac}]})
        last = vips[-1]
        last["backend"][0]["mac"] = self.macs["be2"]
        started = time.monotonic()
        self.configure({"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": "eth0",
                                                   "vip": vips}]}})
        print(f"\n  4096 VIPs x 1 backend applied in {time.monotonic() - started:.2f} s",
              file=sys.stderr)
        sh("ip", "-n", self.ns("cli"), "route", "add", "10.89.0.0/20", "via", f"{NET}.2")
        before = self.rx_packets("be2")
        send = ("import socket\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                f"[s.sendto(b'x',('{last['address']}',7000)) for _ in range(3)]\n")
        sh("ip", "netns", "exec", self.ns("cli"), sys.executable, "-c", send)
        time.sleep(0.2)
        self.assertGreaterEqual(self.rx_packets("be2") - before, 3)
        r = self.c.get(vip_path(last["address"], 7000, "udp"))
        self.assertEqual(r.status, 200, r.body)
        vip = r.json()["cubenet-lb:vip"][0]
        self.assertEqual(vip["statistics"]["packets"], "3")
        self.assertEqual(vip["backend"][0]["statistics"]["packets"], "3")
        # Removing all but the last VIP keeps the last one's ids, so its
        # counters continue.
        self.configure({"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": "eth0",
                                                   "vip": [last]}]}})
        vip = self.c.get(vip_path(last["address"], 7000, "udp")).json()["cubenet-lb:vip"][0]
        self.assertEqual(vip["statistics"]["packets"], "3")


class LbApiTest(LbTopology):
    def setUp(self):
        super().setUp()
        self.configure(self.lb_config([self.backend_entry("be1"), self.backend_entry("be2")]))
        self.before = self.c.config()
        self.table_size = self.vip_statistics()["table-size"]

    def vip_statistics(self):
        r = self.c.get(vip_path())
        self.assertEqual(r.status, 200, r.body)
        return r.json()["cubenet-lb:vip"][0]["statistics"]

    def assertRefused(self, r, status, msg_part):
        self.assertEqual(r.status, status, r.body)
        err = r.json()["ietf-restconf:errors"]["error"][0]
        self.assertIn(msg_part, err["error-message"] + err.get("error-path", ""), err)
        self.assertEqual(self.c.config(), self.before)
        # The state still shows the VIP's table.
        self.assertEqual(self.vip_statistics()["table-size"], self.table_size)
        # ... and the datapath still serves the old config.
        got = self.connect(10)
        self.assertEqual(got["failed"], 0, got)
        self.assertEqual(set(got) - {"failed"} <= {"be1", "be2"}, True, got)

    def test_big_tables_changed_faster_than_their_grace(self):
        """A VIP of 65537 slots changed again and again, each write right
        after the last, while every replaced ring waits out its grace
        period: each is taken (the slots grow for the rings still waiting),
        and the state shows the table."""
        r = self.c.patch(vip_path(), {"cubenet-lb:vip": [{
            "address": VIP, "port": PORT, "protocol": "tcp", "table-size": 65537}]})
        self.assertIn(r.status, (200, 204), r.body)
        # be1's weight goes up and back to 1: every backend then has a
        # third of the 60 connections (at 1/8 one would get none in one
        # run of 1,500).
        for weight in (2, 3, 4, 5, 6, 1):
            r = self.c.patch(f"{vip_path()}/backend=be1", {"cubenet-lb:backend": [
                {"name": "be1", "weight": weight}]})
            self.assertIn(r.status, (200, 204), r.body)
        r = self.c.post(vip_path(), {"backend": [self.backend_entry("be3")]})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.vip_statistics()["table-size"], 65537)
        got = self.connect(60)
        self.assertEqual(got.pop("failed"), 0, got)
        self.assertEqual(set(got), {"be1", "be2", "be3"}, got)

    def test_bad_mac(self):
        r = self.c.post(vip_path(), {"backend": [{"name": "x", "mac": "02:zz:00:00:00:01"}]})
        self.assertRefused(r, 400, "mac")

    def test_vip_that_is_not_an_address(self):
        r = self.c.post(f"{LBS}/lb=lb0", {"vip": [{"address": "10.88.1.300", "port": 80,
                                                   "protocol": "tcp"}]})
        self.assertRefused(r, 400, "address")

    def test_weight_out_of_range(self):
        r = self.c.post(vip_path(), {"backend": [{"name": "x", "mac": "02:00:00:00:00:09",
                                                  "weight": 0}]})
        self.assertRefused(r, 400, "weight")
        r = self.c.post(vip_path(), {"backend": [{"name": "x", "mac": "02:00:00:00:00:09",
                                                  "weight": 1001}]})
        self.assertRefused(r, 400, "weight")

    def test_duplicate_vip(self):
        r = self.c.post(f"{LBS}/lb=lb0", {"vip": [{"address": VIP, "port": PORT,
                                                   "protocol": "tcp"}]})
        self.assertRefused(r, 409, "")

    def test_table_size_not_prime(self):
        r = self.c.patch(vip_path(), {"cubenet-lb:vip": [{"address": VIP, "port": PORT,
                                                          "protocol": "tcp",
                                                          "table-size": 65536}]})
        self.assertRefused(r, 400, "not a prime")

    def test_unknown_netdev(self):
        r = self.c.put(LBS, {"cubenet-lb:lbs": {"lb": [self.before["cubenet-lb:lbs"]["lb"][0],
                                                       {"name": "lb1", "netdev": "nosuch0"}]}})
        self.assertRefused(r, 400, "nosuch0")

    def test_two_lbs_on_one_netdev(self):
        r = self.c.post(LBS, {"lb": [{"name": "lb1", "netdev": "eth0"}]})
        self.assertRefused(r, 400, "two chains")

    def test_ipv6_vip_and_vlan_tenant_accepted(self):
        r = self.c.post(f"{LBS}/lb=lb0", {"vip": [{
            "address": "2001:db8::100", "port": 443, "protocol": "tcp", "vlan-id": 42,
            "backend": [{"name": "six", "mac": "02:00:00:00:00:06", "untagged": [None]}]}]})
        self.assertEqual(r.status, 201, r.body)
        r = self.c.get(vip_path("2001:db8::100", 443))
        self.assertEqual(r.status, 200, r.body)
        vip = r.json()["cubenet-lb:vip"][0]
        self.assertEqual(vip["vlan-id"], 42)
        self.assertEqual(vip["backend"][0]["statistics"]["packets"], "0")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main()
