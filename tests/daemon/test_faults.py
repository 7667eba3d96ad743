# SPDX-License-Identifier: Apache-2.0
"""cubenetd when things go wrong: a full state disk, a netdev gone while the
daemon was down, a SIGKILL in the middle of writes, rejected writes between
good ones, configs past the datapath's limits. After each: what the API
says, what is on disk and what the datapath runs agree. Needs root; exits
77 (skip) without it."""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from restconf_client import Daemon  # noqa: E402

CUBES = "/restconf/data/cubenet-core:cubes"
ATTACH = "/restconf/data/cubenet-core:attachments"
PODS = "/restconf/data/cubenet-pods:pods"
LBS = "/restconf/data/cubenet-lb:lbs"


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def parser(name):
    return {"cubenet-core:cube": [{"name": name, "type": "parser",
                                   "port": [{"id": 0, "verdict": "pass"}]}]}


class FaultTest(unittest.TestCase):
    def setUp(self):
        self.tag = uuid.uuid4().hex[:6]
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.cleanup()

    def start(self, **kw):
        self.daemon = Daemon(**kw).start()
        self.c = self.daemon.client()
        return self.c

    def veth(self):
        a, b = "cnf" + self.tag + "a", "cnf" + self.tag + "b"
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        self.addCleanup(sh, "ip", "link", "del", a, check=False)
        sh("ip", "link", "set", a, "up")
        sh("ip", "link", "set", b, "up")
        return a

    def pins(self, name):
        return os.path.isdir(os.path.join(self.daemon.bpffs, "cubes/xdp/parser", name))

    def test_a_full_disk_refuses_the_write_and_changes_nothing(self):
        state = tempfile.mkdtemp(prefix="cubenetd-full-")
        sh("mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", state)
        self.addCleanup(os.rmdir, state)
        self.addCleanup(sh, "umount", state, check=False)
        c = self.start(state_dir=state)
        self.assertEqual(c.post(CUBES, parser("p0")).status, 201)
        before = c.config()
        # Fill what is left of it.
        filler = os.path.join(state, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        # What is left of the journal's last page takes a write or two.
        for i in range(1, 200):
            r = c.post(CUBES, parser(f"p{i}"))
            if r.status != 201:
                break
            before = c.config()
        self.assertEqual(r.status, 507, r.body)
        e = r.error()
        self.assertEqual(e["error-tag"], "resource-denied")
        self.assertIn("No space left on device", e["error-message"])
        self.assertEqual(c.config(), before)
        self.assertFalse(self.pins(f"p{i}"), "the refused cube's pins are there")
        self.assertTrue(self.pins("p0"))
        # Room again: the next write goes through; no temp file is in its way.
        os.unlink(filler)
        self.assertEqual(c.post(CUBES, parser(f"p{i}")).status, 201)
        want = c.config()
        self.daemon.stop(signal.SIGKILL)
        self.daemon.start()
        self.assertEqual(self.daemon.client().config(), want)

    def test_a_netdev_gone_at_start_waits_for_it(self):
        dev = self.veth()
        c = self.start()
        self.assertEqual(c.post(CUBES, parser("p0")).status, 201)
        r = c.post(ATTACH, {"cubenet-core:attachment": [
            {"netdev": dev, "mode": "xdp-generic", "cube": "p0"}]})
        self.assertEqual(r.status, 201, r.body)
        self.daemon.stop()
        sh("ip", "link", "del", dev)
        self.daemon.start()  # starts anyway
        c = self.daemon.client()
        att = c.get(ATTACH).json()["cubenet-core:attachments"]["attachment"]
        self.assertEqual(att, [{"netdev": dev, "mode": "xdp-generic", "cube": "p0",
                                "applied": False}])
        self.assertIn(f'cubenet_attachment_applied{{netdev="{dev}",mode="xdp-generic",'
                      f'cube="p0"}} 0', c.get("/metrics").body)
        # The netdev comes back: attached within the daemon's retry.
        self.veth()
        for _ in range(40):
            if "xdpgeneric" in sh("ip", "link", "show", dev).stdout:
                break
            time.sleep(0.1)
        self.assertIn("xdpgeneric", sh("ip", "link", "show", dev).stdout)
        att = c.get(ATTACH).json()["cubenet-core:attachments"]["attachment"]
        self.assertTrue(att[0]["applied"])
        # And the API can change it all along.
        self.assertEqual(c.delete(ATTACH + f"/attachment={dev},xdp-generic").status, 204)
        self.assertNotIn("xdp", sh("ip", "link", "show", dev).stdout)

    def test_acknowledged_writes_survive_a_sigkill_mid_stream(self):
        c = self.start()
        acked, stop = [], threading.Event()

        def writer():
            client = self.daemon.client()
            for i in range(100000):
                if stop.is_set():
                    return
                body = {"cubenet-pods:pod": [{
                    "container-id": f"k{i}", "interface": "eth0", "network": "n",
                    "host-interface": f"cnk{i}", "address": [f"10.99.{i // 250}.{i % 250 + 1}"]}]}
                try:
                    r = client.post(PODS, body)
                except OSError:
                    return
                if r.status == 201:
                    acked.append(f"k{i}")
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(1.5 + random.random())
        self.daemon.stop(signal.SIGKILL)
        stop.set()
        t.join(timeout=30)
        self.assertGreater(len(acked), 10)
        self.daemon.start()
        pods = self.daemon.client().get(PODS).json()["cubenet-pods:pods"]["pod"]
        have = {p["container-id"] for p in pods}
        missing = [k for k in acked if k not in have]
        self.assertEqual(missing, [], "acknowledged writes lost")
        # At most the one in flight when the daemon died is there besides.
        self.assertLessEqual(len(have - set(acked)), 1)

    def backend_ids(self, lb):
        """backend MAC -> id, from the lb chain's pinned l2rewrite targets."""
        path = os.path.join(self.daemon.bpffs, f"cubes/xdp/l2rewrite/{lb}:l2rewrite",
                            "l2rewrite_targets")
        out = json.loads(sh("bpftool", "-j", "map", "dump", "pinned", path).stdout)
        ids = {}
        for e in out:
            f = e.get("formatted", e)
            key, val = f["key"], f["value"]
            if val["flags"]:
                mac = ":".join(f"{b:02x}" for b in val["dmac"]) if isinstance(
                    val["dmac"], list) else val["dmac"]
                ids[mac] = key
        return ids

    def test_lb_ids_stay_through_a_rejected_write_and_a_restart(self):
        dev = self.veth()
        c = self.start()

        def vip(addr, n, table=None):
            last = int(addr.split(".")[-1])
            v = {"address": addr, "port": 80, "protocol": "tcp",
                 "backend": [{"name": f"b{i}", "mac": f"02:66:00:00:{last:02x}:{i:02x}"}
                             for i in range(n)]}
            if table:
                v["table-size"] = table
            return v
        body = {"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": dev,
                                           "attach-mode": "xdp-generic",
                                           "vip": [vip("10.66.0.20", 3)]}]}}
        self.assertIn(c.put(LBS, body).status, (201, 204))
        first = self.backend_ids("lb0")
        self.assertEqual(len(first), 3)
        # A write the service refuses (a table size that is not a prime) ...
        bad = {"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": dev,
                                          "attach-mode": "xdp-generic",
                                          "vip": [vip("10.66.0.10", 2, 1000),
                                                  vip("10.66.0.20", 3)]}]}}
        self.assertEqual(c.put(LBS, bad).status, 400)
        # ... then a good one that brings a VIP before it in every order.
        good = {"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": dev,
                                           "attach-mode": "xdp-generic",
                                           "vip": [vip("10.66.0.10", 2),
                                                   vip("10.66.0.20", 3)]}]}}
        self.assertIn(c.put(LBS, good).status, (201, 204))
        now = self.backend_ids("lb0")
        for mac, bid in first.items():
            self.assertEqual(now[mac], bid, f"backend {mac} renumbered")
        self.daemon.stop(signal.SIGKILL)
        self.daemon.start()
        self.assertEqual(self.backend_ids("lb0"), now)

    def test_limits_are_4xx_from_the_model(self):
        c = self.start()
        self.assertEqual(c.post(CUBES, {"cubenet-core:cube": [
            {"name": "r0", "type": "router"}]}).status, 201)
        neigh = [{"address": f"10.{i // 256}.{i % 256}.1", "mac": "02:00:00:00:00:01"}
                 for i in range(5000)]
        r = c.put("/restconf/data/cubenet-router:routers", {"cubenet-router:routers": {
            "router": [{"name": "r0", "neighbor": neigh}]}})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("at most 4096", r.error()["error-message"])
        cidrs = [f"10.{i}.0.0/16" for i in range(65)]
        r = c.put("/restconf/data/cubenet-pods:node", {"cubenet-pods:node": {
            "address": "192.0.2.1", "masquerade": {"cluster-cidr": cidrs}}})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(c.get("/restconf/data/cubenet-router:routers").status, 404)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
