# SPDX-License-Identifier: Apache-2.0
"""cubenetd's log: one line per write and per refusal naming the problem,
reads only at debug, libbpf's own messages only at debug, and nothing a
client sends can forge a line. Needs root; exits 77 without it."""
import os
import signal
import socket
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from restconf_client import BUILD, Daemon  # noqa: E402

CUBES = "/restconf/data/cubenet-core:cubes"


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


class LogTest(unittest.TestCase):
    def setUp(self):
        self.ns = "cnlog" + uuid.uuid4().hex[:6]
        sh("ip", "netns", "add", self.ns)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.ns])
        sh("ip", "-n", self.ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        sh("ip", "-n", self.ns, "link", "set", "v0", "up")
        sh("ip", "-n", self.ns, "link", "set", "v1", "up")

    def daemon(self, *args):
        d = Daemon(extra_args=list(args), netns=self.ns)
        self.addCleanup(d.cleanup)
        return d.start()

    def log(self, d):
        with open(os.path.join(d.dir, "log")) as f:
            return f.read().splitlines()

    def attach_tc(self, d):
        r = d.client().put("/restconf/data", {
            "cubenet-core:cubes": {"cube": [{"name": "p0", "type": "parser", "hook": "tc"}]},
            "cubenet-core:attachments": {"attachment": [
                {"netdev": "v0", "mode": "tc-ingress", "cube": "p0"}]}})
        self.assertIn(r.status, (201, 204), r.body)

    def test_writes_and_refusals_one_line_each_and_libbpf_quiet(self):
        d = self.daemon()
        self.attach_tc(d)
        r = d.client().put(CUBES + "/cube=p1", {"cubenet-core:cube": [
            {"name": "p1", "type": "no-such-type"}]})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(d.client().get(CUBES).status, 200)
        # A restart adopts the TC filter: the kernel's refusal to create the
        # clsact qdisc again is libbpf's to relay, not the operator's.
        d.stop(signal.SIGKILL)
        d.start()
        lines = self.log(d)
        writes = [ln for ln in lines if ln.startswith("cubenetd: PUT /restconf/data")]
        self.assertEqual(len(writes), 1, lines)
        self.assertRegex(writes[0], r"^cubenetd: PUT /restconf/data: 20[14] in [0-9.]+ ms$")
        refused = [ln for ln in lines if "/cube=p1" in ln]
        self.assertEqual(len(refused), 1, lines)
        self.assertRegex(refused[0], r"^cubenetd: warning: PUT /restconf/data/cubenet-core:"
                         r"cubes/cube=p1: 400 in [0-9.]+ ms: invalid-value: .*no-such-type")
        self.assertFalse([ln for ln in lines if "GET" in ln], lines)  # reads: debug
        self.assertFalse([ln for ln in lines if "libbpf" in ln], lines)
        self.assertEqual(len([ln for ln in lines if "serving RESTCONF" in ln]), 2, lines)

    def test_debug_shows_reads_and_libbpf(self):
        d = self.daemon("--log-level", "debug")
        self.attach_tc(d)
        d.client().get(CUBES)
        d.stop(signal.SIGKILL)
        d.start()
        lines = self.log(d)
        self.assertTrue([ln for ln in lines if ln.startswith("cubenetd: debug: GET " + CUBES)],
                        lines)
        self.assertTrue([ln for ln in lines if ln.startswith("cubenetd: debug: libbpf: ")],
                        lines)

    def test_a_request_cannot_forge_a_line(self):
        d = self.daemon()
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.socket)
        # Bytes no client should send, in the path of a refused write.
        s.sendall(b"DELETE /restconf/data/x\x1b[2Jcubenetd:\xff HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 0\r\n\r\n")
        s.recv(4096)
        s.close()
        d.stop()
        lines = self.log(d)
        odd = [ln for ln in lines if "DELETE" in ln]
        self.assertEqual(len(odd), 1, lines)
        self.assertTrue(all(0x20 <= ord(c) <= 0x7e for c in odd[0]), odd)
        self.assertTrue(odd[0].startswith("cubenetd: warning: DELETE /restconf/data/x?[2J"),
                        odd)

    def test_a_bad_log_level_is_refused(self):
        r = subprocess.run([os.path.join(BUILD, "cubenetd"), "--log-level", "loud"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "cubenetd: error: --log-level loud: error, warning, info "
                         "or debug\n")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
