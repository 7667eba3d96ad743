# SPDX-License-Identifier: Apache-2.0
"""Services are isolated while they change: new connections to service B,
made without pause while service A is rewritten, deleted and recreated
(its endpoints, ports and ids reused), all reach B's endpoints. Service
and endpoint ids are stable and freed slots are reused only after a grace
period, so no ring can point at a slot that now holds another service's
endpoint. Needs root; exits 77 without it."""
import json
import os
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_cni import CniNode, sh  # noqa: E402
from test_services import SERVER, TARGET  # noqa: E402

SERVICES = "/restconf/data/cubenet-pods:services"
A_IP, B_IP, PORT = "10.96.0.10", "10.96.0.20", 80
CONNECTIONS = 400

# Connections one after another until the count is reached, each tallied
# by the name its server answers with.
CLIENT = """
import json, socket, sys
seen = {}
for _ in range(int(sys.argv[2])):
    try:
        c = socket.create_connection((sys.argv[1], %d), timeout=3)
        who = c.recv(100).decode() or "empty"
        c.close()
    except OSError:
        who = "failed"
    seen[who] = seen.get(who, 0) + 1
print(json.dumps(seen))
""" % PORT


class ServiceIsolationTest(CniNode):
    def setUp(self):
        super().setUp()
        self.addr = {}
        for name in ("client", "a1", "a2", "b1", "b2"):
            ns = self.pod()
            rc, res = self.cni("ADD", self.conf(), cid=name, netns=ns)
            self.assertEqual(rc, 0, res)
            self.addr[name] = (ns, res["ips"][0]["address"].split("/")[0])
            if name == "client":
                continue
            srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER,
                                    name], stdout=subprocess.PIPE, text=True)
            self.addCleanup(srv.kill)
            self.assertEqual(srv.stdout.readline().strip(), "ready")

    def service(self, name, ip, endpoints, ports=(PORT,)):
        return {"namespace": "default", "name": name, "cluster-ip": [ip],
                "port": [{"port": p, "protocol": "tcp",
                          "target-port": TARGET} for p in ports],
                "endpoint": [{"address": e} for e in endpoints]}

    def connect(self, ip, count):
        out = sh("ip", "netns", "exec", self.addr["client"][0], sys.executable, "-c", CLIENT,
                 ip, str(count))
        return json.loads(out.stdout)

    def churn_a(self, stop, errors, writes):
        """Service A's endpoints replaced, extended with addresses of no
        pod, its ports changed, the service deleted and made again."""
        api = self.daemon.client()
        a = [self.addr["a1"][1], self.addr["a2"][1]]
        ghosts = ["10.245.200.%d" % i for i in range(1, 60)]
        path = SERVICES + "/service=default,a"
        shapes = [
            self.service("a", A_IP, a),
            self.service("a", A_IP, a[:1] + ghosts[:20]),
            self.service("a", A_IP, a[1:] + ghosts[20:]),
            self.service("a", A_IP, a + ghosts[:5], ports=(PORT, 81, 82)),
            None,
            self.service("a", A_IP, ghosts[30:]),
        ]
        i = 0
        while not stop.is_set():
            shape = shapes[i % len(shapes)]
            if shape is None:
                r = api.delete(path)
            else:
                r = api.put(path, {"cubenet-pods:service": [shape]})
            if r.status not in (200, 201, 204):
                errors.append((r.status, r.body))
                return
            writes.append(1)
            # A third service comes and goes, taking and freeing ids too.
            r = api.put(SERVICES + "/service=default,c",
                        {"cubenet-pods:service": [self.service("c", "10.96.0.30", ghosts[i % 50:])]}) \
                if i % 2 == 0 else api.delete(SERVICES + "/service=default,c")
            if r.status not in (200, 201, 204):
                errors.append((r.status, r.body))
                return
            i += 1

    def test_new_connections_to_b_never_reach_a_while_a_changes(self):
        body = {"cubenet-pods:services": {"service": [
            self.service("a", A_IP, [self.addr["a1"][1], self.addr["a2"][1]]),
            self.service("b", B_IP, [self.addr["b1"][1], self.addr["b2"][1]])]}}
        r = self.daemon.client().put(SERVICES, body)
        self.assertIn(r.status, (200, 201, 204), r.body)
        self.assertEqual(set(self.connect(B_IP, 20)), {"b1", "b2"})

        stop, errors, writes = threading.Event(), [], []
        churn = threading.Thread(target=self.churn_a, args=(stop, errors, writes))
        churn.start()
        seen, made = {}, 0
        try:
            # Connections go on until the churn has made enough writes
            # (a sanitized daemon writes slower), within a bound.
            while (made < CONNECTIONS or len(writes) < 20) and made < 10 * CONNECTIONS \
                    and not errors:
                for who, n in self.connect(B_IP, CONNECTIONS // 4).items():
                    seen[who] = seen.get(who, 0) + n
                made += CONNECTIONS // 4
        finally:
            stop.set()
            churn.join()
        self.assertEqual(errors, [])
        # The churn really ran alongside: many writes during the connections.
        self.assertGreaterEqual(len(writes), 20)
        self.assertEqual(sum(seen.values()), made)
        self.assertEqual(set(seen), {"b1", "b2"}, seen)

        # A, restored to its own pods, reaches them and nothing else.
        r = self.daemon.client().put(SERVICES + "/service=default,a", {"cubenet-pods:service": [
            self.service("a", A_IP, [self.addr["a1"][1], self.addr["a2"][1]])]})
        self.assertIn(r.status, (200, 201, 204), r.body)
        self.assertEqual(set(self.connect(A_IP, 20)), {"a1", "a2"})
        self.assertEqual(set(self.connect(B_IP, 20)), {"b1", "b2"})


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
