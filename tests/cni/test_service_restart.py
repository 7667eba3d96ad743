# SPDX-License-Identifier: Apache-2.0
"""Services through a daemon that is killed and started again: the new
daemon adopts the pinned datapath as it is. An open connection through a
ClusterIP carries on, rings stay where they were (not rewritten), the
endpoints' counters go on from where they were, and the adopted state is
the daemon's own: a change after the restart takes effect. Needs root;
exits 77 without it."""
import ctypes
import glob
import hashlib
import json
import mmap
import os
import platform
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_cni import CniNode, sh  # noqa: E402
from test_services import SERVER, TARGET, CLIENT  # noqa: E402

SERVICES = "/restconf/data/cubenet-pods:services"
CLUSTER_IP, PORT = "10.96.0.10", 80
SYS_BPF = {"x86_64": 321, "aarch64": 280}[platform.machine()]

# One connection held open: a line sent on each line read from stdin, the
# echo printed.
HOLD = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print("open", flush=True)
for line in sys.stdin:
    c.sendall(line.encode())
    print(c.recv(100).decode().strip() or "closed", flush=True)
"""

ECHO = """
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(16); print("ready", flush=True)
def serve(c):
    while True:
        data = c.recv(100)
        if not data:
            return
        c.sendall(data)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


class ServiceRestartTest(CniNode):
    def setUp(self):
        super().setUp()
        self.addr = {}
        for name in ("client", "be1", "be2", "be3"):
            ns = self.pod()
            rc, res = self.cni("ADD", self.conf(), cid=name, netns=ns)
            self.assertEqual(rc, 0, res)
            self.addr[name] = (ns, res["ips"][0]["address"].split("/")[0])
            if name == "client":
                continue
            for script, args in ((SERVER, [name]), (ECHO, [])):
                srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c",
                                        script] + args, stdout=subprocess.PIPE, text=True)
                self.addCleanup(srv.kill)
                self.assertEqual(srv.stdout.readline().strip(), "ready")

    def service(self, endpoints):
        return {"cubenet-pods:services": {"service": [{
            "namespace": "default", "name": "web", "cluster-ip": [CLUSTER_IP],
            "port": [{"port": PORT, "protocol": "tcp", "target-port": TARGET},
                     {"port": 7000, "protocol": "tcp", "target-port": 7000}],
            "endpoint": [{"address": self.addr[e][1]} for e in endpoints]}]}}

    def connect(self, count):
        out = sh("ip", "netns", "exec", self.addr["client"][0], sys.executable, "-c", CLIENT,
                 CLUSTER_IP, str(count))
        return json.loads(out.stdout)

    def pin(self, name):
        paths = glob.glob(os.path.join(self.daemon.bpffs, "**", name), recursive=True)
        self.assertEqual(len(paths), 1, paths)
        return paths[0]

    def pinned(self, name):
        """The dump of the node chain's pinned map `name`."""
        return json.loads(sh("bpftool", "-j", "map", "dump", "pinned", self.pin(name)).stdout)

    def slots_digest(self):
        """A digest of all of maglev_slots, read through its mapping (a
        dump of its million slots would take seconds)."""
        path = self.pin("maglev_slots")
        info = json.loads(sh("bpftool", "-j", "map", "show", "pinned", path).stdout)
        # bpf(BPF_OBJ_GET, {pathname, bpf_fd, file_flags}).
        name = ctypes.create_string_buffer(path.encode())
        attr = (ctypes.c_uint64 * 2)(ctypes.addressof(name), 0)
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.syscall(SYS_BPF, 7, attr, ctypes.sizeof(attr))
        self.assertGreaterEqual(fd, 0, os.strerror(ctypes.get_errno()))
        try:
            size = info["max_entries"] * info["bytes_value"]
            with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ) as m:
                return hashlib.sha256(m).hexdigest()
        finally:
            os.close(fd)

    def endpoint_stats(self):
        r = self.daemon.client().get(SERVICES + "/service=default,web")
        self.assertEqual(r.status, 200, r.body)
        svc = r.json()["cubenet-pods:service"][0]
        return {e["address"]: int(e["statistics"]["new-connections"]) for e in svc["endpoint"]}

    def test_a_killed_daemon_comes_back_to_the_datapath_as_it_was(self):
        r = self.daemon.client().put(SERVICES, self.service(["be1", "be2", "be3"]))
        self.assertIn(r.status, (200, 201, 204), r.body)
        self.assertEqual(set(self.connect(60)), {"be1", "be2", "be3"})
        held = subprocess.Popen(["ip", "netns", "exec", self.addr["client"][0], sys.executable,
                                 "-c", HOLD, CLUSTER_IP, "7000"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        self.addCleanup(held.kill)
        self.assertEqual(held.stdout.readline().strip(), "open")
        held.stdin.write("before\n")
        held.stdin.flush()
        self.assertEqual(held.stdout.readline().strip(), "before")
        rings, slots = self.pinned("maglev_services"), self.slots_digest()
        stats = self.endpoint_stats()
        self.assertEqual(sum(stats.values()), 61, stats)

        self.daemon.stop(signal.SIGKILL)
        self.daemon.start()

        # The connection made before goes on through the adopted tables.
        held.stdin.write("after\n")
        held.stdin.flush()
        self.assertEqual(held.stdout.readline().strip(), "after")
        # Nothing rewritten: every descriptor and slot as it was.
        self.assertEqual(self.pinned("maglev_services"), rings)
        self.assertEqual(self.slots_digest(), slots)
        self.assertEqual(self.endpoint_stats(), stats)
        self.assertEqual(set(self.connect(60)), {"be1", "be2", "be3"})
        after = self.endpoint_stats()
        self.assertEqual(sum(after.values()), 121, after)

        # The adopted state is the daemon's: an endpoint removed is avoided.
        r = self.daemon.client().put(SERVICES, self.service(["be2"]))
        self.assertIn(r.status, (200, 201, 204), r.body)
        self.assertEqual(self.connect(10), {"be2": 10})
        self.assertEqual(self.endpoint_stats()[self.addr["be2"][1]],
                         after[self.addr["be2"][1]] + 10)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
