# SPDX-License-Identifier: Apache-2.0
"""cubenetd's RESTCONF API driven by a real HTTP client over its unix socket:
status codes, bodies, the datapath state that follows, persistence and
concurrency. Needs root (BPF, namespaces); exits 77 (skip) without it."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from restconf_client import Client, Daemon  # noqa: E402

CUBES = "/restconf/data/cubenet-core:cubes"
ATTACH = "/restconf/data/cubenet-core:attachments"
YANG_DIR = os.path.join(os.path.dirname(__file__), "../../services/core")


def counters(client, cube):
    """A cube's statistics: rx-packets, {verdict: packets}, {drop reason: packets}."""
    st = client.get(CUBES + "/cube=" + cube).json()["cubenet-core:cube"][0]["statistics"]
    return (int(st["rx-packets"]), {v["name"]: int(v["packets"]) for v in st["verdict"]},
            {d["reason"]: int(d["packets"]) for d in st.get("drop", [])})


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class ErrorAssertions:
    def assertError(self, r, status, tag, path_part=None, msg_part=None):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.headers.get("Content-Type"), "application/yang-data+json")
        e = r.error()
        self.assertEqual(e["error-tag"], tag, e)
        self.assertIn(e["error-type"], ("protocol", "application"))
        if path_part:
            self.assertIn(path_part, e.get("error-path", ""), e)
        if msg_part:
            self.assertIn(msg_part, e["error-message"], e)


class RestconfTest(ErrorAssertions, unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon()
        self.addCleanup(self.daemon.cleanup)
        self.daemon.start()
        self.c = self.daemon.client()

    def test_root_library_and_schema(self):
        r = self.c.get("/restconf")
        self.assertEqual(r.status, 200)
        self.assertIn("ietf-restconf:restconf", r.json())
        r = self.c.get("/restconf/data/ietf-yang-library:yang-library")
        self.assertEqual(r.status, 200)
        mods = r.json()["ietf-yang-library:yang-library"]["module-set"][0]["module"]
        core = [m for m in mods if m["name"] == "cubenet-core"]
        self.assertEqual(len(core), 1)
        self.assertEqual(core[0]["revision"], "2026-12-03")
        r = self.c.get("/restconf/yang/cubenet-core@2026-12-03")
        self.assertEqual(r.status, 200)
        self.assertIn("module cubenet-core", r.body)
        self.assertError(self.c.get("/restconf/yang/nope"), 404, "data-missing")
        # OPTIONS says what each resource takes.
        r = self.c.request("OPTIONS", "/restconf/data/cubenet-core:cubes")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Allow"], "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
        r = self.c.request("OPTIONS", "/restconf/operations/cubenet-core:reset-counters")
        self.assertEqual(r.headers["Allow"], "POST, OPTIONS")
        r = self.c.request("TRACE", "/restconf/data")
        self.assertEqual(r.status, 405)
        self.assertIn("OPTIONS", r.headers["Allow"])
        self.assertError(self.c.get("/nope"), 404, "data-missing")
        self.assertEqual(self.c.get("/restconf/data").json(), {})

    def test_create_read_replace_merge_delete(self):
        # A non-presence container is there before anything is in it.
        r = self.c.post(CUBES, {"cubenet-core:cube": [{"name": "first", "type": "parser"}]})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.headers["Location"], CUBES + "/cube=first")
        self.assertEqual(self.c.delete(CUBES + "/cube=first").status, 204)
        self.assertError(self.c.post(CUBES + "/cube=first", {"cubenet-core:port": [
            {"id": 0, "verdict": "tx"}]}), 404, "data-missing")
        r = self.c.post("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser"}]}})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.headers["Location"], "/restconf/data/cubenet-core:cubes")
        r = self.c.post(CUBES, {"cubenet-core:cube": [{"name": "c-1", "type": "classifier"}]})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.headers["Location"], CUBES + "/cube=c-1")
        self.assertError(self.c.post(CUBES, {"cubenet-core:cube": [
            {"name": "c-1", "type": "classifier"}]}), 409, "data-exists", "c-1")
        # A body of empty containers creates nothing: no 201 for a Location
        # a GET would not find.
        before = self.c.config()
        for body in ({"cubenet-core:cubes": {"cube": []}}, {"cubenet-core:cubes": {}}):
            with self.subTest(body=body):
                self.assertError(self.c.post("/restconf/data", body), 400,
                                 "malformed-message", msg_part="no new data")
                self.assertEqual(self.c.config(), before)

        r = self.c.get(CUBES + "/cube=c-1?content=config")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"cubenet-core:cube": [{"name": "c-1", "type": "classifier"}]})

        # PUT a port (new: 201), replace it (204), PATCH the cube (204).
        r = self.c.put(CUBES + "/cube=p0/port=0", {"cubenet-core:port": [{"id": 0, "cube": "c-1"}]})
        self.assertEqual(r.status, 201, r.body)
        r = self.c.put(CUBES + "/cube=p0/port=0", {"cubenet-core:port": [{"id": 0, "verdict": "tx"}]})
        self.assertEqual(r.status, 204, r.body)
        r = self.c.patch(CUBES + "/cube=c-1", {"cubenet-core:cube": [
            {"name": "c-1", "port": [{"id": 1, "verdict": "pass"}]}]})
        self.assertEqual(r.status, 204, r.body)
        self.assertEqual(self.c.config(), {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "tx"}]},
            {"name": "c-1", "type": "classifier", "port": [{"id": 1, "verdict": "pass"}]}]}})

        # State: every loaded cube reports its counters.
        r = self.c.get(CUBES + "/cube=p0")
        stats = r.json()["cubenet-core:cube"][0]["statistics"]
        self.assertEqual(stats["rx-packets"], "0")
        self.assertEqual({v["name"] for v in stats["verdict"]},
                         {"forward", "redirect", "tx", "pass", "drop", "slowpath"})

        self.assertEqual(self.c.delete(CUBES + "/cube=c-1/port=1").status, 204)
        self.assertEqual(self.c.delete(CUBES + "/cube=c-1").status, 204)
        self.assertError(self.c.delete(CUBES + "/cube=c-1"), 404, "data-missing")
        self.assertEqual(self.c.config(), {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "tx"}]}]}})

    def test_every_cube_type_loads_on_both_hooks(self):
        types = ("parser", "classifier", "maglev", "l2rewrite", "router", "nat")
        cubes = [{"name": f"{t}-{h}", "type": t, "hook": h} for t in types for h in ("xdp", "tc")]
        # The tunnel cube sets TC's tunnel metadata: XDP has none, and is refused.
        before = self.c.config()
        r = self.c.post("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "tunnel-xdp", "type": "tunnel", "hook": "xdp"}]}})
        self.assertError(r, 400, "invalid-value")
        self.assertIn("a tunnel cube is for the tc hook", r.error()["error-message"])
        self.assertEqual(self.c.config(), before)
        cubes.append({"name": "tunnel-tc", "type": "tunnel", "hook": "tc"})
        r = self.c.post("/restconf/data", {"cubenet-core:cubes": {"cube": cubes}})
        self.assertEqual(r.status, 201, r.body)
        listed = self.c.get(CUBES).json()["cubenet-core:cubes"]["cube"]
        self.assertEqual({c["name"] for c in listed}, {c["name"] for c in cubes})
        self.assertTrue(all("statistics" in c for c in listed))  # each one loaded
        for c in cubes:
            self.assertEqual(self.c.delete(CUBES + "/cube=" + c["name"]).status, 204)
        self.assertEqual(self.c.get(CUBES + "/cube").status, 404)

    def test_query_parameters(self):
        self.c.put("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "drop"}]},
            {"name": "p1", "type": "parser"}]}})
        # A list named without keys is every instance.
        r = self.c.get(CUBES + "/cube?content=config")
        self.assertEqual(r.json(), {"cubenet-core:cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "drop"}]},
            {"name": "p1", "type": "parser"}]})
        # depth counts levels from the target; list keys always come along.
        r = self.c.get(CUBES + "?depth=2")
        self.assertEqual(r.json(), {"cubenet-core:cubes": {"cube": [{"name": "p0"},
                                                                    {"name": "p1"}]}})
        r = self.c.get(CUBES + "?depth=1")
        self.assertEqual(r.json(), {"cubenet-core:cubes": {}})
        # nonconfig: state only, with the keys that locate it.
        r = self.c.get(CUBES + "/cube=p0?content=nonconfig")
        cube = r.json()["cubenet-core:cube"][0]
        self.assertEqual(set(cube), {"name", "statistics"})
        self.assertEqual(cube["statistics"]["rx-packets"], "0")
        for bad in ("depth=0", "depth=x", "depth=70000", "content=everything"):
            self.assertError(self.c.get(CUBES + "?" + bad), 400, "invalid-value")

    def test_bad_input_changes_nothing(self):
        self.c.post("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "drop"}]}]}})
        before = self.c.config()
        cases = [
            (self.c.post(CUBES, raw="{bad json"), 400, "malformed-message", None),
            (self.c.post(CUBES, {"cubenet-core:cube": [{"name": "x", "type": "parser",
                                                          "colour": "red"}]}),
             400, "unknown-element", None),
            (self.c.post(CUBES, {"cubenet-core:cube": [{"name": "x", "type": "teleporter"}]}),
             400, "invalid-value", None),
            (self.c.post(CUBES, {"cubenet-core:cube": [{"name": "x", "type": 7}]}),
             400, "invalid-value", None),
            (self.c.post(CUBES, {"cubenet-core:cube": [{"name": "9bad", "type": "parser"}]}),
             400, "invalid-value", None),
            (self.c.put(CUBES + "/cube=p0/port=9", {"cubenet-core:port": [
                {"id": 9, "verdict": "tx"}]}), 400, "invalid-value", None),
            (self.c.post(CUBES, {"cubenet-core:cube": [{"type": "parser"}]}),
             400, None, None),
            (self.c.post(CUBES, {"cubenet-core:cube": [{"name": "x"}]}),
             400, "missing-element", None),
            (self.c.put(CUBES + "/cube=p0/port=1", {"cubenet-core:port": [
                {"id": 1, "cube": "ghost"}]}), 400, "invalid-value", None),
            (self.c.put(CUBES + "/cube=p0/port=1", {"cubenet-core:port": [
                {"id": 1, "netdev": "nosuchdev0"}]}), 400, "invalid-value", "nosuchdev0"),
            (self.c.post(ATTACH, {"cubenet-core:attachment": [
                {"netdev": "nosuchdev0", "mode": "xdp", "cube": "p0"}]}),
             400, "invalid-value", "nosuchdev0"),
            (self.c.put(CUBES + "/cube=p0", {"cubenet-core:cube": [
                {"name": "other", "type": "parser"}]}), 400, "invalid-value", None),
            (self.c.get("/restconf/data/cubenet-core:nothing"), 404, "data-missing", None),
            (self.c.get("/restconf/data/nomodule:cubes"), 404, "data-missing", None),
            (self.c.get(CUBES + "/cube=p0/port=5"), 404, "data-missing", None),
            (self.c.post(CUBES + "/cube=zz", {"cubenet-core:port": [{"id": 1, "verdict": "tx"}]}),
             404, "data-missing", None),
            (self.c.delete("/restconf/data"), 405, "operation-not-supported", None),
            (self.c.put(CUBES + "/cube=p0/statistics", {"cubenet-core:statistics": {}}),
             405, "operation-not-supported", None),
            (self.c.request("TRACE", CUBES), 405, "operation-not-supported", None),
            (self.c.post(CUBES, raw="x" * (9 << 20)), 413, "too-big", None),
            (self.c.post(CUBES, raw="{}", headers={"Content-Type": "text/plain"}),
             415, "invalid-value", "media type"),
            (self.c.post(CUBES, raw=""), 400, "malformed-message", None),
        ]
        for i, (r, status, tag, msg) in enumerate(cases):
            with self.subTest(case=i):
                self.assertEqual(r.status, status, r.body)
                if tag:
                    self.assertError(r, status, tag, msg_part=msg)
        self.assertEqual(self.c.config(), before)

    def test_yanglint_validates_get(self):
        self.c.post("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "drop"}]},
            {"name": "r0", "type": "router", "hook": "tc"}]}})
        r = self.c.get("/restconf/data")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(r.body)
        out = sh("yanglint", "-t", "data", os.path.join(YANG_DIR, "cubenet-core.yang"), f.name,
                 check=False)
        os.unlink(f.name)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_config_survives_restart(self):
        body = {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "cube": "c0"}]},
            {"name": "c0", "type": "classifier", "port": [{"id": 1, "verdict": "pass"}]}]}}
        self.assertEqual(self.c.post("/restconf/data", body).status, 201)
        before = self.c.config()
        self.daemon.stop()
        self.daemon.start()
        self.assertEqual(self.c.config(), before)
        r = self.c.get(CUBES + "/cube=c0")
        self.assertIn("statistics", r.json()["cubenet-core:cube"][0])

    def test_concurrent_writers(self):
        errors = []

        def writer(w):
            c = self.daemon.client()
            for i in range(6):
                r = c.post(CUBES, {"cubenet-core:cube": [{"name": f"w{w}-{i}", "type": "parser"}]})
                if r.status != 201:
                    errors.append((w, i, r.status, r.body))

        # The container exists before the eight writers add to it at once.
        self.c.post("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "seed", "type": "parser"}]}})
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(1, 9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        names = {c["name"] for c in self.c.config()["cubenet-core:cubes"]["cube"]}
        self.assertEqual(names, {"seed"} | {f"w{w}-{i}" for w in range(1, 9) for i in range(6)})
        # Every configured cube is loaded: each reports counters.
        cubes = self.c.get(CUBES).json()["cubenet-core:cubes"]["cube"]
        self.assertTrue(all("statistics" in c for c in cubes))


class DatapathTest(ErrorAssertions, unittest.TestCase):
    """Config through the API, effect on real packets between namespaces."""

    def setUp(self):
        self.tag = "cnt" + uuid.uuid4().hex[:6]
        self.ns = self.tag + "-ns"
        self.host = self.tag + "-host"  # the daemon's node, a namespace too
        self.host_if = self.tag + "h"
        self.daemon = None
        self.addCleanup(self.cleanup)  # runs even if setUp fails half way
        sh("ip", "netns", "add", self.ns)
        sh("ip", "netns", "add", self.host)
        sh("ip", "-n", self.host, "link", "set", "lo", "up")
        sh("ip", "-n", self.host, "link", "add", self.host_if, "type", "veth", "peer", "name",
           "eth0", "netns", self.ns)
        sh("ip", "-n", self.host, "addr", "add", "10.91.0.1/30", "dev", self.host_if)
        sh("ip", "-n", self.host, "link", "set", self.host_if, "up")
        sh("ip", "-n", self.ns, "addr", "add", "10.91.0.2/30", "dev", "eth0")
        sh("ip", "-n", self.ns, "link", "set", "eth0", "up")
        self.daemon = Daemon(netns=self.host).start()
        self.c = self.daemon.client()

    def cleanup(self):
        if self.daemon:
            self.daemon.cleanup()
        sh("ip", "netns", "del", self.ns, check=False)
        sh("ip", "netns", "del", self.host, check=False)

    def on_host(self, *cmd, check=True):
        return sh("ip", "netns", "exec", self.host, *cmd, check=check)

    def ping(self):
        return sh("ip", "netns", "exec", self.ns, "ping", "-c", "2", "-i", "0.2", "-W", "1",
                  "10.91.0.1", check=False).returncode == 0

    def stats(self, name):
        return counters(self.c, name)[:2]

    def attach_passing_parser(self, extra_cubes=()):
        """p0, a parser whose port 0 passes to the stack, on the host's veth."""
        return self.c.put("/restconf/data", {
            "cubenet-core:cubes": {"cube": [
                {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "pass"}]},
                *extra_cubes]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": self.host_if, "mode": "xdp", "cube": "p0"}]}})

    def xdp_attached(self):
        return "xdp" in self.on_host("ip", "link", "show", self.host_if).stdout

    def test_api_drives_the_datapath(self):
        self.assertTrue(self.ping(), "baseline ping")
        r = self.c.post("/restconf/data", {
            "cubenet-core:cubes": {"cube": [
                {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "drop"}]}]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": self.host_if, "mode": "xdp", "cube": "p0"}]}})
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(self.xdp_attached())
        self.assertFalse(self.ping(), "the parser's port 0 drops everything")
        rx, verdicts = self.stats("p0")
        self.assertGreater(rx, 0)
        self.assertEqual(verdicts["drop"], rx)

        # The same counters in Prometheus text format.
        r = self.c.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
        samples = {}
        for line in r.body.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = int(value)
        self.assertGreaterEqual(samples['cubenet_cube_rx_packets_total{cube="p0",type="parser"}'], rx)
        self.assertGreaterEqual(
            samples['cubenet_cube_verdict_packets_total{cube="p0",verdict="drop"}'], rx)
        self.assertGreaterEqual(samples['cubenet_cube_port_packets_total{cube="p0",port="0"}'], rx)
        self.assertIn("# TYPE cubenet_cube_drop_packets_total counter", r.body)

        r = self.c.put(CUBES + "/cube=p0/port=0", {"cubenet-core:port": [
            {"id": 0, "verdict": "pass"}]})
        self.assertEqual(r.status, 204, r.body)
        self.assertTrue(self.ping(), "port 0 now passes to the stack")
        rx2, verdicts = self.stats("p0")
        self.assertGreater(verdicts["pass"], 0)
        self.assertEqual(verdicts["pass"] + verdicts["drop"], rx2)

        # Insert a classifier between parser and stack: still passes (miss).
        r = self.c.patch(CUBES, {"cubenet-core:cubes": {"cube": [
            {"name": "c0", "type": "classifier"},
            {"name": "p0", "port": [{"id": 0, "cube": "c0"}]}]}})
        self.assertEqual(r.status, 204, r.body)
        self.assertTrue(self.ping())
        rx_c, verdicts_c = self.stats("c0")
        self.assertGreater(rx_c, 0)
        self.assertEqual(verdicts_c["pass"], rx_c)

        # A bad change (attach a tc cube in xdp mode) changes nothing.
        r = self.c.patch(CUBES, {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "hook": "tc"}]}})
        self.assertEqual(r.status, 400, r.body)
        self.assertTrue(self.ping())

        self.assertEqual(self.c.delete(ATTACH).status, 204)
        self.assertFalse(self.xdp_attached())
        self.assertTrue(self.ping())


    def test_only_a_parser_heads_a_chain(self):
        """Any other cube at a chain's head would act on metadata no parser
        wrote for the packet: such an attachment is refused by validation,
        naming the rule, and nothing changes."""
        rule = "only a parser may head a chain"
        before = self.c.config()
        r = self.c.put("/restconf/data", {
            "cubenet-core:cubes": {"cube": [
                {"name": "n0", "type": "nat", "port": [{"id": 0, "verdict": "pass"}]}]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": self.host_if, "mode": "xdp", "cube": "n0"}]}})
        self.assertError(r, 400, "invalid-value", "attachment", rule)
        self.assertEqual(self.c.config(), before)
        self.assertFalse(self.xdp_attached())
        self.assertTrue(self.ping())

        r = self.attach_passing_parser([
            {"name": "n0", "type": "nat", "port": [{"id": 0, "verdict": "pass"}]},
            {"name": "r0", "type": "router", "hook": "tc"}])
        self.assertEqual(r.status, 204, r.body)
        before = self.c.config()
        for r in (
            self.c.put(ATTACH, {"cubenet-core:attachments": {"attachment": [
                {"netdev": self.host_if, "mode": "xdp", "cube": "n0"}]}}),
            self.c.post(ATTACH, {"cubenet-core:attachment": [
                {"netdev": self.host_if, "mode": "tc-ingress", "cube": "r0"}]}),
            # The attached parser turned into something else.
            self.c.patch(CUBES, {"cubenet-core:cubes": {"cube": [
                {"name": "p0", "type": "nat"}]}}),
        ):
            with self.subTest(body=r.body):
                self.assertError(r, 400, "invalid-value", "attachment", rule)
        self.assertEqual(self.c.config(), before)
        self.assertTrue(self.xdp_attached())
        self.assertNotIn("clsact", self.on_host("tc", "qdisc", "show", "dev", self.host_if).stdout)
        rx = self.stats("p0")[0]
        self.assertTrue(self.ping(), "p0 still heads the chain and passes")
        self.assertGreater(self.stats("p0")[0], rx)
        self.assertEqual(self.stats("n0")[0], 0)

    def test_tc_and_generic_xdp_attachments(self):
        # A tc parser on the host side's ingress: what the namespace sends.
        r = self.c.put("/restconf/data", {
            "cubenet-core:cubes": {"cube": [
                {"name": "t0", "type": "parser", "hook": "tc",
                 "port": [{"id": 0, "verdict": "drop"}]}]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": self.host_if, "mode": "tc-ingress", "cube": "t0"}]}})
        self.assertEqual(r.status, 204, r.body)  # PUT on the datastore replaces it
        self.assertFalse(self.ping())
        self.assertGreater(self.stats("t0")[1]["drop"], 0)
        # Move it to egress: what the host sends to the namespace.
        r = self.c.put(ATTACH, {"cubenet-core:attachments": {"attachment": [
            {"netdev": self.host_if, "mode": "tc-egress", "cube": "t0"}]}})
        self.assertEqual(r.status, 204, r.body)
        drops = self.stats("t0")[1]["drop"]
        out = self.on_host("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.91.0.2", check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertGreater(self.stats("t0")[1]["drop"], drops)
        # An xdp cube cannot go on a tc hook, nor a tc cube on xdp.
        r = self.c.put(ATTACH, {"cubenet-core:attachments": {"attachment": [
            {"netdev": self.host_if, "mode": "xdp-generic", "cube": "t0"}]}})
        self.assertEqual(r.status, 400, r.body)
        # Generic XDP with an xdp parser that passes.
        r = self.c.put("/restconf/data", {
            "cubenet-core:cubes": {"cube": [
                {"name": "g0", "type": "parser", "port": [{"id": 0, "verdict": "pass"}]}]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": self.host_if, "mode": "xdp-generic", "cube": "g0"}]}})
        self.assertEqual(r.status, 204, r.body)
        # ARP failed both ways while the tc cube dropped everything: forget it.
        self.on_host("ip", "neigh", "flush", "dev", self.host_if)
        sh("ip", "-n", self.ns, "neigh", "flush", "dev", "eth0")
        self.assertTrue(self.ping())
        self.assertGreater(self.stats("g0")[1]["pass"], 0)
        self.assertIn("xdpgeneric", self.on_host("ip", "link", "show", self.host_if).stdout)

    def test_failure_during_apply_rolls_back(self):
        r = self.attach_passing_parser()
        self.assertEqual(r.status, 204, r.body)
        self.assertTrue(self.ping())
        before = self.c.config()
        # Valid config the kernel refuses half way: native XDP on loopback,
        # after a new cube was loaded and p0 rewired to it.
        r = self.c.patch("/restconf/data", {
            "cubenet-core:cubes": {"cube": [
                {"name": "c0", "type": "classifier"},
                {"name": "p0", "port": [{"id": 0, "verdict": "drop"}]}]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": "lo", "mode": "xdp", "cube": "p0"}]}})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("lo", r.error()["error-message"])
        self.assertEqual(self.c.config(), before)
        self.assertTrue(self.ping(), "p0's port 0 must be back to pass")
        self.assertNotIn("xdp", self.on_host("ip", "link", "show", "lo").stdout)
        # The classifier loaded for the failed change is gone again.
        self.assertEqual(self.c.get(CUBES + "/cube=c0").status, 404)

    def test_reset_counters_operation(self):
        self.attach_passing_parser([{"name": "p1", "type": "parser"}])
        self.assertTrue(self.ping())
        self.assertGreater(self.stats("p0")[0], 0)
        ops = self.c.get("/restconf/operations").json()["ietf-restconf:operations"]
        self.assertIn("cubenet-core:reset-counters", ops)
        r = self.c.post("/restconf/operations/cubenet-core:reset-counters",
                        {"cubenet-core:input": {"cube": "p0"}})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {"cubenet-core:output": {"reset": 1}})
        self.assertEqual(self.stats("p0")[0], 0)
        r = self.c.post("/restconf/operations/cubenet-core:reset-counters")
        self.assertEqual(r.json(), {"cubenet-core:output": {"reset": 2}})
        # Errors: unknown cube (leafref), unknown operation, bad body, wrong method.
        r = self.c.post("/restconf/operations/cubenet-core:reset-counters",
                        {"cubenet-core:input": {"cube": "ghost"}})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(self.c.post("/restconf/operations/cubenet-core:nope").status, 404)
        r = self.c.post("/restconf/operations/cubenet-core:reset-counters", {"x": 1})
        self.assertEqual(r.status, 400, r.body)
        r = self.c.get("/restconf/operations/cubenet-core:reset-counters")
        self.assertEqual(r.status, 405, r.body)

    def test_insert_and_remove_a_cube_under_traffic(self):
        r = self.attach_passing_parser()
        self.assertEqual(r.status, 204, r.body)
        self.assertTrue(self.ping())
        pinger = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "ping", "-c", "300", "-i", "0.01", "-W", "1",
             "10.91.0.1"], stdout=subprocess.PIPE, text=True)
        for _ in range(5):
            time.sleep(0.2)
            r = self.c.patch(CUBES, {"cubenet-core:cubes": {"cube": [
                {"name": "c0", "type": "classifier"},
                {"name": "p0", "port": [{"id": 0, "cube": "c0"}]}]}})
            self.assertEqual(r.status, 204, r.body)
            time.sleep(0.2)
            r = self.c.put(CUBES + "/cube=p0/port=0", {"cubenet-core:port": [
                {"id": 0, "verdict": "pass"}]})
            self.assertEqual(r.status, 204, r.body)
            self.assertEqual(self.c.delete(CUBES + "/cube=c0").status, 204)
        out, _ = pinger.communicate(timeout=60)
        self.assertIn(" 0% packet loss", out, out)


ROUTERS = "/restconf/data/cubenet-router:routers"
PASS_OBJ = os.path.join(os.environ.get("CUBENET_BUILD", os.path.join(
    os.path.dirname(__file__), "../../build")), "pass.bpf.o")


class TwoHosts(unittest.TestCase):
    """Two namespaces, a and b, each behind a host-side veth; a daemon."""

    def setUp(self):
        self.tag = "cnr" + uuid.uuid4().hex[:6]
        self.node = self.tag + "-node"  # where the daemon and its netdevs live
        self.hosts = {}
        self.daemon = None
        self.addCleanup(self.cleanup)  # runs even if setUp fails half way
        sh("ip", "netns", "add", self.node)
        sh("ip", "-n", self.node, "link", "set", "lo", "up")
        for side, net in (("a", "10.1.0"), ("b", "10.2.0")):
            ns, host_if = f"{self.tag}-{side}", f"{self.tag}{side}"
            self.hosts[side] = (ns, host_if, net, None)
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", self.node, "link", "add", host_if, "type", "veth", "peer", "name",
               "eth0", "netns", ns)
            sh("ip", "-n", self.node, "link", "set", host_if, "up")
            sh("ip", "-n", ns, "addr", "add", f"{net}.2/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "route", "add", "default", "via", f"{net}.1")
            # Native XDP_TX / redirect into a veth needs XDP on its peer.
            sh("ip", "-n", ns, "link", "set", "dev", "eth0", "xdpdrv", "obj", PASS_OBJ,
               "sec", "xdp")
            mac = json.loads(sh("ip", "-n", ns, "-j", "link", "show", "eth0").stdout)[0]["address"]
            self.hosts[side] = (ns, host_if, net, mac)
        self.daemon = Daemon(netns=self.node).start()
        self.c = self.daemon.client()

    def cleanup(self):
        if self.daemon:
            self.daemon.cleanup()
        for ns, _, _, _ in self.hosts.values():
            sh("ip", "netns", "del", ns, check=False)
        sh("ip", "netns", "del", self.node, check=False)

    def ping(self, side, dst):
        out = sh("ip", "netns", "exec", self.hosts[side][0], "ping", "-c", "2", "-i", "0.2",
                 "-W", "1", dst, check=False)
        return out.returncode == 0, out.stdout

    def router_config(self, with_route_b=True):
        a, b = self.hosts["a"], self.hosts["b"]
        routes = [{"prefix": "10.1.0.0/24", "port": 0}]
        if with_route_b:
            routes.append({"prefix": "10.2.0.0/24", "port": 1})
        return {"cubenet-router:routers": {"router": [{
            "name": "r0",
            "interface": [
                {"port": 0, "netdev": a[1], "ipv4": {"address": "10.1.0.1", "prefix-length": 24}},
                {"port": 1, "netdev": b[1], "ipv4": {"address": "10.2.0.1", "prefix-length": 24}}],
            "route": routes,
            "neighbor": [{"address": "10.1.0.2", "mac": a[3]},
                         {"address": "10.2.0.2", "mac": b[3]}]}]}}

    def full_config(self):
        """parser -> router on both host-side veths, and the router's config."""
        a, b = self.hosts["a"], self.hosts["b"]
        body = {
            "cubenet-core:cubes": {"cube": [
                {"name": "p0", "type": "parser", "port": [{"id": 0, "cube": "r0"}]},
                {"name": "r0", "type": "router"}]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": a[1], "mode": "xdp", "cube": "p0"},
                {"netdev": b[1], "mode": "xdp", "cube": "p0"}]}}
        body.update(self.router_config())
        return body



class RouterTest(TwoHosts):
    """A router between two namespaces, built through the API only."""

    def test_ping_across_a_router_built_through_the_api(self):
        a, b = self.hosts["a"], self.hosts["b"]
        body = self.full_config()
        r = self.c.put("/restconf/data", body)
        self.assertIn(r.status, (201, 204), r.body)
        ok, out = self.ping("a", "10.2.0.2")
        self.assertTrue(ok, out)
        self.assertIn("ttl=63", out)  # one hop, decremented by the router
        _, verdicts, _ = counters(self.c, "r0")
        self.assertGreaterEqual(verdicts["redirect"], 4)  # 2 requests, 2 replies
        self.assertGreaterEqual(verdicts["tx"], 1)  # ARP replies for 10.x.0.1

        # Bad router config: 400, nothing changes.
        before = self.c.config()
        bad = [
            {"cubenet-router:router": [{"name": "p0"}]},  # not a router cube
            {"cubenet-router:router": [{"name": "ghost"}]},
        ]
        for b_ in bad:
            self.assertEqual(self.c.post(ROUTERS, b_).status, 400)
        r = self.c.post(ROUTERS + "/router=r0", {"cubenet-router:route": [
            {"prefix": "10.9.0.0/16", "port": 5}]})
        self.assertEqual(r.status, 400, r.body)  # port 5 is no interface
        r = self.c.put(ROUTERS + "/router=r0/interface=1", {"cubenet-router:interface": [
            {"port": 1, "netdev": "nosuchdev0"}]})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("nosuchdev0", r.error()["error-message"])
        r = self.c.post(ROUTERS + "/router=r0", {"cubenet-router:route": [
            {"prefix": "10.9.0.0/16", "port": 1, "nexthop": "2001:db8::1"}]})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(self.c.config(), before)
        self.assertTrue(self.ping("a", "10.2.0.2")[0])

        # Remove the route: traffic stops and the drops are counted.
        self.assertEqual(self.c.delete(ROUTERS + "/router=r0/route=10.2.0.0%2F24").status, 204)
        self.assertFalse(self.ping("a", "10.2.0.2")[0])
        _, _, drops = counters(self.c, "r0")
        self.assertGreaterEqual(drops.get("NO_ROUTE", 0), 2)
        # And back.
        r = self.c.patch("/restconf/data", self.router_config())
        self.assertEqual(r.status, 204, r.body)
        self.assertTrue(self.ping("b", "10.1.0.2")[0])


    def test_traffic_flows_while_the_daemon_is_killed_and_restarted(self):
        a, b = self.hosts["a"], self.hosts["b"]
        body = self.full_config()
        self.assertIn(self.c.put("/restconf/data", body).status, (201, 204))
        self.assertTrue(self.ping("a", "10.2.0.2")[0])
        before = self.c.config()
        rx_before = counters(self.c, "r0")[0]

        # 400 pings over 4 s; the daemon is SIGKILLed after 1 s and started
        # again after 2 s.
        pinger = subprocess.Popen(
            ["ip", "netns", "exec", a[0], "ping", "-c", "400", "-i", "0.01", "-W", "1",
             "10.2.0.2"], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        self.daemon.stop(signal.SIGKILL)
        time.sleep(1)
        self.daemon.start()
        out, _ = pinger.communicate(timeout=60)
        self.assertIn(" 0% packet loss", out, out)

        self.assertEqual(self.c.config(), before)
        # Adopted maps: counters went on from where they were.
        self.assertGreaterEqual(counters(self.c, "r0")[0], rx_before + 800)
        self.assertTrue(self.ping("b", "10.1.0.2")[0])


    def test_next_hops_resolved_through_the_slow_path(self):
        body = self.full_config()
        del body["cubenet-router:routers"]["router"][0]["neighbor"]
        self.assertIn(self.c.put("/restconf/data", body).status, (201, 204))
        ok, out = self.ping("a", "10.2.0.2")
        self.assertTrue(ok, out)
        # The first packet waited for ARP in the daemon and was sent on.
        self.assertIn("icmp_seq=1 ", out)
        self.assertIn("2 received", out)
        _, verdicts, _ = counters(self.c, "r0")
        # Two misses (one per direction) and two ARP replies went to the daemon.
        self.assertGreaterEqual(verdicts["slowpath"], 4)


    def test_ipv6_neighbour_discovery_both_ways(self):
        for side, net in (("a", "2001:db8:1"), ("b", "2001:db8:2")):
            ns = self.hosts[side][0]
            sh("ip", "-n", ns, "addr", "add", f"{net}::2/64", "dev", "eth0", "nodad")
            sh("ip", "-n", ns, "-6", "route", "add", "default", "via", f"{net}::1")
        body = self.full_config()
        router = body["cubenet-router:routers"]["router"][0]
        del router["neighbor"]
        router["interface"][0]["ipv6"] = {"address": "2001:db8:1::1", "prefix-length": 64}
        router["interface"][1]["ipv6"] = {"address": "2001:db8:2::1", "prefix-length": 64}
        router["route"] += [{"prefix": "2001:db8:1::/64", "port": 0},
                            {"prefix": "2001:db8:2::/64", "port": 1}]
        self.assertIn(self.c.put("/restconf/data", body).status, (201, 204))
        # The hosts resolve the router (it answers their solicitations) and
        # the router resolves them (through the daemon).
        ok, out = self.ping("a", "2001:db8:2::2")
        self.assertTrue(ok, out)
        self.assertIn("icmp_seq=1 ", out)
        self.assertIn("ttl=63", out)  # hop limit 64, minus the router
        # Host a learned the router's address at the MAC of the router's port.
        router_mac = json.loads(sh("ip", "-n", self.node, "-j", "link", "show",
                                   self.hosts["a"][1]).stdout)[0]["address"]
        neigh = sh("ip", "-n", self.hosts["a"][0], "-6", "neigh", "show", "2001:db8:1::1").stdout
        self.assertIn("lladdr " + router_mac, neigh)


class NatTest(TwoHosts):
    """An inside host NATed to an outside one that has no route back to it."""

    def setUp(self):
        super().setUp()
        a, b = self.hosts["a"], self.hosts["b"]
        # The outside host knows only its own subnet: replies reach the inside
        # host only if the NAT maps them back.
        sh("ip", "-n", b[0], "route", "del", "default")
        # Finish checksums in software, as a NIC would: a partial checksum
        # does not survive an XDP hop between veths.
        for ns in (a[0], b[0]):
            sh("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off")
        self.www = tempfile.mkdtemp(prefix="cubenet-www-")
        with open(os.path.join(self.www, "index.html"), "w") as f:
            f.write("outside\n")
        self.server_log = open(os.path.join(self.www, "server.log"), "w")
        self.server = subprocess.Popen(
            ["ip", "netns", "exec", b[0], "python3", "-m", "http.server", "8080", "--bind",
             "10.2.0.2", "--directory", self.www], stdout=self.server_log,
            stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_server)

    def stop_server(self):
        self.server.terminate()
        self.server.wait()
        self.server_log.close()
        shutil.rmtree(self.www, ignore_errors=True)

    def curl(self):
        out = sh("ip", "netns", "exec", self.hosts["a"][0], "curl", "-s", "--max-time", "3",
                 "http://10.2.0.2:8080/", check=False)
        return out.returncode == 0 and out.stdout == "outside\n"

    def test_tcp_through_snat(self):
        body = self.full_config()
        cubes = body["cubenet-core:cubes"]["cube"]
        cubes[0]["port"] = [{"id": 0, "cube": "n0"}]
        cubes.append({"name": "n0", "type": "nat", "port": [{"id": 0, "cube": "r0"}]})
        body["cubenet-nat:nats"] = {"nat": [{
            "name": "n0",
            "snat": [{"source": "10.1.0.0/24", "to-address": "10.2.0.1"}],
            "timeouts": {"tcp-established": 600}}]}
        r = self.c.put("/restconf/data", body)
        self.assertIn(r.status, (201, 204), r.body)
        for _ in range(50):  # the web server may still be starting
            if self.curl():
                break
            time.sleep(0.1)
        for i in range(5):
            self.assertTrue(self.curl(), f"request {i} through the NAT")
        with open(os.path.join(self.www, "server.log")) as f:
            log = f.read()
        self.assertIn("10.2.0.1 - -", log)  # the server saw the translated source
        self.assertNotIn("10.1.0.2", log)
        self.assertGreater(counters(self.c, "n0")[0], 20)

        # Bad NAT config is refused and changes nothing.
        before = self.c.config()
        for bad in (
            {"cubenet-nat:nat": [{"name": "r0"}]},  # not a nat cube
            {"cubenet-nat:nat": [{"name": "n0", "snat": [
                {"source": "10.9.0.0/16", "to-address": "2001:db8::1"}]}]},
            {"cubenet-nat:nat": [{"name": "n0", "snat": [
                {"source": "10.9.0.0/16", "masquerade": "nosuchdev0"}]}]},
            {"cubenet-nat:nat": [{"name": "n0", "port-range": {"min": 5000, "max": 10}}]},
            {"cubenet-nat:nat": [{"name": "n0", "dnat": [
                {"address": "10.2.0.1", "port": 70000, "protocol": "tcp",
                 "to-address": "10.1.0.2"}]}]},
        ):
            r = self.c.patch("/restconf/data/cubenet-nat:nats", {"cubenet-nat:nats": bad})
            self.assertEqual(r.status, 400, (bad, r.body))
        self.assertEqual(self.c.config(), before)
        self.assertTrue(self.curl())

        # Without the SNAT rule, replies have no way back.
        r = self.c.delete("/restconf/data/cubenet-nat:nats/nat=n0/snat=10.1.0.0%2F24")
        self.assertEqual(r.status, 204, r.body)
        self.assertFalse(self.curl())


class TokenTest(unittest.TestCase):
    def test_tcp_needs_a_token(self):
        d = Daemon()
        token = uuid.uuid4().hex
        tok_file = os.path.join(d.dir, "token")
        with open(tok_file, "w") as f:
            f.write(token + "\n")
        port = 18000 + os.getpid() % 1000
        d.extra_args = ["--tcp", str(port), "--token-file", tok_file]  # loopback by default
        try:
            d.start()
            anon = Client(tcp=("127.0.0.1", port))
            bad = Client(tcp=("127.0.0.1", port), token="wrong")
            good = Client(tcp=("127.0.0.1", port), token=token)
            r = anon.get("/restconf/data")
            self.assertEqual(r.status, 401)
            self.assertEqual(r.error()["error-tag"], "access-denied")
            self.assertEqual(bad.get("/restconf/data").status, 401)
            self.assertEqual(good.get("/restconf/data").status, 200)
            # The unix socket is root-only.
            self.assertEqual(os.stat(d.socket).st_mode & 0o777, 0o600)
        finally:
            d.cleanup()


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("\n*** SKIP restconf: needs root for BPF and namespaces ***\n")
        sys.exit(77)
    unittest.main(verbosity=2)
